"""shipments events: every mail and e-commerce fill ships from its region's warehouse.

Events of one shipment: ``created`` when the order is filled, ``backordered``
if its NDC is out of stock (it then ships on the restock day), ``shipped``,
then ``delivered`` (or, rarely, ``lost``; a few delivered parcels are
``returned``). Each event row repeats the shipment's fields known so far.
Clinic pick-ups have no shipment.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from refill_simulator.catalog import CARRIERS, WAREHOUSES
from refill_simulator.fills import CANCELED
from refill_simulator.formats import date_text, event_day, ident, text_of, utc_text
from refill_simulator.orders import HOUR
from refill_simulator.population import CHANNELS
from refill_simulator.state import World
from refill_simulator.timeline import SECONDS_PER_DAY

CARRIER_SHARE = (0.45, 0.30, 0.25)
SHIP_DAYS = ((0, 1, 2), (0.3, 0.5, 0.2))  # fill to shipping, when in stock
# to Process.transit_max_days; Process.holiday_transit_extra_days more, and a shift's
TRANSIT_MIN_DAYS = 1
LOST_RATE = 0.006
RETURNED_RATE = 0.004
SHIPPED_AT_MISSING = 0.03  # shipped rows that come without shipped_at
UTC_SHIPPING_HOURS = (14, 24)  # US business hours, in UTC


def _business_day(day: np.ndarray, w: World) -> np.ndarray:
    """Warehouses don't ship at weekends: Saturday and Sunday move to Monday."""
    weekday = w.tl.at(w.tl.weekday, day)
    return day + np.select([weekday == 5, weekday == 6], [2, 1], 0)


def _at(day: np.ndarray, hours, rng, w: World) -> np.ndarray:
    seconds = (HOUR * rng.uniform(hours[0], hours[1], len(day))).astype(np.int64)
    return (w.tl.epoch_day + day) * SECONDS_PER_DAY + np.minimum(seconds, SECONDS_PER_DAY - 1)


def shipment_rows(orders: pl.DataFrame, w: World, rng: np.random.Generator) -> pl.DataFrame:
    """``orders``: the order events of ``orders.order_events``."""
    ships = orders.filter(
        pl.col("status") != CANCELED, pl.col("channel") != CHANNELS.index("clinic")
    )
    n = len(ships)
    day = ships["day"].to_numpy()
    delay = ships["ship_delay"].to_numpy()
    created = ships["final_ts"].to_numpy() + rng.integers(600, 2 * HOUR, n)
    ship_day = np.where(delay > 0, day + delay, day + rng.choice(SHIP_DAYS[0], n, p=SHIP_DAYS[1]))
    ship_day = _business_day(ship_day, w)
    shipped = np.maximum(_at(ship_day, UTC_SHIPPING_HOURS, rng, w), created + HOUR)
    transit = rng.integers(TRANSIT_MIN_DAYS, w.process.transit_max_days + 1, n)
    holiday = w.tl.at(w.tl.holiday_end, ship_day) >= 0
    transit += w.process.holiday_transit_extra_days * holiday
    if w.shift is not None:
        transit += w.shift.extra_transit(ship_day, w.tl)
    delivered = np.maximum(_at(ship_day + transit, UTC_SHIPPING_HOURS, rng, w), shipped + HOUR)
    fate = rng.random(n)
    base = ships.select("order_id").with_columns(
        shipment_id=ident("SH", pl.int_range(pl.len()), 9),
        warehouse=w.customers.warehouse[w.rx.customer[ships["rx"].to_numpy()]],
        carrier=rng.choice(len(CARRIERS), n, p=CARRIER_SHARE),
        promised=_business_day(day + 1, w),
        created=created,
        shipped=shipped,
        delivered=delivered,
        lost=fate < LOST_RATE,
        returned=fate > 1 - RETURNED_RATE,
        returned_ts=delivered + rng.integers(5, 21, n) * SECONDS_PER_DAY,
        missing_shipped_at=rng.random(n) < SHIPPED_AT_MISSING,
        backordered=delay > 0,
        backordered_ts=created + rng.integers(60, HOUR // 2, n),
    )
    events = [
        _event(base, "created", "created", shipped=False, delivered=False),
        _event(base.filter("backordered"), "backordered", "backordered_ts", False, False),
        _event(base, "shipped", "shipped", shipped=True, delivered=False),
        _event(base.filter(~pl.col("lost")), "delivered", "delivered", True, True),
        _event(base.filter("lost"), "lost", pl.col("shipped") + 14 * SECONDS_PER_DAY, True, False),
        _event(base.filter("returned", ~pl.col("lost")), "returned", "returned_ts", True, True),
    ]
    return _shipment_text(pl.concat(events), w)


def _event(base: pl.DataFrame, status: str, ts, shipped: bool, delivered: bool) -> pl.DataFrame:
    ts = pl.col(ts) if isinstance(ts, str) else ts
    shipped_at = pl.col("shipped") if shipped else pl.lit(None, pl.Int64)
    if status == "shipped":
        shipped_at = pl.when(~pl.col("missing_shipped_at")).then(shipped_at)
    return base.select(
        "shipment_id",
        "order_id",
        "warehouse",
        "carrier",
        "promised",
        shipped_at=shipped_at,
        delivered_at=pl.col("delivered") if delivered else pl.lit(None, pl.Int64),
        status=pl.lit(status),
        ts=ts,
    )


def _shipment_text(events: pl.DataFrame, w: World) -> pl.DataFrame:
    return events.select(
        "shipment_id",
        "order_id",
        warehouse_id=text_of(np.array(WAREHOUSES), pl.col("warehouse")),
        carrier=text_of(np.array(CARRIERS), pl.col("carrier")),
        promised_ship_date=date_text(pl.col("promised"), w.tl),
        shipped_at=utc_text(pl.col("shipped_at"), w.tl),
        delivered_at=utc_text(pl.col("delivered_at"), w.tl),
        status="status",
        event_ts=utc_text(pl.col("ts"), w.tl),
        _ts=pl.col("ts"),
        _day=event_day(pl.col("ts"), w.tl),
    ).filter(pl.col("_day") <= w.last_day)
