"""What training leaves beside each model for validation: ``model.json`` and its test predictions.

One record per model kind under ``Layout.model_dir(kind)``; validation reads all of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from refill_assets.models.schema import PREDICTION_COLUMNS
from refill_assets.storage.files import write_parquet_atomic

RECORD = "model.json"
TEST_PREDICTIONS = "test_predictions.parquet"


def write_record(folder: Path, record: dict) -> Path:
    """``record``: kind, MLflow version and run id, validation metrics, training window."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RECORD
    path.write_text(json.dumps(record, default=str, indent=2))
    return path


def read_record(folder: Path) -> dict:
    return json.loads((folder / RECORD).read_text())


def recorded_version(folder: Path) -> str | None:
    """The MLflow version of the newest model trained into ``folder`` (None: none yet)."""
    return read_record(folder)["version"] if (folder / RECORD).exists() else None


def write_test_predictions(folder: Path, predictions: pl.DataFrame) -> Path:
    return write_parquet_atomic(predictions, folder / TEST_PREDICTIONS)


def read_test_predictions(folder: Path) -> pl.DataFrame:
    """The prediction columns on the test period, in the test frame's row order."""
    return pl.read_parquet(folder / TEST_PREDICTIONS).select(PREDICTION_COLUMNS)
