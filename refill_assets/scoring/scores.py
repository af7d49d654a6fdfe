"""Nightly scores: the champion's predictions for every active maintenance prescription.

``score_day`` turns the feature rows of one as-of day and a model's predictions
into rows of the contract's ``scores.rx_refill_scores``; ``replace_days`` writes
a window of days in one transaction, so re-running a day replaces it exactly.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from refill_assets.storage.warehouse import replace_rows

SCORES_TABLE = "scores.rx_refill_scores"
COLUMNS = {
    "as_of_date": "DATE",
    "rx_id": "VARCHAR",
    "pet_id": "VARCHAR",
    "customer_id": "VARCHAR",
    "drug_class": "VARCHAR",
    "last_fill_date": "DATE",
    "predicted_refill_date": "DATE",
    "predicted_days_to_refill": "DOUBLE",
    "refill_date_p10": "DATE",
    "refill_date_p90": "DATE",
    "lapse_probability": "DOUBLE",
    "model_name": "VARCHAR",
    "model_version": "VARCHAR",
    "run_id": "VARCHAR",
}
COLUMNS_FROM_ROWS = ("as_of_date", "rx_id", "pet_id", "customer_id", "drug_class", "last_fill_date")


def score_day(
    rows: pl.DataFrame, predictions: pl.DataFrame, model_name: str, version: str, run_id: str
) -> pl.DataFrame:
    """``rows``: scoring_rows of one day; ``predictions``: the model's output, same order."""
    on = pl.col("as_of_date")

    def date_after(days: str) -> pl.Expr:
        return on + pl.duration(days=pl.col(days).round(0).cast(pl.Int64))

    both = pl.concat([rows.select(COLUMNS_FROM_ROWS), predictions], how="horizontal")
    return both.select(
        "as_of_date",
        "rx_id",
        "pet_id",
        "customer_id",
        "drug_class",
        "last_fill_date",
        predicted_refill_date=date_after("predicted_days_to_refill"),
        predicted_days_to_refill="predicted_days_to_refill",
        refill_date_p10=date_after("p10_days"),
        refill_date_p90=date_after("p90_days"),
        lapse_probability="lapse_probability",
        model_name=pl.lit(model_name),
        model_version=pl.lit(version),
        run_id=pl.lit(run_id),
    )


def replace_days(con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, start: date, end: date):
    """Replace the window's days of the scores table with ``scores``, all or nothing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS scores")
    columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {SCORES_TABLE} ({columns})")
    replace_rows(
        con, SCORES_TABLE, "as_of_date BETWEEN ? AND ?", [start, end], scores.select(list(COLUMNS))
    )
