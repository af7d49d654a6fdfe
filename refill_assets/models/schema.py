"""The prediction schema every model returns, and the protocol models follow."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import polars as pl

from refill_assets.models.outputs import coherent

# the model kinds the platform trains, the heuristic baseline first
KINDS = ("heuristic", "lightgbm", "xgboost_aft", "coxnet")
# the kinds with an ONNX export: the inference service and the deploys serve only these
SERVED_KINDS = ("lightgbm", "xgboost_aft")
PREDICTION_COLUMNS = ("predicted_days_to_refill", "p10_days", "p90_days", "lapse_probability")
DAY_COLUMNS = PREDICTION_COLUMNS[:3]


class RefillModel(Protocol):
    """A fitted-in-place model: ``fit`` on a training frame, ``predict`` any frame."""

    numeric: list[str]
    categorical: list[str]

    def fit(self, frame: pl.DataFrame) -> RefillModel: ...

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame: ...


def prediction_frame(
    point: np.ndarray, p10: np.ndarray, p90: np.ndarray, lapse: np.ndarray
) -> pl.DataFrame:
    """Assemble predictions in the schema, made coherent (``outputs.coherent``)."""
    return pl.DataFrame(coherent(point, p10, p90, lapse))
