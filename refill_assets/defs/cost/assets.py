"""The platform's AWS spend, day by day.

Job ``cost_daily`` (asset step ``daily_spend``; one run per day, the morning after: Cost
Explorer's figures lag a day):
``cost/actuals`` (``GetCostAndUsage`` grouped by the Model tag and service, the platform's
CostCenter and Env in the filter, into ``cost.actuals`` as FOCUS columns; the last
``REVISED_DAYS`` days pulled again, since Cost Explorer revises them), ``cost/forecast``
(``GetCostForecast`` to the month's end, made on the newest day only: the API forecasts from
today on) and ``cost/endpoint_invocations`` (the endpoint's GB-seconds and payload, from its
request log in CloudWatch Logs; the meter prices them). The check ``mtd_within_2x_forecast``
warns when month-to-date actual passes twice the forecast to date; the 30-day forecast
variance is recorded beside its < 20 % target. The published copy follows, with the run's
own estimate (its Cost Explorer requests are billed) in ``cost.estimates``.

The schedule starts stopped without an AWS account (``REFILL_SAGEMAKER_*``), like the deploy
sensor: on a laptop there is no bill to read. The untagged sweep is ``defs/deploy/sweep.py``.
"""

from datetime import UTC, date, datetime, time, timedelta

import dagster as dg

from refill_assets.cost import guardrails, ledger
from refill_assets.cost.endpoint import invocations, log_lines
from refill_assets.cost.explorer import cost_and_usage, month_forecast
from refill_assets.defs.cost.meter import metered
from refill_assets.defs.deploy.assets import CONFIGURED
from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.resources import SETTINGS, WAREHOUSE_POOL, AwsResource, WarehouseResource
from refill_assets.deploy.sagemaker import DeployConfig, cost_tags
from refill_assets.storage.warehouse import connect

ACTUALS = dg.AssetKey(["cost", "actuals"])
FORECAST = dg.AssetKey(["cost", "forecast"])
ENDPOINT = dg.AssetKey(["cost", "endpoint_invocations"])
COST_KEYS = [ACTUALS, FORECAST, ENDPOINT]
SPIKE_CHECK = "mtd_within_2x_forecast"
REVISED_DAYS = 3
_WHY = "" if CONFIGURED else " Stopped: no AWS account configured (REFILL_SAGEMAKER_*)."


class CostConfig(dg.Config):
    # the day the run takes for today (None: the clock); a replay of past days sets it
    today: str | None = None
    spike_factor: float = guardrails.SPIKE_FACTOR


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ACTUALS,
            group_name="cost",
            kinds={"duckdb"},
            description="The platform's daily AWS spend from Cost Explorer (cost.actuals, FOCUS "
            "columns), by Model tag and service.",
        ),
        dg.AssetSpec(
            FORECAST,
            group_name="cost",
            kinds={"duckdb"},
            description="Cost Explorer's daily forecast to the month's end (cost.forecasts).",
        ),
        dg.AssetSpec(
            ENDPOINT,
            group_name="cost",
            kinds={"sagemaker"},
            description="The endpoint's invocations of the day from its request log: "
            "GB-seconds and payload, priced as its estimated cost.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            SPIKE_CHECK,
            asset=ACTUALS,
            description="Month-to-date actual spend at most twice the forecast to date.",
        )
    ],
    partitions_def=daily,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
)
@metered
def daily_spend(
    context: dg.AssetExecutionContext,
    config: CostConfig,
    warehouse: WarehouseResource,
    aws: AwsResource,
):
    start, day = window(context)  # a night, or a backfill's days in one run
    today = date.fromisoformat(config.today) if config.today else datetime.now(UTC).date()
    tags = cost_tags(SETTINGS.deploy_env)
    ce = aws.client("ce")
    first = start - timedelta(days=REVISED_DAYS - 1)
    actuals = cost_and_usage(ce, first, day + timedelta(days=1), tags)
    forecast = None
    if day + timedelta(days=1) >= today:
        forecast = month_forecast(ce, day, max(day + timedelta(days=1), today), tags)
    calls = _invocations(aws, start, day)
    with connect(warehouse.layout.warehouse) as con:
        ledger.record_actuals(con, actuals.focus, first, day)
        if forecast is not None:
            ledger.record_forecast(con, day, forecast.daily)
        spike = guardrails.month_to_date(con, day, config.spike_factor)
        spread = guardrails.variance(con, day)
    focus = actuals.focus.filter(actuals.focus["ChargePeriodStart"] == day)
    yield dg.MaterializeResult(
        asset_key=ACTUALS,
        metadata={
            "rows": focus.height,
            "billed_usd": float(focus["BilledCost"].sum()),
            "provisional": bool(focus["x_Estimated"].any()),
            "mtd_actual_usd": spike.compared.actual_usd,
            "mtd_forecast_usd": spike.compared.forecast_usd,
            "forecast_variance_30d": spread.variance,
            "forecast_variance_target": guardrails.VARIANCE_TARGET,
            "variance_days_compared": spread.days,
            "refill/ce_requests": actuals.requests,
        },
    )
    yield dg.MaterializeResult(
        asset_key=FORECAST,
        metadata={
            "made": forecast is not None,
            "month_rest_usd": 0.0 if forecast is None else float(forecast.daily["mean_usd"].sum()),
            "refill/ce_requests": 0 if forecast is None else forecast.requests,
        },
    )
    yield dg.MaterializeResult(asset_key=ENDPOINT, metadata=_endpoint_metadata(calls))
    yield dg.AssetCheckResult(
        asset_key=ACTUALS,
        check_name=SPIKE_CHECK,
        passed=spike.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=spike.message,
        metadata={
            "look_at": "cost.actuals (published warehouse) by ServiceName and Tags for the "
            "month's days; the monitoring report's daily spend plot"
        },
    )


def _invocations(aws: AwsResource, first: date, last: date):
    account = DeployConfig.from_env(SETTINGS.deploy_env)
    if account is None:
        return None
    start, end = (datetime.combine(d, time(), UTC) for d in (first, last + timedelta(days=1)))
    lines = log_lines(aws.client("logs"), account.endpoint_name, start, end)
    return invocations(lines, account.memory_mb)


def _endpoint_metadata(calls) -> dict:
    if calls is None:
        return {"invocations": 0, "endpoint": "none configured"}
    usage = calls.usage()
    return {
        "invocations": calls.frame.height,
        "other_log_lines": calls.other_lines,
        "refill/gb_seconds": usage.gb_seconds,
        "refill/endpoint_memory_mb": usage.endpoint_memory_mb,
        "refill/data_bytes": usage.data_bytes,
    }


cost_daily_job = dg.define_asset_job(
    "cost_daily",
    selection=dg.AssetSelection.assets(*COST_KEYS, ["published_warehouse"]),
    description="Yesterday's AWS spend, the month's forecast, the endpoint's usage and the 2x "
    "guardrail; then the published copy.",
)
_status = dg.DefaultScheduleStatus.RUNNING if CONFIGURED else dg.DefaultScheduleStatus.STOPPED
# 06:00 UTC: yesterday's figures are in Cost Explorer by then (it updates a few times a day)
cost_schedule = dg.build_schedule_from_partitioned_job(
    cost_daily_job, hour_of_day=6, default_status=_status, description="Daily." + _WHY
)
