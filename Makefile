# The README's commands. `make run` starts everything; `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run dev test test-fast lint format bench bench-scale chaos contract security venv chromium wrk clean

# Web, worker, beat and the sandbox carrier under supervisord, DEBUG off (see bin/run).
run: venv
	bin/run

# The same with DEBUG on (Django's debug pages), for development.
dev: venv
	DJANGO_DEBUG=True bin/run

test: venv chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# While working: every test that needs no browser, no worker and no processes of its own,
# over both cores (markers set in tests/conftest.py).
test-fast: venv
	$(PY) -m pytest -n 2 -m "not browser and not worker and not slow" $(PYTEST_ARGS)

# 1,000 mixed writes against a faulty carrier while workers are killed and the broker restarts.
chaos: venv
	$(PY) bench/chaos.py

# Every flow through the portal's pages against the strict sandbox: each API's requests and
# contract violations (it fails on any).
contract: venv
	$(PY) bench/contract.py

# Static security checks and known vulnerabilities in the pinned dependencies.
security: venv
	$(VENV)/bin/bandit -ll -q -r portal accounts orders sandbox
	$(VENV)/bin/pip-audit -r requirements.txt --progress-spinner off

# How much the portal adds to the carrier's own time, on SQLite and on PostgreSQL + Redis.
bench: venv wrk
	$(PY) bench/run.py sqlite
	bin/with-services $(PY) bench/run.py postgres
	$(PY) bench/report.py

# Two web processes behind HAProxy, two workers and a beat on PostgreSQL + Redis: lookups and
# care orders through the balancer, lock waits sampled, one web process stopped halfway
# (services on ports of their own, so that it can run beside `make bench`).
bench-scale: venv wrk
	@command -v haproxy >/dev/null 2>&1 || { echo "Installing HAProxy with apt-get..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }
	PG_PORT=$${PG_PORT:-55442} REDIS_PORT=$${REDIS_PORT:-56389} bin/with-services $(PY) bench/scale.py

wrk:
	@command -v wrk >/dev/null 2>&1 || { echo "Installing wrk with apt-get..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@python=$$(bin/find-python) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
		rm -rf $(VENV); echo "Creating $(VENV) with $$python"; $$python -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Browser tests drive Debian's Chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "Installing Chromium with apt-get..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf var/broker var/test-portal.sqlite3*
