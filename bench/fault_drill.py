"""The fault drill: bookings under steady load while PostgreSQL restarts, backends
are terminated mid-booking and Redis pauses and stops; then the books are checked.

    python bench/fault_drill.py [--quick] [--workers 2] [--clients 6]
    make fault-drill / make fault-drill-quick (CI)

It touches no shared server: it starts its own PostgreSQL (initdb into a
temporary directory, pg_ctl on a free port, as the `postgres` OS user when
run as root) and its own Redis (`--save ''`, a free port), seeds them with
bench/seed.py (small), and runs gunicorn on them as production does (DEBUG
off, Redis cache, persistent connections with health checks, the database
task queue). Client threads book over HTTP with JWTs minted by
bench/probe.py, each booking with its own Idempotency-Key; a request that
gets a 503 or no answer is sent again with the same key after 100 ms, as a
well-behaved client would, until it gets an answer that is not a failure.

  a) PostgreSQL restart: stopped (fast shutdown), down for a moment, started.
     Reported: requests failed while it was away and until the first booking
     succeeded again, requests failed after that (goal: 0), and the time from
     PostgreSQL accepting connections to that first success (goal: < 5 s).
     The app is not restarted.
  b) pg_terminate_backend() on the app's busy backends, every 200 ms.
  c) Redis: CLIENT PAUSE (writes and reads) for 3 s (2 s with --quick).
  d) Redis: shut down for 5 s (2 s with --quick) and started again empty; the
     app works without its cache meanwhile (CACHE_SOCKET_TIMEOUT bounds a call).

Afterwards: every slot's booked_count equals its visits holding a place and
its held_count its offered waitlist entries, every 201 a client got is an
appointment that exists, no idempotency key points at a missing booking, no
email task names a missing booking, and the audit chain verifies
(`manage.py audit_verify`, or "not built" while the command does not exist).

One table. Exit status 1 on a failed check, a failure after recovery or any
failure while Redis is stopped, never
on a timing figure (a recovery over 5 s is shown, not failed: CI is noisy).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from types import SimpleNamespace

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import run  # noqa: E402  (the benchmark's server and helpers)

PYTHON = sys.executable
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DB_NAME = "healthsvc_faults_drill"
RETRY_PAUSE = 0.1  # seconds between a client's tries of one booking
REQUEST_TIMEOUT = 10  # a hung worker shows up as a timeout


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- our own PostgreSQL and Redis ----------------------------------------------------


class Postgres:
    """A throwaway cluster: initdb in a temporary directory, our own port."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="healthsvc-faults-pg-"))
        self.data, self.logfile = self.dir / "data", self.dir / "server.log"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_postgres, *command], check=True, stdout=subprocess.DEVNULL, cwd=self.dir)

    def __enter__(self):
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale", "C")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.dir}'\nmax_connections = 50\n"
                       # A throwaway cluster: no flush to disk (a clean restart, which is the
                       # drill's, loses nothing either way; an OS crash is not drilled).
                       "fsync = off\n")
        self.start()
        return self

    def start(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-w", "start")

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def accepting(self) -> bool:
        try:
            with psycopg.connect(f"{self.url}/postgres", connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args: str) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), *args], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        subprocess.run(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--daemonize", "yes", "--logfile", ""], check=True,
                       stdout=subprocess.DEVNULL)
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


# --- the load ------------------------------------------------------------------------


class Load:
    """Client threads booking the seeded (patient, slot) pairs, one at a time
    each; every try is recorded as (sent, answered, status), status 0 for no
    answer (refused, reset, timed out)."""

    def __init__(self, port: int, lines: list[str], clients: int):
        self.port, self.clients = port, clients
        self.todo = iter(lines)
        self.lock = threading.Lock()
        self.tries: list[tuple[float, float, int]] = []
        self.booked: list[int] = []  # appointment ids answered 201
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT + 5)

    def _send(self, path: str, token: str, body: str, key: str) -> tuple[int, bytes]:
        connection = HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request("POST", path, body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key})
            answer = connection.getresponse()
            return answer.status, answer.read()
        except OSError:
            return 0, b""
        finally:
            connection.close()

    def _client(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                line = next(self.todo, None)
            if line is None:
                return
            _, path, token, body = line.split("\t")
            key = str(uuid.uuid4())
            while not self.stop.is_set():  # the same booking, the same key, until an answer
                sent = time.monotonic()
                status, content = self._send(path, token, body, key)
                with self.lock:
                    self.tries.append((sent, time.monotonic(), status))
                    if status == 201:
                        self.booked.append(json.loads(content)["id"])
                if status not in (0, 502, 503, 504) and status < 500:
                    break
                if status >= 500 and status not in (502, 503, 504):
                    break  # a 500 is a bug, not an outage: recorded, not retried
                time.sleep(RETRY_PAUSE)

    def answered(self, start: float, end: float) -> list[tuple[float, float, int]]:
        """The tries answered in [start, end): one sent before a fault that met
        it belongs to the fault, one sent as a phase ends to the next phase."""
        with self.lock:
            return [t for t in self.tries if start <= t[1] < end]

    def first_success(self, moment: float) -> float | None:
        with self.lock:
            return min((t[1] for t in self.tries if t[0] >= moment and t[2] == 201), default=None)


def failed(tries) -> list:
    return [t for t in tries if t[2] == 0 or t[2] >= 500]


def phase_row(load: Load, phase: dict) -> dict:
    """A phase's tries (those answered between its start and end): failures of
    those sent before `settled` (the fault and the recovery from it) and after."""
    tries = load.answered(phase["start"], phase["end"])
    settled = phase["settled"]
    statuses: dict[int, int] = {}
    for t in tries:
        statuses[t[2]] = statuses.get(t[2], 0) + 1
    return {
        "phase": phase["name"], "requests": len(tries), "booked": statuses.get(201, 0),
        "failed_during": len(failed([t for t in tries if t[0] < settled])),
        "failed_after": len(failed([t for t in tries if t[0] >= settled])),
        "http_500": statuses.get(500, 0), "recovered_s": phase.get("recovered"),
        "worst_s": max((t[1] - t[0] for t in tries), default=0.0),
        "late": [(t[0], t[1], t[2]) for t in failed(tries) if t[0] >= settled],
        "settled_at": settled,
        "note": " ".join([phase.get("note", ""), " ".join(f"{code or 'none'}:{n}" for code, n in sorted(statuses.items())
                                                          if code != 201)]).strip(),
    }


def drill_restart(pg: Postgres, load: Load, *, down_s: float, after_s: float) -> dict:
    """Stop PostgreSQL (fast shutdown: sessions ended), keep it down, start it;
    the app is left alone. Recovery: from accepting connections to the first
    booking sent after that and answered 201."""
    start = time.monotonic()
    pg.stop()
    time.sleep(down_s)
    subprocess.Popen([*pg.as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(pg.data), "-l", str(pg.logfile), "start"],
                     stdout=subprocess.DEVNULL, cwd=pg.dir)
    while not pg.accepting():
        time.sleep(0.02)
    accepting = time.monotonic()
    deadline = accepting + 30
    while (ok_at := load.first_success(accepting)) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(after_s)
    return {"name": "a) PostgreSQL restart", "start": start, "end": time.monotonic(),
            "settled": ok_at if ok_at is not None else float("inf"),
            "recovered": None if ok_at is None else ok_at - accepting,
            "note": f"away {accepting - start:.1f} s;"}


def drill_terminate(pg: Postgres, load: Load, *, seconds: float, after_s: float) -> dict:
    """pg_terminate_backend() on every app backend busy in a request (running a
    statement or inside a transaction), every 200 ms."""
    start, killed = time.monotonic(), 0
    with psycopg.connect(f"{pg.url}/{DB_NAME}", autocommit=True) as conn:
        while time.monotonic() < start + seconds:
            killed += conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND state IN ('active', 'idle in transaction')", [DB_NAME]).fetchone()[0]
            time.sleep(0.2)
    stopped = time.monotonic()
    time.sleep(after_s)
    return {"name": f"b) pg_terminate_backend, {seconds:.0f} s", "start": start, "end": time.monotonic(),
            "settled": stopped + 0.5, "note": f"{killed} backends ended;"}


def drill_redis_pause(redis_server: Redis, load: Load, *, pause_ms: int, after_s: float) -> dict:
    start = time.monotonic()
    redis_server.cli("CLIENT", "PAUSE", str(pause_ms), "ALL")
    time.sleep(pause_ms / 1000)
    resumed = time.monotonic()
    time.sleep(after_s)
    return {"name": f"c) Redis CLIENT PAUSE {pause_ms / 1000:.0f} s", "start": start, "end": time.monotonic(),
            "settled": resumed + 0.5}


def drill_redis_stop(redis_server: Redis, load: Load, *, down_s: float, after_s: float) -> dict:
    """Redis shut down (its data gone) and started again, empty: the app works
    without its cache meanwhile (goal: no failure at all)."""
    start = time.monotonic()
    redis_server.stop()
    time.sleep(down_s)
    redis_server.start()
    back = time.monotonic()
    time.sleep(after_s)
    return {"name": f"d) Redis stopped {down_s:.0f} s, started empty", "start": start, "end": time.monotonic(),
            "settled": back + 0.5}


# --- the checks afterwards --------------------------------------------------------------


PLACE_HOLDING = "('pending', 'confirmed', 'completed', 'no_show')"


def last_appointment_id(pg: Postgres) -> int:
    with psycopg.connect(f"{pg.url}/{DB_NAME}") as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM scheduling_appointment").fetchone()[0]


def checks(pg: Postgres, booked: list[int], env: dict, *, first_id: int) -> list[tuple[str, int, str]]:
    """(check, problems found, detail) for each check; 0 problems is a pass.
    A check whose problems are shown but fail nothing has a detail saying so."""
    out = []
    with psycopg.connect(f"{pg.url}/{DB_NAME}") as conn:
        q = lambda sql, *params: conn.execute(sql, params).fetchone()[0]  # noqa: E731
        slots = q("SELECT count(*) FROM scheduling_appointmentslot")
        out.append(("booked_count = visits holding a place", q(f"""
            SELECT count(*) FROM scheduling_appointmentslot s WHERE s.booked_count <>
              (SELECT count(*) FROM scheduling_appointment a WHERE a.slot_id = s.id AND a.status IN {PLACE_HOLDING})
            """), f"{slots:,} slots"))
        out.append(("held_count = offered waitlist entries", q("""
            SELECT count(*) FROM scheduling_appointmentslot s WHERE s.held_count <>
              (SELECT count(*) FROM scheduling_waitlistentry w WHERE w.offered_slot_id = s.id AND w.status = 'offered')
            """), ""))
        missing = q("SELECT count(*) FROM unnest(%s::bigint[]) AS b(id) WHERE NOT EXISTS "
                    f"(SELECT 1 FROM scheduling_appointment a WHERE a.id = b.id AND a.status IN {PLACE_HOLDING})",
                    booked)
        out.append(("every 201 is a booking that exists", missing, f"{len(set(booked)):,} answered 201"))
        keys = q("SELECT count(*) FROM scheduling_idempotencykey WHERE response_body IS NOT NULL")
        out.append(("no idempotency key names a missing booking", q("""
            SELECT count(*) FROM scheduling_idempotencykey k WHERE k.response_body IS NOT NULL AND NOT EXISTS
              (SELECT 1 FROM scheduling_appointment a WHERE a.id = (k.response_body->>'id')::bigint)"""),
                    f"{keys:,} keys"))
        tasks = q("SELECT count(*) FROM django_tasks_database_dbtaskresult")
        out.append(("no email task names a missing booking", q("""
            SELECT count(*) FROM django_tasks_database_dbtaskresult t
            WHERE t.args_kwargs->'kwargs' ? 'appointment_id' AND NOT EXISTS
              (SELECT 1 FROM scheduling_appointment a WHERE a.id = (t.args_kwargs->'kwargs'->>'appointment_id')::bigint)
            """), f"{tasks:,} tasks queued"))
        # Shown, not failed on: a booking committed in the instant before the
        # database went away loses its mail (it is queued after the commit).
        unmailed = q("""
            SELECT count(*) FROM scheduling_appointment a WHERE a.id > %s AND NOT EXISTS
              (SELECT 1 FROM django_tasks_database_dbtaskresult t
               WHERE (t.args_kwargs->'kwargs'->>'appointment_id')::bigint = a.id
                 AND t.args_kwargs->'kwargs'->>'recipient' = 'patient')""", first_id)
        out.append(("every new booking's mail is queued (info)", -unmailed, f"{unmailed} without (not failed on)"))
        audited = q("SELECT count(*) FROM audit_auditevent WHERE action = 'book'")
        out.append(("no audit row claims a booking that is not there", q("""
            SELECT count(*) FROM audit_auditevent e WHERE e.action = 'book' AND NOT EXISTS
              (SELECT 1 FROM scheduling_appointment a WHERE a.id::text = e.object_id)"""),
                    f"{audited:,} booking rows"))
        out.append(("every booking has its audit row", q("""
            SELECT count(*) FROM scheduling_appointment a WHERE a.id > %s AND NOT EXISTS
              (SELECT 1 FROM audit_auditevent e WHERE e.action = 'book' AND e.object_id = a.id::text)""", first_id),
                    ""))
    out.append(audit_check(env))
    return out


def audit_check(env: dict) -> tuple[str, int | None, str]:
    """`manage.py audit_verify` when the audit trail has it, else "not built"."""
    probe = subprocess.run(
        [PYTHON, "-c", "import django; django.setup(); from django.core.management import get_commands; "
                       "print('audit_verify' in get_commands())"],
        env={**env, "DJANGO_SETTINGS_MODULE": "healthsvc.settings.base"}, cwd=ROOT, capture_output=True, text=True)
    if probe.stdout.strip() != "True":
        return ("audit chain verifies (manage.py audit_verify)", None, "not built")
    result = subprocess.run([PYTHON, "manage.py", "audit_verify"], env=env, cwd=ROOT, capture_output=True, text=True)
    last = (result.stdout.strip() or result.stderr.strip()).splitlines()[-1:] or [""]
    return ("audit chain verifies (manage.py audit_verify)", int(result.returncode != 0), last[0][:60])


# --- the report -----------------------------------------------------------------------


def table(rows: list[dict], found: list[tuple[str, int | None, str]]) -> str:
    head = (f"{'phase':<36} {'requests':>8} {'booked':>6} {'failed during':>13} {'failed after':>12} "
            f"{'500s':>4} {'recovered':>9} {'worst':>6}  note")
    lines = [head, "-" * len(head)]
    for r in rows:
        recovered = "-" if r["recovered_s"] is None and not r["phase"].startswith("a)") else (
            "never" if r["recovered_s"] is None else f"{r['recovered_s']:.2f} s")
        lines.append(f"{r['phase']:<36} {r['requests']:>8} {r['booked']:>6} {r['failed_during']:>13} "
                     f"{r['failed_after']:>12} {r['http_500']:>4} {recovered:>9} {r['worst_s']:>5.1f}s  {r['note']}")
    lines.append("-" * len(head))
    for name, problems, detail in found:
        verdict = ("not built" if problems is None else "ok" if problems == 0
                   else f"{-problems} lost" if problems < 0 else f"FAILED: {problems}")
        lines.append(f"check: {name:<46} {verdict:<12} {detail if problems is not None else ''}")
    lines.append("")
    lines.append("failed = a 5xx or no answer (each try counts; a client tries a failed booking again after")
    lines.append("100 ms with the same Idempotency-Key). during = sent before the first booking succeeded again")
    lines.append("(a: measured from PostgreSQL accepting connections, as 'recovered'; b, c, d: until 0.5 s after the")
    lines.append("fault ended); after = sent later (goal 0). worst = the slowest answer.")
    return "\n".join(lines)


def _clock(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(wall)) + f"{wall % 1:.3f}"[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short phases, for CI (under a minute)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--env", action="append", default=[], help="NAME=value for the server (repeatable)")
    args = parser.parse_args()
    for tool in ("redis-server", "redis-cli", "runuser" if os.geteuid() == 0 else "true"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing (apt-get install -y redis-server postgresql)")
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"no PostgreSQL binaries in {PG_BIN} (set PG_BIN)")
    quick = args.quick
    run.WORK.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with Postgres() as pg, Redis() as redis_server:
        log(f"== own PostgreSQL on port {pg.port}, own Redis on port {redis_server.port}")
        with psycopg.connect(f"{pg.url}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
        env = {**os.environ, "DATABASE_URL": f"{pg.url}/{DB_NAME}", "DEBUG": "true", "DB_STATEMENT_TIMEOUT_MS": "0"}
        subprocess.run([PYTHON, str(BENCH / "seed.py"), "--size", "small"], env=env, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        server_args = SimpleNamespace(workers=args.workers, worker_class="sync", threads=1, env=args.env)
        # WARNING: each 503 is logged with its cause (healthsvc.api), 4xx answers too.
        server_overrides = {"DATABASE_URL": f"{pg.url}/{DB_NAME}", "CACHE_URL": redis_server.url, "LOG_LEVEL": "WARNING"}
        server_env = {**run.server_env("small", server_args), **server_overrides}
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env=server_env, cwd=ROOT,
                       check=True)
        out = run.WORK / "faults"
        subprocess.run([PYTHON, str(BENCH / "probe.py"), "requests", "--out", str(out)], env=server_env, cwd=ROOT,
                       check=True)
        lines = (out / "book.txt").read_text().splitlines()
        port = free_port()
        log(f"== seeded in {time.monotonic() - began:.0f} s; gunicorn, {args.workers} workers, on port {port}; "
            f"{args.clients} clients booking")
        phases, first_id = [], last_appointment_id(pg)
        with run.Server("small", server_args, port=port, env=server_overrides) as server, \
                Load(port, lines, args.clients) as load:
            time.sleep(1 if quick else 3)  # steady load first
            phases.append(drill_restart(pg, load, down_s=1 if quick else 3, after_s=4 if quick else 10))
            log(f"   {phases[-1]['name']}: bookings again {phases[-1]['recovered']:.2f} s after PostgreSQL accepted"
                if phases[-1]["recovered"] is not None else "   no booking succeeded after the restart")
            phases.append(drill_terminate(pg, load, seconds=3 if quick else 10, after_s=2 if quick else 5))
            log(f"   {phases[-1]['name']}: {phases[-1]['note']}")
            phases.append(drill_redis_pause(redis_server, load, pause_ms=2000 if quick else 3000,
                                            after_s=2 if quick else 5))
            phases.append(drill_redis_stop(redis_server, load, down_s=2 if quick else 5, after_s=2 if quick else 5))
            load.stop.set()
            alive = server.proc.poll() is None
        rows = [phase_row(load, phase) for phase in phases]
        time.sleep(0.5)
        found = checks(pg, load.booked, {**server_env, "DEBUG": "true"}, first_id=first_id)
    print()
    print(table(rows, found))
    to_wall = time.time() - time.monotonic()
    for r in rows:
        for sent, answered, status in r["late"]:
            print(f"late failure in {r['phase']}: status {status or 'none'}, sent {_clock(sent + to_wall)} UTC, "
                  f"answered {_clock(answered + to_wall)} (settled {_clock(r['settled_at'] + to_wall)})")
    print(f"\ngunicorn {'stayed up' if alive else 'DIED'} throughout (never restarted); "
          f"{time.monotonic() - began:.0f} s in all. Server log: {run.WORK}/server-{port}.log")
    bad = [name for name, problems, _ in found if problems and problems > 0]
    # Redis stopping must cost nothing at all: the cache only speeds things up.
    late = [r["phase"] for r in rows if r["failed_after"] or (r["phase"].startswith("d)") and r["failed_during"])]
    if bad or late or not alive:
        print(f"FAILED: checks {bad}, failures after recovery in {late}")
        sys.exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the throwaway servers are stopped
    main()
