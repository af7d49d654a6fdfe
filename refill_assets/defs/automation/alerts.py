"""Sensors that tell ops (Slack) about failed runs and failed checks, warnings included.

They read the run's event log only; they never open the warehouse.
"""

import dagster as dg

from refill_assets.alerts.slack import CheckFailure, slack_message
from refill_assets.defs.resources import SETTINGS, SlackWebhook

_ENABLED = SETTINGS.slack_webhook_url is not None
_WHY = "" if _ENABLED else " Stopped: set REFILL_SLACK_WEBHOOK_URL to an incoming webhook."


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[CheckFailure]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failures = []
    for record in records:
        ev = record.event_log_entry.dagster_event.event_specific_data
        if not ev.passed:
            failures.append(
                CheckFailure(
                    ev.asset_key.to_user_string(),
                    ev.check_name,
                    ev.severity.value,
                    ev.description or "",
                    _text(ev.metadata.get("look_at")),
                )
            )
    return failures


def _text(value: dg.MetadataValue | None) -> str:
    return "" if value is None else str(value.value)


def _alert(
    context: dg.RunStatusSensorContext, slack: SlackWebhook, run_error: str | None
) -> dg.SkipReason | None:
    failures = failed_checks(context.instance, context.dagster_run.run_id)
    if run_error is None and not failures:
        return dg.SkipReason("run succeeded with every check passing")
    message = slack_message(
        context.dagster_run.job_name, context.dagster_run.run_id, failures, run_error
    )
    slack.send(message)
    return None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING if _ENABLED else dg.DefaultSensorStatus.STOPPED,
    description="Posts failed checks of successful runs (warnings do not fail a run)." + _WHY,
)
def slack_on_failed_checks(context: dg.RunStatusSensorContext, slack: SlackWebhook):
    return _alert(context, slack, run_error=None)


@dg.run_failure_sensor(
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING if _ENABLED else dg.DefaultSensorStatus.STOPPED,
    description="Posts failed runs with their failed checks." + _WHY,
)
def slack_on_run_failure(context: dg.RunFailureSensorContext, slack: SlackWebhook):
    return _alert(context, slack, run_error=context.failure_event.message or "run failed")
