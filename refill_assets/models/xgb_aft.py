"""XGBoost accelerated-failure-time model on the censored refill durations.

log T = f(x) + σ·Z with Z standard normal, so T is log-normal given the features and every
output follows from the margin f(x) in closed form: point = exp(f) (the median, the
loss-minimising point for absolute error), p10/p90 = exp(f ± 1.2816·σ).

Lapse probability = S(d | x) = P(T > d) with d = max(days_supply_remaining + 30, 0): the
lapse label is exactly "no refill by run-out + 30 days", so the survival function at that
deadline is the model's own probability of the labelled event, and it uses the censored
rows (owners who have not yet come back) instead of needing a separate classifier.

Censoring: interval labels [duration, duration] for observed refills and [duration, +inf)
for censored rows, which is what ``survival:aft`` is built for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
import xgboost as xgb
from scipy.special import ndtr, ndtri

from refill_assets.models.design import OrdinalEncoder
from refill_assets.models.labels import lapse_deadline
from refill_assets.models.schema import prediction_frame

DEFAULT_PARAMS: dict[str, float | int] = {
    "learning_rate": 0.08,
    "max_depth": 5,
    "min_child_weight": 5.0,
    "subsample": 0.9,
    "colsample_bynode": 0.9,
    "reg_lambda": 1.0,
    "sigma": 0.2,
    "num_boost_round": 300,
}


@dataclass
class XgbAftModel:
    numeric: list[str]
    categorical: list[str]
    params: dict[str, float | int] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    seed: int = 0
    nthread: int = 2  # the machine has 2 cores; 1 is faster when they are busy
    encoder: OrdinalEncoder | None = None
    booster: xgb.Booster | None = None

    @property
    def sigma(self) -> float:
        return float(self.params["sigma"])

    def _train_params(self) -> dict:
        p = {**DEFAULT_PARAMS, **self.params}
        return {
            "objective": "survival:aft",
            "eval_metric": "aft-nloglik",
            "aft_loss_distribution": "normal",
            "aft_loss_distribution_scale": float(p["sigma"]),
            "learning_rate": p["learning_rate"],
            "max_depth": int(p["max_depth"]),
            "min_child_weight": p["min_child_weight"],
            "subsample": p["subsample"],
            "colsample_bynode": p["colsample_bynode"],
            "reg_lambda": p["reg_lambda"],
            "tree_method": "hist",
            "seed": self.seed,
            "nthread": self.nthread,
        }

    def fit(self, frame: pl.DataFrame) -> XgbAftModel:
        self.encoder = OrdinalEncoder(self.numeric, self.categorical).fit(frame)
        duration = frame.get_column("duration_days").to_numpy().astype(np.float64)
        refilled = frame.get_column("refilled").to_numpy()
        dtrain = xgb.DMatrix(self.encoder.transform(frame))
        dtrain.set_float_info("label_lower_bound", duration)
        dtrain.set_float_info("label_upper_bound", np.where(refilled, duration, np.inf))
        rounds = int({**DEFAULT_PARAMS, **self.params}["num_boost_round"])
        self.booster = xgb.train(self._train_params(), dtrain, num_boost_round=rounds)
        return self

    def margin(self, matrix: np.ndarray) -> np.ndarray:
        """f(x) = the mean of log T (the raw margin, before the AFT transform)."""
        assert self.booster is not None, "fit first"
        return self.booster.predict(xgb.DMatrix(matrix), output_margin=True).astype(np.float64)

    def from_margin(self, margin: np.ndarray, frame: pl.DataFrame) -> pl.DataFrame:
        """The prediction schema from the margin; shared by the native and the ONNX path."""
        margin = np.asarray(margin, dtype=np.float64).ravel()
        z = ndtri(0.9) * self.sigma
        deadline = frame.select(lapse_deadline()).to_series().to_numpy()
        with np.errstate(divide="ignore"):  # a deadline already passed: log 0 → S = 1
            survival = 1.0 - ndtr((np.log(deadline) - margin) / self.sigma)
        return prediction_frame(np.exp(margin), np.exp(margin - z), np.exp(margin + z), survival)

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        assert self.encoder is not None, "fit first"
        return self.from_margin(self.margin(self.encoder.transform(frame)), frame)
