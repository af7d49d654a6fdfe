"""Train one kind of model on a split snapshot, and predict its test period.

The GBMs are tuned first (a bounded Optuna search on a seeded sample of the
training and validation periods, so the search costs the same at any world
size), then refitted on the whole training period with the best parameters.
Everything is seeded: the same snapshot and seed give the same predictions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import polars as pl

from refill_assets.models.heuristic import HeuristicModel
from refill_assets.models.lgbm import LgbmModel
from refill_assets.models.metrics import evaluate
from refill_assets.models.schema import KINDS, RefillModel
from refill_assets.models.split import Split
from refill_assets.models.survival import CoxnetModel
from refill_assets.models.tuning import tune
from refill_assets.models.xgb_aft import XgbAftModel

# the key columns a prediction frame carries, so reports can join it back
KEYS = ("rx_id", "as_of_date")


@dataclass
class TrainedModel:
    kind: str
    model: RefillModel
    params: dict
    validation_metrics: dict
    test_predictions: pl.DataFrame  # KEYS + the prediction columns, in test-frame order
    seconds: float
    tuning_trials: list[dict] = field(default_factory=list)


def _sample(frame: pl.DataFrame, rows: int, seed: int) -> pl.DataFrame:
    return frame if frame.height <= rows else frame.sample(rows, seed=seed)


def train(
    kind: str,
    split: Split,
    numeric: list[str],
    categorical: list[str],
    *,
    seed: int = 0,
    n_trials: int = 8,
    tuning_rows: int = 100_000,
    threads: int = 2,
) -> TrainedModel:
    started = time.perf_counter()
    trials: list[dict] = []
    if kind == "heuristic":
        model, params = HeuristicModel(numeric, categorical), {}
    elif kind == "coxnet":
        model = CoxnetModel(numeric, categorical, seed=seed)
        params = {"alpha": model.alpha, "l1_ratio": model.l1_ratio, "max_rows": model.max_rows}
    elif kind in ("lightgbm", "xgboost_aft"):
        search = "lgbm" if kind == "lightgbm" else "xgb_aft"
        result = tune(
            search,
            _sample(split.train, tuning_rows, seed),
            _sample(split.validation, tuning_rows // 2, seed),
            numeric,
            categorical,
            n_trials=n_trials,
            seed=seed,
            threads=threads,
        )
        trials, params = result.trials, result.best_params
        cls, thread_arg = (LgbmModel, "n_jobs") if kind == "lightgbm" else (XgbAftModel, "nthread")
        model = cls(numeric, categorical, params=params, seed=seed, **{thread_arg: threads})
    else:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")
    model.fit(split.train)
    validation = evaluate(model.predict(split.validation), split.validation)
    test = pl.concat([split.test.select(KEYS), model.predict(split.test)], how="horizontal")
    return TrainedModel(
        kind, model, params, validation, test, time.perf_counter() - started, trials
    )
