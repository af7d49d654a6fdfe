"""LightGBM: three quantile regressors (p10, p50, p90) and a binary lapse classifier.

Censoring: LightGBM has no survival objective, so the quantile models train on rows with
complete follow-up and the target capped at the horizon (``labels.complete_followup``). For
any quantile below the horizon the quantile of min(T, horizon) is the quantile of T, so
owners who never came back still pull the p90 up, while dropping rows that the data end
censored early is unbiased because that censoring depends only on the calendar. Training on
observed refills alone would instead bias every quantile towards short gaps.

The lapse classifier trains on rows with a known lapse label, with int (not bool) labels:
``convert_lightgbm`` fails on classifiers fitted on bool labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import polars as pl

from refill_assets.models.design import OrdinalEncoder
from refill_assets.models.labels import complete_followup
from refill_assets.models.schema import prediction_frame

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
DEFAULT_PARAMS: dict[str, float | int] = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 0.9,
    "colsample_bytree": 0.9,
    "reg_lambda": 1.0,
    "n_estimators": 300,
}


@dataclass
class LgbmModel:
    numeric: list[str]
    categorical: list[str]
    params: dict[str, float | int] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    seed: int = 0
    n_jobs: int = 2
    encoder: OrdinalEncoder | None = None
    quantile_models: dict[str, lgb.LGBMRegressor] = field(default_factory=dict)
    lapse_model: lgb.LGBMClassifier | None = None

    def _common(self) -> dict:
        p = {**DEFAULT_PARAMS, **self.params}
        return {
            "learning_rate": p["learning_rate"],
            "num_leaves": int(p["num_leaves"]),
            "min_child_samples": int(p["min_child_samples"]),
            "subsample": p["subsample"],
            # bagging only happens with a frequency; the seed makes it reproducible
            "subsample_freq": 1,
            "colsample_bytree": p["colsample_bytree"],
            "reg_lambda": p["reg_lambda"],
            "n_estimators": int(p["n_estimators"]),
            "random_state": self.seed,
            "n_jobs": self.n_jobs,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }

    def fit(self, frame: pl.DataFrame) -> LgbmModel:
        self.encoder = OrdinalEncoder(self.numeric, self.categorical).fit(frame)
        rows = complete_followup(frame)
        x = self.encoder.transform(rows)
        y = rows.get_column("capped_days").to_numpy()
        self.quantile_models = {
            name: lgb.LGBMRegressor(objective="quantile", alpha=q, **self._common()).fit(x, y)
            for name, q in QUANTILES.items()
        }
        known = frame.filter(pl.col("lapse").is_not_null())
        labels = known.get_column("lapse").cast(pl.Int32).to_numpy()
        self.lapse_model = lgb.LGBMClassifier(objective="binary", **self._common())
        self.lapse_model.fit(self.encoder.transform(known), labels)
        return self

    def raw(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        """Native outputs by name: the three quantiles and the lapse probability."""
        assert self.lapse_model is not None, "fit first"
        out = {name: m.predict(matrix) for name, m in self.quantile_models.items()}
        out["lapse"] = self.lapse_model.predict_proba(matrix)[:, 1]
        return out

    @staticmethod
    def from_raw(raw: dict[str, np.ndarray]) -> pl.DataFrame:
        """The prediction schema from raw outputs; shared by the native and the ONNX path."""
        return prediction_frame(raw["p50"], raw["p10"], raw["p90"], raw["lapse"])

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        assert self.encoder is not None, "fit first"
        return self.from_raw(self.raw(self.encoder.transform(frame)))
