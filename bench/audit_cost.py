"""What the audit trail costs a booking, measured A B A B in one run.

    .venv/bin/python bench/audit_cost.py [--bookings 400] [--threads 8]

On its own PostgreSQL database (BENCH_PG, default
postgres://postgres@127.0.0.1:5432, database healthsvc_bench_audit, made
afresh), through the booking service itself (no HTTP: the figure is the
audit row's own cost, not the server's noise). Alternating blocks book
distinct slots with the audit row written (B, as production runs) and with
audit_record replaced by a no-op (A). Prints, per variant: the statements a
booking sends, the median and p95 milliseconds of one booking, and the
throughput of `--threads` connections booking at once (every booking chains
onto the one audit head row, so this is where serialising the writers would
show). A report, not a test: compare the two columns of one run.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "healthsvc_bench_audit"


def setup_django():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    # Production's settings (DEBUG off: no query log in memory), with throwaway keys.
    os.environ.update(DJANGO_SETTINGS_MODULE="healthsvc.settings.base", DEBUG="false",
                      SECRET_KEY="bench-" + "k" * 40, JWT_SIGNING_KEY="bench-jwt-" + "j" * 40,
                      ALLOWED_HOSTS="localhost", DATABASE_URL=f"{PG}/{DB}", TASKS_BACKEND="immediate",
                      EMAIL_URL="dummymail://", LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_slots(count: int):
    """`count` free slots over many doctors (under each doctor's daily limit), and patients to book them."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.tests.factories import PatientFactory
    from clinics.tests.factories import ClinicFactory, DoctorFactory
    from scheduling.models import AppointmentSlot

    clinic = ClinicFactory(timezone="UTC")
    doctors = [DoctorFactory(clinic=clinic, max_patients_per_day=1000) for _ in range(20)]
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    starts = [start + timedelta(minutes=30 * (i // 20)) for i in range(count)]
    slots = AppointmentSlot.objects.bulk_create([
        AppointmentSlot(doctor=doctors[i % 20], clinic=clinic, start=at, end=at + timedelta(minutes=30),
                        duration_minutes=30, capacity=1) for i, at in enumerate(starts)])
    patients = PatientFactory.create_batch(count // 5 + 1)
    return [s.pk for s in slots], patients


def book(slot_id, patient, admin):
    from scheduling.services import appointment_book
    from scheduling.tasks import notifications_suppressed

    with notifications_suppressed():
        appointment_book(patient=patient, slot_id=slot_id, booked_by=admin)  # staff: the policy's caps aside


def variant(audited: bool):
    """A context switching audit_record for the booking core on or off."""
    import contextlib

    import scheduling.services.booking as booking

    @contextlib.contextmanager
    def switch():
        real = booking.audit_record
        if not audited:
            booking.audit_record = lambda *a, **k: None
        try:
            yield
        finally:
            booking.audit_record = real
    return switch()


def sequential(slot_ids, patients, admin, audited):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, statements = [], []
    with variant(audited):
        for i, slot_id in enumerate(slot_ids):
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                book(slot_id, patients[i % len(patients)], admin)
                times.append((time.perf_counter() - began) * 1000)
            statements.append(len(queries.captured_queries))
    return times, statements


def concurrent(slot_ids, patients, admin, audited, threads):
    from django.db import connection

    chunks = [slot_ids[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def run(chunk, offset):
        connection.ensure_connection()
        barrier.wait()
        for j, slot_id in enumerate(chunk):
            book(slot_id, patients[(offset + j * threads) % len(patients)], admin)
        connection.close()

    with variant(audited):
        workers = [threading.Thread(target=run, args=(chunk, n)) for n, chunk in enumerate(chunks)]
        for worker in workers:
            worker.start()
        barrier.wait()
        began = time.perf_counter()
        for worker in workers:
            worker.join()
    return len(slot_ids) / (time.perf_counter() - began)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=400, help="per variant, sequential and concurrent each")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--blocks", type=int, default=4, help="A B alternations")
    args = parser.parse_args()
    setup_django()
    from accounts.tests.factories import AdminUserFactory
    from audit.chain import chain_problems
    from audit.models import AuditEvent

    admin = AdminUserFactory()
    per_block = args.bookings // args.blocks
    slot_ids, patients = make_slots(per_block * args.blocks * 4 + 40)
    book(slot_ids.pop(), patients[0], admin)  # warm the connection and the code
    results = {False: {"ms": [], "sql": [], "rate": []}, True: {"ms": [], "sql": [], "rate": []}}
    for _ in range(args.blocks):
        for audited in (False, True):
            block, slot_ids = slot_ids[:per_block], slot_ids[per_block:]
            ms, sql = sequential(block, patients, admin, audited)
            results[audited]["ms"] += ms
            results[audited]["sql"] += sql
            block, slot_ids = slot_ids[:per_block], slot_ids[per_block:]
            results[audited]["rate"].append(concurrent(block, patients, admin, audited, args.threads))

    def row(label, audited):
        r = results[audited]
        ms = sorted(r["ms"])
        return (f"{label:<22} {statistics.median(r['sql']):>10.0f} {statistics.median(ms):>10.2f} "
                f"{ms[int(len(ms) * 0.95)]:>9.2f} {statistics.median(r['rate']):>14.0f}")

    print(f"Booking through the service, PostgreSQL, {args.bookings} sequential and {args.bookings} concurrent "
          f"({args.threads} threads) per variant, {args.blocks} A/B blocks")
    print(f"{'variant':<22} {'statements':>10} {'median ms':>10} {'p95 ms':>9} {'bookings/s':>14}")
    print(row("A: no audit row", False))
    print(row("B: audit row (prod)", True))
    a, b = results[False], results[True]
    extra_ms = statistics.median(b["ms"]) - statistics.median(a["ms"])
    ratio = statistics.median(b["rate"]) / statistics.median(a["rate"])
    print(f"audit cost per booking: {extra_ms:+.2f} ms median, "
          f"{statistics.median(b['sql']) - statistics.median(a['sql']):+.0f} statement, "
          f"concurrent throughput x{ratio:.2f}")
    problems = list(chain_problems())
    print(f"audit rows written: {AuditEvent.objects.count()}, chain "
          f"{'verified' if not problems else f'BROKEN at #{problems[0].event_id}'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
