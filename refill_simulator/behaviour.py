"""The generative step: given a fill, when (and whether) the next fill comes.

``draw_next`` is the one place where refill behaviour is decided. The fill
loop calls it with one draw per prescription to build the world; the ground
truth calls it with many draws per fill, conditional on the same state, to
get the true distribution of the next fill. Both therefore describe exactly
the same process. The package docstring explains each effect; the numbers
live in the ``process.Process`` handed in (the family of worlds varies them),
but for the few fixed ones below.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from refill_simulator.catalog import CatalogArrays, units_per_day
from refill_simulator.process import Process
from refill_simulator.shift import Shift
from refill_simulator.timeline import Timeline

PROFILES = ("punctual", "early", "late", "erratic", "lapsing")
ENGAGEMENT_LEVELS = ("low", "medium", "high")
EARLIEST_REFILL = 0.75  # pharmacies refill from 75% consumption, never earlier

# why a prescription has no next fill
CONTINUES, COURSE_COMPLETE, OWNER_STOPPED, SEASONAL_STOP = 0, 1, 2, 3
CANCELED_LEFT, CHURNED, DENIED, EXPIRED = 4, 5, 6, 7
STOP_REASONS = (
    "continues", "course_complete", "owner_stopped", "seasonal_stop",
    "canceled_left", "churned", "reauth_denied", "reauth_expired",
)  # fmt: skip
# the reauthorization asked for before the next fill, if any
REAUTH_NONE, REAUTH_APPROVED, REAUTH_DENIED, REAUTH_EXPIRED = 0, 1, 2, 3


@dataclass(frozen=True)
class FillState:
    """What the process knows at a fill, one element per fill."""

    day: np.ndarray  # fill day
    days_supply: np.ndarray
    product: np.ndarray
    dose: np.ndarray
    style: np.ndarray  # sig style
    profile: np.ndarray
    engagement: np.ndarray
    autoship: np.ndarray
    refills_remaining: np.ndarray  # after this fill
    reauth_median: np.ndarray  # of the prescribing clinic
    deny_rate: np.ndarray
    ship_delay: np.ndarray  # days the backorder holds this fill's shipment
    churn_hazard: np.ndarray  # per day: pet dies or moves, or the owner leaves

    def take(self, index: np.ndarray | slice) -> FillState:
        return FillState(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass(frozen=True)
class NextFill:
    """Draws of the next fill; arrays shaped (draws, fills).

    The last four are None when drawn without ``detail``.
    """

    gap: np.ndarray  # days from this fill; meaningless where ``reason`` is not CONTINUES
    reason: np.ndarray
    dose: np.ndarray
    cancel_day: np.ndarray | None  # a canceled order placed before the fill, or -1
    reauth_day: np.ndarray | None  # reauthorization requested on, or -1
    reauth_delay: np.ndarray | None  # days until the clinic answered
    reauth_status: np.ndarray | None  # REAUTH_NONE / _APPROVED / _DENIED / _EXPIRED


def _uniform(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.random(shape, dtype=np.float32)


def _ratio(s: FillState, winter: np.ndarray, p: Process, rng, shape) -> np.ndarray:
    """Days to the next order in units of days' supply, before any outside delay."""
    log_median = np.log(np.array(p.ratio_median)[s.profile])
    log_median = log_median * np.array(p.engagement_log_scale)[s.engagement]
    log_median = np.where(
        s.autoship, np.log(p.autoship_median), log_median + winter * p.winter_log_shift
    ).astype(np.float32)
    sigma = np.where(s.autoship, p.autoship_sigma, np.array(p.ratio_sigma)[s.profile])
    sigma = sigma.astype(np.float32)
    ratio = np.exp(log_median + sigma * rng.standard_normal(shape, dtype=np.float32))
    forget = np.array(p.forget_prob)[s.profile]
    forget = forget * np.array(p.engagement_forget_factor)[s.engagement]
    forget = np.where(winter, forget * p.winter_forget_factor, forget)
    forget = np.where(s.autoship, p.autoship_forget_prob, forget).astype(np.float32)
    forgot = _uniform(rng, shape) < forget
    extra = rng.standard_exponential(int(forgot.sum()), dtype=np.float32)
    ratio[forgot] += p.forget_base + p.forget_mean * extra
    return np.maximum(ratio, np.float32(EARLIEST_REFILL))


def _supply_after_dose_change(s: FillState, cat: CatalogArrays, p: Process, rng, shape):
    """A vet visit between fills may move the dose one option up or down.

    Returns the next fill's dose and the days the supply on hand lasts: a
    higher dose uses it up sooner.
    """
    u = _uniform(rng, shape)
    n_doses = cat.n_doses[s.product]
    changed = (u < p.dose_change_prob) & (n_doses > 1)
    dose = np.broadcast_to(s.dose, shape).copy()
    supply = np.broadcast_to(s.days_supply.astype(np.float32), shape).copy()
    d, i = np.nonzero(changed)
    step = np.where(u[d, i] < p.dose_change_prob / 2, -1, 1)
    dose[d, i] = np.clip(s.dose[i] + step, 0, n_doses[i] - 1)
    num0, den0 = units_per_day(cat, s.product[i], s.dose[i], s.style[i])
    num1, den1 = units_per_day(cat, s.product[i], dose[d, i], s.style[i])
    supply[d, i] *= (num0 * den1) / (den0 * num1)
    return dose, supply


def _lookup(table: np.ndarray, s: FillState, tl: Timeline, after: np.ndarray) -> np.ndarray:
    """``table`` on the day ``after`` (float days, any shape) days after each fill."""
    base = (s.day - tl.first_day).astype(np.float32) + np.float32(0.5)
    return table[np.minimum((after + base).astype(np.int32), len(table) - 1)]


def _seasonal_pause(s, seasonal, wait, reason, tl: Timeline, p: Process, rng) -> None:
    """A seasonal product filled in autumn may be paused: resumed in spring, or stopped."""
    cols = np.flatnonzero(seasonal & np.isin(tl.at(tl.month, s.day), p.pause_months))
    sub = (wait.shape[0], len(cols))
    paused = _uniform(rng, sub) < p.pause_prob
    resumes = _uniform(rng, sub) < p.resume_prob
    block = wait[:, cols]
    spring = _lookup(tl.next_spring, s.take(cols), tl, block) - s.day[cols]
    spring = spring + p.spring_resume_spread_days * _uniform(rng, sub)
    wait[:, cols] = np.where(paused & resumes, np.maximum(block, spring), block)
    reason[:, cols] = np.where(paused & ~resumes, SEASONAL_STOP, reason[:, cols])


def _holidays(wait: np.ndarray, s: FillState, tl: Timeline, p: Process, rng) -> None:
    """Orders that fall in a holiday window are often put off until it is over."""
    holiday_end = _lookup(tl.holiday_end, s, tl, wait)
    d, i = np.nonzero(holiday_end >= 0)
    put_off = _uniform(rng, len(d)) < p.holiday_delay_probability
    d, i = d[put_off], i[put_off]
    wait[d, i] = holiday_end[d, i] - s.day[i] + rng.integers(0, 4, len(d))


def draw_next(
    s: FillState,
    cat: CatalogArrays,
    tl: Timeline,
    p: Process,
    rng: np.random.Generator,
    draws: int = 1,
    churn_day: np.ndarray | None = None,
    detail: bool = True,
    shift: Shift | None = None,
) -> NextFill:
    """Draw the next fill of every prescription in ``s``, ``draws`` times, under process ``p``.

    ``churn_day`` is the realised day the pet or its owner leaves (world
    building); without it, leaving is drawn from ``churn_hazard``: the same
    law, since an exponential lifetime has no memory. Without ``detail``
    only ``gap`` and ``reason`` are filled in (the truth needs no more).
    ``shift`` makes late owners later at the fills on or after its start
    (``Shift.later``); fills before it keep their law.
    """
    shape = (draws, len(s.day))
    seasonal = cat.seasonal[s.product]
    winter = seasonal & np.isin(tl.at(tl.month, s.day), p.winter_months)
    ratio = _ratio(s, winter, p, rng, shape)
    if shift is not None:
        ratio = shift.later(ratio, s.day, tl)
    dose, supply = _supply_after_dose_change(s, cat, p, rng, shape)
    wait = s.ship_delay.astype(np.float32) + ratio * supply
    reason = np.zeros(shape, dtype=np.int8)
    _seasonal_pause(s, seasonal, wait, reason, tl, p, rng)
    _holidays(wait, s, tl, p, rng)
    gap = np.maximum(1, np.rint(wait)).astype(np.int32)

    u_cancel = _uniform(rng, shape)
    canceled = u_cancel < p.cancel_prob
    cancel_day = np.where(canceled, s.day + gap, -1) if detail else None
    gap[canceled] += rng.geometric(p.cancel_reorder_p, int(canceled.sum())).astype(np.int32)
    reason[u_cancel < p.cancel_prob * p.cancel_leave_share] = CANCELED_LEFT

    stop = np.array(p.stop_prob)[s.profile] * np.array(p.engagement_stop_factor)[s.engagement]
    stop = np.where(s.autoship, stop * p.autoship_stop_factor, stop).astype(np.float32)
    reason[_uniform(rng, shape) < stop] = OWNER_STOPPED

    if churn_day is None:
        lifetime = rng.standard_exponential(shape, dtype=np.float32)
        churned = lifetime < gap.astype(np.float32) * s.churn_hazard.astype(np.float32)
    else:
        churned = churn_day - s.day < gap
    reason[churned] = CHURNED
    reason[:, cat.acute[s.product]] = COURSE_COMPLETE

    reauth = _reauthorize(s, reason, gap, p, rng, detail)
    return NextFill(gap, reason, dose, cancel_day, *reauth)


def _reauthorize(s: FillState, reason, gap, p: Process, rng, detail: bool):
    """Refills used up: the owner's order waits for the clinic's answer.

    Updates ``gap`` (approved: the fill waits for the answer) and ``reason``
    (denied or expired: the prescription ends) in place; with ``detail``,
    returns the request day, the clinic's delay and its answer.
    """
    cols = np.flatnonzero(s.refills_remaining == 0)
    sub = (gap.shape[0], len(cols))
    asks = reason[:, cols] == CONTINUES
    median = s.reauth_median[cols].astype(np.float32)
    delay = median * np.exp(p.reauth_sigma * rng.standard_normal(sub, dtype=np.float32))
    denied = _uniform(rng, sub) < s.deny_rate[cols].astype(np.float32)
    status = np.where(delay > p.reauth_expiry_days, REAUTH_EXPIRED, REAUTH_APPROVED)
    status = np.where(denied & (status == REAUTH_APPROVED), REAUTH_DENIED, status)
    status = np.where(asks, status, REAUTH_NONE).astype(np.int8)
    # the fill goes out the day the approval arrives or the day after
    wait = np.ceil(delay).astype(np.int32) + rng.integers(0, 2, sub, dtype=np.int32)
    block = gap[:, cols]
    gap[:, cols] = np.where(status == REAUTH_APPROVED, block + wait, block)
    for code, why in ((REAUTH_DENIED, DENIED), (REAUTH_EXPIRED, EXPIRED)):
        reason[:, cols] = np.where(status == code, why, reason[:, cols])
    if not detail:
        return None, None, None
    out_day = np.full(gap.shape, -1, dtype=np.int64)
    out_day[:, cols] = np.where(asks, s.day[cols] + block, -1)
    out_delay = np.zeros(gap.shape, dtype=np.float32)
    out_delay[:, cols] = delay
    out_status = np.zeros(gap.shape, dtype=np.int8)
    out_status[:, cols] = status
    return out_day, out_delay, out_status
