"""The monitoring report's cost section: unit economics, and estimated against actual spend.

Reads ``monitoring.unit_economics`` (``economics``) and the cost tables (``cost.ledger``): the
last 30 days of spend up to the newest day with a cost recorded, and the forecast's variance
over them beside the plan's < 20 % target. Money is shown in significant digits: a night of
a small pharmacy costs cents, and 0.000 would hide it.
"""

from __future__ import annotations

import duckdb
import plotly.express as px
import polars as pl

from refill_assets.cost.estimate import money
from refill_assets.cost.guardrails import VARIANCE_TARGET, Compared, variance
from refill_assets.cost.ledger import ACTUALS_TABLE, ESTIMATES_TABLE, day_totals, ensure_tables
from refill_assets.monitoring.economics import ECONOMICS_TABLE
from refill_assets.reports.page import Section


def spend(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame | None, Compared | None]:
    """The last 30 days of spend by day (estimated, actual, forecast) and the forecast's
    variance over them, up to the latest day with a cost recorded (None: none yet)."""
    ensure_tables(con)
    last = con.execute(
        f"SELECT max(d) FROM (SELECT max(ran_on) AS d FROM {ESTIMATES_TABLE} "
        f"UNION ALL SELECT max(ChargePeriodStart) FROM {ACTUALS_TABLE})"
    ).fetchone()[0]
    if last is None:
        return None, None
    compared = variance(con, last)
    return day_totals(con, compared.start, compared.end), compared


def section(
    economics: pl.DataFrame | None, days: pl.DataFrame | None, compared: Compared | None
) -> Section:
    title = "Cost and unit economics"
    if economics is None or economics.is_empty():
        return Section(
            title, f"{ECONOMICS_TABLE} has no rows yet (no monitoring run has written it)."
        )
    shown = economics.with_columns(
        cost_per_1000_predictions=pl.col("cost_per_prediction") * 1000
    ).drop("cost_per_prediction")
    text = (
        "Estimated cost (each step's run time at the compute price, the endpoint's GB-seconds "
        "and payload, requests; cost/prices.csv) per period of delivery days, per 1,000 "
        "scores, per refill captured inside the outreach window by the treated arm; and, when "
        "REFILL_MARGIN_PER_REFILL_USD is set, the refills the outreach added over control "
        "times that margin, per cloud dollar. "
    )
    if compared is None or days is None or days["actual_usd"].is_null().all():
        text += (
            "No actual spend yet: the cost_daily job pulls it from Cost Explorer where the "
            "platform runs on AWS with its tags activated for cost allocation."
        )
        return Section(title, text, tables=[_significant(shown)])
    v = compared.variance
    text += (
        f"Forecast vs actual over {compared.days} comparable day(s) to {compared.end}: "
        f"variance {'n/a' if v is None else f'{v:.1%}'} (target < {VARIANCE_TARGET:.0%})."
    )
    long = days.unpivot(index="day", on=["estimated_usd", "actual_usd", "forecast_usd"])
    figure = px.line(
        long, x="day", y="value", color="variable", markers=True,
        title="Daily spend: estimated, actual (Cost Explorer), forecast a day ahead",
    )  # fmt: skip
    return Section(title, text, figures=[figure], tables=[_significant(shown)])


def _significant(frame: pl.DataFrame) -> pl.DataFrame:
    """Money in a few significant digits: a cent per thousand predictions is not 0.000."""
    return frame.with_columns(pl.col(pl.Float64).map_elements(money, return_dtype=pl.String))


def headline(economics: pl.DataFrame | None, compared: Compared | None) -> dict:
    pooled = None if economics is None else economics.filter(period="all")
    out = {}
    for column in ("cost_usd", "cost_per_prediction", "cost_per_captured_refill",
                   "benefit_per_cloud_usd"):  # fmt: skip
        value = pooled[column][0] if pooled is not None and pooled.height else None
        out[f"{column}_all"] = value
    per = out.pop("cost_per_prediction_all")
    out["cost_per_1000_predictions_all"] = None if per is None else per * 1000
    out["forecast_variance_30d"] = None if compared is None else compared.variance
    return out
