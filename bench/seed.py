"""Fill a PostgreSQL database with benchmark data, fast.

    python bench/seed.py --size small|large   (DATABASE_URL names the database)

The rows are made inside PostgreSQL by `INSERT ... SELECT generate_series(...)`:
no row crosses the wire, which beats both COPY (every row serialised by the
client) and batched bulk_create (every row a Python object). The large size
(200 clinics, 5,000 doctors, ~1,000,000 slots over a year, 300,000
appointments, 100,000 patients) loads in about a minute on 2 cores.

Shape of the data, so that the benchmark's requests are all valid bookings:

- "hot" doctors (the first HOT of them) work every day, 6 slots of 30 minutes
  (09-12 and 14-17 at their clinic), over the whole period: one free week of
  theirs is 42 slots, as in the issue's measurements;
- the other doctors have one slot every other day (about 180 over a year),
  and the 300,000 appointments (confirmed, booked_count kept true) lie on those;
- `bench_work` lists (patient, slot) pairs over the hot doctors' free slots:
  request n books pair n. Each booking patient books only one doctor's slots
  (so never two overlapping visits), and consecutive pairs belong to different
  patients and doctors, so concurrent requests do not queue on one row lock;
- a storm doctor has 40 slots for the racing rounds (20 of capacity 1, 20 of
  capacity 5), on separate days, and 50 patients of its own.

The bench clinics allow what a load test needs and a clinic may set: a
horizon of 400 days and 100 active bookings per patient. Every user's password
is `bench-password` (one hash, computed once).
"""

import argparse
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {
    # clinics, doctors, hot doctors, patients, booking patients, days, appointments
    "small": dict(clinics=4, doctors=40, hot=20, patients=2_000, bookers=1_000, days=77, appointments=600),
    "large": dict(clinics=200, doctors=5_000, hot=50, patients=100_000, bookers=2_000, days=365,
                  appointments=300_000),
}
SPECIALTIES = [
    "Cardiology", "Dermatology", "Pediatrics", "Orthopedics", "Neurology",
    "Ophthalmology", "General Practice", "Psychiatry", "ENT", "Gynecology",
]
CITIES = ["Pune", "London", "Mumbai", "Manchester", "Bengaluru", "Leeds", "Delhi", "Bristol"]
ZONES = {"Pune": "Asia/Kolkata", "Mumbai": "Asia/Kolkata", "Bengaluru": "Asia/Kolkata", "Delhi": "Asia/Kolkata"}
STORM_ROUNDS = 20
STORM_PATIENTS = 50
PASSWORD = "bench-password"



def seed_version() -> str:
    """Changes whenever this file or the schema does (a migration file added
    or changed): run.py seeds again when the data is stale, so the seed is
    exercised on every schema it must fill, not only on a fresh machine."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    root = Path(__file__).resolve().parent.parent
    for migration in sorted(root.glob("*/migrations/[0-9]*.py")):
        digest.update(migration.relative_to(root).as_posix().encode())
        digest.update(migration.read_bytes())
    return digest.hexdigest()[:16]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthsvc.settings.base")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()


def run(cursor, label: str, sql: str, params=None) -> None:
    began = time.perf_counter()
    cursor.execute(sql, params)
    print(f"  {label:<38} {cursor.rowcount:>9,} rows  {time.perf_counter() - began:6.1f} s", flush=True)


def indexes_drop(cursor, table: str) -> list[str]:
    """Drop a table's secondary indexes and exclusion constraints; returns the SQL
    that makes them again. Building an index once over a million rows is several
    times cheaper than updating it a million times."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'x'",
        [table])
    constraints = cursor.fetchall()
    cursor.execute(
        """SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s
           AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)""", [table, table])
    indexes = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints] + [
        definition for _, definition in indexes]


def _column_defaults() -> None:
    """Give every NOT NULL column its model default in the database, so the
    INSERTs below may leave out what they do not care about: a field added
    later (with a default, as fields are) does not break the seed. The
    defaults live in this benchmark database only."""
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as c:
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if field.null or field.primary_key:
                    continue
                if field.has_default() and not callable(field.default):
                    value = field.get_db_prep_save(field.default, connection)
                elif not field.has_default() and field.empty_strings_allowed and field.get_internal_type() in {
                        "CharField", "TextField", "EmailField", "SlugField", "URLField"}:
                    value = ""
                else:
                    continue
                table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(field.column)
                c.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT %s", [value])


def seed(size: str) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("The benchmark data is for PostgreSQL: set DATABASE_URL=postgres://...")
    p = SIZES[size]
    # A fresh schema every time: nothing a failed earlier seed left behind survives.
    with connection.cursor() as c:
        c.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0, interactive=False)
    _column_defaults()
    storm_doctor = p["doctors"] + 1
    p0 = p["patients"] - p["bookers"] - STORM_PATIENTS  # patients 1..p0 hold the seeded visits
    began = time.perf_counter()
    password = make_password(PASSWORD)
    with connection.cursor() as c:
        c.execute("SET synchronous_commit = off")
        c.execute("SET maintenance_work_mem = '512MB'")
        run(c, "clinics", """
            INSERT INTO clinics_clinic (created_at, updated_at, name, address, city, state, zip_code, phone, email,
                timezone, is_active, booking_horizon_days, max_active_bookings_per_patient, min_notice_minutes)
            SELECT now(), now(), 'Clinic ' || i, i || ' High Street', (%(cities)s::text[])[1 + i %% %(ncity)s],
                '', '', '', '', CASE WHEN (%(cities)s::text[])[1 + i %% %(ncity)s] = ANY(%(indian)s)
                THEN 'Asia/Kolkata' ELSE 'Europe/London' END, true, 400, 100, 60
            FROM generate_series(1, %(clinics)s) i""",
            dict(cities=CITIES, ncity=len(CITIES), indian=list(ZONES), clinics=p["clinics"]))
        # Users: doctors first (ids 1..D), then patients, then the admin.
        run(c, "users (doctors)", """
            INSERT INTO accounts_user (password, is_superuser, email, name, role, mobile_no, is_verified,
                is_active, is_staff, created_at, updated_at, token_version)
            SELECT %(pw)s, false, 'doctor' || i || '@bench.local', 'Doctor ' || lpad(i::text, 5, '0'), 'doctor', '',
                true, true, false, now(), now(), 0
            FROM generate_series(1, %(doctors)s + 1) i""", dict(pw=password, doctors=p["doctors"]))
        run(c, "users (patients)", """
            INSERT INTO accounts_user (password, is_superuser, email, name, role, mobile_no, is_verified,
                is_active, is_staff, created_at, updated_at, token_version)
            SELECT %(pw)s, false, 'patient' || i || '@bench.local', 'Patient ' || i, 'patient', '', true, true,
                false, now(), now(), 0
            FROM generate_series(1, %(patients)s) i""", dict(pw=password, patients=p["patients"]))
        c.execute("""
            INSERT INTO accounts_user (password, is_superuser, email, name, role, mobile_no, is_verified,
                is_active, is_staff, created_at, updated_at, token_version)
            VALUES (%s, true, 'admin@bench.local', 'Bench Admin', 'admin', '', true, true, true, now(), now(), 0)""",
                  [password])
        run(c, "patients", """
            INSERT INTO accounts_patient (created_at, updated_at, allergies, emergency_contact, user_id)
            SELECT now(), now(), '', '', id FROM accounts_user WHERE role = 'patient' ORDER BY id""")
        # Doctor i works at clinic 1 + i % clinics; the last one is the storm doctor.
        run(c, "doctors", """
            INSERT INTO clinics_doctor (created_at, updated_at, specialty, license_number, qualifications,
                experience_years, max_patients_per_day, is_active, clinic_id, user_id, requires_approval)
            SELECT now(), now(), (%(specs)s::text[])[1 + (i - 1) %% %(nspec)s], 'LIC-' || i, '', i %% 40, 100, true,
                1 + (i - 1) %% %(clinics)s, i, false
            FROM generate_series(1, %(doctors)s + 1) i""",
            dict(specs=SPECIALTIES, nspec=len(SPECIALTIES), clinics=p["clinics"], doctors=p["doctors"]))
        rebuild = indexes_drop(c, "scheduling_appointmentslot") + indexes_drop(c, "scheduling_appointment")
        # Local wall times -> UTC through the clinic's zone, as the app does.
        run(c, "slots (hot doctors)", """
            INSERT INTO scheduling_appointmentslot (created_at, updated_at, start, "end", duration_minutes,
                capacity, booked_count, is_active, clinic_id, doctor_id)
            SELECT now(), now(), t, t + interval '30 minutes', 30, 1, 0, true, d.clinic_id, d.id
            FROM clinics_doctor d JOIN clinics_clinic k ON k.id = d.clinic_id,
                 generate_series(1, %(days)s) day, unnest(ARRAY[9, 10, 11, 14, 15, 16]) hour,
                 LATERAL (SELECT ((current_date + day) + make_interval(hours => hour)) AT TIME ZONE k.timezone) s(t)
            WHERE d.id <= %(hot)s""", dict(days=p["days"], hot=p["hot"]))
        others = (1_000_000 - p["hot"] * 6 * p["days"]) // (p["doctors"] - p["hot"]) if size == "large" else 40
        run(c, "slots (other doctors)", """
            INSERT INTO scheduling_appointmentslot (created_at, updated_at, start, "end", duration_minutes,
                capacity, booked_count, is_active, clinic_id, doctor_id)
            SELECT now(), now(), t, t + interval '30 minutes', 30, 1, 0, true, d.clinic_id, d.id
            FROM clinics_doctor d JOIN clinics_clinic k ON k.id = d.clinic_id,
                 generate_series(0, %(n)s - 1) j,
                 LATERAL (SELECT ((current_date + 1 + (j * %(days)s / %(n)s)::int)
                                  + make_interval(hours => (9 + d.id %% 8)::int)) AT TIME ZONE k.timezone) s(t)
            WHERE d.id > %(hot)s AND d.id <= %(doctors)s""",
            dict(n=others, days=p["days"], hot=p["hot"], doctors=p["doctors"]))
        run(c, "slots (storm)", """
            INSERT INTO scheduling_appointmentslot (created_at, updated_at, start, "end", duration_minutes,
                capacity, booked_count, is_active, clinic_id, doctor_id)
            SELECT now(), now(), t, t + interval '30 minutes', 30, CASE WHEN r <= %(rounds)s THEN 1 ELSE 5 END, 0,
                true, d.clinic_id, d.id
            FROM clinics_doctor d JOIN clinics_clinic k ON k.id = d.clinic_id, generate_series(1, 2 * %(rounds)s) r,
                 LATERAL (SELECT ((current_date + 1 + r) + interval '12 hours') AT TIME ZONE k.timezone) s(t)
            WHERE d.id = %(storm)s""", dict(rounds=STORM_ROUNDS, storm=storm_doctor))
        # Appointments on the earliest of the other doctors' slots: the k-th in time
        # order goes to patient 1 + k mod P0, so one patient's visits lie P0 slots
        # apart in time order (hundreds of distinct start times): never overlapping.
        # Patients after P0 hold nothing: the storm's 50, then the bookers.
        run(c, "appointments", """
            WITH picked AS (
                SELECT s.*, row_number() OVER (ORDER BY s.start, s.id) - 1 AS k
                FROM scheduling_appointmentslot s WHERE s.doctor_id > %(hot)s AND s.doctor_id <= %(doctors)s
                ORDER BY s.start, s.id LIMIT %(n)s
            ), booked AS (
                INSERT INTO scheduling_appointment (created_at, updated_at, start, "end", status, reason_for_visit,
                    notes, note_for_patient, cancelled_reason, cancelled_internal_note, sequence, clinic_id, doctor_id,
                    patient_id, slot_id)
                SELECT now(), now(), picked.start, picked."end", 'confirmed', '', '', '', '', '', 0, picked.clinic_id,
                    picked.doctor_id, 1 + picked.k %% %(p0)s, picked.id
                FROM picked RETURNING slot_id
            )
            UPDATE scheduling_appointmentslot s SET booked_count = 1 FROM booked WHERE s.id = booked.slot_id""",
            dict(hot=p["hot"], doctors=p["doctors"], n=p["appointments"], p0=p0))
        for sql in rebuild:  # the constraints check every row as they are made again
            run(c, "index " + re.search(r'(?:CONSTRAINT "|INDEX )([^" ]+)', sql).group(1)[:32], sql)
        # The booking workload: the last `bookers` patients.
        run(c, "bench_work (booking pairs)", """
            CREATE TABLE bench_work AS
            WITH free AS (
                SELECT s.id AS slot_id, s.doctor_id,
                       row_number() OVER (PARTITION BY s.doctor_id ORDER BY s.start) - 1 AS j
                FROM scheduling_appointmentslot s WHERE s.doctor_id <= %(hot)s
            ), paired AS (
                -- Doctor h's patients are the bookers b with b mod hot = h - 1; slot j goes to
                -- its (j mod per_doctor)-th patient, as that patient's (j div per_doctor)-th booking.
                SELECT free.slot_id, free.doctor_id,
                       (free.j %% %(per_doctor)s) * %(hot)s + (free.doctor_id - 1) AS b,
                       free.j / %(per_doctor)s AS round
                FROM free
            )
            SELECT (row_number() OVER (ORDER BY round, b) - 1)::int AS n, paired.b::int AS booker,
                   pt.id AS patient_id, pt.user_id, paired.slot_id, paired.doctor_id
            FROM paired JOIN accounts_patient pt ON pt.id = %(first_booker)s + paired.b""",
            dict(hot=p["hot"], per_doctor=p["bookers"] // p["hot"], first_booker=p0 + STORM_PATIENTS + 1))
        c.execute("ALTER TABLE bench_work ADD PRIMARY KEY (n)")
        c.execute("""
            CREATE TABLE bench_storm AS
            SELECT s.id AS slot_id, s.capacity, row_number() OVER (ORDER BY s.capacity, s.start)::int AS round
            FROM scheduling_appointmentslot s WHERE s.doctor_id = %s""", [storm_doctor])
        c.execute("""
            CREATE TABLE bench_storm_patients AS
            SELECT id AS patient_id, user_id FROM accounts_patient WHERE id > %s AND id <= %s""",
                  [p0, p0 + STORM_PATIENTS])
        c.execute("SELECT count(*) FROM bench_work")
        (pairs,) = c.fetchone()
    with connection.cursor() as c:
        began_analyze = time.perf_counter()
        c.execute("VACUUM ANALYZE")
        print(f"  {'VACUUM ANALYZE':<38} {'':>9}       {time.perf_counter() - began_analyze:6.1f} s")
        c.execute("SELECT count(*) FROM scheduling_appointmentslot")
        (slots,) = c.fetchone()
        c.execute("SELECT count(*) FROM scheduling_appointment")
        (appointments,) = c.fetchone()
    facts = {**p, "size": size, "first_storm_patient": p0 + 1, "slots": slots, "appointments": appointments,
             "pairs": pairs, "storm_doctor": storm_doctor, "seconds": round(time.perf_counter() - began, 1)}
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_facts")
        c.execute("CREATE TABLE bench_facts (version text, facts jsonb)")
        c.execute("INSERT INTO bench_facts VALUES (%s, %s)", [seed_version(), json.dumps(facts)])
    print(f"seeded {size}: {slots:,} slots, {appointments:,} appointments, {pairs:,} booking pairs "
          f"in {facts['seconds']} s")
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, default="small")
    args = parser.parse_args()
    setup_django()
    seed(args.size)


if __name__ == "__main__":
    main()
