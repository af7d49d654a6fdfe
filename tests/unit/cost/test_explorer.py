"""Cost Explorer actuals and forecast through real boto3 against moto in server mode.

moto serves ``GetCostAndUsage`` from results queued on its ``/moto-api/static/ce/...`` route:
each queued result goes to the first request body it has not seen yet, and that body gets it
again on a repeat (any other new body gets the next one, or an empty answer once the queue is
drained). moto thus does not check the filter nor the group-by: the tests read the bodies the
server got (its backend, in this process) to check them. ``GetCostForecast`` is a test-only
patch (``tests/support/moto_cost.py``).
"""

from __future__ import annotations

import json
import urllib.request
from datetime import date

import boto3
import polars as pl
import pytest
from moto.ce.models import ce_backends
from moto.ce.responses import CostExplorerResponse
from moto.core import DEFAULT_ACCOUNT_ID
from polars.testing import assert_frame_equal

from refill_assets.cost.explorer import (
    FOCUS_SCHEMA,
    FORECAST_SCHEMA,
    cost_and_usage,
    month_forecast,
    tag_filter,
)
from tests.support import moto_cost

TAGS = {"CostCenter": "refill", "Env": "prod", "Owner": "not-in-the-filter"}
FILTER = {
    "And": [
        {"Tags": {"Key": "CostCenter", "Values": ["refill"], "MatchOptions": ["EQUALS"]}},
        {"Tags": {"Key": "Env", "Values": ["prod"], "MatchOptions": ["EQUALS"]}},
    ]
}
SAGEMAKER = "Amazon SageMaker"
S3 = "Amazon Simple Storage Service"


@pytest.fixture
def ce(endpoint, s3):
    """A Cost Explorer client that reaches only moto, on a reset server (no leftover queue)."""
    _post(f"{endpoint}/moto-api/reset", {})
    return boto3.client("ce", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def forecasts(ce, monkeypatch):
    monkeypatch.setattr(
        CostExplorerResponse, "get_cost_forecast", moto_cost.get_cost_forecast, raising=False
    )
    moto_cost.reset()
    yield moto_cost
    moto_cost.reset()


def _post(url: str, body: dict) -> None:
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def _queue(ce, *results: dict) -> None:
    """Queue GetCostAndUsage answers on moto, in the order the requests will take them."""
    url = f"{ce.meta.endpoint_url}/moto-api/static/ce/cost-and-usage-results"
    _post(url, {"results": list(results)})


def _sent() -> list[dict]:
    """The GetCostAndUsage bodies moto got, in order (its backend keys results by body)."""
    return [json.loads(body) for body in ce_backends[DEFAULT_ACCOUNT_ID]["aws"].cost_usage_results]


def _metrics(unblended: str, amortized: str, usage: str, unit: str, currency="USD") -> dict:
    return {
        "UnblendedCost": {"Amount": unblended, "Unit": currency},
        "AmortizedCost": {"Amount": amortized, "Unit": currency},
        "UsageQuantity": {"Amount": usage, "Unit": unit},
    }


def _day(day: str, end: str, groups: list[dict], estimated: bool = False) -> dict:
    return {
        "TimePeriod": {"Start": day, "End": end},
        "Total": {},
        "Groups": groups,
        "Estimated": estimated,
    }


GROUP_DEFINITIONS = [{"Type": "TAG", "Key": "Model"}, {"Type": "DIMENSION", "Key": "SERVICE"}]
# two pages across a month's end; the second day is still being estimated
PAGE_1 = {
    "GroupDefinitions": GROUP_DEFINITIONS,
    "ResultsByTime": [
        _day(
            "2025-03-31",
            "2025-04-01",
            [
                {
                    "Keys": ["Model$refill_next_refill", SAGEMAKER],
                    "Metrics": _metrics("1.2345", "1.5", "3.25", "N/A"),
                },
                {"Keys": ["Model$", S3], "Metrics": _metrics("0.0023", "0.0023", "0.1", "GB-Mo")},
            ],
        )
    ],
    "DimensionValueAttributes": [],
    "NextPageToken": "page-2",
}
PAGE_2 = {
    "GroupDefinitions": GROUP_DEFINITIONS,
    "ResultsByTime": [
        _day(
            "2025-04-01",
            "2025-04-02",
            [
                {
                    "Keys": ["Model$refill_next_refill", SAGEMAKER],
                    "Metrics": _metrics("0.5", "0.75", "1", "Hrs"),
                },
                {"Keys": ["Model$", S3], "Metrics": _metrics("0", "0", "0", "GB-Mo")},
            ],
            estimated=True,
        )
    ],
    "DimensionValueAttributes": [],
}
MODEL = '{"CostCenter":"refill","Env":"prod","Model":"refill_next_refill"}'
UNTAGGED = '{"CostCenter":"refill","Env":"prod"}'
MARCH, APRIL, MAY = date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)
EXPECTED = [
    (MARCH, APRIL, date(2025, 3, 31), APRIL, 1.2345, 1.5, "USD", SAGEMAKER, None, MODEL)
    + (3.25, None, False),
    (MARCH, APRIL, date(2025, 3, 31), APRIL, 0.0023, 0.0023, "USD", S3, None, UNTAGGED)
    + (0.1, "GB-Mo", False),
    (APRIL, MAY, APRIL, date(2025, 4, 2), 0.5, 0.75, "USD", SAGEMAKER, None, MODEL)
    + (1.0, "Hrs", True),
    (APRIL, MAY, APRIL, date(2025, 4, 2), 0.0, 0.0, "USD", S3, None, UNTAGGED)
    + (0.0, "GB-Mo", True),
]


def _two_pages(ce):
    _queue(ce, PAGE_1, PAGE_2)
    return cost_and_usage(ce, date(2025, 3, 31), date(2025, 4, 2), TAGS)


def test_actuals_follow_the_pages_into_focus_rows(ce):
    actuals = _two_pages(ce)
    expected = pl.DataFrame(EXPECTED, schema=FOCUS_SCHEMA, orient="row")
    assert_frame_equal(actuals.focus, expected)
    assert actuals.requests == 2


def test_actuals_request_filters_on_the_platform_tags_and_groups_by_model_and_service(ce):
    """moto would answer a wrong filter or group-by all the same: the bodies are the check."""
    _two_pages(ce)
    first = {
        "TimePeriod": {"Start": "2025-03-31", "End": "2025-04-02"},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost", "AmortizedCost", "UsageQuantity"],
        "GroupBy": GROUP_DEFINITIONS,
        "Filter": FILTER,
    }
    assert _sent() == [first, {**first, "NextPageToken": "page-2"}]


def test_moto_gives_a_queued_answer_to_the_first_new_body_and_again_to_that_body_only(ce):
    """How the queue is matched: a repeat of a request gets its answer again, a request with
    another filter (once the queue is drained) gets nothing."""
    first = _two_pages(ce)
    again = cost_and_usage(ce, date(2025, 3, 31), date(2025, 4, 2), TAGS)
    assert_frame_equal(again.focus, first.focus)
    other = cost_and_usage(ce, date(2025, 3, 31), date(2025, 4, 2), {**TAGS, "Env": "dev"})
    assert other.focus.is_empty()
    assert other.requests == 1


def test_a_missing_metric_raises_naming_the_day_and_group(ce):
    group = {
        "Keys": ["Model$refill_next_refill", SAGEMAKER],
        "Metrics": _metrics("1", "1", "1", "Hrs"),
    }
    del group["Metrics"]["AmortizedCost"]
    _queue(ce, {"ResultsByTime": [_day("2025-03-31", "2025-04-01", [group])]})
    with pytest.raises(
        ValueError, match=r"AmortizedCost for 2025-03-31, group .*refill_next_refill"
    ):
        cost_and_usage(ce, date(2025, 3, 31), date(2025, 4, 1), TAGS)


def test_a_currency_other_than_usd_is_kept(ce):
    group = {"Keys": ["Model$m", SAGEMAKER], "Metrics": _metrics("2", "2", "1", "Hrs", "EUR")}
    _queue(ce, {"ResultsByTime": [_day("2025-03-31", "2025-04-01", [group])]})
    focus = cost_and_usage(ce, date(2025, 3, 31), date(2025, 4, 1), TAGS).focus
    assert focus.select("BilledCost", "BillingCurrency").rows() == [(2.0, "EUR")]


def test_a_day_without_groups_gives_no_rows_and_the_schema(ce):
    _queue(ce, {"ResultsByTime": [_day("2025-03-31", "2025-04-01", [])]})
    actuals = cost_and_usage(ce, date(2025, 3, 31), date(2025, 4, 1), TAGS)
    assert actuals.focus.is_empty()
    assert actuals.focus.schema == pl.Schema(FOCUS_SCHEMA)
    assert actuals.requests == 1


def test_an_empty_answer_gives_the_schema(ce):
    actuals = cost_and_usage(ce, date(2025, 3, 31), date(2025, 4, 1), TAGS)  # nothing queued
    assert actuals.focus.is_empty()
    assert actuals.focus.schema == pl.Schema(FOCUS_SCHEMA)


def test_a_single_tag_key_filter_is_the_bare_expression():
    assert tag_filter({"Env": "prod"}, ("Env",)) == FILTER["And"][1]
    assert tag_filter(TAGS) == FILTER


def test_month_forecast_asks_to_the_month_end_and_maps_the_days(ce, forecasts):
    forecasts.queue_forecast(
        {
            "Total": {"Amount": "3.5", "Unit": "USD"},
            "ForecastResultsByTime": [
                {
                    "TimePeriod": {"Start": "2025-03-30", "End": "2025-03-31"},
                    "MeanValue": "1.5",
                    "PredictionIntervalLowerBound": "1.0",
                    "PredictionIntervalUpperBound": "2.25",
                },
                {"TimePeriod": {"Start": "2025-03-31", "End": "2025-04-01"}, "MeanValue": "2"},
            ],
        }
    )
    made_on = date(2025, 3, 29)
    forecast = month_forecast(ce, made_on, date(2025, 3, 30), TAGS)
    expected = pl.DataFrame(
        [
            (made_on, date(2025, 3, 30), 1.5, 1.0, 2.25),
            (made_on, date(2025, 3, 31), 2.0, None, None),
        ],
        schema=FORECAST_SCHEMA,
        orient="row",
    )
    assert_frame_equal(forecast.daily, expected)
    assert forecast.requests == 1
    assert forecasts.REQUESTS == [
        {
            "TimePeriod": {"Start": "2025-03-30", "End": "2025-04-01"},
            "Metric": "UNBLENDED_COST",
            "Granularity": "DAILY",
            "PredictionIntervalLevel": 80,
            "Filter": FILTER,
        }
    ]


def test_month_forecast_past_the_months_last_day_is_empty_without_a_request(ce, forecasts):
    forecast = month_forecast(ce, date(2025, 3, 31), date(2025, 4, 1), TAGS)
    assert forecast.daily.is_empty()
    assert forecast.daily.schema == pl.Schema(FORECAST_SCHEMA)
    assert forecast.requests == 0
    assert forecasts.REQUESTS == []
