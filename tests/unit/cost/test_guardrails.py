"""Month-to-date spend against its day-ahead forecast, and the forecast's 30-day variance:
only days with both an actual and a forecast made before them are compared."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from refill_assets.cost.estimate import SERVICE
from refill_assets.cost.explorer import FOCUS_SCHEMA, FORECAST_SCHEMA
from refill_assets.cost.guardrails import SPIKE_FACTOR, month_to_date, variance
from refill_assets.cost.ledger import record_actuals, record_forecast

D = date.fromisoformat
ECS = SERVICE["compute"]
S3 = SERVICE["s3_requests"]


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def days(first: str, last: str) -> list[date]:
    start, end = D(first), D(last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def put_actuals(con, by_day: dict[date, float], *more: tuple[dict[date, float], str]) -> None:
    """Record ECS actuals ``by_day`` (and ``more``: by_day, service) as one pull."""
    rows = [
        {
            "BillingPeriodStart": d.replace(day=1),
            "BillingPeriodEnd": None,
            "ChargePeriodStart": d,
            "ChargePeriodEnd": d + timedelta(days=1),
            "BilledCost": usd,
            "EffectiveCost": usd,
            "BillingCurrency": "USD",
            "ServiceName": service,
            "ResourceId": None,
            "Tags": "{}",
            "ConsumedQuantity": 1.0,
            "ConsumedUnit": None,
            "x_Estimated": False,
        }  # fmt: skip
        for group, service in [(by_day, ECS), *more]
        for d, usd in group.items()
    ]
    charged = [row["ChargePeriodStart"] for row in rows]
    record_actuals(con, pl.DataFrame(rows, schema=FOCUS_SCHEMA), min(charged), max(charged))


def put_day_ahead(con, by_day: dict[date, float]) -> None:
    """Each day's forecast made the day before it."""
    for d, usd in by_day.items():
        made_on = d - timedelta(days=1)
        row = {"made_on": made_on, "day": d, "mean_usd": usd, "low_usd": None, "high_usd": None}
        record_forecast(con, made_on, pl.DataFrame([row], schema=FORECAST_SCHEMA))


# month_to_date


def test_month_to_date_compares_only_days_with_an_actual_and_a_day_ahead_forecast(con):
    # March 1 has an actual but no forecast made before it; March 10's actual is not in yet
    put_actuals(con, dict.fromkeys(days("2024-03-01", "2024-03-09"), 1.0) | {D("2024-03-01"): 50.0})
    put_day_ahead(con, dict.fromkeys(days("2024-03-02", "2024-03-10"), 1.0))

    verdict = month_to_date(con, D("2024-03-10"))

    c = verdict.compared
    assert (c.start, c.end) == (D("2024-03-01"), D("2024-03-10"))
    assert c.days == 8
    assert c.skipped == 2
    assert c.actual_usd == pytest.approx(8.0)
    assert c.forecast_usd == pytest.approx(8.0)
    assert verdict.passed
    assert "2 day(s) not comparable yet" in verdict.message


def test_month_to_date_sums_actuals_over_services(con):
    put_actuals(con, {D("2024-03-02"): 1.5}, ({D("2024-03-02"): 0.5}, S3))
    put_day_ahead(con, {D("2024-03-02"): 1.0})

    verdict = month_to_date(con, D("2024-03-02"))

    assert verdict.compared.actual_usd == pytest.approx(2.0)
    assert verdict.compared.ratio == pytest.approx(2.0)


def test_month_to_date_passes_at_exactly_twice_the_forecast(con):
    put_actuals(con, dict.fromkeys(days("2024-03-02", "2024-03-05"), 2.0))
    put_day_ahead(con, dict.fromkeys(days("2024-03-02", "2024-03-05"), 1.0))

    verdict = month_to_date(con, D("2024-03-05"))

    assert SPIKE_FACTOR == 2.0
    assert verdict.compared.ratio == 2.0
    assert verdict.judged
    assert verdict.passed
    assert "2.00x" in verdict.message
    assert "within" in verdict.message
    assert "2024-03" in verdict.message


def test_month_to_date_fails_above_twice_the_forecast(con):
    put_actuals(con, {D("2024-03-02"): 2.0, D("2024-03-03"): 3.0})
    put_day_ahead(con, {D("2024-03-02"): 1.0, D("2024-03-03"): 1.0})

    verdict = month_to_date(con, D("2024-03-03"))

    assert not verdict.passed
    assert "2.50x" in verdict.message
    assert "ABOVE" in verdict.message
    assert "2024-03" in verdict.message
    assert "over 2 day(s)" in verdict.message


def test_month_to_date_just_above_twice_fails(con):
    put_actuals(con, {D("2024-03-02"): 2.02})
    put_day_ahead(con, {D("2024-03-02"): 1.0})

    assert not month_to_date(con, D("2024-03-02")).passed


def test_month_to_date_without_a_comparable_day_is_not_judged_and_passes(con):
    # an actual without a forecast, and a forecast without an actual
    put_actuals(con, {D("2024-03-01"): 100.0})
    put_day_ahead(con, {D("2024-03-02"): 1.0})

    verdict = month_to_date(con, D("2024-03-02"))

    assert verdict.compared.days == 0
    assert verdict.compared.skipped == 2
    assert not verdict.judged
    assert verdict.passed
    assert "not judged" in verdict.message
    assert "2024-03" in verdict.message


def test_month_to_date_on_empty_tables_is_not_judged(con):
    verdict = month_to_date(con, D("2024-03-15"))

    assert not verdict.judged
    assert verdict.passed
    assert verdict.compared.skipped == 15


def test_month_to_date_ignores_the_previous_month(con):
    # February was far above its forecast; March is on plan
    put_actuals(con, dict.fromkeys(days("2024-02-20", "2024-02-29"), 100.0))
    put_day_ahead(con, dict.fromkeys(days("2024-02-20", "2024-02-29"), 1.0))
    put_actuals(con, dict.fromkeys(days("2024-03-01", "2024-03-03"), 1.0))
    put_day_ahead(con, dict.fromkeys(days("2024-03-01", "2024-03-03"), 1.0))

    verdict = month_to_date(con, D("2024-03-03"))

    assert verdict.compared.start == D("2024-03-01")
    assert verdict.compared.days == 3
    assert verdict.compared.actual_usd == pytest.approx(3.0)
    assert verdict.passed


# variance


def test_variance_of_a_ten_percent_over_forecast_is_0_1(con):
    april = days("2024-04-01", "2024-04-30")
    put_actuals(con, dict.fromkeys(april, 10.0))
    put_day_ahead(con, dict.fromkeys(april, 11.0))

    got = variance(con, D("2024-04-30"))

    assert (got.start, got.end) == (D("2024-04-01"), D("2024-04-30"))
    assert got.days == 30
    assert got.skipped == 0
    assert got.variance == pytest.approx(0.1)


def test_variance_of_an_under_forecast_is_positive(con):
    put_actuals(con, {D("2024-04-10"): 10.0})
    put_day_ahead(con, {D("2024-04-10"): 8.0})

    assert variance(con, D("2024-04-10")).variance == pytest.approx(0.2)


def test_variance_ignores_days_outside_the_30_day_window(con):
    april = days("2024-04-01", "2024-04-30")
    put_actuals(con, dict.fromkeys(april, 10.0))
    put_day_ahead(con, dict.fromkeys(april, 11.0))
    # March 31 is the 31st day back from April 30; May 1 is after it
    put_actuals(con, {D("2024-03-31"): 1.0})
    put_actuals(con, {D("2024-05-01"): 1.0})
    put_day_ahead(con, {D("2024-03-31"): 500.0, D("2024-05-01"): 500.0})

    got = variance(con, D("2024-04-30"))

    assert got.days == 30
    assert got.actual_usd == pytest.approx(300.0)
    assert got.variance == pytest.approx(0.1)


def test_variance_compares_only_days_with_both_figures(con):
    put_actuals(con, {D("2024-04-01"): 10.0, D("2024-04-02"): 999.0})
    put_day_ahead(con, {D("2024-04-01"): 11.0, D("2024-04-03"): 999.0})

    got = variance(con, D("2024-04-30"))

    assert got.days == 1
    assert got.skipped == 29
    assert got.variance == pytest.approx(0.1)


def test_variance_is_none_when_the_actual_sum_is_zero(con):
    put_actuals(con, dict.fromkeys(days("2024-04-01", "2024-04-03"), 0.0))
    put_day_ahead(con, dict.fromkeys(days("2024-04-01", "2024-04-03"), 5.0))

    got = variance(con, D("2024-04-03"))

    assert got.days == 3  # a day billed 0.0 has an actual: it is compared
    assert got.variance is None


def test_variance_is_none_without_a_compared_day(con):
    assert variance(con, D("2024-04-30")).variance is None
