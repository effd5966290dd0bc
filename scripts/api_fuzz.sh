#!/usr/bin/env bash
# Schemathesis against the live OpenAPI schema of a freshly seeded server,
# authenticated as the demo patient and as the demo admin, with every check.
# Usage: scripts/api_fuzz.sh [extra `st run` options]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${FUZZ_PORT:-8765}
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

export DEBUG=false SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false
export SECRET_KEY="fuzz-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=127.0.0.1 DATABASE_URL="sqlite:///$WORK/fuzz.sqlite3"
export RATE_LIMIT_ANON=100000/min RATE_LIMIT_USER=100000/min RATE_LIMIT_LOGIN=100000/min RATE_LIMIT_REGISTER=100000/min
export LOG_LEVEL=WARNING

$BIN/python manage.py migrate --noinput -v0
$BIN/python manage.py seed_demo >/dev/null
$BIN/gunicorn healthsvc.wsgi --bind 127.0.0.1:$PORT --workers 2 --log-level warning &
SERVER=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

token() {
  curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\": \"$1\", \"password\": \"$2\"}" | $BIN/python -c 'import json,sys; print(json.load(sys.stdin)["access"])'
}

status=0
for who in patient admin; do
  case $who in
    patient) TOKEN=$(token patient@healthsvc.local patient-demo-2026) ;;
    admin) TOKEN=$(token admin@healthsvc.local admin-demo-2026) ;;
  esac
  echo "=== schemathesis as $who ==="
  # Access tokens live 15 minutes; a run stays well inside that.
  $BIN/st run "http://127.0.0.1:$PORT/api/schema/" --checks all \
    -H "Authorization: Bearer $TOKEN" --workers 2 \
    --max-examples "${FUZZ_EXAMPLES:-25}" --no-color "$@" || status=1
done
exit $status
