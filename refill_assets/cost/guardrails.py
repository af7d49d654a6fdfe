"""Two figures from the cost tables: month-to-date spend against its forecast, and the
forecast's variance over the last 30 days.

AWS Budgets alert on shares of a fixed limit; "actual above twice what was forecast" is a
ratio of two moving figures, so it is ours. Both compare like with like: the days that have
an actual and a forecast made before them (the day-ahead forecast, ``ledger``). A day whose
actual is not in yet, or that had no forecast (the platform's first day, a month's first
day), is left out of both sides and counted, so the reader sees what was compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from refill_assets.cost.ledger import day_totals

SPIKE_FACTOR = 2.0  # month-to-date actual above this x the forecast to date: warn
VARIANCE_TARGET = 0.20  # the plan's exit criterion: forecast vs actual within 20 % over 30 days
VARIANCE_DAYS = 30


@dataclass(frozen=True)
class Compared:
    start: date
    end: date
    days: int  # days with both an actual and a forecast
    skipped: int  # days of the period without one of them
    actual_usd: float
    forecast_usd: float

    @property
    def ratio(self) -> float | None:
        return self.actual_usd / self.forecast_usd if self.forecast_usd > 0 else None

    @property
    def variance(self) -> float | None:
        """|forecast - actual| / actual over the compared days (the plan's variance)."""
        if self.actual_usd <= 0:
            return None
        return abs(self.forecast_usd - self.actual_usd) / self.actual_usd


@dataclass(frozen=True)
class SpikeVerdict:
    compared: Compared
    factor: float

    @property
    def judged(self) -> bool:
        return self.compared.days > 0 and self.compared.forecast_usd > 0

    @property
    def passed(self) -> bool:
        c = self.compared
        return not self.judged or c.actual_usd <= self.factor * c.forecast_usd

    @property
    def message(self) -> str:
        c = self.compared
        if not self.judged:
            return (
                f"not judged: no day of {c.start:%Y-%m} through {c.end} has both an actual "
                "and a forecast made before it yet"
            )
        verb = "within" if self.passed else "ABOVE"
        return (
            f"month-to-date actual ${c.actual_usd:.2f} is {c.ratio:.2f}x the forecast to date "
            f"${c.forecast_usd:.2f} ({verb} {self.factor:g}x) over {c.days} day(s) of "
            f"{c.start:%Y-%m}" + (f"; {c.skipped} day(s) not comparable yet" if c.skipped else "")
        )


def compare(con: duckdb.DuckDBPyConnection, start: date, end: date) -> Compared:
    days = day_totals(con, start, end)
    both = days.filter(pl.col("actual_usd").is_not_null() & pl.col("forecast_usd").is_not_null())
    return Compared(
        start,
        end,
        both.height,
        days.height - both.height,
        float(both["actual_usd"].sum()),
        float(both["forecast_usd"].sum()),
    )


def month_to_date(
    con: duckdb.DuckDBPyConnection, day: date, factor: float = SPIKE_FACTOR
) -> SpikeVerdict:
    return SpikeVerdict(compare(con, day.replace(day=1), day), factor)


def variance(con: duckdb.DuckDBPyConnection, day: date, days: int = VARIANCE_DAYS) -> Compared:
    """Forecast vs actual over the ``days`` days ending on ``day``."""
    return compare(con, day - timedelta(days=days - 1), day)
