"""The baseline: run-out day plus a lateness buffer learnt per segment.

Point = ``days_supply_remaining`` (last fill + effective days' supply − as-of day) + the
median lateness of its drug_class × autoship segment; p10/p90 = the segment's 10th/90th
lateness percentiles; lapse probability = the segment's lapse rate. Segments with fewer than
``min_rows`` examples use the global figures. Lateness is measured on rows with complete
follow-up, with the refill time capped at the horizon (see ``labels.complete_followup``), so
owners who never came back within the horizon push the upper percentiles up instead of being
silently left out. No randomness: always trainable, always deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from refill_assets.models.labels import SUPPLY, complete_followup
from refill_assets.models.schema import prediction_frame

SEGMENT = ["drug_class", "autoship"]
STATS = ["buffer", "low", "high", "lapse_rate"]


@dataclass
class HeuristicModel:
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    min_rows: int = 30
    segment: list[str] = field(default_factory=lambda: list(SEGMENT))
    table: pl.DataFrame | None = None
    fallback: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def _stats(group: pl.DataFrame | pl.LazyFrame, by: list[str]) -> pl.DataFrame:
        lateness = pl.col("capped_days") - pl.col(SUPPLY)
        aggs = [
            lateness.median().alias("buffer"),
            lateness.quantile(0.1, interpolation="linear").alias("low"),
            lateness.quantile(0.9, interpolation="linear").alias("high"),
            pl.col("lapse").cast(pl.Float64).mean().alias("lapse_rate"),
            pl.len().alias("rows"),
        ]
        lazy = group.lazy()
        out = lazy.group_by(by, maintain_order=True).agg(aggs) if by else lazy.select(aggs)
        return out.collect()

    def fit(self, frame: pl.DataFrame) -> HeuristicModel:
        rows = complete_followup(frame)
        # the lapse rate uses every row with a known lapse label, not only complete follow-up
        rates = frame.group_by(self.segment).agg(lapse_rate=pl.col("lapse").cast(pl.Float64).mean())
        table = (
            self._stats(rows, self.segment)
            .drop("lapse_rate")
            .join(rates, on=self.segment, how="left")
        )
        self.table = table.filter(pl.col("rows") >= self.min_rows).drop("rows").sort(self.segment)
        glob = self._stats(rows, []).row(0, named=True)
        glob["lapse_rate"] = frame.get_column("lapse").cast(pl.Float64).mean()
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
        supply = frame.get_column(SUPPLY).to_numpy()
        return prediction_frame(
            supply + filled.get_column("buffer").to_numpy(),
            supply + filled.get_column("low").to_numpy(),
            supply + filled.get_column("high").to_numpy(),
            filled.get_column("lapse_rate").to_numpy(),
        )
