"""The platform's AWS spend from Cost Explorer: daily actuals and the month-end forecast.

Actuals come out as a subset of the FinOps FOCUS columns, so that the warehouse table, and
whatever reads it, already speak FOCUS: a later switch to AWS's own FOCUS export (which also
names the resource) changes only this source, not the table nor its readers.

Only the platform's spend is asked for: the resources tagged with its CostCenter and Env.
Cost Explorer allows two group-bys at most, so those tags go in the filter and the answer is
grouped by the Model tag and the service. Each call is billed ($0.01), hence the counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

PLATFORM_TAG_KEYS = ("CostCenter", "Env")
GROUP_TAG = "Model"
METRICS = ("UnblendedCost", "AmortizedCost", "UsageQuantity")

FOCUS_SCHEMA: dict[str, pl.DataType] = {
    "BillingPeriodStart": pl.Date(),
    "BillingPeriodEnd": pl.Date(),
    "ChargePeriodStart": pl.Date(),
    "ChargePeriodEnd": pl.Date(),
    "BilledCost": pl.Float64(),
    "EffectiveCost": pl.Float64(),
    "BillingCurrency": pl.Utf8(),
    "ServiceName": pl.Utf8(),
    "ResourceId": pl.Utf8(),
    "Tags": pl.Utf8(),
    "ConsumedQuantity": pl.Float64(),
    "ConsumedUnit": pl.Utf8(),
    "x_Estimated": pl.Boolean(),
}

FORECAST_SCHEMA: dict[str, pl.DataType] = {
    "made_on": pl.Date(),
    "day": pl.Date(),
    "mean_usd": pl.Float64(),
    "low_usd": pl.Float64(),
    "high_usd": pl.Float64(),
}


@dataclass(frozen=True)
class Actuals:
    focus: pl.DataFrame
    requests: int


@dataclass(frozen=True)
class Forecast:
    daily: pl.DataFrame
    requests: int


def tag_filter(tags: Mapping[str, str], keys: Sequence[str] = PLATFORM_TAG_KEYS) -> dict:
    """The Cost Explorer expression matching resources tagged tags[k] for every k in keys."""
    missing = [key for key in keys if key not in tags]
    if missing:
        raise ValueError(f"no value for the tag(s) {missing} of the platform's spend")
    expressions = [
        {"Tags": {"Key": key, "Values": [tags[key]], "MatchOptions": ["EQUALS"]}} for key in keys
    ]
    # the API refuses an And of a single expression
    return expressions[0] if len(expressions) == 1 else {"And": expressions}


def cost_and_usage(ce: Any, start: date, end: date, tags: Mapping[str, str]) -> Actuals:
    """Daily actuals for [start, end) of the resources tagged with tags[k] for k in
    PLATFORM_TAG_KEYS."""
    if end <= start:
        raise ValueError(f"empty period: [{start}, {end})")
    request = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(METRICS),
        "GroupBy": [{"Type": "TAG", "Key": GROUP_TAG}, {"Type": "DIMENSION", "Key": "SERVICE"}],
        "Filter": tag_filter(tags),
    }
    filtered = {key: tags[key] for key in PLATFORM_TAG_KEYS}
    rows: list[dict] = []
    requests = 0
    for page in _pages(ce, request):
        requests += 1
        for result in page.get("ResultsByTime", []):
            rows.extend(_focus_rows(result, filtered))
    return Actuals(pl.DataFrame(rows, schema=FOCUS_SCHEMA), requests)


def _pages(ce: Any, request: dict) -> Iterator[dict]:
    token = None
    while True:
        page = ce.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
        yield page
        token = page.get("NextPageToken")
        if not token:
            return


def _focus_rows(result: dict, filtered: Mapping[str, str]) -> Iterator[dict]:
    day = date.fromisoformat(result["TimePeriod"]["Start"])
    period_start = day.replace(day=1)
    for group in result.get("Groups", []):
        model, service = group["Keys"]
        billed, effective, usage = (_metric(group, name, day) for name in METRICS)
        yield {
            "BillingPeriodStart": period_start,
            "BillingPeriodEnd": _next_month(day),
            "ChargePeriodStart": day,
            "ChargePeriodEnd": day + timedelta(days=1),
            "BilledCost": float(billed["Amount"]),
            "EffectiveCost": float(effective["Amount"]),
            # kept as Cost Explorer says: a non-USD account must not be summed as dollars
            "BillingCurrency": billed["Unit"],
            "ServiceName": service,
            # a grouped answer names no resource; the FOCUS export would
            "ResourceId": None,
            "Tags": _tags_json(filtered, model),
            "ConsumedQuantity": float(usage["Amount"]),
            # CE says N/A when the group's usage mixes units: the quantity then means little
            "ConsumedUnit": None if usage.get("Unit") in (None, "N/A") else usage["Unit"],
            # the day's figures may still change until CE stops estimating them
            "x_Estimated": bool(result.get("Estimated", False)),
        }


def _metric(group: dict, name: str, day: date) -> dict:
    metric = group.get("Metrics", {}).get(name)
    # a silent 0 would pass for a free day in the warehouse
    if metric is None or "Amount" not in metric:
        raise ValueError(f"Cost Explorer gave no {name} for {day}, group {group.get('Keys')}")
    return metric


def _tags_json(filtered: Mapping[str, str], model_key: str) -> str:
    # CE writes a tag group as "Model$value", and the untagged resources as "Model$"
    model = model_key.partition("$")[2] or None
    tags = dict(filtered) | ({GROUP_TAG: model} if model is not None else {})
    return json.dumps(tags, sort_keys=True, separators=(",", ":"))


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def month_forecast(ce: Any, made_on: date, start: date, tags: Mapping[str, str]) -> Forecast:
    """Daily forecast from `start` to the end of the month the forecast is made in (made_on's;
    exclusive end = first of next month); an empty frame and 0 requests when start is already
    past that month (on its last day, start = made_on + 1: nothing left to forecast)."""
    end = _next_month(made_on)
    if start >= end:
        return Forecast(pl.DataFrame(schema=FORECAST_SCHEMA), 0)
    answer = ce.get_cost_forecast(
        TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
        Metric="UNBLENDED_COST",
        Granularity="DAILY",
        PredictionIntervalLevel=80,
        Filter=tag_filter(tags),
    )
    rows = [_forecast_row(made_on, result) for result in answer.get("ForecastResultsByTime", [])]
    return Forecast(pl.DataFrame(rows, schema=FORECAST_SCHEMA), 1)


def _forecast_row(made_on: date, result: dict) -> dict:
    low = result.get("PredictionIntervalLowerBound")
    high = result.get("PredictionIntervalUpperBound")
    return {
        "made_on": made_on,
        "day": date.fromisoformat(result["TimePeriod"]["Start"]),
        "mean_usd": float(result["MeanValue"]),
        "low_usd": None if low is None else float(low),
        "high_usd": None if high is None else float(high),
    }
