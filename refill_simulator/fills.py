"""The fill loop: every prescription's fills, one fill index at a time.

Fill k+1 of a prescription depends on fill k, so the loop runs over k (a few
dozen steps), each step handling all still-active prescriptions as arrays:
dispense fill k (partial or not, shipment held by a backorder or not), then
draw fill k+1 with ``behaviour.draw_next``. A prescription leaves the loop
when it stops or its next fill falls after the world's last day.

With a ``shift.Shift``, the loop runs a second time after the first: each
prescription with a fill on or after the shift's start goes on from its
first such fill under the shifted process, and replaces what the first run
drew from there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from refill_simulator.behaviour import (
    CANCELED_LEFT,
    CONTINUES,
    REAUTH_APPROVED,
    REAUTH_NONE,
    FillState,
    draw_next,
)
from refill_simulator.catalog import (
    CatalogArrays,
    Clinics,
    days_supply,
    quantity_for,
    units_per_day,
)
from refill_simulator.population import CHANNELS, Customers, Pets
from refill_simulator.prescriptions import REFILLS_BY_PACK, Prescriptions
from refill_simulator.process import Process
from refill_simulator.shift import Shift
from refill_simulator.supply import Supply
from refill_simulator.timeline import Timeline

PARTIAL_FRACTION = (0.3, 0.7)
CHANNEL_SWITCH = 0.05  # an order placed through another channel than usual
CLINIC = CHANNELS.index("clinic")
# status codes of an order's final version
FILLED, PARTIAL, CANCELED = 0, 1, 2
STATE_COLUMNS = tuple(f.name for f in fields(FillState))
# a fill log row but for what its draw decides (next_day, stop_reason)
DISPENSED_COLUMNS = (
    "rx", "k", *STATE_COLUMNS, "status", "qty_prescribed", "qty_dispensed", "channel",
)  # fmt: skip


@dataclass(frozen=True)
class FillLog:
    fills: pl.DataFrame  # one row per fill, with the FillState it was drawn from
    cancels: pl.DataFrame  # orders placed and canceled; fill_day: of the fill deciding it
    reauths: pl.DataFrame  # reauthorization requests and their answers; fill_day: the same


def _granted(pack_days: np.ndarray, rng) -> np.ndarray:
    granted = np.zeros(len(pack_days), dtype=np.int64)
    for days, options in REFILLS_BY_PACK.items():
        mask = pack_days == days
        granted[mask] = rng.choice(np.maximum(options, 1), int(mask.sum()))
    return granted


def _dispense(rx: Prescriptions, idx, dose, cat, p: Process, rng):
    """Quantities of this fill: partial fills get a share of the prescribed quantity."""
    num, den = units_per_day(cat, rx.product[idx], dose, rx.style[idx])
    qty_prescribed = quantity_for(rx.pack_days[idx], num, den)
    n = len(idx)
    partial = (rng.random(n) < p.partial_prob) & (qty_prescribed >= 2)
    share = rng.uniform(*PARTIAL_FRACTION, n)
    qty = np.where(partial, np.maximum(1, np.floor(qty_prescribed * share)), qty_prescribed)
    qty = qty.astype(np.int64)
    return partial, qty_prescribed, qty, days_supply(qty, num, den)


def _channel(rx: Prescriptions, idx, rng) -> np.ndarray:
    n = len(idx)
    switch = (rng.random(n) < CHANNEL_SWITCH) & ~rx.autoship[idx]
    return np.where(switch, rng.integers(0, len(CHANNELS), n), rx.channel[idx])


@dataclass(frozen=True)
class _Pharmacy:
    """What the fill loop reads and never changes."""

    rx: Prescriptions
    pets: Pets
    customers: Customers
    clinics: Clinics
    cat: CatalogArrays
    supply: Supply
    tl: Timeline
    p: Process


@dataclass(frozen=True)
class _Due:
    """The next fill of each prescription still going, not yet dispensed."""

    rx: np.ndarray
    k: np.ndarray  # the fill's index in its prescription
    day: np.ndarray
    refills: np.ndarray  # refills remaining after this fill
    dose: np.ndarray


def _dispense_due(ph: _Pharmacy, due: _Due, rng) -> dict[str, np.ndarray]:
    """Dispense the fills due: DISPENSED_COLUMNS, the fill log's but what comes next."""
    idx = due.rx
    partial, qty_prescribed, qty, supply_days = _dispense(ph.rx, idx, due.dose, ph.cat, ph.p, rng)
    channel = _channel(ph.rx, idx, rng)
    pet, clinic, product = ph.rx.pet[idx], ph.rx.clinic[idx], ph.rx.product[idx]
    ship_delay = np.where(channel == CLINIC, 0, ph.supply.ship_delay(product, due.day))
    state = FillState(
        day=due.day,
        days_supply=supply_days,
        product=product,
        dose=due.dose,
        style=ph.rx.style[idx],
        profile=ph.pets.profile[pet],
        engagement=ph.customers.engagement[ph.rx.customer[idx]],
        autoship=ph.rx.autoship[idx],
        refills_remaining=due.refills,
        reauth_median=ph.clinics.reauth_median_days[clinic],
        deny_rate=ph.clinics.deny_rate[clinic],
        ship_delay=ship_delay,
        churn_hazard=ph.pets.churn_hazard[pet],
    )
    return {
        "rx": idx,
        "k": due.k,
        **{c: getattr(state, c) for c in STATE_COLUMNS},
        "status": np.where(partial, PARTIAL, FILLED),
        "qty_prescribed": qty_prescribed,
        "qty_dispensed": qty,
        "channel": channel,
    }


def _decide(ph: _Pharmacy, fill: dict[str, np.ndarray], rng, shift: Shift | None):
    """Draw what follows each dispensed fill: its rows of the three logs, and the fills due next.

    The cancels and reauths rows carry ``fill_day``, the day of the fill
    that decided them (``_shifted`` keeps those decided before the shift).
    """
    state = FillState(**{c: fill[c] for c in STATE_COLUMNS})
    idx, channel, refills = fill["rx"], fill["channel"], state.refills_remaining
    churn_day = ph.pets.churn_day[ph.rx.pet[idx]]
    nxt = draw_next(state, ph.cat, ph.tl, ph.p, rng, churn_day=churn_day, shift=shift)
    next_day, reason, next_dose = state.day + nxt.gap[0], nxt.reason[0], nxt.dose[0]
    continues = reason == CONTINUES
    fills = pl.DataFrame(
        {**fill, "next_day": np.where(continues, next_day, -1), "stop_reason": reason}
    )
    cancel = (nxt.cancel_day[0] >= 0) & (continues | (reason == CANCELED_LEFT))
    cancels = pl.DataFrame(
        {
            "rx": idx[cancel],
            "day": nxt.cancel_day[0][cancel],
            "dose": next_dose[cancel],
            "refills_remaining": refills[cancel],
            "channel": channel[cancel],
            "fill_day": state.day[cancel],
        }
    )
    status = nxt.reauth_status[0]
    asked = status != REAUTH_NONE
    approved = status == REAUTH_APPROVED
    granted = np.where(approved, _granted(ph.rx.pack_days[idx], rng), 0)
    reauths = pl.DataFrame(
        {
            "rx": idx[asked],
            "day": nxt.reauth_day[0][asked],
            "delay": nxt.reauth_delay[0][asked].astype(np.float64),
            "status": status[asked],
            "granted": granted[asked],
            "fill_day": state.day[asked],
        }
    )
    keep = continues & (next_day <= ph.tl.n_days - 1)
    due = _Due(
        rx=idx[keep],
        k=fill["k"][keep] + 1,
        day=next_day[keep],
        refills=np.where(approved, granted, refills - 1)[keep],
        dose=next_dose[keep],
    )
    return fills, cancels, reauths, due


def _loop(ph: _Pharmacy, fill: dict[str, np.ndarray], rng, shift: Shift | None) -> FillLog:
    """From the dispensed ``fill``, every fill until each prescription stops or passes the end."""
    fills, cancels, reauths = [], [], []
    while len(fill["rx"]):
        rows, canceled, asked, due = _decide(ph, fill, rng, shift)
        fills.append(rows)
        cancels.append(canceled)
        reauths.append(asked)
        fill = _dispense_due(ph, due, rng)
    return FillLog(pl.concat(fills), pl.concat(cancels), pl.concat(reauths))


def _shifted(ph: _Pharmacy, log: FillLog, shift: Shift, rng) -> FillLog:
    """``log`` under ``shift``: each prescription goes on from its first fill on or after the
    shift's start, dispensed as it was, under the shifted process.

    The fills before the start and everything decided at them stay as they
    were, so the world before the start is the unshifted world's.
    """
    first = shift.first_day(ph.tl)
    after = log.fills.filter(pl.col("day") >= first)
    if after.is_empty():
        return log
    restart = after.filter(pl.col("k") == pl.col("k").min().over("rx"))
    new = _loop(ph, {c: restart[c].to_numpy() for c in DISPENSED_COLUMNS}, rng, shift)
    before = pl.col("fill_day") < first
    return FillLog(
        pl.concat([log.fills.filter(pl.col("day") < first), new.fills]),
        pl.concat([log.cancels.filter(before), new.cancels]),
        pl.concat([log.reauths.filter(before), new.reauths]),
    )


def run_fills(
    rx: Prescriptions,
    pets: Pets,
    customers: Customers,
    clinics: Clinics,
    cat: CatalogArrays,
    supply: Supply,
    tl: Timeline,
    p: Process,
    rng: np.random.Generator,
    shift: Shift | None = None,
) -> FillLog:
    """Every fill of the world; with ``shift``, from its start under the shifted process.

    The shifted part draws from ``rng`` after the whole unshifted world, so
    that the unshifted world draws exactly as without a shift.
    """
    ph = _Pharmacy(rx, pets, customers, clinics, cat, supply, tl, p)
    last = tl.n_days - 1
    # a prescription written for a pet already gone is never filled
    idx = np.flatnonzero((rx.first_day <= last) & (rx.first_day < pets.churn_day[rx.pet]))
    first = _Due(
        rx=idx,
        k=np.zeros(len(idx), dtype=np.int64),
        day=rx.first_day[idx],
        refills=rx.first_refills_remaining[idx],
        dose=rx.dose[idx],
    )
    log = _loop(ph, _dispense_due(ph, first, rng), rng, None)
    return log if shift is None else _shifted(ph, log, shift, rng)
