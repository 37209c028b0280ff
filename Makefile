# Karavan: `make demo` starts the platform with demo data; `make test` runs the whole suite.
# Debian's own CPython 3.11 where it is installed with venv: built with PGO and LTO and linked statically,
# it spends about a tenth less CPU on a checkout's Python than a plain build (pyenv's: no PGO, a shared
# libpython), and Python is half the machine's work in a checkout (bench/checkout/README.md, tenth round).
PYTHON ?= $(shell /usr/bin/python3.11 -c 'import ensurepip, sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
	&& echo /usr/bin/python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: install demo test lint bench bench-ledger bench-catalogue clean

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Karavan is starting at http://127.0.0.1:$(PORT)/  (API docs: http://127.0.0.1:$(PORT)/api/docs/)  Ctrl-C stops everything."
	PORT=$(PORT) $(BIN)/honcho -f Procfile start

# Without DATABASE_URL, `make test` runs on TEST_DATABASE_URL (a local role and database, trust auth) and
# creates the role (LOGIN CREATEDB) and database as the superuser postgres if missing; with DATABASE_URL it
# only checks it is reachable (creating its database if the role may). If PostgreSQL or Redis is down it
# stops with one line saying how to start it (scripts/dbsetup.py).
TEST_DATABASE_URL ?= postgres://karavan@127.0.0.1:5432/karavan
ifeq ($(value DATABASE_URL),)
test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: DBSETUP_ARGS = --create-role
endif

# The suite's settings: the project's plus the test-only app and its URLs (tests/settings.py).
test: export DJANGO_SETTINGS_MODULE = tests.settings
test: install
	@$(BIN)/python scripts/dbsetup.py $(DBSETUP_ARGS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark in a quick mode (about three minutes on 2 cores: checkout, ledger, catalogue, stock,
# parcels, the catalogue import), then one table: figure, baseline, ratio, target, must (bench/run.py).
# Each creates and drops its own scratch database; BENCH_ARGS="--only checkout,ledger" picks some.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The OpenAPI schema against the server, longer than `make test` does it: schemathesis with every check,
# as each role, KARAVAN_FUZZ_EXAMPLES examples per operation and every phase (coverage and stateful too).
.PHONY: fuzz
fuzz: export KARAVAN_FUZZ = 1
fuzz: PYTEST_ARGS = tests/api/test_schemathesis.py
fuzz: test

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf var .pytest_cache
