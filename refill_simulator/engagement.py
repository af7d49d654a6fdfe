"""engagement events: the pharmacy's own marketing messages and what owners do with them.

Opted-in customers get a refill reminder a few days before each maintenance
fill runs out (unless they already refilled) and, by e-mail, a monthly
newsletter. Each message is ``sent`` and then ``delivered`` or ``bounce``d;
owners ``open`` and ``click`` at rates set by their (latent) engagement
level, which also makes them more punctual refillers: that is the
correlation the events carry. An ``unsubscribe`` ends all messages to the
customer and sends a customers row with ``marketing_opt_in`` false.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from refill_simulator.formats import event_day, ident, utc_text
from refill_simulator.orders import HOUR
from refill_simulator.state import World
from refill_simulator.timeline import SECONDS_PER_DAY

NEWSLETTER_DAY_OF_MONTH = 10
SEND_HOURS_UTC = (13, 17)
# the reminders' lead and the open and click rates are the Process's
# by engagement level (low, medium, high)
UNSUBSCRIBE_RATE = np.array([0.004, 0.0015, 0.0005])  # per delivered message
SMS_BOUNCE_RATE = 0.005
OPEN_DELAY_HOURS = 5.0  # mean, exponential


def _reminders(w: World) -> pl.DataFrame:
    f = w.log.fills.filter(pl.col("day").is_between(0, w.last_day))
    customer = w.rx.customer[f["rx"].to_numpy()]
    remind = f["day"].to_numpy() + f["days_supply"].to_numpy() - w.process.reminder_lead_days
    next_day = f["next_day"].to_numpy()
    keep = w.cat.maintenance[f["product"].to_numpy()] & w.customers.opt_in[customer]
    keep &= (remind >= 0) & (remind <= w.last_day) & (remind < w.customers.leave_day[customer])
    keep &= (next_day < 0) | (remind < next_day)
    return pl.DataFrame(
        {"customer": customer[keep], "day": remind[keep], "kind": np.zeros(keep.sum(), np.int8)}
    )


def _newsletters(w: World) -> pl.DataFrame:
    c = w.customers
    months = np.arange(
        np.datetime64(w.tl.start, "M"), np.datetime64(w.tl.end, "M") + 1
    ) + np.timedelta64(NEWSLETTER_DAY_OF_MONTH - 1, "D")
    days = (months.astype("datetime64[D]") - np.datetime64(w.tl.start, "D")).astype(np.int64)
    days = days[(days >= 0) & (days <= w.last_day)]
    reach = np.flatnonzero(c.opt_in & ~c.sms)
    customer = np.repeat(reach, len(days))
    day = np.tile(days, len(reach))
    keep = (c.created_day[customer] <= day) & (c.leave_day[customer] > day)
    return pl.DataFrame(
        {"customer": customer[keep], "day": day[keep], "kind": np.ones(keep.sum(), np.int8)}
    )


def engagement_rows(w: World, rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events, and each unsubscribing customer's opt-out time (customer, ts)."""
    messages = pl.concat([_reminders(w), _newsletters(w)]).sort("day", "customer", "kind")
    c = w.customers
    customer = messages["customer"].to_numpy()
    n = len(customer)
    sms = c.sms[customer]
    level = c.engagement[customer]
    sent = (w.tl.epoch_day + messages["day"].to_numpy()) * SECONDS_PER_DAY
    sent += (HOUR * rng.uniform(*SEND_HOURS_UTC, n)).astype(np.int64)
    bounce = np.where(sms, rng.random(n) < SMS_BOUNCE_RATE, c.bad_email[customer])
    delivered = sent + rng.integers(2, 600, n)
    opened = ~bounce & (rng.random(n) < np.array(w.process.open_rate)[level])
    open_ts = delivered + (HOUR * rng.exponential(OPEN_DELAY_HOURS, n)).astype(np.int64)
    clicked = opened & (rng.random(n) < np.array(w.process.click_rate)[level])
    click_ts = open_ts + rng.integers(10, 1800, n)
    unsubscribes = ~bounce & (rng.random(n) < UNSUBSCRIBE_RATE[level])
    unsubscribe_ts = np.where(opened, open_ts, delivered) + rng.integers(30, HOUR, n)

    # nothing reaches a customer after the first unsubscribe
    first_out = np.full(len(c), np.iinfo(np.int64).max)
    np.minimum.at(first_out, customer[unsubscribes], unsubscribe_ts[unsubscribes])
    live = sent < first_out[customer]
    unsubscribes &= unsubscribe_ts == first_out[customer]

    frame = messages.with_columns(
        sms=sms, sent=sent, delivered=delivered, open_ts=open_ts, click_ts=click_ts,
        unsubscribe_ts=unsubscribe_ts,
    )  # fmt: skip
    events = pl.concat(
        [
            _events(frame, live, "sent", "sent"),
            _events(frame, live & bounce, "bounce", "delivered"),
            _events(frame, live & ~bounce, "delivered", "delivered"),
            _events(frame, live & opened, "open", "open_ts"),
            _events(frame, live & clicked, "click", "click_ts"),
            _events(frame, live & unsubscribes, "unsubscribe", "unsubscribe_ts"),
        ]
    ).sort("ts", "customer", maintain_order=True)
    opt_outs = pl.DataFrame(
        {"customer": customer[live & unsubscribes], "ts": unsubscribe_ts[live & unsubscribes]}
    ).filter(event_day(pl.col("ts"), w.tl) <= w.last_day)
    return _engagement_text(events, w), opt_outs


def _events(frame: pl.DataFrame, mask: np.ndarray, event_type: str, ts: str) -> pl.DataFrame:
    return frame.filter(pl.Series(mask)).select(
        "customer", "sms", "kind", "day", event_type=pl.lit(event_type), ts=pl.col(ts)
    )


def _engagement_text(events: pl.DataFrame, w: World) -> pl.DataFrame:
    month = (pl.col("day") + w.tl.epoch_day).cast(pl.Int32).cast(pl.Date).dt.strftime("%Y%m")
    campaign = (
        pl.when(pl.col("kind") == 0).then(pl.lit("CMP-REFILL-")).otherwise(pl.lit("CMP-NEWS-"))
    )
    return events.select(
        event_id=ident("EV", pl.int_range(pl.len()), 10),
        customer_id=ident("C", pl.col("customer"), 7),
        channel=pl.when("sms").then(pl.lit("sms")).otherwise(pl.lit("email")),
        event_type="event_type",
        campaign_id=campaign + month,
        event_ts=utc_text(pl.col("ts"), w.tl),
        _ts=pl.col("ts"),
        _day=event_day(pl.col("ts"), w.tl),
    ).filter(pl.col("_day") <= w.last_day)
