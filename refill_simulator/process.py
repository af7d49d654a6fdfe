"""The latent process's parameters, and the family of worlds drawn around them.

``Process`` holds every number the family of worlds varies; its defaults are
the standard world's (the one ``simulate`` builds without ``family``), so
this module is those numbers' only home. The modules that use a number read
it from the ``Process`` on the ``World`` (or handed to them), never from a
constant of their own; numbers the family does not vary stay module
constants where they are used.

``draw_process(seed)`` draws one member of the family: every field from its
range in ``RANGES`` (low, high, what it means), with its own random stream
(``formats.stream(seed, "process")``), so that no other component's draws
move. Floats are drawn uniformly and kept to 4 significant digits, integers
uniformly (both bounds included). Tuples by engagement level are drawn
element by element and then sorted (``Range.sort``), which keeps each
element within its own range and the direction of the engagement effect
(engaged owners are more punctual, more often on auto-ship, open more
messages); only its strength varies. The ranges are wide enough to give
genuinely different pharmacies, and each stays plausible for a real one.

Two fields are drawn with a constraint:

- ``profile_given_engagement``: every engagement row is today's mix times a
  factor per profile (``PROFILE_FACTORS``, the same for all three rows, so
  engaged owners stay the more punctual), renormalised to sum to 1. Its
  ``RANGES`` entry is the resulting bound of each share. With the standard
  engagement mix, the pharmacy's share of lapsing pets (12.6 % as standard)
  lies between 4 % and 28 %, between 6 % and 21 % in nine worlds of ten.
- ``pause_length_months``: the pause months end by February (a fill in
  March would pause until the March after).

The ranges also keep these cross-field limits, which the tests check: every
product of rates stays a probability (forgetting x engagement x winter is at
most 0.91; stopping x engagement at most 0.32), and every profile's median
ratio, after the engagement scaling, stays above ``behaviour.EARLIEST_REFILL``.

``process_record`` is what ``truth/process.json`` holds: every field,
whether the world was drawn from the family, and its ``shift.Shift`` (null
without one).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from refill_simulator.formats import stream
from refill_simulator.shift import Shift

Floats = tuple[float, ...]


@dataclass(frozen=True)
class Process:
    """The numbers of the latent process that the family of worlds varies.

    Tuples by profile follow ``behaviour.PROFILES`` (punctual, early, late,
    erratic, lapsing); by engagement, ``behaviour.ENGAGEMENT_LEVELS`` (low,
    medium, high). The package docstring says what each effect does.
    """

    # --- latent traits (population)
    # adherence profile given engagement (rows: low, medium, high; columns: profiles)
    profile_given_engagement: tuple[Floats, ...] = (
        (0.22, 0.14, 0.27, 0.19, 0.18),
        (0.32, 0.21, 0.21, 0.14, 0.12),
        (0.41, 0.27, 0.16, 0.10, 0.06),
    )
    autoship_given_engagement: Floats = (0.08, 0.18, 0.35)
    transfer_rate: float = 0.03  # per year: the pet moves to another pharmacy
    customer_leave_rate: float = 0.05  # per year: the owner leaves

    # --- the refill ratio (behaviour): days to next fill / days' supply ~ lognormal
    ratio_median: Floats = (0.97, 0.84, 1.15, 1.0, 1.12)
    ratio_sigma: Floats = (0.10, 0.07, 0.10, 0.25, 0.15)
    # owner forgets: the ratio grows by forget_base + Exp(forget_mean)
    forget_prob: Floats = (0.02, 0.02, 0.06, 0.12, 0.16)
    forget_base: float = 0.25
    forget_mean: float = 0.6
    # owner stops the therapy after this fill (vet stopped it, switched pharmacy, ...)
    stop_prob: Floats = (0.012, 0.012, 0.03, 0.05, 0.10)
    # auto-ship ships just before run-out, whatever the owner's profile
    autoship_median: float = 0.98
    autoship_sigma: float = 0.02
    autoship_forget_prob: float = 0.005  # card declined, address change
    autoship_stop_factor: float = 0.4
    # engaged owners sit closer to on-time: the log median is scaled towards 0
    engagement_log_scale: Floats = (1.2, 1.0, 0.75)
    engagement_forget_factor: Floats = (1.5, 1.0, 0.6)
    engagement_stop_factor: Floats = (1.3, 1.0, 0.7)

    # --- seasonality: flea/tick and heartworm products
    # owners slack off in winter: these months run later and forget more
    winter_first_month: int = 11
    winter_length_months: int = 4
    winter_log_shift: float = 0.05
    winter_forget_factor: float = 1.5
    # a fill in these months may be the last before a pause ...
    pause_first_month: int = 10
    pause_length_months: int = 4
    pause_prob: float = 0.22
    resume_prob: float = 0.6  # ... resumed next spring, else the therapy stops
    spring_resume_spread_days: int = 45  # resumes spread over ~6 weeks from March 1

    # --- calendar
    # an order falling in a holiday window is put off to its end with this probability
    holiday_delay_probability: float = 0.5
    holiday_transit_extra_days: int = 2  # carriers are slower in holiday windows

    # --- orders and dispensing
    partial_prob: float = 0.04  # the pharmacy dispenses only part of the quantity
    cancel_prob: float = 0.025  # the order placed is canceled ...
    cancel_leave_share: float = 0.15  # ... and of those, the owner never reorders
    cancel_reorder_p: float = 0.35  # geometric days until the reorder
    dose_change_prob: float = 0.04  # per fill, for products with several dose options

    # --- reauthorization
    reauth_sigma: float = 0.6  # lognormal spread of a clinic's response time
    reauth_expiry_days: int = 10  # no answer by then: the request expires
    clinic_reauth_median_days: float = 1.8  # clinics' median response times centre here
    clinic_reauth_spread: float = 0.6  # log sd of the clinics' median response times
    strict_clinic_share: float = 0.1  # clinics denying 20-35 % of requests
    clinic_deny_beta_b: float = 20.0  # other clinics deny Beta(1.2, b): mean 1.2 / (1.2 + b)

    # --- supply and shipping
    backorder_episodes_per_day: float = 1 / 250  # per NDC
    backorder_min_days: int = 4
    backorder_gamma_scale: float = 8.0  # days beyond the minimum ~ Gamma(2, scale)
    transit_max_days: int = 5  # carrier transit 1..max days

    # --- engagement events, by engagement level
    open_rate: Floats = (0.08, 0.30, 0.60)
    click_rate: Floats = (0.10, 0.25, 0.45)  # of opened messages
    reminder_lead_days: int = 5  # refill reminder this many days before run-out

    # --- data quirks (delivery, quirks)
    late_one_day_rate: float = 0.05
    late_two_days_rate: float = 0.015
    identical_resend_rate: float = 0.01
    multi_file_day_rate: float = 0.1
    duplicate_file_rate: float = 0.02
    column_shuffle_rate: float = 0.2
    null_days_supply_rate: float = 0.02  # days' supply left empty, to derive from the sig
    resend_newer_rate: float = 0.03  # latest version re-sent unchanged with a newer updated_at
    malformed_rate: float = 0.002
    ndc_lost_zeros_rate: float = 0.03  # rx_orders rows whose NDC (starting with 0) lost them
    channel_variant_rate: float = 0.15

    @property
    def winter_months(self) -> tuple[int, ...]:
        return _months(self.winter_first_month, self.winter_length_months)

    @property
    def pause_months(self) -> tuple[int, ...]:
        return _months(self.pause_first_month, self.pause_length_months)


def _months(first: int, length: int) -> tuple[int, ...]:
    """``length`` consecutive months of the year from ``first`` (1-12), across New Year."""
    return tuple((first - 1 + i) % 12 + 1 for i in range(length))


@dataclass(frozen=True)
class Range:
    """Where a field of ``Process`` lies in the family: ``low <= value <= high``.

    For tuples, ``low`` and ``high`` are tuples (element by element).
    ``sort`` +1 / -1: the elements are drawn independently, then sorted
    ascending / descending (``low`` and ``high`` are sorted the same way, so
    each element stays within its own range).
    """

    low: Any
    high: Any
    meaning: str
    sort: int = 0


STANDARD = Process()
# the profile mix: each profile's share times a factor drawn from this range, the
# same for every engagement row, then every row renormalised (punctual is the reference)
PROFILE_FACTORS = ((1.0, 1.0), (0.6, 1.5), (0.6, 1.6), (0.6, 1.6), (0.4, 2.0))


def _times(default: Floats, low: float, high: float) -> tuple[Floats, Floats]:
    """``low`` to ``high`` times the standard value, element by element."""
    return tuple(low * v for v in default), tuple(high * v for v in default)


def _mix(factors: np.ndarray) -> np.ndarray:
    weighted = np.array(STANDARD.profile_given_engagement) * factors
    return weighted / weighted.sum(axis=1, keepdims=True)


def _mix_bounds() -> tuple[tuple[Floats, ...], tuple[Floats, ...]]:
    """The least and greatest share of each (engagement, profile) that PROFILE_FACTORS allow.

    A share is smallest with its own factor at its low end and every other
    at its high end, and the reverse for the greatest.
    """
    lo, hi = np.array(PROFILE_FACTORS).T
    n = len(lo)
    own = np.eye(n, dtype=bool)
    low = np.stack([_mix(np.where(own[i], lo, hi))[:, i] for i in range(n)], axis=1)
    high = np.stack([_mix(np.where(own[i], hi, lo))[:, i] for i in range(n)], axis=1)
    return tuple(map(tuple, low.tolist())), tuple(map(tuple, high.tolist()))


RANGES: dict[str, Range] = {
    "profile_given_engagement": Range(
        *_mix_bounds(),
        "adherence profile mix by engagement: today's x PROFILE_FACTORS "
        "(early 0.6-1.5, late 0.6-1.6, erratic 0.6-1.6, lapsing 0.4-2), renormalised",
    ),
    "autoship_given_engagement": Range(
        *_times(STANDARD.autoship_given_engagement, 0.3, 2.0),
        "auto-ship share by engagement: 0.3-2x today's",
        sort=1,
    ),
    "transfer_rate": Range(0.01, 0.06, "per year, a pet moves to another pharmacy"),
    "customer_leave_rate": Range(0.02, 0.10, "per year, an owner leaves"),
    "ratio_median": Range(
        (0.94, 0.82, 1.08, 0.95, 1.05),
        (1.00, 0.90, 1.25, 1.06, 1.22),
        "median ratio by profile (each keeps its meaning: early < 0.9, late > 1.08)",
    ),
    "ratio_sigma": Range(
        *_times(STANDARD.ratio_sigma, 0.6, 1.6), "log sd of the ratio by profile: 0.6-1.6x"
    ),
    "forget_prob": Range(
        *_times(STANDARD.forget_prob, 0.5, 1.75), "chance an owner forgets, by profile: 0.5-1.75x"
    ),
    "forget_base": Range(0.15, 0.35, "a forgotten refill comes at least this much supply later"),
    "forget_mean": Range(0.3, 1.0, "mean of the exponential extra lateness when forgotten"),
    "stop_prob": Range(
        *_times(STANDARD.stop_prob, 0.5, 2.0), "chance an owner stops per fill, by profile: 0.5-2x"
    ),
    "autoship_median": Range(0.95, 1.0, "median ratio on auto-ship"),
    "autoship_sigma": Range(0.01, 0.04, "log sd of the auto-ship ratio"),
    "autoship_forget_prob": Range(0.002, 0.015, "an auto-ship order goes astray"),
    "autoship_stop_factor": Range(0.2, 0.7, "stopping on auto-ship, relative to the profile's"),
    "engagement_log_scale": Range(
        (1.0, 0.9, 0.5),
        (1.35, 1.1, 1.0),
        "log median ratio scaled by engagement (low, medium, high)",
        sort=-1,
    ),
    "engagement_forget_factor": Range(
        (1.1, 0.8, 0.3), (1.8, 1.2, 0.9), "forgetting scaled by engagement", sort=-1
    ),
    "engagement_stop_factor": Range(
        (1.0, 0.8, 0.4), (1.6, 1.2, 1.0), "stopping scaled by engagement", sort=-1
    ),
    "winter_first_month": Range(10, 12, "first winter month (seasonal products run later)"),
    "winter_length_months": Range(3, 5, "winter months"),
    "winter_log_shift": Range(0.0, 0.12, "seasonal products' log ratio shift in winter"),
    "winter_forget_factor": Range(1.0, 1.8, "seasonal products' forgetting scaled in winter"),
    "pause_first_month": Range(9, 11, "first month whose seasonal fills may pause"),
    "pause_length_months": Range(3, 5, "months whose seasonal fills may pause (end by Feb)"),
    "pause_prob": Range(0.10, 0.40, "a seasonal fill in a pause month is the last before a pause"),
    "resume_prob": Range(0.4, 0.85, "a paused therapy resumes in spring (else it stops)"),
    "spring_resume_spread_days": Range(20, 75, "resumes spread over this many days from March 1"),
    "holiday_delay_probability": Range(0.25, 0.75, "an order in a holiday window is put off"),
    "holiday_transit_extra_days": Range(1, 4, "extra carrier days in holiday windows"),
    "partial_prob": Range(0.01, 0.08, "a fill dispenses part of the quantity"),
    "cancel_prob": Range(0.01, 0.05, "an order is canceled and placed again"),
    "cancel_leave_share": Range(0.05, 0.30, "of canceled orders, the owner never reorders"),
    "cancel_reorder_p": Range(0.2, 0.6, "geometric p of the days until the reorder"),
    "dose_change_prob": Range(0.01, 0.08, "a dose change between fills"),
    "reauth_sigma": Range(0.3, 0.9, "log sd of a clinic's response time to a request"),
    "reauth_expiry_days": Range(7, 14, "a reauthorization request unanswered this long expires"),
    "clinic_reauth_median_days": Range(0.8, 4.0, "clinics' median response times centre here"),
    "clinic_reauth_spread": Range(0.3, 0.9, "log sd of the clinics' median response times"),
    "strict_clinic_share": Range(0.03, 0.25, "share of strict clinics (deny 20-35 %)"),
    "clinic_deny_beta_b": Range(
        8.0, 40.0, "other clinics deny Beta(1.2, b): mean denial rate 2.9-13 %"
    ),
    "backorder_episodes_per_day": Range(1 / 600, 1 / 100, "backorder episodes per NDC per day"),
    "backorder_min_days": Range(2, 7, "a backorder lasts at least this long"),
    "backorder_gamma_scale": Range(4.0, 16.0, "days beyond the minimum ~ Gamma(2, scale)"),
    "transit_max_days": Range(3, 8, "carrier transit takes 1 to this many days"),
    "open_rate": Range(
        (0.03, 0.15, 0.35), (0.15, 0.45, 0.80), "messages opened, by engagement", sort=1
    ),
    "click_rate": Range(
        (0.05, 0.12, 0.25), (0.20, 0.35, 0.60), "opened messages clicked, by engagement", sort=1
    ),
    "reminder_lead_days": Range(3, 7, "refill reminder this many days before run-out"),
    "late_one_day_rate": Range(0.01, 0.12, "delta rows delivered a day late"),
    "late_two_days_rate": Range(0.005, 0.04, "delta rows delivered two days late"),
    "identical_resend_rate": Range(0.003, 0.03, "rows delivered again unchanged"),
    "multi_file_day_rate": Range(0.03, 0.25, "days whose rows come in 2-3 files"),
    "duplicate_file_rate": Range(0.005, 0.05, "files delivered twice"),
    "column_shuffle_rate": Range(0.05, 0.4, "CSV files with their columns shuffled"),
    "null_days_supply_rate": Range(0.005, 0.06, "rx_orders rows without days' supply"),
    "resend_newer_rate": Range(0.01, 0.06, "PMS rows re-sent with a newer updated_at"),
    "malformed_rate": Range(0.0005, 0.005, "malformed extra rows"),
    "ndc_lost_zeros_rate": Range(0.01, 0.08, "NDCs that lost their leading zeros"),
    "channel_variant_rate": Range(0.05, 0.30, "channels spelled another way"),
}


def _round(value: float, low: float, high: float) -> float:
    """4 significant digits (a readable process.json), kept within the range."""
    return float(np.clip(float(f"{value:.4g}"), low, high))


def _draw(rng: np.random.Generator, name: str, r: Range) -> Any:
    default = getattr(STANDARD, name)
    if isinstance(default, int):
        return int(rng.integers(r.low, r.high + 1))
    if isinstance(default, float):
        return _round(rng.uniform(r.low, r.high), r.low, r.high)
    values = rng.uniform(r.low, r.high)
    if r.sort:
        values = np.sort(values)[:: r.sort]
    return tuple(_round(v, lo, hi) for v, lo, hi in zip(values, r.low, r.high, strict=True))


def draw_process(seed: int) -> Process:
    """The process of the family member ``seed``: every field drawn from ``RANGES``."""
    rng = stream(seed, "process")
    values = {}
    for f in fields(Process):
        r = RANGES[f.name]
        if f.name == "profile_given_engagement":
            lo, hi = np.array(PROFILE_FACTORS).T
            mix = _mix(rng.uniform(lo, hi))
            values[f.name] = tuple(map(tuple, mix.tolist()))
        elif f.name == "pause_length_months":
            # the pause months end by February
            longest = min(r.high, 14 - values["pause_first_month"] + 1)
            values[f.name] = int(rng.integers(r.low, longest + 1))
        else:
            values[f.name] = _draw(rng, f.name, r)
    return Process(**values)


def process_record(process: Process, family: bool, shift: Shift | None = None) -> dict[str, Any]:
    """``truth/process.json``: drawn from the family or not, the shift or None, every field."""
    return {"family": family, "shift": None if shift is None else shift.record(), **asdict(process)}
