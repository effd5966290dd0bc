# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test check clean bench bench-quick fault-drill fault-drill-quick

# Reinstall only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# axe-core for the browser tests' accessibility check (package.json), when npm is here.
NPM_STAMP := node_modules/.installed-stamp
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

install: $(STAMP) $(if $(shell command -v npm),$(NPM_STAMP))

# Development server on an SQLite file (or DATABASE_URL), with demo data.
run: export DEBUG ?= true
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --host $(HOST) --port $(PORT)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite: SQLite by default, PostgreSQL when DATABASE_URL points there.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# No unused or undefined names (ruff.toml), migrations match the models, and the
# production settings pass Django's deploy checks.
check: install
	$(BIN)/ruff check --quiet .
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=ci-only-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  JWT_SIGNING_KEY=ci-only-jwt-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  ALLOWED_HOSTS=clinic.example.com EMAIL_URL=smtp+tls://mail.example.com:587 CACHE_URL=redis://127.0.0.1:6379/1 \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

# The benchmark against PostgreSQL (bench/README.md): both data sizes, 3 runs
# each (about 15 minutes), or small data and one short run (under 2 minutes).
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)

# The fault drill (README, "Database faults"): its own PostgreSQL and Redis,
# restarted, terminated and paused under booking load; then the books checked.
fault-drill: install
	$(BIN)/python bench/fault_drill.py $(DRILL_ARGS)

fault-drill-quick: install
	$(BIN)/python bench/fault_drill.py --quick $(DRILL_ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache staticfiles .test-db-*.sqlite3*
