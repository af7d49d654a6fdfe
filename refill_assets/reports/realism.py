"""Refill gap ratios: how real (or simulated) refill timing compares to supply.

For each fill that has a next fill of the same prescription, the ratio
(days to that next fill) / (days' supply of this fill) is 1 for a perfectly
punctual owner, below 1 for an early refill and above 1 for a late one or a
gap. Its median and interquartile range summarise refill behaviour; the
real dispensing reference in ``shared/data/smart-refills`` has median 1.00
and IQR about 0.87-1.16. Plain functions, used on the simulated world and on
real data alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

# only prescriptions with this many fills say something about refill rhythm
MIN_FILLS = 3


def gap_ratios(fills: pl.DataFrame, *, min_fills: int = MIN_FILLS) -> pl.Series:
    """Gap ratio of each fill followed by a fill of the same ``rx_id``.

    ``fills`` has ``rx_id``, ``fill_date`` (date) and ``days_supply``;
    fills without a positive days' supply give no ratio (they still count as
    fills and still end the previous fill's gap).
    """
    ordered = fills.select("rx_id", "fill_date", "days_supply").sort(
        "rx_id", "fill_date", maintain_order=True
    )
    gaps = ordered.with_columns(
        n_fills=pl.len().over("rx_id"),
        next_fill=pl.col("fill_date").shift(-1).over("rx_id"),
    )
    days = (pl.col("next_fill") - pl.col("fill_date")).dt.total_days()
    return gaps.filter(
        pl.col("n_fills") >= min_fills,
        pl.col("next_fill").is_not_null(),
        pl.col("days_supply") > 0,
    ).select((days / pl.col("days_supply")).alias("gap_ratio"))["gap_ratio"]


def gap_ratio_summary(ratios: pl.Series | np.ndarray) -> dict[str, float]:
    """Median, quartiles and count of gap ratios."""
    values = np.asarray(ratios, dtype=float)
    if values.size == 0:
        return {"median": float("nan"), "q25": float("nan"), "q75": float("nan"), "n": 0}
    q25, median, q75 = np.quantile(values, [0.25, 0.5, 0.75])
    return {"median": float(median), "q25": float(q25), "q75": float(q75), "n": int(values.size)}


def read_smart_refills(folder: Path) -> pl.DataFrame:
    """The real reference (``refills.txt``) as (rx_id, fill_date, days_supply).

    A patient's fills of one drug code stand in for a prescription.
    """
    raw = pl.read_csv(folder / "refills.txt", separator="\t", try_parse_dates=True)
    return raw.select(
        pl.format("{}-{}", "PID", "RXN").alias("rx_id"),
        pl.col("DATE").alias("fill_date"),
        pl.col("DAYS").alias("days_supply"),
    )


def reference_gap_ratios(folder: Path | None) -> pl.Series | None:
    """The real reference history's gap ratios; None when no reference is configured."""
    return gap_ratios(read_smart_refills(folder)) if folder is not None else None
