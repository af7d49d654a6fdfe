# The two commands: `make demo` (simulate a world, build the graph, summarise) and `make test`.
# Each creates or updates the virtual environment and prepares the dbt manifest first.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export REFILL_HOME ?= $(CURDIR)/.refill
export REFILL_DAGSTER_STORAGE ?= $(REFILL_HOME)/dagster
export DAGSTER_HOME := $(CURDIR)
export PATH := $(CURDIR)/$(BIN):$(PATH)
DEMO_PETS ?= 20000
DEMO_START ?= 2025-01-01
DEMO_END ?= 2026-06-30

.PHONY: venv manifest demo test ui bench lint clean

$(BIN)/refill: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]"
	touch $@

venv: $(BIN)/refill

# dagster-dbt only prepares the manifest under `dagster dev`; everything else needs it made.
manifest: venv
	mkdir -p $(REFILL_HOME)
	$(BIN)/dagster-dbt project prepare-and-package --file refill_assets/lib/dbt.py

demo: manifest
	rm -rf $(REFILL_HOME)/world
	$(BIN)/refill simulate --out $(REFILL_HOME)/world --pets $(DEMO_PETS) --start $(DEMO_START) --end $(DEMO_END)
	$(BIN)/refill run --landing $(REFILL_HOME)/world/landing

test: manifest
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

ui: manifest
	mkdir -p $(REFILL_DAGSTER_STORAGE)
	$(BIN)/dagster dev -w workspace.yaml

bench: manifest
	$(BIN)/python benchmarks/run_all.py

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

clean:
	rm -rf $(REFILL_HOME) dbt_project/target dbt_project/logs
