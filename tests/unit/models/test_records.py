"""models.records: what training leaves for validation, read back as written."""

from __future__ import annotations

import polars as pl

from refill_assets.models import records
from refill_assets.models.schema import PREDICTION_COLUMNS


def test_record_round_trip(tmp_path):
    record = {"kind": "lightgbm", "version": "3", "validation": {"mae_days": 5.5}}
    records.write_record(tmp_path / "lightgbm", record)
    assert records.read_record(tmp_path / "lightgbm") == record


def test_test_predictions_come_back_as_the_prediction_columns_in_row_order(tmp_path):
    frame = pl.DataFrame(
        {
            "rx_id": ["b", "a"],
            "lapse_probability": [0.2, 0.9],
            "p90_days": [40.0, 50.0],
            "predicted_days_to_refill": [20.0, 30.0],
            "p10_days": [10.0, 12.0],
        }
    )
    records.write_test_predictions(tmp_path, frame)
    back = records.read_test_predictions(tmp_path)
    assert back.columns == list(PREDICTION_COLUMNS)
    assert back["predicted_days_to_refill"].to_list() == [20.0, 30.0]
