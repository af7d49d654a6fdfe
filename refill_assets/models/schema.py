"""The prediction schema every model returns, and the protocol models follow."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import polars as pl

# the model kinds the platform trains, the heuristic baseline first
KINDS = ("heuristic", "lightgbm", "xgboost_aft", "coxnet")
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
    """Assemble predictions in the schema, made coherent.

    Days are clipped at 0 (a refill cannot be in the past), the interval is widened to
    contain the point (separately fitted quantiles can cross), and the probability is
    clipped to [0, 1].
    """
    point = np.clip(np.asarray(point, dtype=np.float64), 0.0, None)
    p10 = np.minimum(np.clip(np.asarray(p10, dtype=np.float64), 0.0, None), point)
    p90 = np.maximum(np.asarray(p90, dtype=np.float64), point)
    lapse = np.clip(np.asarray(lapse, dtype=np.float64), 0.0, 1.0)
    return pl.DataFrame(
        {
            "predicted_days_to_refill": point,
            "p10_days": p10,
            "p90_days": p90,
            "lapse_probability": lapse,
        }
    )
