"""Training every kind end to end on the synthetic frame, and the oracle alignment."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from refill_assets.models.metrics import evaluate
from refill_assets.models.oracle import oracle_predictions
from refill_assets.models.schema import PREDICTION_COLUMNS
from refill_assets.models.split import time_split
from refill_assets.models.train import KINDS, train
from tests.support.model_fixture import CATEGORICAL, NUMERIC, make_frame


@pytest.fixture(scope="module")
def split():
    return time_split(make_frame(n_rx=800, seed=5))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_trains_and_predicts_its_test_period(kind, split):
    trained = train(kind, split, NUMERIC, CATEGORICAL, n_trials=2, threads=1)
    assert trained.test_predictions.columns == ["rx_id", "as_of_date", *PREDICTION_COLUMNS]
    assert trained.test_predictions.select("rx_id", "as_of_date").equals(
        split.test.select("rx_id", "as_of_date")
    )
    assert trained.validation_metrics["mae_days"] < 15  # a constant guess is ~15 days off
    if kind in ("lightgbm", "xgboost_aft"):
        assert len(trained.tuning_trials) == 2 and trained.params


def test_same_seed_same_predictions(split):
    a = train("lightgbm", split, NUMERIC, CATEGORICAL, n_trials=2, threads=1)
    b = train("lightgbm", split, NUMERIC, CATEGORICAL, n_trials=2, threads=1)
    assert a.test_predictions.hash_rows().sum() == b.test_predictions.hash_rows().sum()


@pytest.mark.parametrize("kind", ["heuristic", "lightgbm"])
def test_the_refit_serves_and_the_judged_fit_is_unchanged(kind):
    frame = make_frame(n_rx=800, seed=5)
    split = time_split(frame)
    judged = train(kind, split, NUMERIC, CATEGORICAL, n_trials=2, threads=1)
    served = train(kind, split, NUMERIC, CATEGORICAL, n_trials=2, threads=1, refit_on=frame)
    # the holdout figures judge the fit on the training period, refit or not
    assert served.test_predictions.equals(judged.test_predictions)
    assert served.params == judged.params and served.refit_rows == frame.height
    assert judged.refit_rows is None and judged.judged is None
    assert served.judged.predict(split.test).equals(judged.model.predict(split.test))
    # the model that serves learnt from the later periods too: it answers differently there
    refit = served.model.predict(split.test)
    assert not refit.equals(judged.model.predict(split.test))


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="unknown model kind 'prophet'"):
        train("prophet", None, [], [])


def test_oracle_shifts_the_truth_by_the_wait():
    frame = pl.DataFrame(
        {
            "last_order_id": ["A", "B"],
            "last_fill_date": [date(2025, 1, 1), date(2025, 1, 1)],
            "as_of_date": [date(2025, 1, 11), date(2025, 1, 11)],
            "days_to_refill": [20.0, 25.0],
            "lapse": [False, True],
        }
    )
    truth = pl.DataFrame(
        {
            "order_id": ["A"],
            "true_p10_days": [25.0],
            "true_p50_days": [30.0],
            "true_p90_days": [40.0],
            "true_lapse_probability": [0.2],
        }
    )
    pred = oracle_predictions(frame, truth)
    assert pred["has_truth"].to_list() == [True, False]
    first = pred.row(0, named=True)
    assert (first["predicted_days_to_refill"], first["p10_days"], first["p90_days"]) == (
        20.0,
        15.0,
        30.0,
    )
    known = pred.filter("has_truth").drop("has_truth")
    assert evaluate(known, frame.head(1))["mae_days"] == 0.0
