"""When the live monitoring asks for the models to be trained again.

One rule for the retrain sensor (``defs.automation.retrain``) and for ``refill run``: a
night whose performance or drift checks of the champion failed requests the ``retrain`` job,
at most once per cooldown (default 7 days: a retrain learns from weeks, and the checks of
the nights right after one still judge the old champion's days), with the failures as the
reason. The gate then decides whether the new candidate serves; the weekly schedule stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

COOLDOWN_DAYS = 7
REASON_TAG = "refill/retrain_reason"
REQUESTED_BY_TAG = "refill/requested_by"
MONITORING = "monitoring"  # the REQUESTED_BY_TAG value of the retrains asked for here


@dataclass(frozen=True)
class Failure:
    check: str  # "<asset>:<check name>"
    description: str


@dataclass(frozen=True)
class RetrainDecision:
    request: bool
    reason: str  # why a retrain is requested, or why not

    def tags(self, night_run_id: str) -> dict[str, str]:
        """The tags of the requested run: who asked, why, after which night's run."""
        return {
            REQUESTED_BY_TAG: MONITORING,
            REASON_TAG: self.reason[:1000],  # Dagster tag values are bounded; the run logs hold all
            "refill/after_run": night_run_id,
        }


def decide(
    failures: Iterable[Failure],
    last_requested: datetime | None,
    now: datetime,
    cooldown_days: int = COOLDOWN_DAYS,
) -> RetrainDecision:
    """Request a retrain when a watched check failed and none was requested in the cooldown.

    ``failures``: the night's failed checks that watch the champion (performance, drift);
    ``last_requested``: when the monitoring last requested one (None: never)."""
    failed = list(failures)
    if not failed:
        return RetrainDecision(False, "every performance and drift check of the champion passed")
    reason = "; ".join(f"{f.check}: {f.description}" for f in failed)
    if last_requested is not None and now - last_requested < timedelta(days=cooldown_days):
        until = last_requested + timedelta(days=cooldown_days)
        return RetrainDecision(
            False,
            f"cooling down until {until:%Y-%m-%d %H:%M} (a retrain was requested on "
            f"{last_requested:%Y-%m-%d %H:%M}); failed: {reason}",
        )
    return RetrainDecision(True, reason)
