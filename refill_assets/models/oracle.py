"""The oracle: what the simulator knew about each fill's next refill.

The simulator writes, per fill, the true distribution of the days to the
next fill as seen on the fill day (p10/p50/p90 of 64 draws from its own
generative step) and the true lapse probability. For an example on as-of
day D after fill F, the oracle predicts F's fill date + true p50 − D (at
least 0), with the interval shifted the same way. It is the best prediction
made *on the fill day*; it does not condition on the wait observed since, so
late in a wait a model can beat it. Only simulated worlds have an oracle.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from refill_assets.models.schema import prediction_frame

TRUTH_COLUMNS = ("order_id", "true_p10_days", "true_p50_days", "true_p90_days")


def read_truth(folder: Path) -> pl.DataFrame | None:
    path = folder / "next_fill.parquet"
    if not path.exists():
        return None
    return pl.read_parquet(path, columns=[*TRUTH_COLUMNS, "true_lapse_probability"])


def oracle_predictions(frame: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Predictions for the rows of ``frame`` whose last fill the truth knows, and a mask.

    Returns ``frame``'s rows (same order) with a boolean ``has_truth`` column and the
    prediction columns (zeros where there is no truth; filter on ``has_truth``).
    """
    joined = frame.select("last_order_id", "last_fill_date", "as_of_date").join(
        truth, left_on="last_order_id", right_on="order_id", how="left", maintain_order="left"
    )
    waited = (pl.col("as_of_date") - pl.col("last_fill_date")).dt.total_days()
    days = joined.select(
        has_truth=pl.col("true_p50_days").is_not_null(),
        **{q: (pl.col(f"true_{q}_days") - waited).fill_null(0.0) for q in ("p10", "p50", "p90")},
        lapse=pl.col("true_lapse_probability").fill_null(0.0),
    )
    pred = prediction_frame(
        days["p50"].to_numpy(),
        days["p10"].to_numpy(),
        days["p90"].to_numpy(),
        days["lapse"].to_numpy(),
    )
    return pred.with_columns(has_truth=days["has_truth"])
