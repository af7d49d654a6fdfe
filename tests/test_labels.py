"""labels: the censoring weights of observed refills and known lapse labels."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from refill_assets.models.labels import data_end, known_lapses, observed_refills

START, DAYS = date(2025, 1, 1), 300


def _frame(seed: int = 0, n: int = 40_000) -> pl.DataFrame:
    """Every prescription refills after T ~ U(0, 100) days, the supply runs out after 30 days,
    and the data end at START + DAYS hides whatever comes later."""
    rng = np.random.default_rng(seed)
    offset = rng.integers(0, DAYS, n)
    wait = rng.integers(0, 100, n)
    followup = DAYS - offset
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
    assert waits.mean() < 47  # the last 100 as-of days show only their quick refills
    assert np.average(waits, weights=weights) == pytest.approx(49.5, abs=0.7)
    assert weights.min() == pytest.approx(1.0) and weights.max() <= 20


def test_lapse_weights_undo_the_bias_towards_known_non_lapses():
    rows, weights = known_lapses(_frame())
    lapsed = rows["lapse"].cast(pl.Float64).to_numpy()
    truth = 39 / 100  # waits 61..99 of 0..99
    assert lapsed.mean() < truth - 0.02
    assert np.average(lapsed, weights=weights) == pytest.approx(truth, abs=0.015)
