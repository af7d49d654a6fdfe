"""The GX project of a home: its stores, its Data Docs, and one suite run on a frame.

GX has no DuckDB dialect, and its SQLAlchemy path through duckdb_engine is reported broken
(great_expectations issues 10738 and 11579): each suite validates a pandas frame the
caller reads from DuckDB, only the columns it needs, the run's whole window at once.

The project is built in code on every use (an ephemeral context over filesystem stores):
nothing to initialise, no YAML to keep in step with the code, and two steps validating at
once write distinct files. Validation results persist under ``store`` (the history the
Data Docs show); suites are saved with each run, so their pages show the rules in force.
dagster-ge is not used: it pins great-expectations < 1.0 and pandas < 3.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

SITE = "quality"
# validation results listed on the index page (about two weeks of nights); older result
# pages stay on disk, and quality.scorecard keeps every day. The index reads each listed
# result, so an unbounded list would grow the cost of every run with the history.
INDEX_LIMIT = 250
DATASOURCE, BATCH = "warehouse", "window"

# GX sends usage statistics by default
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _filesystem(path: Path) -> dict:
    return {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(path)}


def _in_memory() -> dict:
    return {"class_name": "InMemoryStoreBackend"}


class QualityProject:
    """Suites and validation results under ``store``; Data Docs under ``docs``."""

    def __init__(self, store: Path, docs: Path):
        self.docs = docs
        config = DataContextConfig(
            stores={
                "expectations_store": {
                    "class_name": "ExpectationsStore",
                    "store_backend": _filesystem(store / "expectations"),
                },
                "validation_results_store": {
                    "class_name": "ValidationResultsStore",
                    "store_backend": _filesystem(store / "validations"),
                },
                "validation_definition_store": {
                    "class_name": "ValidationDefinitionStore",
                    "store_backend": _in_memory(),
                },
                "checkpoint_store": {
                    "class_name": "CheckpointStore",
                    "store_backend": _in_memory(),
                },
            },
            expectations_store_name="expectations_store",
            validation_results_store_name="validation_results_store",
            checkpoint_store_name="checkpoint_store",
            data_docs_sites={
                SITE: {
                    "class_name": "SiteBuilder",
                    "store_backend": _filesystem(docs),
                    "site_index_builder": {
                        "class_name": "DefaultSiteIndexBuilder",
                        "validation_results_limit": INDEX_LIMIT,
                        "show_how_to_buttons": False,
                    },
                }
            },
            analytics_enabled=False,
            # GX draws a progress bar per validation on stderr: noise in a run's log
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        self._source = self.context.data_sources.add_pandas(DATASOURCE)
        self._batches: dict[str, object] = {}
        self._batch_ids: dict[str, str] = {}

    def validate(
        self, suite: gx.ExpectationSuite, frame: pd.DataFrame, run_name: str, index: list[str]
    ) -> ExpectationSuiteValidationResult:
        """Runs ``suite`` on ``frame``; failing rows are named by their ``index`` columns."""
        suite = self.context.suites.add_or_update(suite)
        batch = self._batches.get(suite.name)
        if batch is None:  # one data asset per suite, for the life of the project
            asset = self._source.add_dataframe_asset(suite.name)
            batch = self._batches[suite.name] = asset.add_batch_definition_whole_dataframe(BATCH)
            # the id GX files the suite's results under (the same for every frame)
            self._batch_ids[suite.name] = batch.get_batch({"dataframe": frame}).id
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
        )
        return definition.run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index},
            run_id=gx.RunIdentifier(run_name=run_name, run_time=datetime.now(UTC)),
        )

    def build_docs(self) -> Path:
        """Renders the pages of the results that have none yet, their suites' and the index
        (once a run: GX compiles its templates anew on every build); returns the index."""
        missing = [
            k
            for k in self.context.validation_results_store.list_keys()
            if not self._page(k).exists()
        ]
        if missing or not (self.docs / "index.html").exists():
            suites = {
                ExpectationSuiteIdentifier(name=k.expectation_suite_identifier.name)
                for k in missing
            }
            self.context.build_data_docs(
                site_names=[SITE], resource_identifiers=[*missing, *suites]
            )
        return self.docs / "index.html"

    def page(self, result: ExpectationSuiteValidationResult) -> Path:
        """Where ``result``'s Data Docs page is (``build_docs`` renders it): its store key,
        made as GX makes it, not looked up among every result ever kept."""
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=result.meta["run_id"],
            batch_identifier=self._batch_ids[result.suite_name],
        )
        return self._page(key)

    def _page(self, key) -> Path:
        # the site's layout (TupleFilesystemStoreBackend): the key's parts as folders, the
        # suite's name split at its dots
        *folders, batch = key.to_tuple()
        return self.docs / "validations" / Path(*folders) / f"{batch}.html"
