"""Label conventions shared by models, split and metrics.

The feature builder observes each example for at most ``HORIZON_DAYS``; ``duration_days``
is the refill time when ``refilled`` and the censoring time otherwise. A censoring time
below the horizon means the data ended first (recent as-of days), not that the owner
behaved differently.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

HORIZON_DAYS = 120.0
# lapse = no fill by run-out + this many days (the feature builder's definition)
LAPSE_GRACE_DAYS = 30.0
SUPPLY = "days_supply_remaining"


def lapse_deadline() -> pl.Expr:
    """Days from the as-of day to the lapse deadline (run-out + grace), never negative."""
    return (pl.col(SUPPLY) + LAPSE_GRACE_DAYS).clip(lower_bound=0.0)


def data_end(frame: pl.DataFrame) -> date:
    """The data end D the labels were computed with: a row's ``as_of_date + duration_days`` is
    its refill day or its censoring day, never after D, and equal to D for any row the data
    end censored (a frame's last ``horizon`` days always have some); otherwise a lower bound."""
    seen = pl.col("as_of_date") + pl.duration(days=pl.col("duration_days").floor().cast(pl.Int64))
    end = frame.select(pl.max_horizontal(seen.max(), pl.col("as_of_date").max())).item()
    if end is None:
        raise ValueError("no rows")
    return end


# a refill or lapse that the calendar let fewer than 5 % of the rows see is weighted as if 5 %
# did: bounded weights keep one late refill from steering a model
MIN_SEEN_SHARE = 0.05


def observed_refills(frame: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """The rows with a refill within the horizon, and their inverse-probability-of-censoring
    weights.

    A refill t days after its as-of day is in the data only when the as-of day lies at least
    t days before the data end D, so near D only the quick refills show. Which as-of days do
    depends on the calendar alone, so the chance that a refill t days out was seen is G(t), the
    share of the frame's rows with D − as-of ≥ t, known exactly; weighting each refill by
    1 / G(t) restores the late ones' share (Horvitz–Thompson). Dropping the last horizon of
    as-of days instead would be unbiased too, but leaves a short history nothing to train on.
    """
    rows = frame.filter(pl.col("refilled"))
    return rows, _inverse_seen(frame, rows.get_column("duration_days").to_numpy())


def known_lapses(frame: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """The rows with a known lapse label, weighted as ``observed_refills`` by the day their
    label became known: the refill's for a refill before the deadline, the deadline's else."""
    rows = frame.filter(pl.col("lapse").is_not_null())
    known_after = rows.select(
        pl.when(pl.col("lapse")).then(lapse_deadline()).otherwise(pl.col("duration_days"))
    )
    return rows, _inverse_seen(frame, known_after.to_series().to_numpy())


def _inverse_seen(frame: pl.DataFrame, days: np.ndarray) -> np.ndarray:
    followup = np.sort((data_end(frame) - frame.get_column("as_of_date")).dt.total_days())
    seen = 1.0 - np.searchsorted(followup, days, side="left") / max(followup.size, 1)
    return 1.0 / np.maximum(seen, MIN_SEEN_SHARE)
