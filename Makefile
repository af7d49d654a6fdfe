# The two commands: `make demo` (simulate a world, build the graph, summarise) and `make test`.
# Each creates or updates the virtual environment and prepares the dbt manifest first.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export REFILL_HOME ?= $(CURDIR)/.refill
export REFILL_DAGSTER_STORAGE ?= $(REFILL_HOME)/dagster
# the Dagster instance: embedded SQLite (dagster.yaml here), or PostgreSQL when
# REFILL_DAGSTER_PG_URL is set (instance/postgres/dagster.yaml; docs/deployment.md)
export DAGSTER_HOME := $(if $(REFILL_DAGSTER_PG_URL),$(CURDIR)/instance/postgres,$(CURDIR))
# one planned event per asset and run, not one per partition, and a step's materializations
# in one write on PostgreSQL (docs/architecture.md, "Bookkeeping"); read by whichever process
# creates runs or writes their events: `refill run`, the UI, the daemon
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS ?= true
export DAGSTER_EVENT_BATCH_SIZE ?= 1000
export PATH := $(CURDIR)/$(BIN):$(PATH)
DEMO_PETS ?= 20000
DEMO_START ?= 2025-01-01
DEMO_END ?= 2026-06-30
# the models learn from the history up to here; the 30 nights after it run as the nightly
# job would (scores, export, monitoring), so the monitoring report covers them. Not the
# 91 nights to the world's end: their scoring is 2 minutes more, and from June the champion's
# lapse probabilities drift past the threshold (its reference is 3 months old) and the
# retrain it asks for is minutes more
DEMO_CUT ?= 2026-03-31
DEMO_NIGHTS_FROM ?= 2026-04-01
DEMO_NIGHTS_TO ?= 2026-04-30
DEMO_RUN_CONFIG ?= scripts/demo-run-config.yaml

.PHONY: venv manifest postgres demo test ui bench lint clean

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
	# a fresh world and platform home; the run history (dagster), dbt's parse cache and logs stay
	find $(REFILL_HOME) -mindepth 1 -maxdepth 1 ! -name dagster ! -name dbt ! -name logs -exec rm -rf {} +
	$(BIN)/refill simulate --out $(REFILL_HOME)/world --pets $(DEMO_PETS) --start $(DEMO_START) --end $(DEMO_END)
	$(BIN)/refill run --landing $(REFILL_HOME)/world/landing --as-of $(DEMO_CUT) \
		--run-config $(DEMO_RUN_CONFIG)
	$(BIN)/refill run --landing $(REFILL_HOME)/world/landing --since $(DEMO_NIGHTS_FROM) \
		--as-of $(DEMO_NIGHTS_TO) --run-config $(DEMO_RUN_CONFIG)

# the end-to-end instance test and the dbt-on-PostgreSQL comparison need the machine's server
postgres:
	pg_isready -q -h 127.0.0.1 -p 5432 || { \
		pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql)" main start && \
		for _ in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

test: manifest postgres
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
