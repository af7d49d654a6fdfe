"""rx_orders and vet_reauth rows, built from the fill log.

An order is written twice: first ``pending`` (the planned quantity) when it
is placed, then ``filled``/``partial``/``canceled`` a few hours to a day and
a half later, each version with its own ``updated_at``. Owners order during
the day, store-local time; the auto-ship batch runs at night.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from refill_simulator.behaviour import (
    REAUTH_APPROVED,
    REAUTH_DENIED,
    REAUTH_EXPIRED,
)
from refill_simulator.catalog import days_supply, quantity_for
from refill_simulator.fills import CANCELED, FILLED, PARTIAL
from refill_simulator.formats import (
    bool_text,
    date_text,
    event_day,
    ident,
    local_text,
    offset_minutes,
    text_of,
    utc_seconds,
    utc_text,
)
from refill_simulator.population import CHANNELS
from refill_simulator.state import World
from refill_simulator.timeline import SECONDS_PER_DAY

HOUR = 3600
ORDER_HOURS = (7, 21)
AUTOSHIP_HOURS = (2, 4)
PENDING_TO_FINAL_HOURS = (4, 36)
PENDING_TO_CANCELED_HOURS = (1, 48)
REQUEST_HOURS = (8, 18)  # reauthorization requests go out in business hours
AUTHORIZATION_DAYS = 365  # an approval is good for a year
STATUS_TEXT = {FILLED: "filled", PARTIAL: "partial", CANCELED: "canceled"}
ORDER_COLUMNS = (
    "rx", "k", "day", "dose", "status", "qty_prescribed", "qty_dispensed",
    "days_supply", "refills_remaining", "channel", "autoship", "ship_delay",
)  # fmt: skip


def _canceled_orders(w: World) -> pl.DataFrame:
    c = w.log.cancels.filter(pl.col("day").is_between(0, w.last_day))
    rx = c["rx"].to_numpy()
    flat = w.cat.sig_index[w.rx.product[rx], c["dose"].to_numpy(), w.rx.style[rx]]
    qty = quantity_for(w.rx.pack_days[rx], w.cat.upd_num[flat], w.cat.upd_den[flat])
    return c.with_columns(
        k=pl.lit(-1, pl.Int64),
        status=pl.lit(CANCELED, pl.Int64),
        qty_prescribed=qty,
        qty_dispensed=pl.lit(0, pl.Int64),
        days_supply=pl.lit(0, pl.Int64),
        autoship=w.rx.autoship[rx],
        ship_delay=pl.lit(0, pl.Int64),
    )


def order_events(w: World, rng: np.random.Generator) -> pl.DataFrame:
    """Every order placed in the window, with its id and times (seconds, UTC).

    ``fill`` is the row of the fill in ``w.log.fills`` (null for a canceled order).
    """
    fills = w.log.fills.with_row_index("fill").filter(pl.col("day").is_between(0, w.last_day))
    cancels = _canceled_orders(w).with_columns(fill=pl.lit(None, pl.UInt32))
    orders = pl.concat(
        [fills.select("fill", *ORDER_COLUMNS), cancels.select("fill", *ORDER_COLUMNS)],
        how="vertical_relaxed",
    )
    n = len(orders)
    rx = orders["rx"].to_numpy()
    day = orders["day"].to_numpy()
    autoship = orders["autoship"].to_numpy()
    hours = np.where(autoship[:, None], AUTOSHIP_HOURS, ORDER_HOURS)
    local = (hours[:, 0] * HOUR + rng.random(n) * (hours[:, 1] - hours[:, 0]) * HOUR).astype(
        np.int64
    )
    zone = w.customers.zone[w.rx.customer[rx]]
    offset = offset_minutes(w.offsets, w.tl, zone, day)
    placed = utc_seconds(w.tl, day, local, offset)
    canceled = orders["status"].to_numpy() == CANCELED
    lo, hi = np.where(canceled[:, None], PENDING_TO_CANCELED_HOURS, PENDING_TO_FINAL_HOURS).T
    final = placed + (HOUR * rng.uniform(lo, hi)).astype(np.int64)
    pending = placed + rng.integers(5, 300, n)
    return (
        orders.with_columns(
            placed=placed, pending_ts=pending, final_ts=final, offset=offset, zone=zone
        )
        .sort("placed", "rx", maintain_order=True)
        .with_columns(order_id=ident("ORD", pl.int_range(pl.len()), 9))
    )


def _order_text(orders: pl.DataFrame, w: World, version: str) -> pl.DataFrame:
    """The contract row of each order in its ``pending`` or final version."""
    rx = orders["rx"].to_numpy()
    product = w.rx.product[rx]
    flat = w.cat.sig_index[product, orders["dose"].to_numpy(), w.rx.style[rx]]
    planned = days_supply(
        orders["qty_prescribed"].to_numpy(), w.cat.upd_num[flat], w.cat.upd_den[flat]
    )
    is_pending = version == "pending"
    ts = pl.col("pending_ts" if is_pending else "final_ts")
    frame = orders.with_columns(
        _product=product,
        _sig=flat,
        _customer=w.rx.customer[rx],
        _pet=w.rx.pet[rx],
        _clinic=w.rx.clinic[rx],
        _refills_authorized=w.rx.refills_authorized[rx],
        _planned=planned,
    )
    status = pl.col("status").replace_strict(STATUS_TEXT, return_dtype=pl.String)
    return frame.select(
        order_id=pl.col("order_id"),
        rx_id=ident("RX", pl.col("rx"), 8),
        customer_id=ident("C", pl.col("_customer"), 7),
        pet_id=ident("P", pl.col("_pet"), 7),
        clinic_id=text_of(w.clinics.ids, pl.col("_clinic")),
        ndc=text_of(w.cat.ndc, pl.col("_product")),
        drug_name=text_of(w.cat.name, pl.col("_product")),
        drug_class=text_of(w.cat.drug_class, pl.col("_product")),
        is_maintenance=bool_text(pl.lit(pl.Series(w.cat.maintenance)).gather(pl.col("_product"))),
        sig=text_of(w.cat.sig, pl.col("_sig")),
        qty_prescribed=pl.col("qty_prescribed").cast(pl.String),
        qty_dispensed=(pl.col("qty_prescribed") if is_pending else pl.col("qty_dispensed")).cast(
            pl.String
        ),
        days_supply=(pl.col("_planned") if is_pending else pl.col("days_supply")).cast(pl.String),
        refills_authorized=pl.col("_refills_authorized").cast(pl.String),
        refills_remaining=pl.col("refills_remaining").cast(pl.String),
        channel=text_of(np.array(CHANNELS), pl.col("channel")),
        autoship=bool_text(pl.col("autoship")),
        status=pl.lit("pending") if is_pending else status,
        order_ts=local_text(pl.col("placed"), pl.col("offset"), w.tl),
        updated_at=utc_text(ts, w.tl),
        _ts=ts,
        _day=event_day(ts, w.tl),
    )


def rx_order_rows(orders: pl.DataFrame, w: World) -> pl.DataFrame:
    rows = pl.concat([_order_text(orders, w, "pending"), _order_text(orders, w, "final")])
    return rows.filter(pl.col("_day") <= w.last_day)


def vet_reauth_rows(w: World, rng: np.random.Generator) -> pl.DataFrame:
    """A request row when a reauthorization is asked for, and an answer row."""
    r = w.log.reauths.filter(pl.col("day").is_between(0, w.last_day))
    n = len(r)
    rx = r["rx"].to_numpy()
    day = r["day"].to_numpy()
    delay = r["delay"].to_numpy()
    zone = w.customers.zone[w.rx.customer[rx]]
    asked_local = (REQUEST_HOURS[0] + rng.random(n) * np.subtract(*REQUEST_HOURS[::-1])) * HOUR
    asked_local = asked_local.astype(np.int64)
    asked = utc_seconds(w.tl, day, asked_local, offset_minutes(w.offsets, w.tl, zone, day))
    # the answer comes floor(delay) days later, so always before the fill it releases
    answer_day = day + np.floor(delay).astype(np.int64)
    frac = delay - np.floor(delay)
    answer_local = np.where(
        answer_day == day,
        asked_local + frac * (21 * HOUR - asked_local),
        (8 + 10 * frac) * HOUR,
    ).astype(np.int64)
    answered = utc_seconds(
        w.tl, answer_day, answer_local, offset_minutes(w.offsets, w.tl, zone, answer_day)
    )
    status = r["status"].to_numpy()
    expired = status == REAUTH_EXPIRED
    answer_ts = np.where(expired, asked + w.process.reauth_expiry_days * SECONDS_PER_DAY, answered)
    frame = (
        r.with_columns(
            asked=asked,
            answer_ts=answer_ts,
            answer_day=answer_day,
            zone=zone,
            clinic=w.rx.clinic[rx],
            ask_offset=offset_minutes(w.offsets, w.tl, zone, day),
            answer_offset=offset_minutes(w.offsets, w.tl, zone, answer_day),
        )
        .sort("asked", "rx", maintain_order=True)
        .with_columns(reauth_id=ident("RA", pl.int_range(pl.len()), 8))
    )
    status_text = {
        REAUTH_APPROVED: "approved",
        REAUTH_DENIED: "denied",
        REAUTH_EXPIRED: "expired",
    }
    common = dict(
        reauth_id=pl.col("reauth_id"),
        rx_id=ident("RX", pl.col("rx"), 8),
        clinic_id=text_of(w.clinics.ids, pl.col("clinic")),
        requested_at=local_text(pl.col("asked"), pl.col("ask_offset"), w.tl),
    )
    approved = pl.col("status") == REAUTH_APPROVED
    request = frame.select(
        **common,
        responded_at=pl.lit(None, pl.String),
        status=pl.lit("pending"),
        refills_granted=pl.lit(None, pl.String),
        expires_on=pl.lit(None, pl.String),
        updated_at=utc_text(pl.col("asked"), w.tl),
        _ts=pl.col("asked"),
    )
    answer = frame.select(
        **common,
        responded_at=pl.when(pl.col("status") != REAUTH_EXPIRED).then(
            local_text(pl.col("answer_ts"), pl.col("answer_offset"), w.tl)
        ),
        status=pl.col("status").replace_strict(status_text, return_dtype=pl.String),
        refills_granted=pl.when(approved).then(pl.col("granted").cast(pl.String)),
        expires_on=pl.when(approved).then(
            date_text(pl.col("answer_day") + AUTHORIZATION_DAYS, w.tl)
        ),
        updated_at=utc_text(pl.col("answer_ts"), w.tl),
        _ts=pl.col("answer_ts"),
    )
    rows = pl.concat([request, answer]).with_columns(_day=event_day(pl.col("_ts"), w.tl))
    return rows.filter(pl.col("_day") <= w.last_day)
