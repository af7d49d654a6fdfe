"""Calendar of the simulated world as arrays indexed by day.

Days are integers counted from the world's ``start`` (day 0); the process
runs from ``-BURN_IN_DAYS`` (so that the first delivery sees prescriptions in
mid-course, not all starting together) to well past ``end`` (the truth's
Monte Carlo draws look beyond the world's horizon). Every calendar effect the
process needs is a lookup array over that span, so that a step of the fill
loop reads it for all prescriptions at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

BURN_IN_DAYS = 240
# customers and pets were created up to this long before the burn-in; the
# calendar reaches back that far so their created_at has the right offset
HISTORY_DAYS = 1600
# how far past ``end`` a drawn next fill may land (a seasonal pause can last a winter)
HORIZON_DAYS = 800
SECONDS_PER_DAY = 86_400


def _thanksgiving(year: int) -> date:
    nov1 = date(year, 11, 1)
    return nov1 + timedelta(days=(3 - nov1.weekday()) % 7 + 21)


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def _holiday_windows(year: int) -> list[tuple[date, date]]:
    """Closed windows when owners put off ordering and carriers slow down.

    How often and by how much: ``Process.holiday_delay_probability`` and
    ``Process.holiday_transit_extra_days``.
    """
    thanks = _thanksgiving(year)
    return [
        (date(year, 7, 3), date(year, 7, 5)),
        (thanks, thanks + timedelta(days=3)),
        (date(year, 12, 20), date(year + 1, 1, 2)),
    ]


@dataclass(frozen=True)
class Timeline:
    start: date
    end: date
    first_day: int  # day index of the first array element (negative: burn-in)
    month: np.ndarray  # 1..12
    weekday: np.ndarray  # 0 = Monday
    is_dst: np.ndarray  # US daylight saving time in force on that local date
    holiday_end: np.ndarray  # first day after the holiday window, or -1 outside one
    next_spring: np.ndarray  # day index of the next March 1

    @property
    def n_days(self) -> int:
        """Days in the delivered world, ``start`` to ``end`` inclusive."""
        return (self.end - self.start).days + 1

    @property
    def epoch_day(self) -> int:
        """Day 0 as days since 1970-01-01, to turn indices into dates."""
        return (self.start - date(1970, 1, 1)).days

    def at(self, table: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Look ``day`` (any shape, clipped to the span) up in ``table``."""
        i = np.clip(np.asarray(day, dtype=np.int64) - self.first_day, 0, len(table) - 1)
        return table[i]


def build_timeline(start: date, end: date) -> Timeline:
    first = -BURN_IN_DAYS - HISTORY_DAYS
    last = (end - start).days + HORIZON_DAYS
    days = np.arange(first, last + 1)
    dates = np.datetime64(start, "D") + days
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday

    is_dst = np.zeros(len(days), dtype=bool)
    holiday_end = np.full(len(days), -1, dtype=np.int64)
    next_spring = np.empty(len(days), dtype=np.int64)
    for year in range(int(years.min()) - 1, int(years.max()) + 2):
        dst_from = np.datetime64(_nth_sunday(year, 3, 2), "D")
        dst_to = np.datetime64(_nth_sunday(year, 11, 1), "D")
        is_dst |= (dates >= dst_from) & (dates < dst_to)
        for lo, hi in _holiday_windows(year):
            inside = (dates >= np.datetime64(lo, "D")) & (dates <= np.datetime64(hi, "D"))
            holiday_end[inside] = (hi - start).days + 1
    march1 = np.array(
        [(date(int(y), 3, 1) - start).days for y in range(years.min(), years.max() + 2)]
    )
    next_spring[:] = march1[np.searchsorted(march1, days, side="right")]
    return Timeline(start, end, first, month, weekday, is_dst, holiday_end, next_spring)
