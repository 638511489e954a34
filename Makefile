# Every target installs what it needs first (a fresh machine needs nothing but python3).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/common/python

.PHONY: install test lint fmt openapi events demo dev bench clean

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/cfn-lint infra/template.yaml
	$(BIN)/python -m functions.api.openapi --check

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 --dist loadfile

# openapi.json is the API's contract, written from the routes (`make lint` fails when it drifts).
openapi: $(STAMP)
	$(BIN)/python -m functions.api.openapi

# events/webhook/*.json are built from events/whatsapp/*.json (tests/integration/infra/test_event_files.py checks it).
events: $(STAMP)
	$(BIN)/python -m events.build

demo: $(STAMP)
	$(BIN)/python -m local.demo

dev: $(STAMP)
	$(BIN)/python -m local.runtime --port $(PORT)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
