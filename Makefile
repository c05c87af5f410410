# Two commands on a fresh machine with python3 (3.11+) and make: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Local development runs with DEBUG on unless told otherwise (production images set it off).
export DEBUG ?= 1

.PHONY: setup run test lint format migrate bench cluster clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when requirements.txt changed since the last install.
$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(PY) manage.py migrate --noinput

run: migrate
	exec $(PY) -m realtime.serve --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# Trava against a bare websockets server, same workload (bench/run.py; BENCH_ARGS to tune).
bench: setup
	$(PY) -m bench.run --idle 10000 $(BENCH_ARGS)

# NODES daphne nodes (default 3) behind nginx on http://127.0.0.1:8080, with PostgreSQL and
# Redis from DATABASE_URL / REDIS_URL; state, logs and pid files in .cluster/.
NODES ?= 3
.PHONY: cluster-stop cluster-status
cluster: setup
	$(PY) deploy/cluster.py start --nodes $(NODES)

# PURGE=1 also deletes the cluster's Redis keys (its TRAVA_REDIS_PREFIX, default trava-cluster).
cluster-stop:
	$(PY) deploy/cluster.py stop $(if $(PURGE),--purge-redis)

cluster-status:
	$(PY) deploy/cluster.py status
