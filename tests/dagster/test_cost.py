"""The cost job against moto on loopback: 30 simulated nights of actuals and forecasts.

Each night the job pulls Cost Explorer's actuals (moto serves the answer the test queued for
that night's request) and the forecast (``tests/support/moto_cost.py``: moto lacks
GetCostForecast), through the production boto3 code. The bill runs 10 % above the forecast
for 20 nights, then five times it: the 30-day variance is ~9 % while the bill follows the
forecast, and the 2x warning fires on the first night month-to-date spend passes twice the
forecast to date, not before, and reaches Slack.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest
from moto.ce.responses import CostExplorerResponse

from refill_assets.defs.automation.alerts import slack_on_failed_checks
from refill_assets.defs.cost.assets import SPIKE_CHECK, daily_spend
from refill_assets.defs.deploy.sweep import untagged_resources
from refill_assets.defs.resources import (
    SETTINGS,
    AwsResource,
    SlackWebhook,
    WarehouseResource,
)
from refill_assets.deploy.sagemaker import cost_tags
from refill_assets.storage.warehouse import connect
from tests.support import moto_cost
from tests.support.http_capture import CaptureServer

FIRST = date(2024, 3, 1)
NIGHTS = 30
SPIKE_FROM = 21  # from this night on the bill is five times the forecast
FORECAST_USD = 2.0  # what Cost Explorer forecasts for every day


def actual(day: date) -> float:
    return FORECAST_USD * (5.0 if (day - FIRST).days + 1 >= SPIKE_FROM else 1.1)


@pytest.fixture
def aws(endpoint, s3, monkeypatch):
    _post(f"{endpoint}/moto-api/reset", {})
    monkeypatch.setattr(
        CostExplorerResponse, "get_cost_forecast", moto_cost.get_cost_forecast, raising=False
    )
    moto_cost.reset()
    yield AwsResource(endpoint_url=endpoint, s3_endpoint_url=endpoint)
    moto_cost.reset()


def _post(url: str, body: dict) -> None:
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def _answer(days: list[date]) -> dict:
    """Cost Explorer's answer for these days: SageMaker and ECS, split 3:1."""

    def group(keys, usd):
        metric = {"Amount": f"{usd:.6f}", "Unit": "USD"}
        return {
            "Keys": keys,
            "Metrics": {
                "UnblendedCost": metric,
                "AmortizedCost": metric,
                "UsageQuantity": {"Amount": "1", "Unit": "N/A"},
            },
        }

    return {
        "GroupDefinitions": [
            {"Type": "TAG", "Key": "Model"},
            {"Type": "DIMENSION", "Key": "SERVICE"},
        ],
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": d.isoformat(), "End": (d + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [
                    group(["Model$refill_next_refill", "Amazon SageMaker"], actual(d) * 0.75),
                    group(["Model$", "Amazon Elastic Container Service"], actual(d) * 0.25),
                ],
                "Estimated": d == days[-1],
            }
            for d in days
        ],
        "DimensionValueAttributes": [],
    }


def _forecast(made_on: date) -> dict:
    start = made_on + timedelta(days=1)
    end = (made_on.replace(day=28) + timedelta(days=4)).replace(day=1)  # the month's end
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    return {
        "Total": {"Amount": f"{FORECAST_USD * len(days):.2f}", "Unit": "USD"},
        "ForecastResultsByTime": [
            {
                "TimePeriod": {"Start": d.isoformat(), "End": (d + timedelta(days=1)).isoformat()},
                "MeanValue": f"{FORECAST_USD:.2f}",
                "PredictionIntervalLowerBound": f"{FORECAST_USD * 0.8:.2f}",
                "PredictionIntervalUpperBound": f"{FORECAST_USD * 1.2:.2f}",
            }
            for d in days
        ],
    }


def _night(day: date, home, aws, instance) -> dg.ExecuteInProcessResult:
    first = day - timedelta(days=2)
    pulled = [first + timedelta(days=i) for i in range(3)]
    _post(
        f"{aws.endpoint_url}/moto-api/static/ce/cost-and-usage-results",
        {"results": [_answer(pulled)]},
    )
    if day.month == (day + timedelta(days=1)).month:
        moto_cost.queue_forecast(_forecast(day))
    return dg.materialize(
        [daily_spend],
        resources={"warehouse": WarehouseResource(home=str(home)), "aws": aws},
        partition_key=day.isoformat(),
        # the night's run happens the next morning
        run_config={"ops": {"daily_spend": {"config": {"today": str(day + timedelta(days=1))}}}},
        instance=instance,
    )


def test_thirty_nights_the_variance_and_the_2x_warning(tmp_path, aws):
    with dg.instance_for_test() as instance:
        verdicts, variances = [], []
        for n in range(NIGHTS):
            day = FIRST + timedelta(days=n)
            result = _night(day, tmp_path, aws, instance)
            assert result.success
            (check,) = result.get_asset_check_evaluations()
            assert check.check_name == SPIKE_CHECK
            verdicts.append(check.passed)
            meta = result.asset_materializations_for_node("daily_spend")[0].metadata
            variances.append(meta["forecast_variance_30d"].value)
            # the meter priced the job's own Cost Explorer requests (one each)
            assert meta["refill/ce_requests"].value == 1
            assert meta["refill/usd_cost_explorer"].value == pytest.approx(0.01)
        # month-to-date from night 2 (night 1 has no forecast made before it): actual
        # 2.2/day to night 20, then 10/day against 2/day forecast; passes 2x on the night
        # sum(actual) > 2 * sum(forecast)
        expected = []
        for n in range(1, NIGHTS + 1):
            days = [FIRST + timedelta(days=i) for i in range(1, n)]
            spent = sum(actual(d) for d in days)
            expected.append(not days or spent <= 2 * FORECAST_USD * len(days))
        assert verdicts == expected
        first_alarm = verdicts.index(False) + 1
        assert SPIKE_FROM < first_alarm <= NIGHTS  # not before the spike, and it did fire
        # while the bill ran 10 % over the forecast: |2 - 2.2| / 2.2
        assert variances[SPIKE_FROM - 2] == pytest.approx(0.2 / 2.2)
        assert variances[SPIKE_FROM - 2] < 0.20 < variances[-1]

        with connect(tmp_path / "warehouse.duckdb", read_only=True) as con:
            billed = con.execute(
                "SELECT ChargePeriodStart, sum(BilledCost) FROM cost.actuals GROUP BY 1 ORDER BY 1"
            ).fetchall()
            forecasts = con.execute("SELECT count(DISTINCT made_on) FROM cost.forecasts").fetchone()
        # every day once (the first night pulls its two days before too), at its latest
        # figure: the days pulled again are replaced, not added
        assert [d for d, _ in billed] == [FIRST + timedelta(days=i) for i in range(-2, NIGHTS)]
        assert all(usd == pytest.approx(actual(d)) for d, usd in billed)
        assert forecasts == (NIGHTS,)
        # the request carried the platform's tags and asked for the month's rest
        asked = moto_cost.REQUESTS[-1]
        tags = cost_tags(SETTINGS.deploy_env)
        assert {"Key": "Env", "Values": [tags["Env"]], "MatchOptions": ["EQUALS"]} in [
            e["Tags"] for e in asked["Filter"]["And"]
        ]
        assert asked["TimePeriod"]["End"] == "2024-04-01"

        failing = instance.get_runs(limit=1)[0]  # the last night, above 2x
        with CaptureServer() as hook:
            event = instance.get_records_for_run(
                failing.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS
            ).records[0]
            context = dg.build_run_status_sensor_context(
                sensor_name="alerts",
                dagster_event=event.event_log_entry.dagster_event,
                dagster_instance=instance,
                dagster_run=failing,
                resources={"slack": SlackWebhook(webhook_url=hook.url)},
            )
            assert slack_on_failed_checks(context) is None
        text = hook.requests[0]["json"]["text"]
        assert f"[WARN] `cost/actuals` check `{SPIKE_CHECK}`" in text
        assert "ABOVE 2x" in text


def test_the_endpoints_invocations_are_priced_from_its_request_log(tmp_path, aws, monkeypatch):
    for name, value in {
        "REFILL_SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/refill",
        "REFILL_SAGEMAKER_IMAGE_URI": "123456789012.dkr.ecr.us-east-1.amazonaws.com/refill:1",
        "REFILL_SAGEMAKER_BUCKET": "refill-models",
        "REFILL_SAGEMAKER_ENDPOINT": "refill-cost",
        "REFILL_SAGEMAKER_MEMORY_MB": "2048",
    }.items():
        monkeypatch.setitem(SETTINGS.deploy_env, name, value)
    logs = aws.client("logs")
    group = "/aws/sagemaker/Endpoints/refill-cost"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="champion/i-1")
    day = datetime.now(UTC).date() - timedelta(days=1)  # CloudWatch refuses events 14 days old
    noon = int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)
    lines = [
        {"method": "POST", "path": "/invocations", "status": 200, "bytes_in": 500_000,
         "bytes_out": 250_000, "rows": 100, "latency_ms": 250.0, "model_version": "3"},
        {"method": "GET", "path": "/ping", "status": 200, "bytes_in": 0, "bytes_out": 15,
         "rows": 0, "latency_ms": 0.1, "model_version": "3"},
    ] * 4  # fmt: skip
    logs.put_log_events(
        logGroupName=group,
        logStreamName="champion/i-1",
        logEvents=[
            {"timestamp": noon + i, "message": json.dumps(line)} for i, line in enumerate(lines)
        ]
        + [{"timestamp": noon + 99, "message": "Traceback (most recent call last):"}],
    )
    with dg.instance_for_test() as instance:
        result = _night(day, tmp_path, aws, instance)
    meta = result.asset_materializations_for_node("daily_spend")
    endpoint = next(m for m in meta if m.asset_key.path == ["cost", "endpoint_invocations"])
    m = {k: v.value for k, v in endpoint.metadata.items()}
    assert m["invocations"] == 4 and m["other_log_lines"] == 1
    assert m["refill/gb_seconds"] == pytest.approx(4 * 0.25 * 2)  # latency x 2 GB
    # $0.00002 per GB-second, $0.016 per GB of payload
    assert m["refill/usd_endpoint_compute"] == pytest.approx(2.0 * 0.00002)
    assert m["refill/usd_endpoint_data"] == pytest.approx(4 * 750_000 / 1024**3 * 0.016)


def test_the_sweep_reports_an_untagged_endpoint_and_deletes_nothing_by_default(tmp_path, aws):
    sagemaker = aws.client("sagemaker")
    sagemaker.create_model(
        ModelName="refill-next-refill-manual",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/refill",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/refill:1"},
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize([untagged_resources], resources={"aws": aws}, instance=instance)
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and "deletion off" in check.description
    meta = result.asset_materializations_for_node("deploy__untagged_resources")[0].metadata
    assert meta["untagged"].value == 1 and meta["deleted"].value == 0
    assert "refill-next-refill-manual" in meta["report"].value
    assert sagemaker.list_models()["Models"]  # reported, never deleted
