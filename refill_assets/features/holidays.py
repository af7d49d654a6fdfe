"""Major US holidays, when owners order late and carriers run slow."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def us_holidays(first_year: int, last_year: int) -> pl.DataFrame:
    """Column ``holiday`` (date): New Year, Memorial Day, July 4, Labor Day, Thanksgiving,
    Christmas of each year, plus next year's New Year so every day has a next holiday."""
    days = [date(last_year + 1, 1, 1)]
    for y in range(first_year, last_year + 1):
        days += [
            date(y, 1, 1),
            _last_weekday(y, 5, 0),  # Memorial Day: last Monday of May
            date(y, 7, 4),
            _nth_weekday(y, 9, 0, 1),  # Labor Day: first Monday of September
            _nth_weekday(y, 11, 3, 4),  # Thanksgiving: fourth Thursday of November
            date(y, 12, 25),
        ]
    return pl.DataFrame({"holiday": sorted(days)}, schema={"holiday": pl.Date})
