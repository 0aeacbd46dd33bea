# Sesizari: `make run` starts the dashboard on demo data, `make test` runs every test.
PY := .venv/bin/python
PORT ?= 8501
API_PORT ?= 8000
INCIDENTS ?= 20000

.PHONY: setup setup-test setup-bench run api test lint db-start db-stop db-status demo bench crash-drill capacity audit clean-db

setup:
	bash scripts/setup.sh

setup-test:
	bash scripts/setup.sh --test

setup-bench:
	bash scripts/setup.sh --bench

# The dashboard in the foreground, the HTTP API (Open311, open data) beside it;
# Ctrl-C stops both.
run: setup
	$(PY) -m sesizari db start
	$(PY) -m sesizari demo --incidents $(INCIDENTS)
	@echo "HTTP API: http://127.0.0.1:$(API_PORT)/docs   dashboard: http://localhost:$(PORT)"
	@$(PY) -m api --port $(API_PORT) & api=$$!; trap "kill $$api 2>/dev/null" EXIT INT TERM; \
	$(PY) -m streamlit run dashboard/server.py --server.port $(PORT)

api: setup
	$(PY) -m sesizari db start
	$(PY) -m api --port $(API_PORT)

test: setup-test
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: setup-test
	$(PY) -m ruff check .

db-start: setup
	$(PY) -m sesizari db start

db-stop:
	$(PY) -m sesizari db stop

db-status:
	$(PY) -m sesizari db status

demo: setup
	$(PY) -m sesizari demo --incidents $(INCIDENTS)

# Benchmarks print figures (see bench/RESULTS.md); sizes can be raised, e.g. BENCH_N=1000000.
BENCH_N ?= 100000
bench: setup-bench  ## needs the embedded cluster (make db-start) for the dashboard and API benches
	$(PY) bench/dashboard_bench.py --incidents $(BENCH_N) --runs 20
	$(PY) bench/etl_bench.py --rows 200000
	$(PY) -m bench.api_load --clients 50 --seconds 30

# RELIABILITY R3 at full size: a 1,000,000-row load killed (SIGKILL) and its
# server stopped (-m immediate) at four points, on a throw-away cluster.
crash-drill: setup-test
	$(PY) bench/crash_drill.py --rows 1000000

# RELIABILITY R15: 20 submissions/s for 5 minutes, then 10 browsers on the
# dashboard over 100,000 incidents (its own database on the embedded cluster).
capacity: setup-test
	$(PY) bench/capacity.py

# RELIABILITY R17: known vulnerabilities of the pinned requirements.  Needs
# pypi.org's JSON API (or --vulnerability-service osv); --strict fails when a
# package cannot be checked, so an unreachable service is not a pass.
audit: setup
	$(PY) -m pip install -q pip-audit==2.10.1
	$(PY) -m pip_audit --requirement requirements.txt --no-deps --disable-pip --strict

clean-db: db-stop
	rm -rf var/pg
