"""The reference beside each model version: the population's features and the model's outputs."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from refill_assets.features import registry
from refill_assets.models.reference import (
    REFERENCE_FILE,
    REFERENCE_OUTPUTS,
    write_reference,
)

ROWS = 2_000


def _features(rows: int = ROWS) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    columns = {}
    for f in registry.FEATURES:
        if f.dtype == "category":
            columns[f.name] = rng.choice(["a", "b"], rows)
        elif f.dtype == "bool":
            columns[f.name] = rng.random(rows) < 0.5
        else:
            columns[f.name] = rng.integers(0, 60, rows).astype(np.float64)
    return pl.DataFrame(columns).with_columns(rx_id=pl.int_range(rows).cast(pl.String))


class _SupplyModel:
    """A model that predicts the supply left: enough to see which rows it was given."""

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            predicted_days_to_refill=pl.col("days_supply_remaining"),
            p10_days=pl.col("days_supply_remaining") - 1,
            p90_days=pl.col("days_supply_remaining") + 1,
            lapse_probability=pl.lit(0.1),
        )


def test_the_reference_holds_the_features_and_the_models_outputs_on_them(tmp_path):
    path = write_reference(_SupplyModel(), _features(), tmp_path)
    assert path == tmp_path / REFERENCE_FILE
    saved = pl.read_parquet(path)
    assert saved.columns == [*registry.feature_names(), *REFERENCE_OUTPUTS]  # no keys
    assert saved.height == ROWS
    with pytest.raises(ValueError, match="empty reference"):
        write_reference(_SupplyModel(), _features().head(0), tmp_path)
    assert saved["predicted_days_to_refill"].equals(
        saved["days_supply_remaining"], check_names=False
    )
