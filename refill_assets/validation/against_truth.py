"""One night's scores held against a simulated world's truth: what users got.

The temporal holdout (``validation.report``) judges models on rows the training never saw;
this judges the *nightly scores*, the champion's rows of ``scores.rx_refill_scores`` for
one day, as the outreach reads them, against what the world did next. It needs a world
simulated past the night (``follow_end`` at least ``HORIZON_DAYS`` later) and its truth
(``truth/next_fill.parquet``: every fill, its realised next fill and the draws the oracle
conditions on).

Per scored prescription, from the truth:
- its last fill on or before the night (the world's, which the platform may not yet know:
  a late-delivered fill). Rows where it differs from the score's ``last_fill_date`` are
  left out and counted (``rows_unmatched``): the model and the oracle would not be
  answering the same question.
- ``days_to_refill``: days from the night to the prescription's next fill, when it comes
  within ``HORIZON_DAYS`` (null otherwise); ``lapse``: no fill by the last fill's date +
  its days' supply + ``LAPSE_GRACE_DAYS`` (null while that day lies after ``follow_end``).
  The contract's definitions, the labels of the training examples (``models.labels``).
- the oracle (``models.oracle``), conditioned on the wait since that fill, and the plain
  days'-supply rule (refill on run-out: ``max(last fill + days' supply − night, 0)``).

Figures compare on the rows the oracle covers: MAE of the scores, of the rule and of the
oracle, their ratios, p10–p90 coverage and lapse ROC-AUC of the scores and the oracle.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from refill_assets.contract.rules import HORIZON_DAYS, LAPSE_GRACE_DAYS
from refill_assets.models.metrics import evaluate
from refill_assets.models.oracle import oracle_predictions, read_truth
from refill_assets.models.schema import prediction_frame

TRUTH_FILLS = ("order_id", "rx_id", "fill_date", "days_supply")


def read_fills(truth_dir: Path) -> pl.DataFrame:
    """Every fill of the world (``TRUTH_FILLS``), from its truth."""
    return pl.read_parquet(truth_dir / "next_fill.parquet", columns=list(TRUTH_FILLS))


def labelled_scores(
    scores: pl.DataFrame, fills: pl.DataFrame, night: date, follow_end: date
) -> pl.DataFrame:
    """The night's scores with the world's last fill, the labels, and ``matched``."""
    if follow_end < night + timedelta(days=HORIZON_DAYS):
        raise ValueError(
            f"the world ends {follow_end}: a night's outcomes need {HORIZON_DAYS:g} days after "
            f"{night}"
        )
    day = pl.lit(night)
    last = (
        fills.filter(pl.col("fill_date") <= day)
        .sort("fill_date", "order_id")
        .group_by("rx_id")
        .last()
        .rename({"fill_date": "truth_last_fill_date", "order_id": "last_order_id"})
    )
    following = (
        fills.filter(pl.col("fill_date") > day)
        .group_by("rx_id")
        .agg(next_fill_date=pl.col("fill_date").min())
    )
    deadline = pl.col("truth_last_fill_date") + pl.duration(
        days=pl.col("days_supply") + LAPSE_GRACE_DAYS
    )
    waited_out = (pl.col("next_fill_date") - day).dt.total_days()
    return (
        scores.filter(pl.col("as_of_date") == day)
        .join(last, on="rx_id", how="left")
        .join(following, on="rx_id", how="left")
        .with_columns(
            matched=pl.col("truth_last_fill_date").is_not_null()
            & (pl.col("truth_last_fill_date") == pl.col("last_fill_date")),
            days_to_refill=pl.when(waited_out <= HORIZON_DAYS).then(waited_out),
            lapse=pl.when(pl.col("next_fill_date") <= deadline)
            .then(False)
            .when(deadline <= pl.lit(follow_end))
            .then(True),
        )
    )


def _score_predictions(rows: pl.DataFrame) -> pl.DataFrame:
    def days(column: str) -> np.ndarray:
        return (rows[column] - rows["as_of_date"]).dt.total_days().to_numpy().astype(float)

    return prediction_frame(
        rows["predicted_days_to_refill"].to_numpy(),
        days("refill_date_p10"),
        days("refill_date_p90"),
        rows["lapse_probability"].to_numpy(),
    )


def held_against_truth(
    scores: pl.DataFrame, truth_dir: Path, night: date, follow_end: date
) -> dict:
    """The night's figures (see the module doc); ``scores``: rows of the scores table."""
    rows = labelled_scores(scores, read_fills(truth_dir), night, follow_end)
    matched = rows.filter(pl.col("matched"))
    oracle = oracle_predictions(matched, read_truth(truth_dir))
    known = oracle["has_truth"]
    rows_used = matched.filter(known)
    labels = rows_used.select("rx_id", "as_of_date", "days_to_refill", "lapse")
    mine = evaluate(_score_predictions(rows_used), labels)
    best = evaluate(oracle.filter(known).drop("has_truth"), labels)
    seen = rows_used.filter(pl.col("days_to_refill").is_not_null())
    run_out = (
        (seen["truth_last_fill_date"] - seen["as_of_date"]).dt.total_days() + seen["days_supply"]
    ).clip(lower_bound=0)
    rule_mae = float((run_out - seen["days_to_refill"]).abs().mean())
    return {
        "night": str(night),
        "rows_scored": rows.height,
        "rows_unmatched": rows.height - matched.height,
        "rows_without_oracle": matched.height - rows_used.height,
        "rows_refill_observed": mine["rows_refill_observed"],
        "rows_lapse_known": mine["rows_lapse_known"],
        "model": ", ".join(sorted(scores["model_name"].unique().to_list())),
        "mae_days": mine["mae_days"],
        "rule_mae_days": rule_mae,
        "oracle_mae_days": best["mae_days"],
        "mae_vs_rule": mine["mae_days"] / rule_mae,
        "mae_vs_oracle": mine["mae_days"] / best["mae_days"],
        # the best any model could do against the rule, in this world
        "oracle_vs_rule": best["mae_days"] / rule_mae,
        "coverage_p10_p90": mine["coverage_p10_p90"],
        "oracle_coverage_p10_p90": best["coverage_p10_p90"],
        "lapse_roc_auc": mine["lapse_roc_auc"],
        "oracle_lapse_roc_auc": best["lapse_roc_auc"],
        "lapse_auc_gap": best["lapse_roc_auc"] - mine["lapse_roc_auc"],
    }
