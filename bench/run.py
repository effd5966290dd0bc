"""The benchmark: `make bench` (both sizes, 3 runs each) and `make bench-quick`.

    python bench/run.py [--quick] [--sizes small,large] [--runs 3] [--duration 15]
                        [--workers 2] [--worker-class sync] [--threads 1] [--out FILE]

For each data size it seeds a PostgreSQL database once (bench/seed.py; again
only when seed.py changed), starts gunicorn on it as production would run it
(DEBUG off, Redis cache, persistent connections), and drives it with wrk, a
closed-loop load generator written in C (each connection sends its next
request when the answer arrives): one wrk thread per core keeps 64
connections busy on a few per cent of a core, where a Python client would
need a core of its own and take it from the server. Its own CPU is reported.

Every workload run starts from the same state: the bench's bookings are
deleted, the slots' places given back and the tables vacuumed, and the
Redis database the server uses is emptied (throttle windows, caches).

Per workload it reports requests/s, latency percentiles (wrk's histogram),
answers by status, the CPU seconds the gunicorn processes, PostgreSQL's
processes and wrk spent per request (from /proc), Redis commands per request
(INFO commandstats), SQL statements per request (bench/probe.py counts them
in-process through the same views), and, after the booking workloads, a
consistency query that finds oversold or miscounted slots. pgbench runs the
booking transaction and the week query in plain SQL against the same
database: the ceiling every HTTP figure is compared with.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path

import psycopg
import redis

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
PG_BASE = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/9")
PORT = int(os.environ.get("BENCH_PORT", "8100"))
WORK = BENCH / "results" / "work"

READ_WORKLOADS = ["week", "search", "search_city", "doctor_page"]


def log(message: str) -> None:
    print(message, flush=True)


# --- processes and their CPU ---------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


class CpuMeter:
    """CPU seconds of the server (gunicorn master and workers), of PostgreSQL (all
    its processes), of Redis and of this process's finished children (wrk,
    pgbench). A thread samples /proc every 100 ms while a run lasts, so the
    backends of pgbench's connections, gone when it ends, are counted too."""

    def __init__(self, *server_pids: int | None):
        self.server_pids = [pid for pid in server_pids if pid]
        self._seen: dict[str, dict[int, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll(self) -> None:
        server = [p for pid in self.server_pids for p in (pid, *children(pid))]
        for key, pids in (("server", server), ("postgres", pids_named("postgres")),
                          ("redis", pids_named("redis-server"))):
            seen = self._seen.setdefault(key, {})
            for pid in pids:
                seen[pid] = max(seen.get(pid, 0.0), cpu_seconds(pid))

    def __enter__(self):
        self._seen = {}
        self._poll()
        self._start = {key: dict(values) for key, values in self._seen.items()}
        own = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._client = own.ru_utime + own.ru_stime
        self._stop.clear()

        def loop():
            while not self._stop.wait(0.1):
                self._poll()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._poll()
        own = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.spent = {
            key: sum(value - self._start.get(key, {}).get(pid, 0.0) for pid, value in self._seen[key].items())
            for key in ("server", "postgres", "redis")
        }
        self.spent["client"] = own.ru_utime + own.ru_stime - self._client


# --- the database -------------------------------------------------------------------


def db_url(size: str) -> str:
    return f"{PG_BASE}/healthsvc_bench_{size}"


def seed_version() -> str:
    sys.path.insert(0, str(BENCH))
    import seed  # noqa: PLC0415

    return seed.seed_version()


def ensure_seeded(size: str) -> dict:
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"healthsvc_bench_{size}"]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE healthsvc_bench_{size}")
    with psycopg.connect(db_url(size), autocommit=True) as conn:
        try:
            row = conn.execute("SELECT version, facts FROM bench_facts").fetchone()
        except psycopg.errors.UndefinedTable:
            row = None
    if row is None or row[0] != seed_version():
        log(f"== seeding the {size} data (bench/seed.py)")
        # Its INSERT ... SELECTs of a million rows outlast the app's statement timeout.
        env = {**os.environ, "DATABASE_URL": db_url(size), "DEBUG": "true", "DB_STATEMENT_TIMEOUT_MS": "0"}
        subprocess.run([PYTHON, str(BENCH / "seed.py"), "--size", size], env=env, check=True, cwd=ROOT)
        with psycopg.connect(db_url(size)) as conn:
            row = conn.execute("SELECT version, facts FROM bench_facts").fetchone()
    # The schema of the code under test (a later migration, e.g. a new index, lands on old data).
    env = {**os.environ, "DATABASE_URL": db_url(size), "DEBUG": "true", "DB_STATEMENT_TIMEOUT_MS": "0"}
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    return row[1]


def reset_bookings(size: str, facts: dict) -> None:
    """Give back every place the bench's patients took, so each run starts equal."""
    first = facts["first_storm_patient"]
    with psycopg.connect(db_url(size), autocommit=True) as conn:
        conn.execute("DELETE FROM scheduling_idempotencykey")
        conn.execute("DELETE FROM scheduling_appointment WHERE patient_id >= %s", [first])
        conn.execute(
            "UPDATE scheduling_appointmentslot SET booked_count = 0 WHERE (doctor_id <= %s OR doctor_id = %s) "
            "AND booked_count > 0", [facts["hot"], facts["storm_doctor"]])
        conn.execute("VACUUM ANALYZE scheduling_appointment, scheduling_appointmentslot")
        conn.execute("DROP SEQUENCE IF EXISTS bench_pgbench_seq")
        conn.execute("CREATE SEQUENCE bench_pgbench_seq MINVALUE 0 START 0")


def consistency(size: str, facts: dict) -> dict:
    """Slots holding more visits than places, and slots whose booked_count is not
    the number of visits holding a place, among the slots the bench books."""
    with psycopg.connect(db_url(size)) as conn:
        row = conn.execute("""
            WITH held AS (
                SELECT s.id, s.capacity, s.booked_count,
                       (SELECT count(*) FROM scheduling_appointment a WHERE a.slot_id = s.id
                        AND a.status IN ('pending', 'confirmed', 'completed', 'no_show')) AS visits
                FROM scheduling_appointmentslot s WHERE s.doctor_id <= %s OR s.doctor_id = %s
            )
            SELECT count(*) FILTER (WHERE visits > capacity), count(*) FILTER (WHERE visits <> booked_count),
                   coalesce(sum(visits), 0)
            FROM held""", [facts["hot"], facts["storm_doctor"]]).fetchone()
        overlaps = conn.execute("""
            SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b
              ON a.patient_id = b.patient_id AND a.id < b.id AND a.start < b."end" AND b.start < a."end"
            WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
              AND a.patient_id >= %s""", [facts["first_storm_patient"]]).fetchone()[0]
    return {"oversold_slots": row[0], "miscounted_slots": row[1], "visits": int(row[2]), "patient_overlaps": overlaps}


# --- the server ---------------------------------------------------------------------


def server_env(size: str, args) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": db_url(size),
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdef0123456789abcdef",
        "JWT_SIGNING_KEY": "bench-only-jwt-signing-key-0123456789abcdef0123456789",
        # As production runs: a booking's emails are queued (one INSERT each)
        # for `db_worker`, not rendered and sent inside the request. No worker
        # runs during the bench; the queue's rows are left for the next seed.
        "TASKS_BACKEND": "database",
        "EMAIL_URL": "dummymail://",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "CACHE_URL": REDIS_URL,
        # The limits stay on (their cost is measured) but far above the load.
        "RATE_LIMIT_ANON": "100000000/min",
        "RATE_LIMIT_USER": "100000000/min",
        "LOG_LEVEL": "ERROR",  # 409s and 429s are the workload, not news
    }
    env.update(dict(pair.split("=", 1) for pair in args.env))
    return env


class Server:
    def __init__(self, size: str, args, *, port: int = PORT, env: dict | None = None):
        self.env = {**server_env(size, args), **(env or {})}
        self.args = args
        self.port = port
        self.proc: subprocess.Popen | None = None

    def __enter__(self):
        command = [
            str(Path(PYTHON).parent / "gunicorn"), "healthsvc.wsgi", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.args.workers), "--worker-class", self.args.worker_class,
            "--threads", str(self.args.threads), "--error-logfile", str(WORK / f"gunicorn-{self.port}.log"),
            "--log-level", "warning",
            # The request limits production runs with (README, "Running in production").
            "--limit-request-line", "8190", "--limit-request-fields", "50", "--limit-request-field_size", "8190",
        ]
        # The app's own log (4xx warnings are the workload here) goes to a file, not the table.
        self.log = open(WORK / f"server-{self.port}.log", "ab")  # noqa: SIM115 (closed in __exit__)
        self.proc = subprocess.Popen(command, env=self.env, cwd=ROOT, start_new_session=True,
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as answer:
                    if answer.status == 200 and len(children(self.proc.pid)) >= self.args.workers:
                        return self
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"gunicorn did not come up; see {WORK / f'gunicorn-{self.port}.log'}")

    def __exit__(self, *exc):
        if self.proc:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
            self.log.close()


def redis_calls(client: redis.Redis) -> int:
    return sum(stats["calls"] for name, stats in client.info("commandstats").items()
               if name not in {"cmdstat_info", "cmdstat_flushdb", "cmdstat_select", "cmdstat_ping"})


def probe(size: str, args, command: str, out: Path, *extra: str) -> None:
    env = server_env(size, args)
    subprocess.run([PYTHON, str(BENCH / "probe.py"), command, "--out", str(out), *extra], env=env, cwd=ROOT,
                   check=True)


def warm(path_file: Path, count: int = 200) -> None:
    """A few requests of the workload, so each worker has its connection and caches."""
    lines = path_file.read_text().splitlines()[-count:]
    connection = HTTPConnection("127.0.0.1", PORT, timeout=10)
    for line in lines:
        method, path, token, body = line.split("\t")
        if method != "GET":
            continue
        connection.request(method, path, headers={} if token == "-" else {"Authorization": f"Bearer {token}"})
        connection.getresponse().read()
    connection.close()


def run_wrk(name: str, requests_file: Path, *, clients: int, duration: int, meter: CpuMeter,
            cache: redis.Redis, port: int = PORT) -> dict:
    threads = min(2, clients)
    out = WORK / f"wrk-{name}.json"
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{duration}s", "--timeout", "10s", "--latency",
               "-s", str(BENCH / "wrk" / "requests.lua"), f"http://127.0.0.1:{port}", "--",
               str(requests_file), str(threads)]
    calls_before = redis_calls(cache)
    with meter:
        subprocess.run(command, env={**os.environ, "WRK_OUT": str(out)}, check=True, stdout=subprocess.DEVNULL)
    cpu = meter.spent
    calls = redis_calls(cache) - calls_before
    # Requests wrk left in flight still finish at the server: let them, so the
    # next run's reset is not followed by a late booking of one of its slots.
    time.sleep(1.5)
    figures = json.loads(out.read_text())
    n = max(figures["requests"], 1)
    seconds = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"], "rps": figures["requests"] / seconds,
        "p50_ms": figures["p50_us"] / 1000, "p95_ms": figures["p95_us"] / 1000, "p99_ms": figures["p99_us"] / 1000,
        "statuses": figures["statuses"], "socket_errors": figures["socket_errors"],
        "app_cpu_ms": cpu["server"] * 1000 / n, "db_cpu_ms": cpu["postgres"] * 1000 / n,
        "redis_cpu_ms": cpu["redis"] * 1000 / n, "client_cpu_ms": cpu["client"] * 1000 / n,
        "client_cpu_share": cpu["client"] / seconds, "redis_calls": calls / n,
    }


def storm(plan: dict, *, capacity: int, rounds: int, meter: CpuMeter, port: int = PORT) -> dict:
    """50 patients press "book" on one slot at the same moment, `rounds` times:
    one thread each, on a kept-alive connection, released together by a barrier."""
    slots = [s["id"] for s in plan["slots"] if s["capacity"] == capacity][:rounds]
    tokens = plan["tokens"]
    barrier = threading.Barrier(len(tokens))
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def patient(token: str) -> None:
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for slot in slots:
            barrier.wait()
            began = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/appointments/book", body=json.dumps({"slot_id": slot}),
                                   headers=headers)
                status = connection.getresponse()
                status.read()
                code = status.status
            except OSError:
                code, connection = 0, HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                results.append((code, time.perf_counter() - began))
        connection.close()

    with meter:
        began = time.perf_counter()
        workers = [threading.Thread(target=patient, args=(t,)) for t in tokens]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - began
    cpu = meter.spent
    statuses: dict[str, int] = {}
    for code, _ in results:
        statuses[str(code)] = statuses.get(str(code), 0) + 1
    losers = sorted(t for code, t in results if code == 409)
    every = sorted(t for _, t in results)
    return {
        "requests": len(results), "rps": len(results) / elapsed, "statuses": statuses,
        "booked": statuses.get("201", 0), "expected": capacity * len(slots),
        "p50_ms": quantile(every, 0.50) * 1000, "p95_ms": quantile(every, 0.95) * 1000,
        "p99_ms": quantile(every, 0.99) * 1000, "losers_p95_ms": quantile(losers, 0.95) * 1000,
        "app_cpu_ms": cpu["server"] * 1000 / max(len(results), 1),
        "db_cpu_ms": cpu["postgres"] * 1000 / max(len(results), 1),
    }


def quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(q * len(values)))]


# --- pgbench: the ceiling -------------------------------------------------------------


def pgbench(size: str, script: str, *, clients: int, duration: int, facts: dict, meter: CpuMeter) -> dict:
    path = BENCH / "pgbench" / f"{script}.sql"
    variables = ["-D", f"hot={min(facts['hot'], 20)}", "-D", f"weeks={min(max((facts['days'] - 16) // 7, 1), 8)}"]
    command = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(duration),
               "-f", str(path), *variables, db_url(size)]
    with meter:
        out = subprocess.run(command, capture_output=True, text=True)
    cpu = meter.spent
    if out.returncode != 0:
        raise SystemExit(f"pgbench {script} failed:\n{out.stderr}")
    tps = float(re.search(r"tps = ([0-9.]+)", out.stdout).group(1))
    latency = float(re.search(r"latency average = ([0-9.]+) ms", out.stdout).group(1))
    done = int(re.search(r"number of transactions actually processed: (\d+)", out.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    return {"rps": tps, "latency_avg_ms": latency, "transactions": done,
            "failed": int(failed.group(1)) if failed else 0,
            "db_cpu_ms": cpu["postgres"] * 1000 / max(done, 1), "client_cpu_ms": cpu["client"] * 1000 / max(done, 1)}


# --- the report ---------------------------------------------------------------------


def fmt_statuses(statuses: dict, socket_errors: dict | None = None) -> str:
    parts = [f"{code}:{count}" for code, count in sorted(statuses.items()) if not code.startswith("2")]
    if socket_errors:
        parts += [f"{kind}:{n}" for kind, n in socket_errors.items() if n]
    return " ".join(parts) or "-"


def median_run(runs: list[dict]) -> dict:
    """The run with the median rate, whole (its latencies belong with its rate)."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


def table(report: dict) -> str:
    head = (f"{'workload':<26} {'size':<6} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':<14} "
            f"{'app ms':>7} {'db ms':>6} {'SQL':>5} {'redis':>5} {'% ceil':>6}")
    lines = [head, "-" * len(head)]
    for row in report["rows"]:
        ceiling = row.get("ceiling_share")
        lines.append(
            f"{row['name']:<26} {row['size']:<6} {row['rps']:>8.0f} {row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f} "
            f"{row['p99_ms']:>7.1f} {row['errors']:<14} {row['app_cpu_ms']:>7.2f} {row['db_cpu_ms']:>6.2f} "
            f"{row.get('sql', '-'):>5} {row.get('redis_calls', 0):>5.1f} "
            f"{(f'{ceiling * 100:.1f}%' if ceiling else '-'):>6}")
    lines.append("")
    lines.append("ms columns per request: app = gunicorn CPU, db = PostgreSQL CPU. SQL = statements PostgreSQL")
    lines.append("receives per request (a read: when the catalogue cache misses / when it answers), redis = cache")
    lines.append("commands per request, % ceil = HTTP rate / pgbench's rate for the same SQL.")
    for name, figures in report["ceiling"].items():
        lines.append(f"pgbench ceiling {name:<22} {figures['rps']:>8.0f} tps, {figures['latency_avg_ms']:.2f} ms avg, "
                     f"{figures['db_cpu_ms']:.2f} ms PostgreSQL CPU per transaction, {figures['failed']} failed")
    for name, check in report["consistency"].items():
        lines.append(f"consistency after {name:<20} oversold slots {check['oversold_slots']}, "
                     f"miscounted {check['miscounted_slots']}, overlapping visits {check['patient_overlaps']}, "
                     f"{check['visits']} visits held")
    lines.append(f"wrk's own CPU: at most {report['client_cpu_max'] * 100:.1f}% of one core during a run")
    by = {(row["name"], row["size"]): row for row in report["rows"]}
    for name in ("week", "search", "week, cache off", "search, cache off"):
        small, large = by.get((name, "small")), by.get((name, "large"))
        if small and large:
            growth = large["p95_ms"] / small["p95_ms"] - 1
            lines.append(f"flat cost, {name:<18} p95 small {small['p95_ms']:.1f} ms, large {large['p95_ms']:.1f} ms: "
                         f"{growth * 100:+.0f}% ({'within' if growth <= 0.30 else 'beyond'} the 30 % allowed)")
    return "\n".join(lines)


def plans_summary(path: Path) -> list[str]:
    report = json.loads(path.read_text())
    lines = []
    for plan in report["plans"]:
        scans = re.findall(r"((?:Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)[^(]*)", plan["plan"])
        timing = re.search(r"Execution Time: ([0-9.]+) ms", plan["plan"])
        lines.append(f"  {plan['workload']:<12} {timing.group(1) if timing else '?':>7} ms  "
                     + "; ".join(s.strip() for s in scans))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small data, one short run each (CI)")
    parser.add_argument("--sizes", default=None, help="comma-separated: small,large")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", default=None, help="comma-separated workload names")
    parser.add_argument("--env", action="append", default=[], help="NAME=value for the server (repeatable)")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args()
    sizes = (args.sizes or ("small" if args.quick else "small,large")).split(",")
    runs = args.runs or (1 if args.quick else 3)
    duration = args.duration or (3 if args.quick else 15)
    rounds = 20
    for tool in ("wrk", "pgbench"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install -y {'wrk' if tool == 'wrk' else 'postgresql-client'}")
    WORK.mkdir(parents=True, exist_ok=True)
    cache = redis.Redis.from_url(REDIS_URL)
    report = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.node(),
              "cores": os.cpu_count(), "config": {"workers": args.workers, "worker_class": args.worker_class,
                                                  "threads": args.threads, "env": args.env, "runs": runs,
                                                  "duration_s": duration},
              "rows": [], "ceiling": {}, "consistency": {}, "statements": {}, "client_cpu_max": 0.0}
    # Production serves hashed static files from the manifest (the portal pages need it).
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env=server_env(sizes[0], args),
                   cwd=ROOT, check=True)
    plan_lines = []
    wanted = set(args.only.split(",")) if args.only else None
    for size in sizes:
        facts = ensure_seeded(size)
        log(f"== {size}: {facts['slots']:,} slots, {facts['appointments']:,} appointments, "
            f"{facts['doctors']:,} doctors, {facts['patients']:,} patients")
        full = size == sizes[-1] or args.quick  # the booking workloads run on the largest size only
        reset_bookings(size, facts)
        probe(size, args, "inspect", WORK / f"inspect-{size}.json")
        inspected = json.loads((WORK / f"inspect-{size}.json").read_text())
        report["statements"][size] = {k: {"miss": v["count"], "hit": v.get("cached_count")}
                                      for k, v in inspected["statements"].items()}
        if not args.no_plans:
            plan_lines += [f"{size}:"] + plans_summary(WORK / f"inspect-{size}.json")
        workloads = [("week", 16), ("search", 16), ("doctor_page", 16)]
        if not args.quick:
            workloads.insert(2, ("search_city", 16))
        if full:
            workloads = [("book", 16), ("book", 64)] + workloads + [("mixed", 16)]
        with Server(size, args) as server:
            meter = CpuMeter(server.proc.pid)
            for name, clients in workloads:
                label = f"{name}_{clients}" if name == "book" else name
                if wanted and name not in wanted and label not in wanted:
                    continue
                results = []
                for run in range(runs):
                    reset_bookings(size, facts)
                    cache.flushdb()
                    probe(size, args, "requests", WORK / size)
                    warm(WORK / size / f"{name if name in READ_WORKLOADS else 'week'}.txt", 50)
                    results.append(run_wrk(f"{size}-{label}-{run}", WORK / size / f"{name}.txt",
                                           clients=clients, duration=duration, meter=meter, cache=cache))
                    if name in {"book", "mixed"}:
                        report["consistency"][f"{label} ({size}, run {run + 1})"] = consistency(size, facts)
                    log(f"   {label:<12} run {run + 1}: {results[-1]['rps']:.0f}/s, p95 {results[-1]['p95_ms']:.1f} ms")
                best = median_run(results)
                counted = inspected["statements"].get(name, {})
                sql = "-" if not counted else (
                    f"{counted['count']}/{counted['cached_count']}" if "cached_count" in counted else counted["count"])
                report["rows"].append({
                    "name": label if name != "book" else f"book distinct, {clients} clients", "size": size,
                    **best, "errors": fmt_statuses(best["statuses"], best["socket_errors"]), "sql": sql,
                    "runs_rps": [round(r["rps"], 1) for r in results],
                })
                report["client_cpu_max"] = max(report["client_cpu_max"], *(r["client_cpu_share"] for r in results))
            if full and (not wanted or "storm" in wanted):
                for capacity in (1, 5):
                    reset_bookings(size, facts)
                    cache.flushdb()
                    probe(size, args, "requests", WORK / size)
                    plan = json.loads((WORK / size / "storm.json").read_text())
                    result = storm(plan, capacity=capacity, rounds=rounds, meter=meter)
                    check = consistency(size, facts)
                    report["consistency"][f"storm capacity {capacity} ({size})"] = check
                    errors = fmt_statuses({k: v for k, v in result["statuses"].items() if k != "409"})
                    report["rows"].append({
                        "name": f"50 race 1 slot, cap {capacity}", "size": size, **result,
                        "errors": f"booked {result['booked']}/{result['expected']} {errors}",
                        "sql": inspected["statements"]["book"]["count"], "redis_calls": 0.0,
                    })
                    log(f"   storm cap {capacity}: booked {result['booked']} of {result['expected']}, "
                        f"losers p95 {result['losers_p95_ms']:.0f} ms")
        # The reads again with the catalogue cache off: what a miss costs, at each size.
        if not args.quick and (not wanted or wanted & {"week_nocache", "search_nocache"}):
            with Server(size, args, env={"CATALOGUE_CACHE_SECONDS": "0"}) as server:
                meter = CpuMeter(server.proc.pid)
                for name in ("week", "search"):
                    if wanted and f"{name}_nocache" not in wanted:
                        continue
                    results = []
                    for run in range(runs):
                        cache.flushdb()
                        probe(size, args, "requests", WORK / size)
                        warm(WORK / size / f"{name}.txt", 50)
                        results.append(run_wrk(f"{size}-{name}-nocache-{run}", WORK / size / f"{name}.txt",
                                               clients=16, duration=duration, meter=meter, cache=cache))
                        log(f"   {name + ' (no cache)':<12} run {run + 1}: {results[-1]['rps']:.0f}/s, "
                            f"p95 {results[-1]['p95_ms']:.1f} ms")
                    best = median_run(results)
                    counted = inspected["statements"][name]
                    report["rows"].append({
                        "name": f"{name}, cache off", "size": size, **best,
                        "errors": fmt_statuses(best["statuses"], best["socket_errors"]),
                        "sql": counted["count"], "runs_rps": [round(r["rps"], 1) for r in results],
                    })
        if full:
            meter = CpuMeter()
            for script in ("book", "week"):
                reset_bookings(size, facts)
                report["ceiling"][f"{script} ({size})"] = pgbench(size, script, clients=16, duration=duration,
                                                                  facts=facts, meter=meter)
            reset_bookings(size, facts)
            for row in report["rows"]:
                if row["size"] != size:
                    continue
                key = ("book" if row["name"].startswith("book")
                       else "week" if row["name"] in {"week", "week, cache off"} else None)
                if key:
                    row["ceiling_share"] = row["rps"] / report["ceiling"][f"{key} ({size})"]["rps"]
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str))
    print()
    print(table(report))
    if plan_lines:
        print("\nPlans of the hot queries (EXPLAIN ANALYZE; full text in bench/results/work/inspect-*.txt):")
        print("\n".join(plan_lines))
    print(f"\nJSON: {args.out}")
    broken = [name for name, check in report["consistency"].items()
              if check["oversold_slots"] or check["miscounted_slots"] or check["patient_overlaps"]]
    short = [row["name"] for row in report["rows"] if "expected" in row and row["booked"] != row["expected"]]
    if broken or short:
        print(f"FAILED: inconsistent after {broken}; places left unbooked in {short}")
        sys.exit(1)


if __name__ == "__main__":
    main()
