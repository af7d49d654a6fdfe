"""When rows are delivered and into which files: the landing layout's quirks.

A row is written on its event day (the UTC date of its version timestamp)
and delivered that day's evening, except:

- late rows: ``late_one_day_rate`` / ``late_two_days_rate`` of the rows of
  every delta extract arrive one / two days later;
- identical re-sends: ``identical_resend_rate`` of the rows arrive again,
  the same day or up to two days later;
- an outage day per PMS extract (``OUTAGE_DAY_FRACTION`` of the way through
  the world): no folder that day, its rows come with the next delivery;
- several files on some days (``multi_file_day_rate``, and always on the
  ``FORCED_MULTI_FILE_DAY``), rows spread over 2-3 files;
- whole files delivered twice (``duplicate_file_rate``): a renamed copy in
  the same folder, or the same name again in the next day's folder; at
  least one of each is forced;
- CSV column order shuffled in ``column_shuffle_rate`` of the files;
- schema drift: ``loyalty_tier`` joins rx_orders from ``DRIFT_DAY_FRACTION``;
- one rx_orders file without its required ``order_ts`` column (a manual
  re-export of rows delivered properly elsewhere), to be rejected whole;
- one inventory Parquet file truncated (one warehouse's snapshot that day).

Days are placed by fractions of the world so every quirk lands inside it.
The rates in lower case are the ``Process``'s (the family of worlds varies
them); the rest are constants here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from refill_simulator.process import Process
from refill_simulator.timeline import Timeline

MAX_FILES_PER_DAY = 3
FORCED_MULTI_FILE_DAY = 0.05
OUTAGE_DAY_FRACTION = {"rx_orders": 0.23, "vet_reauth": 0.41, "customers": 0.57, "pets": 0.79}
DRIFT_COLUMN, DRIFT_DAY_FRACTION = "loyalty_tier", 0.6
LOYALTY_TIERS = ("bronze", "silver", "gold")
MISSING_COLUMN, MISSING_COLUMN_DAY_FRACTION, MISSING_COLUMN_ROWS = "order_ts", 0.31, 50
TRUNCATED_DAY_FRACTION, TRUNCATED_WAREHOUSE, TRUNCATED_KEEP = 0.47, 1, 0.6
# one forced duplicate of each kind: (extract, day fraction)
FORCED_NEXT_DAY_COPY = ("rx_orders", 0.15)
FORCED_RENAMED_COPY = ("shipments", 0.65)
FORCED_SHUFFLE = ("rx_orders", 0.1)


def quirk_day(tl: Timeline, fraction: float) -> int:
    """The day ``fraction`` of the way through the world, never its first or last."""
    return int(np.clip(round(fraction * (tl.n_days - 1)), 1, max(tl.n_days - 2, 1)))


@dataclass(frozen=True)
class FilePlan:
    """Whole-file quirks of one extract; files are (dt, part) pairs."""

    shuffled: frozenset = frozenset()
    renamed_copies: frozenset = frozenset()
    next_day_copies: frozenset = frozenset()
    truncated: frozenset = frozenset()
    extra_columns_from: tuple[tuple[str, int], ...] = ()
    # (dt, rows): a file delivered without the MISSING_COLUMN
    missing_column: tuple[int, pl.DataFrame] | None = None


def _past_outage(name: str, dt: pl.Expr, tl: Timeline) -> pl.Expr:
    if name not in OUTAGE_DAY_FRACTION:
        return dt
    outage = quirk_day(tl, OUTAGE_DAY_FRACTION[name])
    return pl.when(dt == outage).then(dt + 1).otherwise(dt)


def deliver(
    name: str, rows: pl.DataFrame, tl: Timeline, p: Process, rng, quirks: bool
) -> pl.DataFrame:
    """Adds ``_dt`` (delivery day) and ``_part`` (file of that day) to every row."""
    last = tl.n_days - 1
    if not quirks:
        rows = rows.with_columns(_dt=pl.col("_day"), _part=pl.lit(0, pl.Int64))
        return rows.sort("_dt", "_ts", maintain_order=True)
    n = len(rows)
    u = rng.random(n)
    late = np.where(
        u < p.late_two_days_rate, 2, (u < p.late_two_days_rate + p.late_one_day_rate) * 1
    )
    rows = rows.with_columns(_dt=(pl.col("_day") + pl.Series(late)).clip(upper_bound=last))
    again = rows.filter(pl.Series(rng.random(n) < p.identical_resend_rate))
    again = again.with_columns(
        _dt=(pl.col("_dt") + pl.Series(rng.integers(0, 3, len(again)))).clip(upper_bound=last)
    )
    rows = pl.concat([rows, again]).with_columns(_dt=_past_outage(name, pl.col("_dt"), tl))

    parts = np.where(
        rng.random(tl.n_days) < p.multi_file_day_rate, rng.integers(2, 4, tl.n_days), 1
    )
    parts[quirk_day(tl, FORCED_MULTI_FILE_DAY)] = MAX_FILES_PER_DAY
    n_parts = pl.lit(pl.Series(parts)).gather(pl.col("_dt"))
    part = (pl.Series(rng.random(len(rows))) * n_parts).floor().cast(pl.Int64)
    rows = rows.with_columns(_part=part).sort("_dt", "_part", "_ts", maintain_order=True)
    if name == "rx_orders":
        tier = pl.lit(pl.Series(LOYALTY_TIERS + (None,))).gather(
            pl.Series(rng.integers(0, len(LOYALTY_TIERS) + 1, len(rows)))
        )
        drift = quirk_day(tl, DRIFT_DAY_FRACTION)
        rows = rows.with_columns(pl.when(pl.col("_dt") >= drift).then(tier).alias(DRIFT_COLUMN))
    return rows


def _sample(files: list[tuple[int, int]], rate: float, rng) -> set[tuple[int, int]]:
    return {f for f, u in zip(files, rng.random(len(files)), strict=True) if u < rate}


def _file_at(files: list[tuple[int, int]], day: int) -> tuple[int, int] | None:
    later = [f for f in files if f[0] >= day]
    return later[0] if later else None


def file_plan(
    name: str, fmt: str, delivered: pl.DataFrame, tl: Timeline, p: Process, rng, quirks: bool
) -> FilePlan:
    """The whole-file quirks of an extract, given where its rows were delivered."""
    files = sorted(delivered.select("_dt", "_part").unique().iter_rows())
    if not quirks or not files:
        return FilePlan()
    last = tl.n_days - 1
    copies = _sample(files, p.duplicate_file_rate, rng)
    next_day = {f for f in copies if rng.random() < 0.5 and f[0] < last}
    for forced, target in ((FORCED_NEXT_DAY_COPY, next_day), (FORCED_RENAMED_COPY, copies)):
        if forced[0] == name and (f := _file_at(files, quirk_day(tl, forced[1]))):
            target.add(f)
    plan = dict(renamed_copies=frozenset(copies - next_day), next_day_copies=frozenset(next_day))
    if fmt == "csv":
        shuffled = _sample(files, p.column_shuffle_rate, rng)
        if FORCED_SHUFFLE[0] == name and (f := _file_at(files, quirk_day(tl, FORCED_SHUFFLE[1]))):
            shuffled.add(f)
        plan["shuffled"] = frozenset(shuffled)
    if name == "rx_orders":
        plan["extra_columns_from"] = ((DRIFT_COLUMN, quirk_day(tl, DRIFT_DAY_FRACTION)),)
        day = quirk_day(tl, MISSING_COLUMN_DAY_FRACTION)
        rows = delivered.filter(pl.col("_dt") == day, pl.col("_raw").is_null())
        plan["missing_column"] = (day, rows.head(MISSING_COLUMN_ROWS).drop(MISSING_COLUMN))
    if name == "inventory":
        day = quirk_day(tl, TRUNCATED_DAY_FRACTION)
        plan["truncated"] = frozenset({(day, TRUNCATED_WAREHOUSE)})
    return FilePlan(**plan)
