"""The conditional oracle on hand-made draws: conditioning on the wait, the fallback, w = 0."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from refill_assets.models import oracle
from refill_assets.models.oracle import oracle_predictions
from refill_simulator import truth as simulator_truth

FILL = date(2025, 1, 1)
STOP = oracle.STOP_DRAW
DRAWS = [40, STOP, 5, 20, 10]  # any order: the oracle sorts


def _truth(draws: list[list[int]], days_supply: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(draws))],
            "days_supply": days_supply,
            oracle.DRAWS_COLUMN: draws,
        },
        schema_overrides={oracle.DRAWS_COLUMN: pl.List(pl.Int16)},
    )


def _frame(order_ids: list[str], waits: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "last_order_id": order_ids,
            "last_fill_date": [FILL] * len(waits),
            "as_of_date": [FILL + timedelta(days=w) for w in waits],
        }
    )


def _rows(pred: pl.DataFrame) -> list[tuple[float, float, float, float]]:
    cols = ("p10_days", "predicted_days_to_refill", "p90_days", "lapse_probability")
    return [tuple(round(v, 9) for v in row) for row in pred.select(cols).iter_rows()]


def test_the_oracle_reads_the_simulators_draws():
    assert oracle.DRAWS_COLUMN == simulator_truth.DRAWS_COLUMN
    assert oracle.STOP_DRAW == simulator_truth.STOP_DRAW
    assert oracle.LAPSE_GRACE_DAYS == simulator_truth.LAPSE_GRACE_DAYS


def test_conditions_on_the_wait():
    # draws 5, 10, 20, 40 days and a stop; lapse past 9 + 30 = 39 days (O0) or 50 (O1)
    truth = _truth([DRAWS, DRAWS], [9, 20])
    waits = [0, 12, 30]
    frame = _frame(["O0"] * 3 + ["O1"] * 3, waits * 2)
    pred = oracle_predictions(frame, truth, min_draws=1)
    assert pred["has_truth"].all()
    # p10, p50, p90 of (gap - w) over the refill draws with gap >= w, interpolated linearly
    days = [(6.5, 15.0, 34.0), (10.0, 18.0, 26.0), (10.0, 10.0, 10.0)]
    # lapse share of the waiting draws: {5,10,20,40,stop}, {20,40,stop}, {40,stop}
    lapse_o0 = [2 / 5, 2 / 3, 1.0]  # 40 > 39 lapses
    lapse_o1 = [1 / 5, 1 / 3, 1 / 2]  # only the stop lapses
    expected = [(*d, p) for d, p in zip(days * 2, lapse_o0 + lapse_o1, strict=True)]
    assert _rows(pred) == [tuple(round(v, 9) for v in row) for row in expected]


def test_the_refill_day_itself_is_still_possible():
    # as-of day 10, refill that very day: the draw of 10 days still counts (gap >= w)
    pred = oracle_predictions(_frame(["O0"], [10]), _truth([DRAWS], [9]), min_draws=1)
    assert _rows(pred) == [(2.0, 10.0, 26.0, 0.5)]


def test_too_few_draws_fall_back_to_the_latest_ones():
    truth = _truth([DRAWS], [9])
    pred = oracle_predictions(_frame(["O0", "O0"], [30, 45]), truth)  # MIN_DRAWS = 5
    assert oracle.MIN_DRAWS == 5
    # w = 30: one refill draw left (40): timing over the 4 latest refill draws, those
    # already past as due today: 0, 0, 0, 10; lapse over the 5 latest draws, those past
    # counted as filled on day 30: 30, 30, 30 (not lapsed), 40 and the stop (lapsed)
    # w = 45: no refill draw left; past 9 + 30 days every draw lapses
    assert _rows(pred) == [(0.0, 0.0, 7.0, 0.4), (0.0, 0.0, 0.0, 1.0)]


def test_unknown_fills_and_fills_that_cannot_continue_have_no_oracle():
    truth = _truth([DRAWS, [STOP] * 5], [9, 9])
    pred = oracle_predictions(_frame(["O0", "O1", "X"], [3, 3, 3]), truth)
    assert pred["has_truth"].to_list() == [True, False, False]


@pytest.mark.parametrize("seed", [1, 2])
def test_at_the_fill_day_it_is_the_unconditional_law(seed):
    rng = np.random.default_rng(seed)
    n_fills, n_draws = 300, 64
    gaps = rng.integers(1, 120, (n_fills, n_draws))
    stop_share = rng.choice([0.0, 0.1, 0.6, 0.97], n_fills)[:, None]
    draws = np.where(rng.random((n_fills, n_draws)) < stop_share, STOP, gaps)
    draws[0] = STOP  # a fill that cannot continue
    supply = rng.choice([30, 60, 90], n_fills)
    truth = _truth(draws.tolist(), supply.tolist())
    frame = _frame(truth["order_id"].to_list(), [0] * n_fills)
    pred = oracle_predictions(frame, truth)
    refill = draws != STOP
    assert pred["has_truth"].to_list() == refill.any(axis=1).tolist()
    for i in np.flatnonzero(refill.any(axis=1)):
        gap = draws[i][refill[i]]
        row = pred.row(i, named=True)
        p10, p50, p90 = np.quantile(gap, [0.1, 0.5, 0.9])
        assert row["predicted_days_to_refill"] == pytest.approx(p50, abs=1e-9)
        assert row["p10_days"] == pytest.approx(p10, abs=1e-9)
        assert row["p90_days"] == pytest.approx(p90, abs=1e-9)
        lapse = np.mean(~refill[i] | (draws[i] > supply[i] + 30))
        assert row["lapse_probability"] == pytest.approx(lapse, abs=1e-12)
