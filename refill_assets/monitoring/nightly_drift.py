"""Each scored night's drift against the champion's reference sample: ``monitoring.feature_drift``.

The scoring builds a night's feature rows and the champion's predictions once; ``DriftWatch``
is handed to it (``scoring.nightly.score_window``'s ``observe``) and compares them, night by
night, with the reference sample kept beside the champion's version
(``models.reference``), using the statistics of ``monitoring.drift``. So drift costs no
second feature build. A night's rows replace that night's (idempotent per day).

The calendar features (``CALENDAR``) are left out: one night is one day of the calendar
against the many months of the training rows, so they differ by construction and every
night would count them drifted.

A champion trained before its reference sample was kept has none: ``reference_of`` returns
None and the caller says so (the check fails with "retrain to get one"), never a silent pass.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from refill_assets.features.registry import FEATURES
from refill_assets.models import tracking
from refill_assets.models.reference import REFERENCE_ARTIFACT
from refill_assets.monitoring.drift import (
    PREDICTION_COLUMNS,
    SCHEMA,
    DriftPolicy,
    DriftSummary,
    feature_drift,
    prediction_drift,
    summarize,
)
from refill_assets.storage.warehouse import replace_window

DRIFT_TABLE = "monitoring.feature_drift"
_SQL_TYPES = {pl.String: "VARCHAR", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN", pl.Int64: "BIGINT"}
DRIFT_COLUMNS = {
    "as_of_date": "DATE",
    "model_version": "VARCHAR",
    **{name: _SQL_TYPES[dtype] for name, dtype in SCHEMA.items()},
}
_FRAME_SCHEMA = {"as_of_date": pl.Date, "model_version": pl.String, **SCHEMA}
CALENDAR = ("as_of_month", "days_to_holiday")
WATCHED = tuple(f for f in FEATURES if f.name not in CALENDAR)
PREDICTION_KIND = "prediction"  # the ``kind`` of the rows of the model's outputs


def reference_of(tracking_uri: str, artifacts: Path, logged: tracking.LoggedModel):
    """The reference sample logged with ``logged``'s run (None: it has none)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = tracking.download_artifact(
            tracking_uri, artifacts, logged.run_id, REFERENCE_ARTIFACT, Path(tmp)
        )
        return None if path is None else pl.read_parquet(path)


@dataclass
class DriftWatch:
    """Collects each night's drift rows of one model version (call it as the observer)."""

    reference: pl.DataFrame
    version: str
    policy: DriftPolicy = field(default_factory=DriftPolicy)
    nights: list[pl.DataFrame] = field(default_factory=list)

    def __call__(self, day: date, features: pl.DataFrame, predictions: pl.DataFrame) -> None:
        watched = feature_drift(self.reference, features, WATCHED, self.policy)
        outputs = self.reference.select(PREDICTION_COLUMNS)
        said = prediction_drift(outputs, predictions, policy=self.policy)
        night = pl.concat([watched, said.with_columns(kind=pl.lit(PREDICTION_KIND))])
        self.nights.append(
            night.select(
                pl.lit(day).alias("as_of_date"),
                pl.lit(self.version).alias("model_version"),
                *SCHEMA.keys(),
            )
        )

    def rows(self) -> pl.DataFrame:
        return pl.concat(self.nights) if self.nights else pl.DataFrame(schema=_FRAME_SCHEMA)

    def verdicts(self) -> list[tuple[date, DriftSummary]]:
        """Each night observed and its verdict (``drift.summarize``), in order."""
        return [(night["as_of_date"][0], self._summary(night)) for night in self.nights]

    def _summary(self, night: pl.DataFrame) -> DriftSummary:
        outputs = night["kind"] == PREDICTION_KIND
        return summarize(night.filter(~outputs), night.filter(outputs), self.policy)


def write_drift(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, start: date, end: date):
    """Replace the nights ``start``..``end`` of ``DRIFT_TABLE`` with ``rows``, all or nothing."""
    replace_window(con, DRIFT_TABLE, DRIFT_COLUMNS, "as_of_date", start, end, rows)
