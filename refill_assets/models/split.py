"""Time-based train / validation / test split by ``as_of_date``.

Leakage: a training example's label looks up to the horizon past its as-of day, so near a cut
it would reveal refills that happen inside the next period. Instead of dropping those rows
(up to 120 days of data before each cut), each period's labels are re-censored at the next
cut, i.e. rewritten to what was known on that day: the refill counts only if it happened
before the cut, the lapse label only if its deadline (or the refill) fell before the cut.
That is exactly what a model trained at the cut would have seen, and survival models use the
re-censored rows correctly. The test period keeps its labels as delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from refill_assets.models.labels import lapse_deadline


@dataclass(frozen=True)
class Split:
    train: pl.DataFrame
    validation: pl.DataFrame
    test: pl.DataFrame
    cuts: tuple[date, date]


def cut_dates(
    frame: pl.DataFrame, fractions: tuple[float, float] = (0.7, 0.15)
) -> tuple[date, date]:
    """Cut dates leaving about ``fractions`` of the rows to train and to validation.

    Quantiles of the row dates, so a period never splits one as-of day.
    """
    days = frame.get_column("as_of_date").sort()
    n = days.len()
    first = days[int(n * fractions[0])]
    second = days[min(int(n * (fractions[0] + fractions[1])), n - 1)]
    if not first < second:
        raise ValueError(f"fractions {fractions} leave an empty validation period")
    return first, second


def censor_at(frame: pl.DataFrame, cut: date) -> pl.DataFrame:
    """Labels as known on ``cut`` (exclusive) for rows with an earlier as-of day."""
    window = (pl.lit(cut) - pl.col("as_of_date")).dt.total_days().cast(pl.Float64)
    refilled = pl.col("refilled") & (pl.col("duration_days") < window)
    lapse_known = refilled | (window > lapse_deadline())
    return frame.with_columns(
        duration_days=pl.min_horizontal("duration_days", window),
        refilled=refilled,
        days_to_refill=pl.when(refilled).then(pl.col("days_to_refill")),
        lapse=pl.when(lapse_known).then(pl.col("lapse")),
    )


def time_split(
    frame: pl.DataFrame,
    *,
    fractions: tuple[float, float] = (0.7, 0.15),
    cuts: tuple[date, date] | None = None,
) -> Split:
    """Train before ``cuts[0]``, validation before ``cuts[1]``, test after (see module doc)."""
    first, second = cuts or cut_dates(frame, fractions)
    day = pl.col("as_of_date")
    train = censor_at(frame.filter(day < first), first)
    validation = censor_at(frame.filter((day >= first) & (day < second)), second)
    return Split(train, validation, frame.filter(day >= second), (first, second))
