"""The cost tables: each writer replaces exactly what it owns, and the per-day reading puts
estimates, actuals and the day-ahead forecast on the day AWS bills them."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from refill_assets.cost.estimate import SERVICE
from refill_assets.cost.explorer import FOCUS_SCHEMA, FORECAST_SCHEMA
from refill_assets.cost.ledger import (
    ACTUALS_TABLE,
    ESTIMATE_COLUMNS,
    ESTIMATES_TABLE,
    FORECASTS_TABLE,
    daily,
    day_totals,
    record_actuals,
    record_forecast,
    record_run,
)

D = date.fromisoformat
ECS = SERVICE["compute"]
SAGEMAKER = SERVICE["endpoint_compute"]
S3 = SERVICE["s3_requests"]
_POLARS = {"VARCHAR": pl.String, "DATE": pl.Date, "DOUBLE": pl.Float64}
ESTIMATE_SCHEMA = {c: _POLARS[t] for c, t in ESTIMATE_COLUMNS.items() if c != "service"}


def estimate(
    run_id: str,
    item: str,
    cost: float,
    ran_on: str = "2024-03-10",
    window: tuple[str, str] | None = None,
    asset: str = "features",
) -> dict:
    start, end = window or (ran_on, ran_on)
    return {
        "run_id": run_id, "job": "nightly", "ran_on": D(ran_on),
        "window_start": D(start), "window_end": D(end),
        "asset": asset, "item": item, "cost_usd": cost,
    }  # fmt: skip


def estimates(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=ESTIMATE_SCHEMA)


def actual(day: str, cost: float, service: str = ECS, estimated: bool = False) -> dict:
    d = D(day)
    return {
        "BillingPeriodStart": d.replace(day=1), "BillingPeriodEnd": None,
        "ChargePeriodStart": d, "ChargePeriodEnd": d + timedelta(days=1),
        "BilledCost": cost, "EffectiveCost": cost, "BillingCurrency": "USD",
        "ServiceName": service, "ResourceId": None, "Tags": "{}",
        "ConsumedQuantity": 1.0, "ConsumedUnit": None, "x_Estimated": estimated,
    }  # fmt: skip


def actuals(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=FOCUS_SCHEMA)


def forecast(made_on: str, day: str, mean: float) -> dict:
    return {"made_on": D(made_on), "day": D(day), "mean_usd": mean, "low_usd": None,
            "high_usd": None}  # fmt: skip


def forecasts(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=FORECAST_SCHEMA)


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


# record_run


def test_record_run_again_replaces_the_run_and_leaves_other_runs(con):
    record_run(
        con, "a", estimates(estimate("a", "compute", 1.0), estimate("a", "s3_requests", 0.2))
    )
    record_run(con, "b", estimates(estimate("b", "compute", 5.0)))
    record_run(con, "a", estimates(estimate("a", "compute", 1.5)))

    rows = _rows(con, f"SELECT run_id, item, cost_usd FROM {ESTIMATES_TABLE} ORDER BY run_id")
    assert rows == [("a", "compute", 1.5), ("b", "compute", 5.0)]


def test_record_run_same_rows_twice_gives_no_duplicates(con):
    rows = estimates(estimate("a", "compute", 1.0), estimate("a", "endpoint_data", 0.3))
    record_run(con, "a", rows)
    record_run(con, "a", rows)

    assert _rows(con, f"SELECT count(*) FROM {ESTIMATES_TABLE}") == [(2,)]


def test_record_run_fills_each_items_service_from_estimate_service(con):
    items = sorted(SERVICE)
    record_run(con, "a", estimates(*(estimate("a", item, 1.0) for item in items)))

    rows = _rows(con, f"SELECT item, service FROM {ESTIMATES_TABLE} ORDER BY item")
    assert rows == [(item, SERVICE[item]) for item in items]
    # the table knows the billed service names, not the item names
    assert dict(rows)["compute"] == "Amazon Elastic Container Service"


def test_record_run_item_without_service_raises_and_keeps_the_recorded_rows(con):
    record_run(con, "a", estimates(estimate("a", "compute", 1.0)))

    with pytest.raises(ValueError, match="gpu_hours"):
        record_run(
            con, "a", estimates(estimate("a", "compute", 9.0), estimate("a", "gpu_hours", 2.0))
        )

    assert _rows(con, f"SELECT item, cost_usd FROM {ESTIMATES_TABLE}") == [("compute", 1.0)]


# record_actuals / record_forecast


def test_record_actuals_replaces_the_charge_days_start_to_end_inclusive(con):
    days = [f"2024-03-0{d}" for d in range(1, 6)]
    record_actuals(con, actuals(*(actual(d, 1.0) for d in days)), D(days[0]), D(days[-1]))
    # Cost Explorer revised days 2..4: day 3 has no rows any more, 2 and 4 changed
    revised = actuals(actual("2024-03-02", 2.0), actual("2024-03-04", 4.0))
    record_actuals(con, revised, D("2024-03-02"), D("2024-03-04"))

    rows = _rows(
        con, f"SELECT ChargePeriodStart, BilledCost FROM {ACTUALS_TABLE} ORDER BY ChargePeriodStart"
    )
    assert rows == [
        (D("2024-03-01"), 1.0),
        (D("2024-03-02"), 2.0),
        (D("2024-03-04"), 4.0),
        (D("2024-03-05"), 1.0),
    ]


def test_record_actuals_same_pull_twice_gives_no_duplicates(con):
    pull = actuals(actual("2024-03-01", 1.0), actual("2024-03-01", 0.5, service=S3))
    record_actuals(con, pull, D("2024-03-01"), D("2024-03-01"))
    record_actuals(con, pull, D("2024-03-01"), D("2024-03-01"))

    assert _rows(con, f"SELECT sum(BilledCost), count(*) FROM {ACTUALS_TABLE}") == [(1.5, 2)]


def test_record_forecast_replaces_by_made_on(con):
    record_forecast(con, D("2024-03-01"), forecasts(forecast("2024-03-01", "2024-03-02", 1.0)))
    record_forecast(con, D("2024-03-02"), forecasts(forecast("2024-03-02", "2024-03-03", 2.0)))
    record_forecast(
        con,
        D("2024-03-01"),
        forecasts(
            forecast("2024-03-01", "2024-03-02", 1.5), forecast("2024-03-01", "2024-03-03", 1.6)
        ),
    )

    rows = _rows(con, f"SELECT made_on, day, mean_usd FROM {FORECASTS_TABLE} ORDER BY made_on, day")
    assert rows == [
        (D("2024-03-01"), D("2024-03-02"), 1.5),
        (D("2024-03-01"), D("2024-03-03"), 1.6),
        (D("2024-03-02"), D("2024-03-03"), 2.0),
    ]


# daily / day_totals


def test_daily_counts_a_run_on_its_ran_on_and_endpoint_items_over_its_window(con):
    # a backfill of March 1..5 that ran on March 10
    window = ("2024-03-01", "2024-03-05")
    record_run(
        con,
        "a",
        estimates(
            estimate("a", "compute", 1.0, window=window),
            estimate("a", "s3_requests", 0.25, window=window),
            estimate("a", "endpoint_compute", 2.0, window=window),
            estimate("a", "endpoint_data", 0.5, window=window),
        ),
    )

    got = daily(con, D("2024-03-01"), D("2024-03-31"))

    # the endpoint's $2.50 served the window's five days: $0.50 on each
    assert got.select("day", "service", "estimated_usd").rows() == [
        *((D(f"2024-03-0{d}"), SAGEMAKER, pytest.approx(0.5)) for d in range(1, 6)),
        (D("2024-03-10"), ECS, 1.0),
        (D("2024-03-10"), S3, 0.25),
    ]
    assert got["actual_usd"].is_null().all()


def test_daily_keeps_only_days_in_range(con):
    record_run(
        con,
        "a",
        estimates(estimate("a", "compute", 1.0, ran_on="2024-03-10")),
    )
    record_run(con, "b", estimates(estimate("b", "compute", 2.0, ran_on="2024-03-11")))

    assert daily(con, D("2024-03-11"), D("2024-03-11"))["estimated_usd"].to_list() == [2.0]


def test_daily_actual_per_service_and_provisional_when_any_row_is_estimated(con):
    record_actuals(
        con,
        actuals(
            actual("2024-03-02", 1.0, ECS),
            actual("2024-03-02", 0.5, ECS, estimated=True),
            actual("2024-03-02", 0.2, S3),
        ),
        D("2024-03-02"),
        D("2024-03-02"),
    )

    got = daily(con, D("2024-03-01"), D("2024-03-03"))

    assert got.select("service", "actual_usd", "provisional").rows() == [
        (ECS, 1.5, True),
        (S3, 0.2, False),
    ]
    assert got["estimated_usd"].is_null().all()


def test_day_totals_sums_actuals_over_services_and_separates_none_from_zero(con):
    record_actuals(
        con,
        actuals(
            actual("2024-03-01", 1.0, ECS),
            actual("2024-03-01", 0.25, S3),
            actual("2024-03-02", 0.0, ECS),
            actual("2024-03-02", 0.0, S3),
        ),
        D("2024-03-01"),
        D("2024-03-02"),
    )

    got = day_totals(con, D("2024-03-01"), D("2024-03-03"))

    assert got["day"].to_list() == [D("2024-03-01"), D("2024-03-02"), D("2024-03-03")]
    # day 2 was billed nothing; day 3 is not in yet
    assert got["actual_usd"].to_list() == [1.25, 0.0, None]


def test_day_totals_actual_null_on_a_day_with_only_an_estimate(con):
    record_run(con, "a", estimates(estimate("a", "compute", 3.0, ran_on="2024-03-02")))
    record_actuals(con, actuals(actual("2024-03-01", 1.0)), D("2024-03-01"), D("2024-03-01"))

    got = day_totals(con, D("2024-03-01"), D("2024-03-02"))

    assert got["actual_usd"].to_list() == [1.0, None]
    assert got["estimated_usd"][1] == 3.0


def test_day_totals_estimates_follow_the_billing_day_rule(con):
    window = ("2024-03-03", "2024-03-03")
    record_run(
        con,
        "a",
        estimates(
            estimate("a", "compute", 1.0, ran_on="2024-03-04", window=window),
            estimate("a", "endpoint_compute", 2.0, ran_on="2024-03-04", window=window, asset="x"),
        ),
    )
    record_run(con, "b", estimates(estimate("b", "compute", 0.5, ran_on="2024-03-04")))

    got = day_totals(con, D("2024-03-03"), D("2024-03-04"))

    assert got["estimated_usd"].to_list() == [2.0, 1.5]


def test_day_totals_forecast_is_the_latest_made_strictly_before_the_day(con):
    record_forecast(
        con,
        D("2024-03-01"),
        forecasts(
            forecast("2024-03-01", "2024-03-01", 100.0),  # made on the day: not day-ahead
            forecast("2024-03-01", "2024-03-02", 1.0),
            forecast("2024-03-01", "2024-03-03", 1.0),
            forecast("2024-03-01", "2024-03-04", 1.0),
        ),
    )
    record_forecast(
        con,
        D("2024-03-02"),
        forecasts(
            forecast("2024-03-02", "2024-03-02", 200.0),  # made on day 2: not for day 2
            forecast("2024-03-02", "2024-03-03", 2.0),
            forecast("2024-03-02", "2024-03-04", 2.0),
        ),
    )
    # made after day 3 and on day 4: used for neither
    record_forecast(
        con,
        D("2024-03-04"),
        forecasts(
            forecast("2024-03-04", "2024-03-03", 300.0), forecast("2024-03-04", "2024-03-04", 400.0)
        ),
    )

    got = day_totals(con, D("2024-03-01"), D("2024-03-04"))

    assert got["forecast_usd"].to_list() == [None, 1.0, 2.0, 2.0]


def test_day_totals_forecast_order_of_recording_does_not_matter(con):
    # the later forecast recorded first: made_on decides, not insertion order
    record_forecast(con, D("2024-03-03"), forecasts(forecast("2024-03-03", "2024-03-05", 3.0)))
    record_forecast(con, D("2024-03-01"), forecasts(forecast("2024-03-01", "2024-03-05", 1.0)))
    record_forecast(con, D("2024-03-02"), forecasts(forecast("2024-03-02", "2024-03-05", 2.0)))

    got = day_totals(con, D("2024-03-05"), D("2024-03-05"))

    assert got["forecast_usd"].to_list() == [3.0]


def test_day_totals_on_empty_tables_lists_every_day_without_figures(con):
    got = day_totals(con, D("2024-02-28"), D("2024-03-01"))

    assert got["day"].to_list() == [D("2024-02-28"), D("2024-02-29"), D("2024-03-01")]
    assert got["actual_usd"].is_null().all()
    assert got["forecast_usd"].is_null().all()
