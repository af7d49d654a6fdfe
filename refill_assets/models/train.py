"""Train one kind of model on a split snapshot, and predict its test period.

The GBMs are tuned first (a bounded Optuna search on a seeded sample of the
training and validation periods, so the search costs the same at any world
size), then refitted on the whole training period with the best parameters.
Everything is seeded: the same snapshot and seed give the same predictions.

What is judged and what serves. The model fitted on the training period predicts the
validation and test periods: those figures, and the gate's decision, judge the *recipe*
(kind, features, tuned parameters) on rows it never saw. Given ``refit_on`` (the whole
snapshot, labels as known at the data end), the same recipe is then fitted once more on
every row the labels allow (each model keeps its own rule for the rows near the data end:
``labels.followed`` and the censoring weights), and that fit is the ``model`` that is
logged and serves. Without it, the served model would have learnt nothing from the
validation and test periods, the months closest to the nights it scores (an 18-month
history: a training period ending some eight months before the last night). The price is
that the refit itself has no unseen test rows: a later gate, re-scoring the champion on its
own test period, would find rows that champion trained on and favour it. So the judged fit
is kept too (``judged``; logged beside the model, ``tracking.load_judged``) and the gate
re-scores that one.
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
    model: RefillModel  # what serves: the refit when ``refit_on`` was given
    params: dict
    validation_metrics: dict
    test_predictions: pl.DataFrame  # KEYS + the prediction columns, in test-frame order
    seconds: float
    tuning_trials: list[dict] = field(default_factory=list)
    refit_rows: int | None = None  # rows of the serving refit (None: no refit)
    judged: RefillModel | None = None  # the fit the holdout judged, when a refit serves


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
    refit_on: pl.DataFrame | None = None,
) -> TrainedModel:
    """``refit_on``: the rows the serving model is fitted on afterwards (module doc)."""
    started = time.perf_counter()
    trials: list[dict] = []
    if kind == "heuristic":
        params = {}
    elif kind == "coxnet":
        probe = CoxnetModel(numeric, categorical, seed=seed)
        params = {"alpha": probe.alpha, "l1_ratio": probe.l1_ratio, "max_rows": probe.max_rows}
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
    else:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")

    def recipe() -> RefillModel:
        return _new_model(kind, numeric, categorical, params, seed, threads)

    model = recipe().fit(split.train)
    validation = evaluate(model.predict(split.validation), split.validation)
    test = pl.concat([split.test.select(KEYS), model.predict(split.test)], how="horizontal")
    judged = None
    if refit_on is not None:
        judged, model = model, recipe().fit(refit_on)
    return TrainedModel(
        kind,
        model,
        params,
        validation,
        test,
        time.perf_counter() - started,
        trials,
        None if refit_on is None else refit_on.height,
        judged,
    )


def _new_model(kind, numeric, categorical, params: dict, seed: int, threads: int) -> RefillModel:
    if kind == "heuristic":
        return HeuristicModel(numeric, categorical)
    if kind == "coxnet":
        return CoxnetModel(numeric, categorical, seed=seed)
    if kind == "lightgbm":
        return LgbmModel(numeric, categorical, params=params, seed=seed, n_jobs=threads)
    return XgbAftModel(numeric, categorical, params=params, seed=seed, nthread=threads)
