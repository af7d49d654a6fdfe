"""Ground truth: the true next-fill distribution of every delivered fill.

For each fill, ``behaviour.draw_next`` is drawn ``TRUTH_DRAWS`` times from
the state the process had at that fill (the same function, the same state,
the world's own ``Process`` and ``Shift``, fresh randomness: an honest Monte
Carlo estimate of the law the world was drawn from). Fills go in chunks,
each with its own seed, to bound memory.

The draws themselves are kept, in ``DRAWS_COLUMN`` (``draw_gap_days``): a
list of ``TRUTH_DRAWS`` Int16 per fill, the days from the fill to the next
fill in each draw, ``STOP_DRAW`` (-1) where the draw ends the prescription
(owner stopped, pet died or transferred, owner left, reauthorization denied
or expired, acute course complete; gaps are always >= 1, so -1 is never a
gap). Each list is sorted ascending (stops first): the draws are
independent, their order carries nothing, and sorted lists compress better.
The summary columns are functions of them: mean and linearly interpolated
QUANTILES (``np.quantile``'s default) of the non-negative entries, and the
share of entries that are -1 or exceed ``days_supply + LAPSE_GRACE_DAYS``.
From them the oracle (``refill_assets.models.oracle``) conditions on the
wait seen on any later day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from refill_assets.contract.rules import LAPSE_GRACE_DAYS
from refill_simulator.behaviour import (
    CONTINUES,
    ENGAGEMENT_LEVELS,
    PROFILES,
    STOP_REASONS,
    FillState,
    draw_next,
)
from refill_simulator.catalog import CatalogArrays
from refill_simulator.fills import CANCELED, STATE_COLUMNS
from refill_simulator.formats import ident
from refill_simulator.process import Process
from refill_simulator.shift import Shift
from refill_simulator.state import World
from refill_simulator.timeline import Timeline

TRUTH_DRAWS = 64
CHUNK_FILLS = 16_000
QUANTILES = (0.1, 0.5, 0.9)
DRAWS_COLUMN = "draw_gap_days"
STOP_DRAW = -1  # in DRAWS_COLUMN: this draw ends the prescription (no next fill)
SUMMARY_COLUMNS = (
    "true_mean_days",
    "true_p10_days",
    "true_p50_days",
    "true_p90_days",
    "true_lapse_probability",
)


def _masked_quantiles(gap: np.ndarray, refill: np.ndarray) -> tuple[np.ndarray, ...]:
    """Mean and QUANTILES per column over the rows where ``refill`` holds.

    Linear interpolation between order statistics, like ``np.quantile``;
    NaN where a column has no refill draw.
    """
    count = refill.sum(axis=0)
    ordered = np.sort(np.where(refill, gap, np.inf), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(refill, gap, 0).sum(axis=0) / count
        out = [np.where(count > 0, mean, np.nan)]
        for q in QUANTILES:
            pos = q * np.maximum(count - 1, 0)
            lo = np.floor(pos).astype(np.int64)
            hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
            cols = np.arange(gap.shape[1])
            a, b = ordered[lo, cols], ordered[hi, cols]
            value = a + (pos - lo) * np.where(hi > lo, b - a, 0)
            out.append(np.where(count > 0, value, np.nan))
    return tuple(out)


def _chunk(
    state: FillState, cat, tl, p: Process, shift: Shift | None, seed: int, index: int
) -> tuple[np.ndarray, np.ndarray]:
    """The summaries (fills x 5) and the sorted draws (fills x TRUTH_DRAWS, Int16)."""
    rng = np.random.default_rng([seed, 0x7E57, index])
    nxt = draw_next(state, cat, tl, p, rng, draws=TRUTH_DRAWS, detail=False, shift=shift)
    refill = nxt.reason == CONTINUES
    gap = nxt.gap
    lapse = ~refill | (gap > state.days_supply + LAPSE_GRACE_DAYS)
    summaries = np.column_stack([*_masked_quantiles(gap, refill), lapse.mean(axis=0)])
    # gaps are days within a world of months: far below Int16's 32,767
    kept = np.where(refill, np.minimum(gap, np.iinfo(np.int16).max), STOP_DRAW)
    return summaries, np.sort(kept.astype(np.int16).T, axis=1)


def next_fill_truth(
    fills: pl.DataFrame,
    cat: CatalogArrays,
    tl: Timeline,
    p: Process,
    seed: int,
    shift: Shift | None = None,
) -> pl.DataFrame:
    """The truth columns for ``fills`` (one row each, same order): SUMMARY_COLUMNS, DRAWS_COLUMN.

    ``p`` and ``shift`` must be those the world was drawn with, so that the truth is its law.
    """
    state = FillState(**{c: fills[c].to_numpy() for c in STATE_COLUMNS})
    parts = [
        _chunk(state.take(slice(i, i + CHUNK_FILLS)), cat, tl, p, shift, seed, i)
        for i in range(0, len(fills), CHUNK_FILLS)
    ]
    values = np.concatenate([*(p[0] for p in parts), np.empty((0, 5))])
    draws = np.concatenate([*(p[1] for p in parts), np.empty((0, TRUTH_DRAWS), np.int16)])
    return (
        pl.DataFrame({name: values[:, i] for i, name in enumerate(SUMMARY_COLUMNS)})
        .fill_nan(None)
        .with_columns(pl.Series(DRAWS_COLUMN, draws).cast(pl.List(pl.Int16)))
    )


def _outcome(last_day: int) -> pl.Expr:
    """What really followed a fill: refilled, censored (after the world ends), or why it stopped."""
    stopped = pl.col("stop_reason").replace_strict(dict(enumerate(STOP_REASONS)))
    return (
        pl.when(pl.col("stop_reason") != CONTINUES)
        .then(stopped)
        .when(pl.col("next_day") > last_day)
        .then(pl.lit("censored"))
        .otherwise(pl.lit("refilled"))
    )


def _as_date(day: pl.Expr, tl: Timeline) -> pl.Expr:
    return (day + tl.epoch_day).cast(pl.Int32).cast(pl.Date)


def write_truth(w: World, orders: pl.DataFrame, folder: Path) -> int:
    """``next_fill.parquet`` and ``pets.parquet``; returns the number of fills.

    ``orders``: the order events of ``orders.order_events`` (in order_id order).
    """
    fills = orders.filter(pl.col("status") != CANCELED)
    state = w.log.fills[fills["fill"].to_numpy()]
    truth = next_fill_truth(state, w.cat, w.tl, w.process, w.seed, w.shift)
    frame = pl.concat(
        [
            fills.select("order_id", "rx", "day", "days_supply"),
            truth,
            state.select("next_day", "stop_reason"),
        ],
        how="horizontal",
    ).with_columns(pet=w.rx.pet[fills["rx"].to_numpy()])
    known = pl.col("next_day").is_between(0, w.last_day)
    frame.select(
        "order_id",
        rx_id=ident("RX", pl.col("rx"), 8),
        pet_id=ident("P", pl.col("pet"), 7),
        fill_date=_as_date(pl.col("day"), w.tl),
        days_supply="days_supply",
        **{name: name for name in SUMMARY_COLUMNS},
        next_fill_date=pl.when(known).then(_as_date(pl.col("next_day"), w.tl)),
        outcome=_outcome(w.last_day),
        **{DRAWS_COLUMN: DRAWS_COLUMN},
    ).write_parquet(folder / "next_fill.parquet")
    _pets_truth(w).write_parquet(folder / "pets.parquet")
    return len(fills)


def _pets_truth(w: World) -> pl.DataFrame:
    p = w.pets
    return pl.DataFrame(
        {
            "pet_id": [f"P{i:07d}" for i in range(len(p))],
            "adherence_profile": np.array(PROFILES)[p.profile],
            "engagement_level": np.array(ENGAGEMENT_LEVELS)[w.customers.engagement[p.customer]],
            "autoship": p.autoship,
        }
    )
