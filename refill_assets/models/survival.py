"""Penalised Cox model (scikit-survival ``CoxnetSurvivalAnalysis``) with a Breslow baseline.

Coxnet scales linearly in rows, unlike sksurv's gradient-boosted or random-forest survival
models (infeasible at 1M rows, ARCHITECTURE.md); it is fitted on at most ``max_rows`` rows
drawn with the seed, which a linear model with a few dozen coefficients does not miss. A
single explicit ``alpha`` avoids fitting the whole regularisation path.

Features: numeric columns standardised (nulls → training mean), categorical ones one-hot
(unseen → all zeros). The baseline cumulative hazard H0 is the Breslow estimator on the
training linear predictor, computed here in numpy: S(t | x) = exp(−H0(t)·exp(η(x))).
Timing is conditional on a refill within the horizon H (``labels.HORIZON_DAYS``), as the
point and interval of every model here are: whether the owner comes back at all is the lapse
probability's job. So point, p10 and p90 are the 50/10/90 % quantiles of T given T ≤ H, the
t with F(t | x) = q·F(H | x), F = 1 − S; lapse probability = S(d) at the lapse deadline
d = max(days_supply_remaining + 30, 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sksurv.linear_model import CoxnetSurvivalAnalysis

from refill_assets.models.labels import HORIZON_DAYS, lapse_deadline, typical_supply
from refill_assets.models.schema import prediction_frame


@dataclass
class OneHotStandardizer:
    numeric: list[str]
    categorical: list[str]
    means: np.ndarray | None = None
    scales: np.ndarray | None = None
    categories: dict[str, list[str]] = field(default_factory=dict)

    def fit(self, frame: pl.DataFrame) -> OneHotStandardizer:
        x = frame.select(pl.col(self.numeric).cast(pl.Float64)).to_numpy()
        # a column with no value in training (a short history has no third interval yet)
        # becomes a constant 0: no information, and no NaN reaching the solver
        seen = ~np.isnan(x).all(axis=0)
        self.means = np.zeros(x.shape[1])
        scales = np.zeros(x.shape[1])
        self.means[seen] = np.nanmean(x[:, seen], axis=0)
        scales[seen] = np.nanstd(x[:, seen], axis=0)
        self.scales = np.where(scales > 0, scales, 1.0)
        # the first category is the reference level, so the design has no redundant column
        self.categories = {
            c: sorted(frame.get_column(c).drop_nulls().cast(pl.String).unique().to_list())[1:]
            for c in self.categorical
        }
        return self

    def transform(self, frame: pl.DataFrame) -> np.ndarray:
        x = frame.select(pl.col(self.numeric).cast(pl.Float64)).to_numpy()
        x = np.where(np.isnan(x), self.means, x)
        dummies = [
            (pl.col(c).cast(pl.String) == level)
            .fill_null(False)
            .cast(pl.Float64)
            .alias(f"{c}={level}")
            for c, levels in self.categories.items()
            for level in levels
        ]
        # categoricals with one level in training (one channel, one species) give no column
        dummies = frame.select(dummies).to_numpy() if dummies else np.empty((frame.height, 0))
        return np.hstack([(x - self.means) / self.scales, dummies])


@dataclass
class CoxnetModel:
    numeric: list[str]
    categorical: list[str]
    alpha: float = 0.01
    l1_ratio: float = 0.5
    max_rows: int = 200_000
    seed: int = 0
    design: OneHotStandardizer | None = None
    cox: CoxnetSurvivalAnalysis | None = None
    event_times: np.ndarray | None = None
    cum_hazard: np.ndarray | None = None
    supply_fallback: float = 0.0  # days of supply left for rows that do not know it (fitted)

    def fit(self, frame: pl.DataFrame) -> CoxnetModel:
        if frame.height > self.max_rows:
            frame = frame.sample(self.max_rows, seed=self.seed)
        self.design = OneHotStandardizer(self.numeric, self.categorical).fit(frame)
        x = self.design.transform(frame)
        time = frame.get_column("duration_days").to_numpy().astype(np.float64)
        event = frame.get_column("refilled").to_numpy().astype(bool)
        y = np.array(list(zip(event, time, strict=True)), dtype=[("event", bool), ("time", float)])
        self.cox = CoxnetSurvivalAnalysis(alphas=[self.alpha], l1_ratio=self.l1_ratio)
        self.cox.fit(x, y)
        self._fit_breslow(self.cox.predict(x), time, event)
        self.supply_fallback = typical_supply(frame)
        return self

    def _fit_breslow(self, eta: np.ndarray, time: np.ndarray, event: np.ndarray) -> None:
        risk = np.exp(eta - eta.max())  # shifted for overflow; undone below
        order = np.argsort(-time, kind="stable")
        at_risk = np.cumsum(risk[order])  # sum of risk over rows with time >= t, descending
        times_desc = time[order]
        # the risk set at t includes every row tied at t: take the last cumulative index
        uniq = np.unique(time[event])
        last = len(times_desc) - np.searchsorted(times_desc[::-1], uniq, side="left") - 1
        deaths = np.bincount(np.searchsorted(uniq, time[event]), minlength=uniq.size)
        self.event_times = uniq
        self.cum_hazard = np.cumsum(deaths / at_risk[last]) * np.exp(-eta.max())

    def _hazard_at(self, t: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.event_times, t, side="right") - 1
        return np.where(idx >= 0, self.cum_hazard[np.maximum(idx, 0)], 0.0)

    def _quantile(self, q: float, exp_eta: np.ndarray) -> np.ndarray:
        # first event time with F(t) >= q F(H), i.e. H0(t) >= -log(1 - q F(H)) / exp(eta)
        refill_by_horizon = -np.expm1(-self._hazard_at(np.array(HORIZON_DAYS)) * exp_eta)
        target = -np.log1p(-q * refill_by_horizon) / exp_eta
        idx = np.searchsorted(self.cum_hazard, target, side="left")
        return self.event_times[np.minimum(idx, self.event_times.size - 1)]

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        assert self.cox is not None and self.design is not None, "fit first"
        exp_eta = np.exp(self.cox.predict(self.design.transform(frame)))
        deadline = frame.select(lapse_deadline(self.supply_fallback)).to_series().to_numpy()
        return prediction_frame(
            self._quantile(0.5, exp_eta),
            self._quantile(0.1, exp_eta),
            self._quantile(0.9, exp_eta),
            np.exp(-self._hazard_at(deadline) * exp_eta),
        )
