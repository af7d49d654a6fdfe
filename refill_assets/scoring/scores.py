"""Nightly scores: the champion's predictions for every active maintenance prescription.

``score_day`` turns the feature rows of one as-of day and a model's predictions
into rows of the contract's ``scores.rx_refill_scores``; ``replace_days`` writes
a window of days in one transaction, so re-running a day replaces it exactly.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from refill_assets.storage.warehouse import replace_window

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
# the heuristic baseline's dates on the same rows, for the live model/heuristic ratio
BASELINE_TABLE = "monitoring.baseline_scores"
BASELINE_COLUMNS = {
    "as_of_date": "DATE",
    "rx_id": "VARCHAR",
    "model_name": "VARCHAR",
    "model_version": "VARCHAR",
    "predicted_refill_date": "DATE",
}
COLUMNS_FROM_ROWS = ("as_of_date", "rx_id", "pet_id", "customer_id", "drug_class", "last_fill_date")


def score_day(
    rows: pl.DataFrame, predictions: pl.DataFrame, model_name: str, version: str, run_id: str
) -> pl.DataFrame:
    """``rows``: scoring_rows (of one day or more); ``predictions``: the model's output, in the
    same order."""
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


def replace_days(
    con: duckdb.DuckDBPyConnection,
    scores: pl.DataFrame,
    start: date,
    end: date,
    baseline: pl.DataFrame | None = None,
):
    """Replace the window's days of the scores table with ``scores``, and of the baseline's
    table with ``baseline`` (``score_day`` rows of the heuristic; None: none), each all or
    nothing."""
    rows = scores.select(list(COLUMNS))
    replace_window(con, SCORES_TABLE, COLUMNS, "as_of_date", start, end, rows)
    rows = None if baseline is None else baseline.select(list(BASELINE_COLUMNS))
    replace_window(con, BASELINE_TABLE, BASELINE_COLUMNS, "as_of_date", start, end, rows)
