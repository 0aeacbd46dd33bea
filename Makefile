# Sesizari: `make run` starts the dashboard on demo data, `make test` runs every test.
PY := .venv/bin/python
PORT ?= 8501
INCIDENTS ?= 20000

.PHONY: setup setup-test run api test lint db-start db-stop db-status demo bench clean-db

setup:
	bash scripts/setup.sh

setup-test:
	bash scripts/setup.sh --test

run: setup
	$(PY) -m sesizari db start
	$(PY) -m sesizari demo --incidents $(INCIDENTS)
	$(PY) -m streamlit run dashboard/app.py --server.port $(PORT)

api: setup
	$(PY) -m sesizari db start
	$(PY) -m api --port 8000

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

clean-db: db-stop
	rm -rf var/pg
