"""The reference sample kept beside each model version: what the nightly drift compares with.

The population is the last week of nights of the data a model was trained on, as the nightly
scoring sees them (``features.reference_population``, written with the training snapshot);
beside its registry features go the model's own predictions on it, so a night's features and
a night's predictions are both held against it (``refill_assets.monitoring.drift``). Logged
with the version's MLflow run (``REFERENCE_ARTIFACT``); a night downloads it with
``tracking.download_artifact``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from refill_assets.features import registry
from refill_assets.storage.files import write_parquet_atomic

REFERENCE_FILE = "reference.parquet"
REFERENCE_ARTIFACT = f"reference/{REFERENCE_FILE}"  # its path in the MLflow run
# the model outputs compared night by night (the interval follows the point)
REFERENCE_OUTPUTS = ("predicted_days_to_refill", "lapse_probability")


def write_reference(model, population: pl.DataFrame, folder: Path) -> Path:
    """The registry features of ``population`` and ``model``'s outputs on them, as
    ``folder/REFERENCE_FILE``."""
    if population.is_empty():
        raise ValueError("cannot keep an empty reference population")
    features = population.select(registry.feature_names())
    outputs = model.predict(features).select(REFERENCE_OUTPUTS)
    return write_parquet_atomic(
        pl.concat([features, outputs], how="horizontal"), folder / REFERENCE_FILE
    )
