"""Configuration comes from the environment, and production refuses unsafe defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _start(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DEBUG", "SECRET_KEY", "JWT_SIGNING_KEY", "DATABASE_URL"}}
    clean.update(DJANGO_SETTINGS_MODULE="healthsvc.settings.base", **env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


def test_production_refuses_the_development_secret_key():
    result = _start(DEBUG="false")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_real_keys():
    assert _start(DEBUG="false", SECRET_KEY="x" * 50, JWT_SIGNING_KEY="j" * 32).returncode == 0


@pytest.mark.parametrize("jwt_key", [
    pytest.param(None, id="unset"),
    pytest.param("j" * 31, id="short"),
    pytest.param("x" * 50, id="same-as-secret-key"),
])
def test_production_refuses_a_missing_short_or_shared_jwt_key(jwt_key):
    env = {"DEBUG": "false", "SECRET_KEY": "x" * 50}
    if jwt_key is not None:
        env["JWT_SIGNING_KEY"] = jwt_key
    result = _start(**env)
    assert result.returncode != 0 and "JWT_SIGNING_KEY must be set" in result.stderr


def test_development_has_a_jwt_key_of_its_own():
    assert _start(DEBUG="true").returncode == 0


def test_a_bad_boolean_is_an_error_not_false():
    result = _start(DEBUG="maybe", SECRET_KEY="x" * 50, JWT_SIGNING_KEY="j" * 32)
    assert result.returncode != 0 and "maybe" in result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only settings; this run is on " + connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.postgres_only
def test_postgres_keeps_connections_with_health_checks():
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def _databases(**env) -> dict:
    """settings.DATABASES (and routers) as the project builds them from `env`."""
    import json

    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL"}}
    clean.update(DJANGO_SETTINGS_MODULE="healthsvc.settings.base", DEBUG="true", **env)
    script = ("import django, json; django.setup(); from django.conf import settings; "
              "print(json.dumps({'databases': settings.DATABASES, 'routers': settings.DATABASE_ROUTERS}, default=str))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


PG = "postgres://app@db.example.com:5432/healthsvc"


def test_postgres_keeps_connections_with_health_checks_by_default():
    default = _databases(DATABASE_URL=PG)["databases"]["default"]
    assert (default["CONN_MAX_AGE"], default["CONN_HEALTH_CHECKS"]) == (60, True)
    assert "server_side_binding" not in default["OPTIONS"] and "pool" not in default["OPTIONS"]


def test_binding_and_pgbouncer_are_switched_on_from_the_environment():
    default = _databases(DATABASE_URL=PG, DB_SERVER_SIDE_BINDING="true")["databases"]["default"]
    assert default["OPTIONS"]["server_side_binding"] is True and default["CONN_MAX_AGE"] == 60
    bouncer = _databases(DATABASE_URL=PG, DB_PGBOUNCER="true")["databases"]["default"]
    assert bouncer["DISABLE_SERVER_SIDE_CURSORS"] is True and bouncer["OPTIONS"]["prepare_threshold"] is None


def test_postgres_connections_carry_statement_lock_and_idle_timeouts_except_behind_pgbouncer():
    options = _databases(DATABASE_URL=PG)["databases"]["default"]["OPTIONS"]
    assert options["options"] == (
        "-c statement_timeout=15000 -c lock_timeout=5000 -c idle_in_transaction_session_timeout=30000")
    assert options["connect_timeout"] == 5
    tuned = _databases(DATABASE_URL=PG, DB_LOCK_TIMEOUT_MS="800", DB_STATEMENT_TIMEOUT_MS="0")
    assert "-c statement_timeout=0 -c lock_timeout=800 " in tuned["databases"]["default"]["OPTIONS"]["options"]
    # PgBouncer refuses startup options: there the role carries them (README, "Database faults").
    bouncer = _databases(DATABASE_URL=PG, DB_PGBOUNCER="true")["databases"]["default"]["OPTIONS"]
    assert "options" not in bouncer


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_app_connection_runs_with_the_timeouts():
    with connection.cursor() as cursor:
        shown = []
        for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"):
            cursor.execute(f"SHOW {name}")
            shown.append(cursor.fetchone()[0])
    assert shown == ["15s", "5s", "30s"]


def test_a_replica_url_adds_the_replica_and_its_router():
    built = _databases(DATABASE_URL=PG, DATABASE_REPLICA_URL="postgres://app@replica.example.com:5432/healthsvc")
    replica = built["databases"]["replica"]
    assert replica["HOST"] == "replica.example.com" and replica["TEST"]["MIRROR"] == "default"
    assert built["routers"] == ["healthsvc.db_router.ReplicaRouter"]
    assert "replica" not in _databases(DATABASE_URL=PG)["databases"]


@pytest.mark.parametrize("name", ["MAX_REQUEST_BODY_BYTES", "MAX_URL_LENGTH"])
def test_a_request_limit_of_zero_is_an_error_not_no_limit(name):
    result = _start(DEBUG="true", **{name: "0"})
    assert result.returncode != 0 and "must be positive" in result.stderr


def test_the_task_queue_is_chosen_from_the_environment():
    script = "import django; django.setup(); from django.conf import settings; print(settings.TASKS['default']['BACKEND'])"
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_URL", "TASKS_BACKEND"}}

    def backend(**env):
        return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                              env={**base, "DJANGO_SETTINGS_MODULE": "healthsvc.settings.base", "DEBUG": "true", **env})

    assert backend().stdout.strip() == "django_tasks.backends.immediate.ImmediateBackend"
    assert backend(TASKS_BACKEND="database").stdout.strip() == "django_tasks_db.DatabaseBackend"
    refused = backend(TASKS_BACKEND="redis")
    assert refused.returncode != 0 and "TASKS_BACKEND must be one of immediate, database" in refused.stderr
