"""The fill loop: every prescription's fills, one fill index at a time.

Fill k+1 of a prescription depends on fill k, so the loop runs over k (a few
dozen steps), each step handling all still-active prescriptions as arrays:
dispense fill k (partial or not, shipment held by a backorder or not), then
draw fill k+1 with ``behaviour.draw_next``. A prescription leaves the loop
when it stops or its next fill falls after the world's last day.
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
from refill_simulator.supply import Supply
from refill_simulator.timeline import Timeline

PARTIAL_FRACTION = (0.3, 0.7)
CHANNEL_SWITCH = 0.05  # an order placed through another channel than usual
CLINIC = CHANNELS.index("clinic")
# status codes of an order's final version
FILLED, PARTIAL, CANCELED = 0, 1, 2
STATE_COLUMNS = tuple(f.name for f in fields(FillState))


@dataclass(frozen=True)
class FillLog:
    fills: pl.DataFrame  # one row per fill, with the FillState it was drawn from
    cancels: pl.DataFrame  # orders placed and canceled
    reauths: pl.DataFrame  # reauthorization requests and their answers


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
) -> FillLog:
    last = tl.n_days - 1
    # a prescription written for a pet already gone is never filled
    idx = np.flatnonzero((rx.first_day <= last) & (rx.first_day < pets.churn_day[rx.pet]))
    day = rx.first_day[idx]
    refills = rx.first_refills_remaining[idx]
    dose = rx.dose[idx]
    fills, cancels, reauths = [], [], []
    k = 0
    while idx.size:
        partial, qty_prescribed, qty, supply_days = _dispense(rx, idx, dose, cat, p, rng)
        channel = _channel(rx, idx, rng)
        pet, clinic, product = rx.pet[idx], rx.clinic[idx], rx.product[idx]
        ship_delay = np.where(channel == CLINIC, 0, supply.ship_delay(product, day))
        state = FillState(
            day=day,
            days_supply=supply_days,
            product=product,
            dose=dose,
            style=rx.style[idx],
            profile=pets.profile[pet],
            engagement=customers.engagement[rx.customer[idx]],
            autoship=rx.autoship[idx],
            refills_remaining=refills,
            reauth_median=clinics.reauth_median_days[clinic],
            deny_rate=clinics.deny_rate[clinic],
            ship_delay=ship_delay,
            churn_hazard=pets.churn_hazard[pet],
        )
        nxt = draw_next(state, cat, tl, p, rng, churn_day=pets.churn_day[pet])
        next_day, reason, next_dose = day + nxt.gap[0], nxt.reason[0], nxt.dose[0]
        continues = reason == CONTINUES
        fills.append(
            pl.DataFrame(
                {
                    "rx": idx,
                    "k": np.full(len(idx), k),
                    **{c: getattr(state, c) for c in STATE_COLUMNS},
                    "status": np.where(partial, PARTIAL, FILLED),
                    "qty_prescribed": qty_prescribed,
                    "qty_dispensed": qty,
                    "channel": channel,
                    "next_day": np.where(continues, next_day, -1),
                    "stop_reason": reason,
                }
            )
        )
        cancel = (nxt.cancel_day[0] >= 0) & (continues | (reason == CANCELED_LEFT))
        cancels.append(
            pl.DataFrame(
                {
                    "rx": idx[cancel],
                    "day": nxt.cancel_day[0][cancel],
                    "dose": next_dose[cancel],
                    "refills_remaining": refills[cancel],
                    "channel": channel[cancel],
                }
            )
        )
        status = nxt.reauth_status[0]
        asked = status != REAUTH_NONE
        approved = status == REAUTH_APPROVED
        granted = np.where(approved, _granted(rx.pack_days[idx], rng), 0)
        reauths.append(
            pl.DataFrame(
                {
                    "rx": idx[asked],
                    "day": nxt.reauth_day[0][asked],
                    "delay": nxt.reauth_delay[0][asked].astype(np.float64),
                    "status": status[asked],
                    "granted": granted[asked],
                }
            )
        )
        keep = continues & (next_day <= last)
        refills = np.where(approved, granted, refills - 1)[keep]
        idx, day, dose = idx[keep], next_day[keep], next_dose[keep]
        k += 1
    return FillLog(pl.concat(fills), pl.concat(cancels), pl.concat(reauths))
