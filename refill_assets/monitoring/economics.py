"""Unit economics of the pilot: what the platform costs per prediction and per refill it
helped capture, and what that refill is worth when a margin is configured.

Per period ('YYYY-MM' of the delivery day, and 'all'), from ``cost.estimates`` (each run's
estimate spread evenly over the delivery days it processed: a night is its day, a backfill
its window) plus the current run's estimate so far (not in the ledger until the run ends):

- ``cost_per_prediction``: cost / scores made (rows of ``scores.rx_refill_scores``);
- ``cost_per_captured_refill``: cost / refills of the treated arm inside the outreach window
  (``pilot_kpis`` capture_in_window: the treated share x its units);
- ``benefit_per_cloud_usd``: the refills the outreach added over control (the difference in
  capture x the treated units) x the margin per refill, over the cost. Only the lift counts
  as benefit: a refill the owner would have made anyway is not the platform's.

Estimates, not the bill: ``cost.actuals`` holds what AWS charged, by day and service.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import duckdb
import polars as pl

from refill_assets.cost.ledger import ESTIMATES_TABLE, ensure_tables
from refill_assets.scoring.scores import SCORES_TABLE
from refill_assets.storage.warehouse import ensure_table, replace_rows

ECONOMICS_TABLE = "monitoring.unit_economics"
COLUMNS = {
    "period": pl.String,
    "cost_usd": pl.Float64,
    "predictions": pl.Int64,
    "cost_per_prediction": pl.Float64,
    "refills_captured": pl.Float64,
    "cost_per_captured_refill": pl.Float64,
    "incremental_refills": pl.Float64,
    "benefit_usd": pl.Float64,
    "benefit_per_cloud_usd": pl.Float64,
}

# each run's cost spread over its window's days, then summed per month
_COST_SQL = """
with runs as (
    select run_id, window_start, window_end, sum(cost_usd) as cost_usd
    from estimates group by all
)
select strftime(day, '%Y-%m') as period,
    sum(cost_usd / (datediff('day', window_start, window_end) + 1)) as cost_usd
from runs, unnest(generate_series(window_start, window_end, interval 1 day)) as t(day)
group by all
"""


def cost_by_period(
    con: duckdb.DuckDBPyConnection, pending: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per period: estimated cost, predictions and cost per prediction. ``pending``: rows of
    ``cost.estimates`` not recorded yet (the current run's); they replace any recorded rows
    of the same run."""
    ensure_tables(con)
    estimates = con.execute(f"SELECT * FROM {ESTIMATES_TABLE}").pl()
    if pending is not None and pending.height:
        recorded = estimates.filter(~pl.col("run_id").is_in(pending["run_id"].unique().to_list()))
        # the meter's rows (``ledger_rows``) have no service yet (``record_run`` adds it): keep
        # the columns the cost needs
        needed = ["run_id", "window_start", "window_end", "cost_usd"]
        estimates = pl.concat(
            [recorded.select(needed), pending.select(needed)], how="vertical_relaxed"
        )
    con.register("estimates", estimates)
    try:
        cost = con.execute(_COST_SQL).pl()
    finally:
        con.unregister("estimates")
    predictions = con.execute(
        f"SELECT strftime(as_of_date, '%Y-%m') AS period, count(*) AS predictions "
        f"FROM {SCORES_TABLE} GROUP BY ALL"
    ).pl()
    monthly = cost.join(predictions, on="period", how="full", coalesce=True)
    pooled = monthly.select(pl.lit("all").alias("period"), pl.col("cost_usd", "predictions").sum())
    return (
        pl.concat([monthly, pooled], how="vertical_relaxed")
        .with_columns(pl.col("cost_usd").fill_null(0.0), pl.col("predictions").fill_null(0))
        .with_columns(cost_per_prediction=_per("predictions"))
    )


def unit_economics(
    costs: pl.DataFrame, kpis: pl.DataFrame | None, margin_usd: float | None
) -> pl.DataFrame:
    """The table of the module doc, from ``cost_by_period`` and the pilot's KPI rows."""
    captured = pl.DataFrame(
        schema={
            "period": pl.String,
            "refills_captured": pl.Float64,
            "incremental_refills": pl.Float64,
        }
    )
    if kpis is not None and kpis.height:
        captured = kpis.filter(pl.col("kpi") == "capture_in_window").select(
            "period",
            refills_captured=pl.col("treated") * pl.col("treated_units"),
            incremental_refills=pl.col("difference") * pl.col("treated_units"),
        )
    table = costs.join(captured, on="period", how="left").with_columns(
        cost_per_captured_refill=_per("refills_captured"),
        benefit_usd=pl.col("incremental_refills") * pl.lit(margin_usd, pl.Float64),
    )
    table = table.with_columns(
        benefit_per_cloud_usd=pl.when(pl.col("cost_usd") > 0).then(
            pl.col("benefit_usd") / pl.col("cost_usd")
        )
    )
    return table.select(pl.col(c).cast(t) for c, t in COLUMNS.items()).sort(
        pl.col("period") == "all", "period"
    )


def margin_per_refill(env: Mapping[str, str]) -> float | None:
    """REFILL_MARGIN_PER_REFILL_USD: a refill's margin in USD (unset: no benefit figure)."""
    given = env.get("REFILL_MARGIN_PER_REFILL_USD")
    if not given:
        return None
    try:
        margin = float(given)
    except ValueError:
        margin = float("nan")
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"REFILL_MARGIN_PER_REFILL_USD must be a number >= 0, got {given!r}")
    return margin


def write_economics(con: duckdb.DuckDBPyConnection, table: pl.DataFrame) -> None:
    """Replace ``ECONOMICS_TABLE`` whole (a few rows, recomputed each night)."""
    sql = {pl.String: "VARCHAR", pl.Float64: "DOUBLE", pl.Int64: "BIGINT"}
    ensure_table(con, ECONOMICS_TABLE, {c: sql[t] for c, t in COLUMNS.items()})
    replace_rows(con, ECONOMICS_TABLE, "true", [], table)


def _per(count: str) -> pl.Expr:
    return pl.when(pl.col(count) > 0).then(pl.col("cost_usd") / pl.col(count))
