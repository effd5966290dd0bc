"""The benchmark's in-process half (Django loaded, the server's settings):

    python bench/probe.py requests --out DIR     request files for wrk, with fresh tokens
    python bench/probe.py inspect --out FILE     SQL statements per request, and the plans

`requests` writes one file per workload (bench/wrk/requests.lua reads them).
Tokens are minted here with the app's own token code, as a login would, so
the load generator spends nothing on logging in.

`inspect` sends one request of each workload through Django's test client
(the same middleware, authentication, throttles and views as the server) and
counts the SQL statements it runs; then it runs `EXPLAIN (ANALYZE, BUFFERS)`
on each distinct read query and on the booking's reads (inside a transaction
that is rolled back, so nothing is booked).
"""

import argparse
import json
import os
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

READ_SHARE = {"week": 0.4, "search": 0.3, "doctor_page": 0.2}  # the rest of mixed: bookings
SPECIALTIES = None  # filled from the database


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthsvc.settings.base")
    import django

    django.setup()


def facts() -> dict:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT facts::text FROM bench_facts")
        return json.loads(c.fetchone()[0])


def access_tokens(user_ids: list[int]) -> dict[int, str]:
    """Each user's access token as a login makes it: in a refresh-token family,
    so the server checks the user's token version and that the family was not
    ended (accounts.tokens). It outlives a whole `make bench` (production's
    live 5 minutes); the server checks it exactly as any other."""
    from datetime import timedelta

    from accounts.models import User
    from accounts.tokens import family_start

    tokens = {}
    for user in User.objects.filter(pk__in=user_ids):
        access = family_start(user).access_token
        access.set_exp(lifetime=timedelta(hours=2))
        tokens[user.pk] = str(access)
    return tokens


# The doctors and weeks the reads ask for: the same 160 at both sizes (small
# has 20 hot doctors and 8 whole future weeks), so that small against large
# shows what the data's size costs and not a different share of cache hits.
WEEK_DOCTORS, WEEKS = 20, 8


def _week(rng: random.Random, f: dict) -> tuple[int, date]:
    """A hot doctor and the Monday of a week wholly in the seeded future."""
    doctor = rng.randint(1, min(f["hot"], WEEK_DOCTORS))
    today = date.today()
    first = today + timedelta(days=7 - today.weekday() + 7)  # the Monday after next
    weeks = min((f["days"] - 16) // 7, WEEKS)
    return doctor, first + timedelta(weeks=rng.randrange(max(weeks, 1)))


def read_line(kind: str, rng: random.Random, f: dict, specialties: list[str], cities: list[str]) -> str:
    if kind == "week":
        doctor, monday = _week(rng, f)
        sunday = monday + timedelta(days=6)
        path = f"/api/v1/slots?doctor_id={doctor}&date_from={monday}&date_to={sunday}&page_size=100"
    elif kind == "search":
        path = f"/api/v1/doctors?specialty={rng.choice(specialties).replace(' ', '%20')}"
    elif kind == "search_city":
        path = (f"/api/v1/doctors?specialty={rng.choice(specialties).replace(' ', '%20')}"
                f"&city={rng.choice(cities)}")
    elif kind == "doctor_page":
        doctor, monday = _week(rng, f)
        path = f"/doctors/{doctor}/?week={monday}"
    else:
        raise ValueError(kind)
    return f"GET\t{path}\t-\t-"


def booking_lines(limit: int | None = None) -> list[str]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT user_id, slot_id FROM bench_work ORDER BY n" + (f" LIMIT {int(limit)}" if limit else ""))
        pairs = c.fetchall()
    tokens = access_tokens(sorted({user_id for user_id, _ in pairs}))
    return [f'POST\t/api/v1/appointments/book\t{tokens[u]}\t{{"slot_id": {s}}}' for u, s in pairs]


def storm_plan() -> dict:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT user_id FROM bench_storm_patients ORDER BY patient_id")
        users = [u for (u,) in c.fetchall()]
        c.execute("SELECT slot_id, capacity FROM bench_storm ORDER BY round")
        slots = c.fetchall()
    tokens = access_tokens(users)
    return {"tokens": [tokens[u] for u in users], "slots": [{"id": s, "capacity": cap} for s, cap in slots]}


def write_requests(out: Path, reads: int) -> None:
    from clinics.models import Clinic, Doctor

    f = facts()
    rng = random.Random(7)
    specialties = sorted(set(Doctor.objects.values_list("specialty", flat=True)))
    cities = sorted(set(Clinic.objects.values_list("city", flat=True)))
    out.mkdir(parents=True, exist_ok=True)
    bookings = booking_lines()
    (out / "book.txt").write_text("\n".join(bookings) + "\n")
    for kind in ("week", "search", "search_city", "doctor_page"):
        lines = [read_line(kind, rng, f, specialties, cities) for _ in range(reads)]
        (out / f"{kind}.txt").write_text("\n".join(lines) + "\n")
    mixed, booking = [], iter(bookings)
    kinds, weights = list(READ_SHARE) + ["book"], list(READ_SHARE.values()) + [1 - sum(READ_SHARE.values())]
    for _ in range(min(len(bookings) * 9, 100_000)):  # more than a run sends
        kind = rng.choices(kinds, weights)[0]
        line = next(booking, None) if kind == "book" else read_line(kind, rng, f, specialties, cities)
        if line is None:
            break
        mixed.append(line)
    (out / "mixed.txt").write_text("\n".join(mixed) + "\n")
    (out / "storm.json").write_text(json.dumps(storm_plan()))


# --- inspect -------------------------------------------------------------------


def _count(client, line: str) -> tuple[int, int, list[str]]:
    """Send one request; its status, the statements PostgreSQL received (libpq's
    protocol trace: BEGIN, COMMIT, savepoints and the connection health check
    included) and the SQL the ORM ran (for EXPLAIN)."""
    import tempfile

    from django.db import close_old_connections, connection

    method, path, token, body = line.split("\t")
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        # compose_sql: the statement with its values in, whichever binding the cursor uses.
        statements.append(connection.ops.compose_sql(sql, params) if params else sql)
        return execute(sql, params, many, context)

    headers = {"HTTP_HOST": "127.0.0.1"}
    if token != "-":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        try:
            # What the server's request_started signal does (the test client skips
            # it): the CONN_HEALTH_CHECKS ping of a reused connection happens here.
            # (With a pool that would hand the traced connection back; skip it.)
            if "pool" not in connection.settings_dict["OPTIONS"]:
                close_old_connections()
            with connection.execute_wrapper(record):
                if method == "GET":
                    response = client.get(path, **headers)
                else:
                    response = client.post(path, data=body, content_type="application/json", **headers)
        finally:
            pgconn.untrace()
        trace.seek(0)
        sent = sum(1 for row in trace if row.split("\t")[1:2] == ["F"] and row.split("\t")[3] in {"Query", "Execute"})
    return response.status_code, sent, statements


def _explain(sql: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS), in a transaction rolled back (a locking read takes its locks only there)."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def inspect(out: Path) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from clinics.models import Clinic, Doctor

    f = facts()
    rng = random.Random(11)
    specialties = sorted(set(Doctor.objects.values_list("specialty", flat=True)))
    cities = sorted(set(Clinic.objects.values_list("city", flat=True)))
    client = Client()
    report: dict = {"statements": {}, "plans": []}
    plans_text = []
    samples = {kind: read_line(kind, rng, f, specialties, cities)
               for kind in ("week", "search", "search_city", "doctor_page")}
    # The last free pair: the runs reset bookings before they start, so this one is free.
    with connection.cursor() as c:
        c.execute("SELECT user_id, slot_id FROM bench_work ORDER BY n DESC LIMIT 1")
        user_id, slot_id = c.fetchone()
    token = access_tokens([user_id])[user_id]
    samples["book"] = f'POST\t/api/v1/appointments/book\t{token}\t{{"slot_id": {slot_id}}}'

    for kind, line in samples.items():
        if kind != "book":
            # A read's first request misses the catalogue cache (its SQL is counted and
            # explained); the same request again is answered from the cache.
            cache.clear()
            status, count, statements = _count(client, line)
            _, hit_count, _ = _count(client, line)
            report["statements"][kind] = {"status": status, "count": count, "sql": statements,
                                          "cached_count": hit_count}
            reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and s.strip() != "SELECT 1"]
            for sql in reads:
                plan = _explain(sql)
                report["plans"].append({"workload": kind, "sql": sql, "plan": plan})
                plans_text.append(f"-- {kind}\n{sql}\n{plan}\n")
            continue
        _count(client, line)  # warm: first-request costs (imports, the token's state) are not per request

        def give_back():
            with connection.cursor() as c:
                c.execute("DELETE FROM scheduling_appointment WHERE slot_id = %s", [slot_id])
                c.execute("UPDATE scheduling_appointmentslot SET booked_count = 0 WHERE id = %s", [slot_id])

        give_back()
        status, count, statements = _count(client, line)
        report["statements"][kind] = {"status": status, "count": count, "sql": statements}
        # The booking's reads, locks included, each replayed in a transaction that rolls back.
        for sql in [s for s in statements if s.lstrip().upper().startswith("SELECT") and s.strip() != "SELECT 1"]:
            plan = _explain(sql)
            report["plans"].append({"workload": kind, "sql": sql, "plan": plan})
            plans_text.append(f"-- {kind}\n{sql}\n{plan}\n")
        give_back()
    out.write_text(json.dumps(report, indent=1))
    out.with_suffix(".txt").write_text("\n".join(plans_text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["requests", "inspect"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reads", type=int, default=20_000)
    args = parser.parse_args()
    setup_django()
    if args.command == "requests":
        write_requests(args.out, args.reads)
    else:
        inspect(args.out)


if __name__ == "__main__":
    main()
