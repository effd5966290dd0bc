"""Two app nodes behind a load balancer: bench/scale_out.sh runs this.

Two gunicorn instances (ports 8101 and 8102) share one PostgreSQL and one
Redis behind nginx (Debian's package, round robin, port 8100), as N app
nodes behind a load balancer would. Through nginx it shows:

- the booking storm (50 patients racing for one capacity-1 and one
  capacity-5 slot, 20 rounds each): no oversell, by the consistency query;
- rate limits shared by the instances: with RATE_LIMIT_ANON=60/min, 100
  anonymous requests spread over both instances get exactly 60 answers and
  40 refusals (per-instance counters would let all 100 through);
- booking throughput with one instance and with two, behind the same nginx;
- the same storm through PgBouncer in transaction mode (DB_PGBOUNCER=true:
  no server-side cursors, no prepared statements), when pgbouncer is installed.

Uses the small data set (bench/seed.py) and prints one table.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402

LB_PORT, NODE_PORTS = 8100, (8101, 8102)
BOUNCER_PORT = 6433


def nginx_up(ports: tuple[int, ...], workdir: Path) -> subprocess.Popen:
    upstream = "\n".join(f"    server 127.0.0.1:{port} max_fails=0;" for port in ports)
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  upstream app {{
{upstream}
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{LB_PORT};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }}
  }}
}}
""")
    for path in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / path).mkdir(exist_ok=True)
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"],
                            start_new_session=True)
    for _ in range(50):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{LB_PORT}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nginx did not come up; see {workdir / 'nginx-error.log'}")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


def shared_limit(requests: int = 100) -> dict:
    """Anonymous GETs through nginx, which alternates the two instances."""
    statuses: dict[int, int] = {}
    for _ in range(requests):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{LB_PORT}/api/v1/clinics", timeout=10) as answer:
                code = answer.status
        except urllib.error.HTTPError as error:
            code = error.code
        statuses[code] = statuses.get(code, 0) + 1
    return statuses


def bouncer_up(workdir: Path, size: str) -> subprocess.Popen | None:
    if not shutil.which("pgbouncer"):
        return None
    ini = workdir / "pgbouncer.ini"
    ini.write_text(f"""
[databases]
healthsvc_bench_{size} = host=127.0.0.1 port=5432 dbname=healthsvc_bench_{size} user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {BOUNCER_PORT}
auth_type = trust
auth_file = {workdir}/users.txt
pool_mode = transaction
default_pool_size = 8
max_client_conn = 200
logfile = {workdir}/pgbouncer.log
log_connections = 0
log_disconnections = 0
pidfile = {workdir}/pgbouncer.pid
""")
    (workdir / "users.txt").write_text('"postgres" ""\n')
    user = ["-u", "postgres"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        for path in workdir.iterdir():
            shutil.chown(path, "postgres")
    proc = subprocess.Popen(["pgbouncer", *user, str(ini)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install -y {'nginx-light' if tool == 'nginx' else tool}")
    server_args = argparse.Namespace(workers=args.workers, worker_class="sync", threads=1, env=[])
    run.WORK.mkdir(parents=True, exist_ok=True)
    facts = run.ensure_seeded(args.size)
    cache = run.redis.Redis.from_url(run.REDIS_URL)
    subprocess.run([run.PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
                   env=run.server_env(args.size, server_args), cwd=run.ROOT, check=True)
    report: dict = {"rows": [], "checks": {}}
    workdir = Path(tempfile.mkdtemp(prefix="healthsvc-scale-"))
    limited = {"RATE_LIMIT_ANON": "60/min"}

    def fresh() -> dict:
        run.reset_bookings(args.size, facts)
        cache.flushdb()
        run.probe(args.size, server_args, "requests", run.WORK / args.size)
        return json.loads((run.WORK / args.size / "storm.json").read_text())

    # Rate limits shared by two instances (and nginx alternating between them).
    with run.Server(args.size, server_args, port=NODE_PORTS[0], env=limited), \
            run.Server(args.size, server_args, port=NODE_PORTS[1], env=limited):
        balancer = nginx_up(NODE_PORTS, workdir)
        try:
            cache.flushdb()
            report["checks"]["shared rate limit (60/min, 100 requests, 2 instances)"] = shared_limit()
        finally:
            stop(balancer)

    for instances in (1, 2):
        ports = NODE_PORTS[:instances]
        servers = [run.Server(args.size, server_args, port=port) for port in ports]
        for server in servers:
            server.__enter__()
        balancer = nginx_up(ports, workdir)
        try:
            meter = run.CpuMeter(*(server.proc.pid for server in servers))
            fresh()
            result = run.run_wrk(f"scale-{instances}", run.WORK / args.size / "book.txt", clients=16,
                                 duration=args.duration, meter=meter, cache=cache, port=LB_PORT)
            report["rows"].append({"name": f"book distinct, 16 clients, {instances} instance(s)", **result,
                                   "errors": run.fmt_statuses(result["statuses"], result["socket_errors"])})
            report["checks"][f"after booking, {instances} instance(s)"] = run.consistency(args.size, facts)
            if instances == 2:
                for capacity in (1, 5):
                    plan = fresh()
                    result = run.storm(plan, capacity=capacity, rounds=20, meter=meter, port=LB_PORT)
                    report["rows"].append({"name": f"50 race 1 slot, cap {capacity}, 2 instances", **result,
                                           "errors": f"booked {result['booked']}/{result['expected']}"})
                    report["checks"][f"storm capacity {capacity}, 2 instances"] = run.consistency(args.size, facts)
        finally:
            stop(balancer)
            for server in servers:
                server.__exit__(None, None, None)

    bouncer = bouncer_up(workdir, args.size)
    if bouncer is None:
        report["checks"]["PgBouncer"] = "pgbouncer is not installed (apt-get install -y pgbouncer): not run"
    else:
        try:
            via = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{BOUNCER_PORT}/healthsvc_bench_{args.size}",
                   "DB_PGBOUNCER": "true", "CONN_MAX_AGE": "0"}
            with run.Server(args.size, server_args, port=NODE_PORTS[0], env=via), \
                    run.Server(args.size, server_args, port=NODE_PORTS[1], env=via):
                balancer = nginx_up(NODE_PORTS, workdir)
                try:
                    for capacity in (1, 5):
                        plan = fresh()
                        result = run.storm(plan, capacity=capacity, rounds=20, meter=run.CpuMeter(), port=LB_PORT)
                        report["rows"].append({"name": f"50 race, cap {capacity}, via PgBouncer", **result,
                                               "errors": f"booked {result['booked']}/{result['expected']}"})
                        report["checks"][f"storm capacity {capacity} via PgBouncer"] = run.consistency(
                            args.size, facts)
                finally:
                    stop(balancer)
        finally:
            stop(bouncer)

    print(f"\n{'workload':<42} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7}  errors")
    for row in report["rows"]:
        print(f"{row['name']:<42} {row['rps']:>7.0f} {row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f} "
              f"{row['p99_ms']:>7.1f}  {row['errors']}")
    print()
    for name, check in report["checks"].items():
        print(f"{name}: {check}")
    out = BENCH / "results" / "scale_out.json"
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
