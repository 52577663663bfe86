# The two commands of the README: `make run` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: run test install lint types schema bench clean

run: $(RUNTIME)
	$(BIN)/groupgate migrate
	$(BIN)/groupgate demo --if-empty
	$(BIN)/groupgate serve

# The suite in parallel (one process per core, at most 4; each builds its own demo databases).
TEST_WORKERS ?= auto
test: $(DEV) lint types
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 4

install: $(RUNTIME)

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet --editable .
	touch $@

$(DEV): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $@ $(RUNTIME)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

types: $(DEV)
	$(BIN)/mypy

# Regenerate the committed schema.graphql (a test fails when it is stale).
schema: $(RUNTIME)
	$(BIN)/groupgate schema --output schema.graphql

bench: $(DEV)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) groupgate.db groupgate.db-* var .mypy_cache .ruff_cache .pytest_cache
