"""Ops alerts: a real ingestion run with failing checks, the sensors, a webhook on loopback."""

import dagster as dg
import pytest

import tests.support.landing_builder as lb
from refill_assets.defs.automation.alerts import slack_on_failed_checks, slack_on_run_failure
from refill_assets.defs.ingest.assets import build_ingest_asset
from refill_assets.defs.resources import LandingResource, SlackWebhook, WarehouseResource
from tests.support.http_capture import CaptureServer

DAY = "2024-03-01"


def _materialize(tmp_path, rows, instance) -> dg.ExecuteInProcessResult:
    landing = tmp_path / "landing"
    lb.deliver(landing, "rx_orders", DAY, "orders", rows)
    return dg.materialize(
        [build_ingest_asset("rx_orders")],
        resources={
            "landing": LandingResource(uri=str(landing), pii_key="k"),
            "warehouse": WarehouseResource(home=str(tmp_path / "home")),
        },
        partition_key=DAY,
        instance=instance,
        raise_on_error=False,
    )


def _context(instance, result, event_type, webhook):
    run = instance.get_run_by_id(result.run_id)
    event = instance.get_records_for_run(result.run_id, of_type=event_type).records[0]
    return dg.build_run_status_sensor_context(
        sensor_name="alerts",
        dagster_event=event.event_log_entry.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
        resources={"slack": SlackWebhook(webhook_url=webhook)},
    )


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def test_a_failed_warning_check_in_a_green_run_reaches_slack(tmp_path, instance):
    # 12 of 150 rows break an optional column: required fields stay valid, the quarantine
    # rate (8 %, far past 1 % for 150 rows) warns
    rows = [lb.rx_order(i) for i in range(138)]
    rows += [lb.rx_order(900 + i, days_supply="thirty") for i in range(12)]
    result = _materialize(tmp_path, rows, instance)
    assert result.success
    with CaptureServer() as hook:
        ctx = _context(instance, result, dg.DagsterEventType.RUN_SUCCESS, hook.url)
        assert slack_on_failed_checks(ctx) is None
    assert len(hook.requests) == 1
    text = hook.requests[0]["json"]["text"]
    assert "[WARN] `raw/rx_orders` check `quality_warnings`" in text
    assert "quarantine_rate" in text
    assert "quality_blocking" not in text


def test_a_blocking_check_failure_reaches_slack_with_the_run_error(tmp_path, instance):
    rows = [lb.rx_order(i) for i in range(10)]
    rows += [lb.rx_order(90 + i, status="shipped-ish") for i in range(6)]
    result = _materialize(tmp_path, rows, instance)
    assert not result.success
    with CaptureServer() as hook:
        ctx = _context(instance, result, dg.DagsterEventType.RUN_FAILURE, hook.url)
        slack_on_run_failure(ctx.for_run_failure())
    text = hook.requests[0]["json"]["text"]
    assert "FAILED" in text
    assert "[ERROR] `raw/rx_orders` check `quality_blocking`" in text
    assert "required_fields_valid_latest_day" in text


def test_a_clean_run_sends_nothing(tmp_path, instance):
    result = _materialize(tmp_path, [lb.rx_order(i) for i in range(30)], instance)
    assert result.success
    with CaptureServer() as hook:
        ctx = _context(instance, result, dg.DagsterEventType.RUN_SUCCESS, hook.url)
        assert isinstance(slack_on_failed_checks(ctx), dg.SkipReason)
    assert hook.requests == []
