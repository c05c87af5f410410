# Two commands on a fresh machine with python3 (3.11+) and make: `make run`, `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
# DEBUG=1 and this checkout's SECRET_KEY come from .env (written once by `make setup`), which
# every entry point reads; the environment wins. Production images have no .env.
ENV_FILE := .env

.PHONY: setup run test lint format migrate superuser bench bench-sqlite bench-events cluster clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changed since the last install. The dev file
# includes requirements.txt (the runtime: all the Dockerfile installs) and adds the tools.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	touch $(STAMP)

# Written only when missing: a random SECRET_KEY and DEBUG=1, kept out of git.
$(ENV_FILE): | $(STAMP)
	$(PY) -m trava.localenv $(ENV_FILE)

setup: $(STAMP) $(ENV_FILE)

migrate: setup
	$(PY) manage.py migrate --noinput

run: migrate
	exec $(PY) -m realtime.runtime.serve --host $(HOST) --port $(PORT)

# A staff user for /admin/ (asks for name and password; or set DJANGO_SUPERUSER_USERNAME,
# _EMAIL, _PASSWORD and pass ARGS=--noinput).
superuser: migrate
	$(PY) manage.py createsuperuser $(ARGS)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff, then the import contracts of pyproject.toml ([tool.importlinter]; style.md rule 4).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# Trava against a bare websockets server, same workload (bench/run.py; BENCH_ARGS to tune).
bench: setup
	$(PY) -m bench.run --idle 10000 $(BENCH_ARGS)

# 20 concurrent clients writing through REST on the embedded SQLite default (bench/sqlite_load.py).
bench-sqlite: setup
	$(PY) -m bench.sqlite_load $(BENCH_ARGS)

# The event log's cost against the commit before it, same run (bench/events_bench.py;
# PostgreSQL when DATABASE_URL is set, which adds the rows/s figures).
bench-events: setup
	$(PY) -m bench.events_bench $(BENCH_ARGS)

# NODES daphne nodes (default 3) behind nginx on http://127.0.0.1:8080, with PostgreSQL and
# Redis from DATABASE_URL / REDIS_URL; state, logs and pid files in .cluster/.
# HA=1: the cluster's own Redis (primary, replica, three Sentinels) and PostgreSQL (primary
# and a streaming standby) on loopback ports instead (docs/operations.md, failover).
NODES ?= 3
.PHONY: cluster-stop cluster-status
cluster: setup
	$(PY) deploy/cluster.py start --nodes $(NODES) $(if $(HA),--ha)

# PURGE=1 also deletes the cluster's Redis keys (its TRAVA_REDIS_PREFIX, default trava-cluster).
cluster-stop:
	$(PY) deploy/cluster.py stop $(if $(PURGE),--purge-redis)

cluster-status:
	$(PY) deploy/cluster.py status
