"""How values are written in the landing zone: ids, dates, timestamps, seeds.

Timestamps are kept as integer seconds since the Unix epoch (UTC) until the
moment they are written. PMS timestamps carry the store's local offset
(``2025-03-14T09:12:44-04:00``; US daylight saving time shifts it); the
fulfilment and marketing systems and every ``updated_at`` write UTC with
``Z``.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np
import polars as pl

from refill_simulator.names import TIME_ZONES
from refill_simulator.timeline import SECONDS_PER_DAY, Timeline


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per component, so that changing how one
    component draws leaves every other component's world unchanged."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def ident(prefix: str, number: pl.Expr, width: int) -> pl.Expr:
    return pl.lit(prefix) + number.cast(pl.String).str.zfill(width)


def zone_offsets(tl: Timeline) -> np.ndarray:
    """UTC offset in minutes of each time zone (rows) on each local day (columns)."""
    standard = np.array([v[0] for v in TIME_ZONES.values()])[:, None]
    observes = np.array([v[1] for v in TIME_ZONES.values()])[:, None]
    return standard + 60 * (observes & tl.is_dst[None, :])


def offset_minutes(offsets: np.ndarray, tl: Timeline, zone: np.ndarray, day: np.ndarray):
    return offsets[zone, np.clip(day - tl.first_day, 0, offsets.shape[1] - 1)]


def utc_seconds(tl: Timeline, day, local_seconds, offset_min) -> np.ndarray:
    """The instant of local time ``local_seconds`` on local ``day`` in a zone."""
    return (tl.epoch_day + day) * SECONDS_PER_DAY + local_seconds - offset_min * 60


@lru_cache(maxsize=8)
def _tables(first_epoch_day: int, n_days: int) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Text of every date of the span, every second of a day and every whole-hour offset.

    Timestamps are written by looking their parts up here: several times
    faster than formatting each one.
    """
    days = pl.Series(np.arange(first_epoch_day, first_epoch_day + n_days)).cast(pl.Int32)
    seconds = pl.from_epoch(pl.Series(np.arange(SECONDS_PER_DAY)), time_unit="s")
    hours = np.arange(-12, 13)
    offsets = [f"{'-' if h < 0 else '+'}{abs(h):02d}:00" for h in hours]
    return (
        days.cast(pl.Date).dt.strftime("%Y-%m-%d"),
        seconds.dt.strftime("T%H:%M:%S"),
        pl.Series(offsets),
    )


def _parts(seconds: pl.Expr, tl: Timeline) -> tuple[pl.Expr, pl.Expr]:
    first = tl.epoch_day + tl.first_day
    dates, times, _ = _tables(first, len(tl.month))
    day = (seconds // SECONDS_PER_DAY - first).clip(0, len(tl.month) - 1)
    return pl.lit(dates).gather(day), pl.lit(times).gather(seconds % SECONDS_PER_DAY)


def utc_text(seconds: pl.Expr, tl: Timeline) -> pl.Expr:
    """``2025-03-14T13:12:44Z``"""
    date, time = _parts(seconds, tl)
    return pl.concat_str([date, time, pl.lit("Z")])


def local_text(seconds: pl.Expr, offset_min: pl.Expr, tl: Timeline) -> pl.Expr:
    """``2025-03-14T09:12:44-04:00``: the local time and its UTC offset (whole hours)."""
    date, time = _parts(seconds + offset_min * 60, tl)
    offsets = _tables(tl.epoch_day + tl.first_day, len(tl.month))[2]
    return pl.concat_str([date, time, pl.lit(offsets).gather(offset_min // 60 + 12)])


def date_text(day: pl.Expr, tl: Timeline) -> pl.Expr:
    dates = _tables(tl.epoch_day + tl.first_day, len(tl.month))[0]
    return pl.lit(dates).gather((day - tl.first_day).clip(0, len(tl.month) - 1))


def event_day(seconds: pl.Expr, tl: Timeline) -> pl.Expr:
    """Day index of the UTC date of an instant: the day a row is written."""
    return seconds // SECONDS_PER_DAY - tl.epoch_day


def bool_text(flag: pl.Expr) -> pl.Expr:
    return pl.when(flag).then(pl.lit("true")).otherwise(pl.lit("false"))


def text_of(values: np.ndarray, index: pl.Expr) -> pl.Expr:
    """Look ``index`` up in a small array of strings."""
    return pl.lit(pl.Series(values.astype(str))).gather(index)
