# pbmdb: `make demo` runs the whole nightly cycle on the embedded database, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help setup demo test lint db-up db-down clean

help:
	@echo "make demo   set up, start the embedded database, migrate and run the demo"
	@echo "make test   set up and run every test (ruff, sqlfluff, plpgsql_check, pgTAP, pytest)"
	@echo "make lint   ruff and sqlfluff only"

$(BIN)/pbm: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(BIN)/pbm

setup: $(BIN)/pbm

demo: setup
	$(BIN)/pbm demo $(DEMO_ARGS)

test: setup
	$(BIN)/python tests/run.py

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/sqlfluff lint .

db-up: setup
	$(BIN)/pbm db up

db-down: setup
	$(BIN)/pbm db down

clean:
	-$(BIN)/pbm db down
	rm -rf .pbm
