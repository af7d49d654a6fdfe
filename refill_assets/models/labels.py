"""Label conventions shared by models, split and metrics.

The feature builder observes each example for at most ``HORIZON_DAYS``; ``duration_days``
is the refill time when ``refilled`` and the censoring time otherwise. A censoring time
below the horizon means the data ended first (recent as-of days), not that the owner
behaved differently.
"""

from __future__ import annotations

import polars as pl

HORIZON_DAYS = 120.0
# lapse = no fill by run-out + this many days (the feature builder's definition)
LAPSE_GRACE_DAYS = 30.0
SUPPLY = "days_supply_remaining"


def lapse_deadline() -> pl.Expr:
    """Days from the as-of day to the lapse deadline (run-out + grace), never negative."""
    return (pl.col(SUPPLY) + LAPSE_GRACE_DAYS).clip(lower_bound=0.0)


def complete_followup(frame: pl.DataFrame, horizon: float = HORIZON_DAYS) -> pl.DataFrame:
    """Rows whose outcome is known up to the horizon, with ``capped_days`` = min(T, horizon).

    Dropping the rows the data end censored early is unbiased (that censoring depends on the
    calendar, not on the owner), and for every quantile below the horizon the quantile of
    min(T, horizon) equals the quantile of T: so quantile and median estimates on these rows
    need no survival machinery.
    """
    return frame.filter(pl.col("refilled") | (pl.col("duration_days") >= horizon)).with_columns(
        capped_days=pl.col("duration_days").clip(upper_bound=horizon)
    )
