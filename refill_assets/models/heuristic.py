"""The baseline: run-out day plus a lateness buffer learnt per segment.

Point = ``days_supply_remaining`` (last fill + effective days' supply − as-of day) + the
median lateness of its drug_class × autoship segment; p10/p90 = the segment's 10th/90th
lateness percentiles; lapse probability = the segment's lapse rate. Segments with fewer than
``min_rows`` refills use the global figures. Lateness is measured on the observed refills
(timing is conditional on a refill within the horizon, as for every model here: the lapse
rate covers the owners who do not come back), the lapse rate on the known lapse labels, both
of the rows followed for the whole horizon (``labels.observed_refills``), so the quick
refills near the data end do not stand in for all of them. No randomness: always trainable,
always deterministic.

Every row gets a prediction. A row whose supply is unknown (no days' supply sent, none
derivable) cannot be timed from its run-out: it takes its segment's own days to refill
(the 10th/50th/90th percentiles of ``duration_days`` of its observed refills); an unknown
segment (a drug class or autoship value training never saw) takes the global figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from refill_assets.models.labels import HORIZON_DAYS, SUPPLY, known_lapses, observed_refills
from refill_assets.models.schema import prediction_frame

SEGMENT = ["drug_class", "autoship"]
STATS = ["buffer", "low", "high", "lapse_rate", "days", "days_low", "days_high"]


@dataclass
class HeuristicModel:
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    min_rows: int = 30
    segment: list[str] = field(default_factory=lambda: list(SEGMENT))
    table: pl.DataFrame | None = None
    fallback: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def _table(timing: pl.DataFrame, lapses: pl.DataFrame, by: list[str]) -> pl.DataFrame:
        aggs = [
            _weighted_quantile("lateness", 0.5).alias("buffer"),
            _weighted_quantile("lateness", 0.1).alias("low"),
            _weighted_quantile("lateness", 0.9).alias("high"),
            # for rows of unknown supply: the days to refill themselves
            _weighted_quantile("duration_days", 0.5).alias("days"),
            _weighted_quantile("duration_days", 0.1).alias("days_low"),
            _weighted_quantile("duration_days", 0.9).alias("days_high"),
            pl.len().alias("rows"),
        ]
        rate = [((pl.col("lapse") * pl.col("w")).sum() / pl.col("w").sum()).alias("lapse_rate")]
        if not by:
            return pl.concat([timing.select(aggs), lapses.select(rate)], how="horizontal")
        return (
            timing.group_by(by, maintain_order=True)
            .agg(aggs)
            .join(lapses.group_by(by).agg(rate), on=by, how="left")
        )

    def fit(self, frame: pl.DataFrame) -> HeuristicModel:
        refills, weights = observed_refills(frame)
        timing = refills.select(
            *self.segment,
            lateness=pl.col("duration_days") - pl.col(SUPPLY),
            duration_days="duration_days",
            w=pl.Series(weights),
        )
        known, known_weights = known_lapses(frame)
        lapses = known.select(
            *self.segment, lapse=pl.col("lapse").cast(pl.Float64), w=pl.Series(known_weights)
        )
        table = self._table(timing, lapses, self.segment)
        self.table = table.filter(pl.col("rows") >= self.min_rows).drop("rows").sort(self.segment)
        glob = self._table(timing, lapses, []).row(0, named=True)
        self.fallback = {k: float(glob[k]) for k in STATS}
        return self

    def segment_buffers(self) -> pl.DataFrame:
        """The learnt table: one row per segment with enough data."""
        assert self.table is not None, "fit first"
        return self.table

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        assert self.table is not None, "fit first"
        keys = frame.select(pl.col(c).cast(self.table.schema[c]) for c in self.segment)
        looked = keys.join(self.table, on=self.segment, how="left", maintain_order="left")
        filled = looked.with_columns(pl.col(k).fill_null(v) for k, v in self.fallback.items())
        supply = frame.get_column(SUPPLY).cast(pl.Float64).to_numpy()
        known = np.isfinite(supply)

        def days(stat: str, unknown_supply: str) -> np.ndarray:
            timed = np.where(
                known,
                supply + filled.get_column(stat).to_numpy(),
                filled.get_column(unknown_supply).to_numpy(),
            )
            return np.minimum(timed, HORIZON_DAYS)  # a refill within the horizon, never after

        return prediction_frame(
            days("buffer", "days"),
            days("low", "days_low"),
            days("high", "days_high"),
            filled.get_column("lapse_rate").to_numpy(),
        )


def _weighted_quantile(column: str, q: float) -> pl.Expr:
    """The smallest value whose cumulative weight reaches q of the total (weights: ``w``),
    over the rows where the value is known."""
    known = pl.col(column).is_not_null() & pl.col(column).is_not_nan()
    values, weights = pl.col(column).filter(known), pl.col("w").filter(known)
    order = values.arg_sort()
    cumulative = weights.gather(order).cum_sum()
    return values.gather(order).filter(cumulative >= q * weights.sum()).first()
