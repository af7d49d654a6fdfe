"""The retrain sensor on a real instance: a night whose champion checks failed requests the
retrain job with its reason, once per cooldown; other failures do not; Slack says where to look."""

import dagster as dg
import pytest

from refill_assets.defs.automation.alerts import slack_on_failed_checks
from refill_assets.defs.automation.retrain import retrain_when_the_model_slips
from refill_assets.defs.resources import SlackWebhook
from refill_assets.monitoring.retraining import MONITORING, REASON_TAG, REQUESTED_BY_TAG
from tests.support.http_capture import CaptureServer


def _night(instance, asset: list[str], check: str, passed: bool) -> str:
    """A run that materializes ``asset`` with one WARN check ``check``; its run id."""

    @dg.asset(key=asset, check_specs=[dg.AssetCheckSpec(check, asset=asset)])
    def watched():
        yield dg.MaterializeResult()
        yield dg.AssetCheckResult(
            check_name=check,
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            description="late_share 0.662 (28 final days); band 0.4–0.6",
            metadata={"look_at": "monitoring.performance_daily, late_share by day"},
        )

    return dg.materialize([watched], instance=instance).run_id


def _evaluate(instance, run_id: str, sensor=retrain_when_the_model_slips, **resources):
    run = instance.get_run_by_id(run_id)
    event = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records[0]
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=event.event_log_entry.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
        resources=resources or None,
    )
    return sensor(context)


def _retrain_run(instance, tags: dict[str, str]) -> None:
    """A run of a job named ``retrain`` with ``tags``, as the requested run would be."""

    @dg.op
    def noop():
        return None

    @dg.job(name="retrain")
    def retrain():
        noop()

    retrain.execute_in_process(instance=instance, tags=tags)


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def test_a_failed_performance_check_requests_a_retrain_then_cools_down(instance):
    night = _night(instance, ["monitoring", "performance_daily"], "late_share", passed=False)
    request = _evaluate(instance, night)
    assert isinstance(request, dg.RunRequest)
    assert request.tags[REQUESTED_BY_TAG] == MONITORING
    assert "monitoring/performance_daily:late_share: late_share 0.662" in request.tags[REASON_TAG]
    _retrain_run(instance, request.tags)  # the daemon launches it
    again = _night(instance, ["monitoring", "performance_daily"], "late_share", passed=False)
    held = _evaluate(instance, again)
    assert isinstance(held, dg.SkipReason)
    assert "cooling down" in held.skip_message


def test_a_drift_warning_requests_a_retrain(instance):
    night = _night(instance, ["monitoring", "feature_drift"], "drift", passed=False)
    assert isinstance(_evaluate(instance, night), dg.RunRequest)


def test_passing_checks_and_other_failures_do_not(instance):
    healthy = _night(instance, ["monitoring", "performance_daily"], "late_share", passed=True)
    assert isinstance(_evaluate(instance, healthy), dg.SkipReason)
    elsewhere = _night(instance, ["raw", "rx_orders"], "row_count", passed=False)
    assert isinstance(_evaluate(instance, elsewhere), dg.SkipReason)


def test_the_slack_message_says_where_to_look(instance):
    night = _night(instance, ["monitoring", "performance_daily"], "late_share", passed=False)
    with CaptureServer() as hook:
        _evaluate(instance, night, slack_on_failed_checks, slack=SlackWebhook(webhook_url=hook.url))
    text = hook.requests[0]["json"]["text"]
    assert "[WARN] `monitoring/performance_daily` check `late_share`: late_share 0.662" in text
    assert "look at: monitoring.performance_daily, late_share by day" in text
