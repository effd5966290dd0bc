#!/usr/bin/env bash
# Two gunicorn instances behind nginx against one PostgreSQL and one Redis
# (bench/scale_out.py says what it shows). Needs nginx (apt-get install -y
# nginx-light) and wrk; runs the PgBouncer part when pgbouncer is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/scale_out.py "$@"
