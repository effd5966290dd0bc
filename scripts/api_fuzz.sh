#!/usr/bin/env bash
# Schemathesis against the live OpenAPI schema of a freshly seeded server,
# authenticated as the demo patient and as the demo admin, with every check and
# every phase; what it expects is in schemathesis.toml (with the reasons), of
# which each run uses a copy holding the ids of the rows it prepared.
# Usage: scripts/api_fuzz.sh [extra `st run` options]   (FUZZ_EXAMPLES=N: cases per operation)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${FUZZ_PORT:-8765}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
SERVER=
stop_server() {
  [ -n "$SERVER" ] || return 0
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=
}
# (Under set -e a failing command in the trap would become the exit status.)
trap 'stop_server; rm -rf "$WORK" || true' EXIT

export DEBUG=false SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false
# Mail goes nowhere (not to the console: with DEBUG off the check healthsvc.E001
# refuses that, and migrate runs the checks).
export EMAIL_URL=dummymail://
# Django's local-memory cache, meant here: the fuzzer's limits are off, and one
# machine's two workers need not share revocations for this run (healthsvc.E003).
export ALLOW_LOCAL_CACHE=true
export SECRET_KEY="fuzz-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export JWT_SIGNING_KEY="fuzz-jwt-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=127.0.0.1
export RATE_LIMIT_ANON=100000/min RATE_LIMIT_USER=100000/min RATE_LIMIT_LOGIN=100000/min RATE_LIMIT_REGISTER=100000/min
export LOG_LEVEL=WARNING

# One seeded database, copied afresh for each persona: both runs start from the
# same known rows, whose ids schemathesis.toml lists as test data.
DATABASE_URL="sqlite:///$WORK/seeded.sqlite3" $BIN/python manage.py migrate --noinput -v0
# seed_demo refuses to run with DEBUG off (its logins are published): only the
# seeding is DEBUG=true; the server under test stays DEBUG=false.
DEBUG=true DATABASE_URL="sqlite:///$WORK/seeded.sqlite3" $BIN/python manage.py seed_demo >/dev/null
# As in production (README): the static files collected, whose manifest every
# HTML page's {% static %} reads (without it a portal 404 page is a 500).
export STATIC_ROOT="$WORK/static"
$BIN/python manage.py collectstatic --noinput -v0

start_server() {
  local file
  for file in "$WORK"/seeded.sqlite3*; do cp "$file" "${file/seeded/$1}"; done  # with any -wal / -shm
  # gunicorn's limits as in production (README, "Running in production"): its
  # request line (8190 bytes) is longer than the app's URL limit (MAX_URL_LENGTH,
  # 4096), so a URL the fuzzer's repeated query parameters make too long gets
  # the app's documented 414 envelope, not gunicorn's HTML page.
  DATABASE_URL="sqlite:///$WORK/$1.sqlite3" $BIN/gunicorn healthsvc.wsgi --bind "127.0.0.1:$PORT" --workers 2 \
    --limit-request-line 8190 --limit-request-fields 50 --limit-request-field_size 8190 --log-level warning \
    2> >(tee -a "$WORK/server.log" >&2) &
  SERVER=$!
  for _ in $(seq 1 50); do
    # Our gunicorn must be the one answering: one that died (the port taken
    # by another process) would leave that other process to be fuzzed.
    kill -0 "$SERVER" 2>/dev/null || { echo "api_fuzz: the server exited (is port $PORT taken?)" >&2; exit 1; }
    curl -fs "$BASE/healthz" >/dev/null && return
    sleep 0.2
  done
  echo "api_fuzz: the server did not start" >&2; exit 1
}


token() {
  # A few tries: a login answered with an error is shown, not parsed.
  local body
  for _ in 1 2 3 4 5; do
    if body=$(curl -fsS -X POST "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\": \"$1\", \"password\": \"$2\", \"otp\": \"${3:-}\"}"); then
      printf '%s' "$body" | $BIN/python -c 'import json,sys; print(json.load(sys.stdin)["access"])'
      return
    fi
    echo "api_fuzz: login as $1 failed; trying again" >&2
    sleep 1
  done
  echo "api_fuzz: could not log in as $1" >&2; exit 1
}

# The demo admin's current TOTP code (admins log in with a second factor; the
# key is seed_demo's published demo key).
admin_otp() {
  DEBUG=true $BIN/python -c 'import django, os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthsvc.settings.base"); django.setup()
from django_otp.oath import totp
from scheduling.management.commands.seed_demo import ADMIN_TOTP_KEY
print(str(totp(bytes.fromhex(ADMIN_TOTP_KEY))).zfill(6))'
}

# The rows the operations work on, and their ids in this run's copy of
# schemathesis.toml (seed_demo's own rows are numbered by the hour it runs at).
ids() {  # ids TOKEN PATH: the ids of a list's results, comma-separated
  curl -fs "$BASE$2" -H "Authorization: Bearer $1" | $BIN/python -c '
import json, sys
print(",".join(str(row["id"]) for row in json.load(sys.stdin)["results"]))'
}

# book_some TOKEN COUNT DATE [DOCTOR_ID]: book COUNT slots from DATE (of the
# doctor, when given) and print the appointments' ids, comma-separated. Slots
# are tried by start time, one per start; one the patient cannot take (a visit
# they hold overlaps it, the clinic's policy) is skipped.
book_some() {
  local booked=() slot answer
  for slot in $(curl -fs "$BASE/api/v1/slots?page_size=100&date_from=$3${4:+&doctor_id=$4}" | $BIN/python -c '
import json, sys
by_start = {s["slot_datetime"]: s["id"] for s in json.load(sys.stdin)["results"]}
print(*by_start.values())'); do
    answer=$(curl -s -X POST "$BASE/api/v1/appointments/book" -H "Authorization: Bearer $1" \
      -H 'Content-Type: application/json' -d "{\"slot_id\": $slot}" | $BIN/python -c '
import json, sys
print(json.load(sys.stdin).get("id", ""))')
    [ -n "$answer" ] && booked+=("$answer")
    if [ "${#booked[@]}" -ge "$2" ]; then (IFS=,; echo "${booked[*]}"); return; fi
  done
  echo "api_fuzz: could not book $2 appointments from $3" >&2; return 1
}

post() {  # post TOKEN PATH JSON: fail unless the answer is 2xx
  curl -fs -o /dev/null -X POST "$BASE$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    -d "$3" || { echo "api_fuzz: $2 refused $3" >&2; return 1; }
}

# Besides seed_demo's rows: four more visits of the demo patient a week out
# (clear of the first slots schemathesis.toml offers for booking and
# rescheduling), two pending ones of another patient with doctor 2 (who
# approves each booking) for confirm and decline, and a second leave of doctor
# 6. Their ids, and those of doctor 6's weekly rules and leaves, go into this
# run's copy of schemathesis.toml.
prepare() {
  local admin patient own demo pending rules leaves
  admin=$(token admin@healthsvc.local admin-demo-2026 demo-recovery-1)  # the TOTP code is for the run itself
  patient=$(token patient@healthsvc.local patient-demo-2026)
  own=$(ids "$patient" "/api/v1/appointments?page_size=100")
  demo=$(book_some "$patient" 4 "$(date -u -d '+7 days' +%F)")
  pending=$(book_some "$(token meera@healthsvc.local patient-demo-2026)" 2 "$(date -u -d '+8 days' +%F)" 2)
  post "$admin" /api/v1/doctors/6/leaves \
    "{\"start\": \"$(date -u -d '+300 days' +%F)T09:00:00Z\", \"end\": \"$(date -u -d '+300 days' +%F)T13:00:00Z\"}"
  rules=$(ids "$admin" "/api/v1/doctors/6/availability?page_size=100")
  leaves=$(ids "$admin" "/api/v1/doctors/6/leaves?page_size=100")
  $BIN/python - "$WORK/schemathesis.toml" "appointment_ids=${own:+$own,}${demo%,*,*}" "appointment_ids_to_cancel=${demo#*,*,}" \
    "appointment_ids_pending=$pending" "rule_ids=$rules" "leave_ids=$leaves" <<'PY'
import re, sys

out, *pairs = sys.argv[1:]
text = open("schemathesis.toml").read()
for pair in pairs:
    name, values = pair.split("=")
    text, found = re.subn(rf"(\[dictionaries\.{name}\]\nvalues = )\[[^]]*\]", rf"\g<1>[{values}]", text)
    assert found == 1 and values, pair
open(out, "w").write(text)
print("api_fuzz: ids for this run:", *pairs)
PY
}

status=0 passed=0 failed=0
for who in patient admin; do
  echo "=== schemathesis as $who ==="
  start_server "$who"
  prepare
  case $who in
    patient) TOKEN=$(token patient@healthsvc.local patient-demo-2026) ;;
    admin) TOKEN=$(token admin@healthsvc.local admin-demo-2026 "$(admin_otp)") ;;
  esac
  started=$SECONDS
  # Access tokens live 5 minutes; a run stays inside that (the time is printed below).
  if $BIN/st --config-file "$WORK/schemathesis.toml" run "$BASE/api/schema/" --checks all \
      -H "Authorization: Bearer $TOKEN" --workers 2 \
      --max-examples "${FUZZ_EXAMPLES:-25}" --no-color "$@" 2>&1 | tee "$WORK/$who.txt"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)) status=1
  fi
  echo "$((SECONDS - started))" > "$WORK/$who.seconds"
  stop_server
done

echo "=== API fuzzing: figures ==="
for who in patient admin; do
  operations=$(grep -oE 'Tested: [0-9]+' "$WORK/$who.txt" | tail -1 | grep -oE '[0-9]+' || echo "?")
  cases=$(grep -E '^ +[0-9]+ generated' "$WORK/$who.txt" | tail -1 | sed 's/^ *//' || echo "?")
  echo "$who: $operations operations tested; $cases; $(cat "$WORK/$who.seconds")s"
done
# A 500 anywhere, also on a request schemathesis sends outside the document's
# operations (its probes of the server), fails the run.
errors=$(grep -c "Internal Server Error" "$WORK/server.log" || true)
echo "api_fuzz: the server logged $errors Internal Server Error(s)"
[ "$errors" -eq 0 ] || status=1
echo "api_fuzz: $passed passed, $failed failed"
exit $status
