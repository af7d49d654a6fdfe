"""Time-based train / validation / test split by ``as_of_date``.

Let D be the data end (the last day the labels could see) and H the examples' horizon
(``labels.HORIZON_DAYS``, 120 days). Periods, in time order::

    train [.. cut0)   validation [cut0 .. cut1)   test [cut1 .. D - H]   dropped (D - H .. D]

Test: complete follow-up. Every test as-of day is at least H days before D, so every test
row's outcome is in the data: it refilled within the horizon (on a known day) or it did not,
and its lapse is decided (the lapse deadline, run-out + grace, lies within the horizon for
supplies up to 90 days; a longer one may leave the lapse label unknown, as before). The
timing metrics then use exactly the rows that refill within the horizon, a population set by
the owners, not by the calendar. Cutting the test period at D instead (as before) kept only
the refills that happened before D, so the closer a row was to D the more its long waits
were missing: a right truncation that favours short waits, which models trained on similarly
truncated labels exploit and the true conditional oracle does not (3,000-pet world:
LightGBM MAE 3.0 against the oracle's 4.7). The test's labels are used as delivered except
that a refill after the horizon (observed only when it still fell before D, so again by the
calendar) does not count as an observed refill: ``days_to_refill`` is kept only where
``refilled``, as in the other periods.

Validation: re-censored at the test start (cut1), not fully followed. A fully followed
validation period would have to end H days before the test starts, i.e. another 120 days of
as-of days neither trained nor validated on between them (an 8-month world has none to spare,
a 12-month world would train on its first months only), and would put validation far from
the period it stands in for. Validation serves the tuning search and picks the challenger
by comparing models with one another on the same rows; the re-censored labels are exactly
what a model trained at cut1 would have seen. Its MAE keeps the truncation bias described
above, so it is a relative figure; the absolute figures, the distance to the oracle and the
gate's decision come from the test period.

Leakage: a label looks up to the horizon past its as-of day, so near a cut it would reveal
refills that happen inside the next period. Instead of dropping those rows, training and
validation labels are re-censored at their period's end (``censor_at``), i.e. rewritten to
what was known on that day: the refill counts only if it happened before the cut, the lapse
label only if its deadline (or the refill) fell before the cut; survival models use the
re-censored rows correctly. No training or validation label sees past its cut.

Rows after D - H are dropped: they cannot be evaluated (their follow-up is cut by D), and
they cannot train the model either, because the model trained here is the one evaluated and
registered, and those rows come after the test period (their labels and their history
features contain the test period's outcomes). The cost is recency: the deployed model learns
from as-of days before cut0. A world whose as-of days do not reach more than H days before D
has no test period with complete follow-up: ``time_split`` fails and names the span needed.

D is taken from the labels unless given (``labels.data_end``; at worst a lower bound, which
only makes the test period end earlier). The test's completeness is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from refill_assets.models import labels
from refill_assets.models.labels import HORIZON_DAYS, lapse_deadline


@dataclass(frozen=True)
class Split:
    train: pl.DataFrame
    validation: pl.DataFrame
    test: pl.DataFrame
    cuts: tuple[date, date]
    data_end: date | None = None  # D: the rows after D - horizon are in no period


def cut_dates(
    frame: pl.DataFrame, fractions: tuple[float, float] = (0.7, 0.15)
) -> tuple[date, date]:
    """Cut dates leaving about ``fractions`` of the rows to train and to validation.

    Quantiles of the row dates, so a period never splits one as-of day.
    """
    days = frame.get_column("as_of_date").sort()
    n = days.len()
    if n == 0:
        raise ValueError("no rows to split")
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
    data_end: date | None = None,
    horizon_days: float = HORIZON_DAYS,
    fractions: tuple[float, float] = (0.7, 0.15),
    cuts: tuple[date, date] | None = None,
) -> Split:
    """Train before ``cuts[0]``, validation before ``cuts[1]``, test from ``cuts[1]`` to
    ``data_end - horizon_days``; later rows are dropped (see the module doc).

    ``data_end`` defaults to the one the labels reveal (``labels.data_end``); ``cuts``
    default to the row quantiles ``fractions`` of the rows with complete follow-up.
    """
    end = data_end or labels.data_end(frame)
    last_test_day = end - timedelta(days=int(horizon_days))
    day = pl.col("as_of_date")
    followed = frame.filter(day <= last_test_day)
    first_day, last_day = frame["as_of_date"].min(), frame["as_of_date"].max()
    try:
        first, second = cuts or cut_dates(followed, fractions)
    except ValueError as error:
        raise _too_short(error, followed.height, first_day, last_day, end, horizon_days) from None
    test = followed.filter(day >= second)
    if test.is_empty():
        raise _too_short(
            ValueError(f"test period from {second} is empty"),
            followed.height,
            first_day,
            last_day,
            end,
            horizon_days,
        )
    incomplete = test.filter(~pl.col("refilled") & (pl.col("duration_days") < horizon_days))
    if not incomplete.is_empty():
        raise ValueError(
            f"{incomplete.height} test rows were censored before the {horizon_days:g}-day "
            f"horizon (first on {incomplete['as_of_date'].min()}): their labels end before "
            f"the data end given, {end}"
        )
    train = censor_at(frame.filter(day < first), first)
    validation = censor_at(frame.filter((day >= first) & (day < second)), second)
    # a refill after the horizon counts as no refill within it (observed only if before D)
    test = test.with_columns(days_to_refill=pl.when("refilled").then(pl.col("days_to_refill")))
    return Split(train, validation, test, (first, second), end)


def _too_short(
    error: ValueError, rows: int, first_day, last_day, end: date, horizon_days: float
) -> ValueError:
    return ValueError(
        f"cannot split with complete follow-up ({error}): test as-of days need "
        f"{horizon_days:g} days of data after them, so only the {rows} rows up to "
        f"{end - timedelta(days=int(horizon_days))} can be trained, validated and tested on; "
        f"the as-of days span {first_day} … {last_day} with data end {end}. The world must "
        f"span the {horizon_days:g}-day follow-up plus as-of days for the three periods "
        f"(at least a few months: 8 months of data give about 4 months of them)"
    )
