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

# A demo PHI key for the synthetic members' MBIs, unless you set PBM_PHI_KEY yourself (never for real data;
# docs/decisions/0014-demo.md). DEMO_ARGS scales it, e.g. make demo DEMO_ARGS="--members 100000 --claims 1000000".
demo: export PBM_PHI_KEY ?= demo-only-phi-key-synthetic-data-0123456789
demo: setup
	$(BIN)/pbm db up
	$(BIN)/pbm db migrate
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
