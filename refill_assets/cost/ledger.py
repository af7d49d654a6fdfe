"""The cost tables of the warehouse (schema ``cost``): estimates, actuals, forecasts.

- ``cost.estimates``: one row per run, asset and priced item: what the meter recorded on the
  run's materializations (``estimate``), with the day the run ran (``ran_on``, the day AWS
  bills it) and the delivery days it processed (``window_start``..``window_end``, the days
  its cost serves: unit economics spread a run over them).
- ``cost.actuals``: Cost Explorer's daily actuals as FOCUS columns (``explorer``), replaced
  by charge day: Cost Explorer revises its recent days, so each pull replaces them.
- ``cost.forecasts``: each day's forecast of the rest of the month, by the day it was made.

Each writer replaces exactly what it owns in one transaction: re-running a night or a
partition gives the same tables.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from refill_assets.cost.estimate import SERVICE
from refill_assets.cost.explorer import FOCUS_SCHEMA, FORECAST_SCHEMA
from refill_assets.storage.warehouse import ensure_table, replace_rows, replace_window

ESTIMATES_TABLE = "cost.estimates"
ACTUALS_TABLE = "cost.actuals"
FORECASTS_TABLE = "cost.forecasts"
ESTIMATE_COLUMNS = {
    "run_id": "VARCHAR", "job": "VARCHAR", "ran_on": "DATE",
    "window_start": "DATE", "window_end": "DATE",
    "asset": "VARCHAR", "item": "VARCHAR", "service": "VARCHAR", "cost_usd": "DOUBLE",
}  # fmt: skip
# items billed on the day of the usage the run measured, not the day the run ran
USAGE_DAY_ITEMS = ("endpoint_compute", "endpoint_data")
_SQL = {pl.Date: "DATE", pl.Float64: "DOUBLE", pl.Utf8: "VARCHAR", pl.Boolean: "BOOLEAN"}
ACTUAL_COLUMNS = {name: _SQL[kind.base_type()] for name, kind in FOCUS_SCHEMA.items()}
FORECAST_COLUMNS = {name: _SQL[kind.base_type()] for name, kind in FORECAST_SCHEMA.items()}


def record_run(con: duckdb.DuckDBPyConnection, run_id: str, rows: pl.DataFrame) -> None:
    """Replace the run's estimate rows (``ESTIMATE_COLUMNS``; item -> service added)."""
    unknown = set(rows["item"].unique()) - set(SERVICE)
    if unknown:
        raise ValueError(f"estimate items without a service: {sorted(unknown)}")
    rows = rows.with_columns(service=pl.col("item").replace_strict(SERVICE))
    ensure_table(con, ESTIMATES_TABLE, ESTIMATE_COLUMNS)
    replace_rows(con, ESTIMATES_TABLE, "run_id = ?", [run_id], rows.select(*ESTIMATE_COLUMNS))


def record_actuals(con: duckdb.DuckDBPyConnection, focus: pl.DataFrame, start: date, end: date):
    """Replace the charge days ``start``..``end`` (inclusive) with ``focus``'s rows."""
    replace_window(con, ACTUALS_TABLE, ACTUAL_COLUMNS, "ChargePeriodStart", start, end, focus)


def record_forecast(con: duckdb.DuckDBPyConnection, made_on: date, daily: pl.DataFrame):
    ensure_table(con, FORECASTS_TABLE, FORECAST_COLUMNS)
    replace_rows(con, FORECASTS_TABLE, "made_on = ?", [made_on], daily)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The three tables, empty when nothing was recorded yet: readers need no special case."""
    ensure_table(con, ESTIMATES_TABLE, ESTIMATE_COLUMNS)
    ensure_table(con, ACTUALS_TABLE, ACTUAL_COLUMNS)
    ensure_table(con, FORECASTS_TABLE, FORECAST_COLUMNS)


# per day: the estimate, the actual and the forecast made before it. A run's compute is
# billed the day it ran; the endpoint's usage on the days it served (the cost job's window,
# spread evenly over a backfill's days)
DAILY_SQL = f"""
with estimated as (
    select day, service, sum(cost_usd) as estimated_usd from (
        select ran_on as day, service, cost_usd
        from {ESTIMATES_TABLE} where item not in {tuple(USAGE_DAY_ITEMS)}
        union all
        select t.day::date as day, service,
            cost_usd / (datediff('day', window_start, window_end) + 1) as cost_usd
        from {ESTIMATES_TABLE},
            unnest(generate_series(window_start, window_end, interval 1 day)) as t(day)
        where item in {tuple(USAGE_DAY_ITEMS)}
    ) group by all
),
actual as (
    select ChargePeriodStart as day, ServiceName as service, sum(BilledCost) as actual_usd,
        bool_or(x_Estimated) as provisional
    from {ACTUALS_TABLE} group by all
)
select day, service, estimated_usd, actual_usd, coalesce(provisional, false) as provisional
from estimated full join actual using (day, service)
where day between $start and $end
order by day, service
"""

# the forecast of each day: the latest one made before the day (a day-ahead forecast)
FORECAST_OF_DAY_SQL = f"""
select day, arg_max(mean_usd, made_on) as forecast_usd
from {FORECASTS_TABLE}
where made_on < day and day between $start and $end
group by day
"""


def daily(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.DataFrame:
    """Per day and service in ``start``..``end``: estimated and actual USD (null: none)."""
    ensure_tables(con)
    return con.execute(DAILY_SQL, {"start": start, "end": end}).pl()


def day_totals(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.DataFrame:
    """Per day in ``start``..``end``: actual, estimated and day-ahead forecast USD."""
    ensure_tables(con)
    params = {"start": start, "end": end}
    by_service = con.execute(DAILY_SQL, params).pl()
    totals = by_service.group_by("day").agg(
        pl.col("actual_usd").sum().alias("actual_usd"),
        pl.col("actual_usd").is_not_null().any().alias("has_actual"),
        pl.col("estimated_usd").sum().alias("estimated_usd"),
    )
    forecast = con.execute(FORECAST_OF_DAY_SQL, params).pl()
    days = pl.DataFrame({"day": pl.date_range(start, end, eager=True)})
    return (
        days.join(totals, on="day", how="left")
        .join(forecast, on="day", how="left")
        .with_columns(
            pl.when(pl.col("has_actual")).then(pl.col("actual_usd")).alias("actual_usd"),
            pl.col("estimated_usd").fill_null(0.0),
        )
        .drop("has_actual")
        .sort("day")
    )
