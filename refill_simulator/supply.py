"""Product supply: manufacturer backorders and the daily inventory snapshot.

A backorder episode takes an NDC out of stock in every warehouse for days to
weeks. A mail or e-commerce order of that NDC is still filled, but its
shipment waits for the restock, so the pet's supply starts late and the next
refill comes late by as much. The inventory snapshot shows the episode
(``backordered`` true, ``on_hand_units`` 0) with an ``expected_restock_date``
that is an estimate: off by a few days early in the episode, exact near its
end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from refill_simulator.catalog import WAREHOUSES, CatalogArrays
from refill_simulator.process import Process
from refill_simulator.timeline import Timeline

# episodes per NDC and day, their least length and the Gamma scale of the
# days beyond it: Process.backorder_*
BACKORDER_GAMMA_SHAPE = 2.0
# the restock estimate is off by N(0, sd) * remaining days / 10
RESTOCK_ESTIMATE_SD = 2.0
STOCK_LEVELS = (40, 2500)  # on-hand units of an NDC in a warehouse, typical range


@dataclass(frozen=True)
class Supply:
    backordered: np.ndarray  # (products, days) over the timeline's span
    restock_day: np.ndarray  # (products, days): the day the episode ends, -1 outside one
    first_day: int

    def ship_delay(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Days an order of ``product`` placed on ``day`` waits for stock."""
        i = np.clip(day - self.first_day, 0, self.backordered.shape[1] - 1)
        return np.where(self.backordered[product, i], self.restock_day[product, i] - day, 0)


def build_supply(n_products: int, tl: Timeline, p: Process, rng: np.random.Generator) -> Supply:
    span = len(tl.month)
    n_episodes = rng.poisson(p.backorder_episodes_per_day * span, n_products)
    product = np.repeat(np.arange(n_products), n_episodes)
    begin = rng.integers(0, span, len(product))
    days_over = rng.gamma(BACKORDER_GAMMA_SHAPE, p.backorder_gamma_scale, len(product))
    length = p.backorder_min_days + np.rint(days_over)
    end = np.minimum(begin + length.astype(np.int64), span)

    # +1 at an episode's start, -1 after its end: a running sum > 0 means out of stock
    delta = np.zeros((n_products, span + 1), dtype=np.int64)
    np.add.at(delta, (product, begin), 1)
    np.add.at(delta, (product, end), -1)
    backordered = np.cumsum(delta, axis=1)[:, :span] > 0
    # restock day = first in-stock day at or after each day, read from the right
    index = np.where(backordered, span, np.arange(span))
    restock = np.minimum.accumulate(index[:, ::-1], axis=1)[:, ::-1] + tl.first_day
    restock = np.where(backordered, restock, -1)
    return Supply(backordered, restock, tl.first_day)


def inventory_rows(
    supply: Supply, cat: CatalogArrays, tl: Timeline, rng: np.random.Generator
) -> pl.DataFrame:
    """The contract's inventory columns, typed for Parquet: one row per day,
    warehouse and NDC; each warehouse's daily snapshot is its own file
    (``_part`` = warehouse)."""
    n_products, n_wh = len(cat.ndc), len(WAREHOUSES)
    level = np.exp(rng.uniform(*np.log(STOCK_LEVELS), (n_products, n_wh)))
    day, wh, product = (
        a.ravel()
        for a in np.meshgrid(
            np.arange(tl.n_days), np.arange(n_wh), np.arange(n_products), indexing="ij"
        )
    )
    i = day - supply.first_day
    out = supply.backordered[product, i]
    restock = supply.restock_day[product, i]
    noise = rng.normal(0.0, RESTOCK_ESTIMATE_SD, len(day)) * (restock - day) / 10
    expected = np.where(out, np.maximum(restock + np.rint(noise), day + 1), -1)
    on_hand = np.where(out, 0, np.rint(level[product, wh] * rng.uniform(0.3, 1.3, len(day))))
    date = pl.col("_day") + tl.epoch_day
    restock = pl.col("_restock") + tl.epoch_day
    frame = pl.DataFrame(
        {"_day": day, "_part": wh, "_product": product, "_restock": expected, "_out": out}
    )
    return frame.select(
        snapshot_date=date.cast(pl.Int32).cast(pl.Date),
        warehouse_id=pl.lit(pl.Series(WAREHOUSES)).gather(pl.col("_part")),
        ndc=pl.lit(pl.Series(cat.ndc)).gather(pl.col("_product")),
        on_hand_units=pl.Series(on_hand.astype(np.int64)),
        backordered=pl.col("_out"),
        expected_restock_date=pl.when(pl.col("_out")).then(restock.cast(pl.Int32).cast(pl.Date)),
        _dt=pl.col("_day"),
        _part=pl.col("_part"),
        _raw=pl.lit(None, pl.String),
    )
