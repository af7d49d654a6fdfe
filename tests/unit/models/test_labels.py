"""labels: the censoring weights of observed refills and known lapse labels."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from refill_assets.models.labels import (
    HORIZON_DAYS,
    data_end,
    followed,
    known_lapses,
    observed_refills,
)

START = date(2025, 1, 1)
DAYS = 150  # a short history: fewer than half the rows are followed for the horizon


def _frame(seed: int = 0, n: int = 40_000, days: int = DAYS) -> pl.DataFrame:
    """Every prescription refills after T ~ U(0, 100) days, the supply runs out after 30 days,
    and the data end at START + days hides whatever comes later."""
    rng = np.random.default_rng(seed)
    offset = rng.integers(0, days, n)
    wait = rng.integers(0, 100, n)
    followup = days - offset
    refilled = wait <= followup
    lapse_known = refilled | (followup >= 60)
    return (
        pl.DataFrame(
            {
                "as_of_date": [START + timedelta(days=int(d)) for d in offset],
                "refilled": refilled,
                "duration_days": np.where(refilled, wait, followup).astype(float),
                "days_supply_remaining": np.full(n, 30.0),
                "lapse": wait > 60,
                "known": lapse_known,
            }
        )
        .with_columns(lapse=pl.when("known").then("lapse"))
        .drop("known")
    )


def test_the_data_end_is_read_from_the_labels():
    assert data_end(_frame()) == START + timedelta(days=DAYS)


def test_weights_undo_the_data_ends_bias_towards_quick_refills():
    rows, weights = observed_refills(_frame())
    waits = rows["duration_days"].to_numpy()
    assert waits.mean() < 48.5  # the later half's follow-up is under 100 days
    assert np.average(waits, weights=weights) == pytest.approx(49.5, abs=0.7)
    assert weights.min() == pytest.approx(1.0) and weights.max() <= 20


def test_a_long_history_trains_on_the_rows_followed_for_the_whole_horizon():
    frame = _frame(days=400)
    end = data_end(frame)
    kept = followed(frame)
    assert kept["as_of_date"].max() <= end - timedelta(days=int(HORIZON_DAYS))
    assert (
        kept.height
        == frame.filter(pl.col("as_of_date") <= end - timedelta(days=int(HORIZON_DAYS))).height
    )
    rows, weights = observed_refills(frame)
    assert rows.height == kept["refilled"].sum() and np.all(weights == 1.0)
    assert rows["duration_days"].mean() == pytest.approx(49.5, abs=0.7)


def test_a_short_history_keeps_the_half_followed_longest():
    frame = _frame()
    kept = followed(frame)
    assert kept.height == pytest.approx(frame.height / 2, rel=0.02)
    assert kept["as_of_date"].max() < frame["as_of_date"].min() + timedelta(days=DAYS // 2 + 2)


def test_lapse_weights_undo_the_bias_towards_known_non_lapses():
    rows, weights = known_lapses(_frame(days=100))  # the half kept waits 50-100 days
    lapsed = rows["lapse"].cast(pl.Float64).to_numpy()
    truth = 39 / 100  # waits 61..99 of 0..99
    assert lapsed.mean() < truth - 0.02
    assert np.average(lapsed, weights=weights) == pytest.approx(truth, abs=0.015)
