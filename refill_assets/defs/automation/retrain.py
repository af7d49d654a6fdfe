"""The retrain sensor: a night whose champion checks failed requests the ``retrain`` job.

The rule (which checks, the cooldown, the reason in the tags) is
``refill_assets.monitoring.retraining``; this reads the night's failed checks from the run's
event log and the last monitoring-requested retrain from the instance. ``refill run`` applies
the same rule after a night it runs itself (no daemon there).
"""

from datetime import UTC, datetime

import dagster as dg

from refill_assets.defs.automation.alerts import failed_checks
from refill_assets.defs.automation.jobs import nightly_job, retrain, score
from refill_assets.defs.monitoring.assets import CHECKS, PERFORMANCE
from refill_assets.defs.scoring.assets import DRIFT, DRIFT_CHECK
from refill_assets.monitoring.retraining import (
    MONITORING,
    REQUESTED_BY_TAG,
    Failure,
    RetrainDecision,
    decide,
)

# the checks that judge the champion: live performance and drift
WATCHED = {(PERFORMANCE.to_user_string(), name) for name in CHECKS} | {
    (DRIFT.to_user_string(), DRIFT_CHECK)
}


def watched_failures(failed: list[tuple[str, str, str]]) -> list[Failure]:
    """``failed``: (asset, check, description) of a night's failed checks."""
    return [Failure(f"{a}:{c}", d) for a, c, d in failed if (a, c) in WATCHED]


def last_requested(instance: dg.DagsterInstance) -> datetime | None:
    """When the monitoring last requested a retrain (None: never)."""
    records = instance.get_run_records(
        dg.RunsFilter(job_name=retrain.name, tags={REQUESTED_BY_TAG: MONITORING}), limit=1
    )
    return records[0].create_timestamp if records else None


def retrain_decision(
    instance: dg.DagsterInstance, failed: list[tuple[str, str, str]]
) -> RetrainDecision:
    """The rule on a night's failed checks, given the requests ``instance`` remembers (none
    in the throwaway instance of a `refill run` without DAGSTER_HOME)."""
    return decide(watched_failures(failed), last_requested(instance), datetime.now(UTC))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_job, score],
    request_job=retrain,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests the retrain job when a performance or drift check of the champion "
    "failed in a night's run, at most once per 7 days; the reason is in the run's tags.",
)
def retrain_when_the_model_slips(context: dg.RunStatusSensorContext):
    run_id = context.dagster_run.run_id
    failed = [(f.asset, f.check, f.description) for f in failed_checks(context.instance, run_id)]
    decision = retrain_decision(context.instance, failed)
    if not decision.request:
        return dg.SkipReason(decision.reason)
    return dg.RunRequest(run_key=f"retrain-after-{run_id}", tags=decision.tags(run_id))
