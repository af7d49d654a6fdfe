"""Evaluation of predictions in the common schema against the labelled frame.

Which rows each metric uses:
- timing (MAE, median absolute error, within ±3/±7 days, p10–p90 coverage): rows with an
  observed refill (``days_to_refill`` not null). Censored rows have no true refill day. On
  the test period (complete follow-up, see models.split) these are exactly the rows that
  refill within the horizon; on re-censored rows (validation) the data end truncates long
  waits more than short ones, so those figures favour short gaps: compare models there, not
  with the test.
- lapse (ROC-AUC, PR-AUC, Brier, calibration): rows whose ``lapse`` label is known.
``pred`` and ``frame`` are row-aligned (``predict`` keeps the input order).

No metric is computed on a prediction that is missing or not finite: every function here
raises ``NonFinitePredictions``, naming the rows, rather than averaging a NaN into a figure
that a decision then reads.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from refill_assets.contract.rules import HORIZON_DAYS
from refill_assets.features.examples import NIGHTS

SEGMENTS = ("species", "drug_class", "cycle_days", "channel", "autoship")
PREDICTIONS = ("predicted_days_to_refill", "p10_days", "p90_days", "lapse_probability")
SHOWN_ROWS = 5  # how many of the offending rows an error names


class NonFinitePredictions(ValueError):
    """Predictions with a missing or non-finite value; the message names the rows."""


def non_finite(pred: pl.DataFrame, frame: pl.DataFrame) -> str | None:
    """What is missing or not finite in ``pred`` (row-aligned with ``frame``), naming the
    first rows by their keys; None when every prediction is a finite number."""
    bad = pl.any_horizontal(
        pl.col(c).is_null() | ~pl.col(c).cast(pl.Float64).is_finite() for c in PREDICTIONS
    )
    flags = pred.select(bad.alias("bad"))["bad"]
    if not flags.any():
        return None
    keys = [c for c in ("rx_id", "as_of_date") if c in frame.columns]
    rows = frame.filter(flags).head(SHOWN_ROWS)
    named = [" @ ".join(str(v) for v in r) for r in rows.select(keys).iter_rows()] if keys else []
    shown = f": first {', '.join(named)}" if named else ""
    return (
        f"{int(flags.sum())} of {pred.height} rows have a missing or non-finite prediction{shown}"
    )


def timing_metrics(
    predicted: np.ndarray, actual: np.ndarray, p10: np.ndarray, p90: np.ndarray
) -> dict:
    err = np.abs(np.asarray(predicted, float) - np.asarray(actual, float))
    if err.size == 0:
        return {
            k: math.nan
            for k in ("mae_days", "median_ae_days", "within_3d", "within_7d", "coverage_p10_p90")
        }
    return {
        "mae_days": float(err.mean()),
        "median_ae_days": float(np.median(err)),
        "within_3d": float(np.mean(err <= 3.0)),
        "within_7d": float(np.mean(err <= 7.0)),
        "coverage_p10_p90": float(np.mean((p10 <= actual) & (actual <= p90))),
    }


def lapse_metrics(probability: np.ndarray, outcome: np.ndarray) -> dict:
    y = np.asarray(outcome).astype(int)
    p = np.asarray(probability, float)
    both = y.size > 0 and 0 < y.sum() < y.size  # AUCs need both classes
    return {
        "lapse_roc_auc": float(roc_auc_score(y, p)) if both else math.nan,
        "lapse_pr_auc": float(average_precision_score(y, p)) if both else math.nan,
        "lapse_brier": float(brier_score_loss(y, p)) if y.size else math.nan,
        "lapse_rate": float(y.mean()) if y.size else math.nan,
    }


def calibration_table(
    probability: np.ndarray, outcome: np.ndarray, n_bins: int = 10
) -> pl.DataFrame:
    """Equal-width probability bins: rows, mean predicted and observed rate per non-empty bin."""
    p = np.asarray(probability, float)
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)  # p = 1 goes in the top bin
    return (
        pl.DataFrame({"bin": bins, "p": p, "y": np.asarray(outcome).astype(float)})
        .group_by("bin")
        .agg(rows=pl.len(), mean_predicted=pl.col("p").mean(), observed_rate=pl.col("y").mean())
        .with_columns(lower=pl.col("bin") / n_bins, upper=(pl.col("bin") + 1) / n_bins)
        .sort("bin")
    )


def _joined(pred: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    if pred.height != frame.height:
        raise ValueError(f"{pred.height} predictions for {frame.height} rows")
    problem = non_finite(pred, frame)
    if problem is not None:
        raise NonFinitePredictions(problem)
    return pl.concat([frame, pred.select(pl.exclude(frame.columns))], how="horizontal")


def _evaluate_joined(df: pl.DataFrame) -> dict:
    seen = df.filter(pl.col("days_to_refill").is_not_null())
    known = df.filter(pl.col("lapse").is_not_null())
    out = {"rows": df.height, "rows_refill_observed": seen.height, "rows_lapse_known": known.height}
    out |= timing_metrics(
        seen.get_column("predicted_days_to_refill").to_numpy(),
        seen.get_column("days_to_refill").to_numpy(),
        seen.get_column("p10_days").to_numpy(),
        seen.get_column("p90_days").to_numpy(),
    )
    out |= lapse_metrics(
        known.get_column("lapse_probability").to_numpy(), known.get_column("lapse").to_numpy()
    )
    return out


def evaluate(pred: pl.DataFrame, frame: pl.DataFrame) -> dict:
    """All headline metrics in one dict (see the module doc for the rows each uses)."""
    return _evaluate_joined(_joined(pred, frame))


def nightly_mae(pred: pl.DataFrame, frame: pl.DataFrame) -> float | None:
    """The MAE in days as the nightly scoring would measure it: each example weighted by the
    nights its fill is the latest known (``features.examples.NIGHTS``), since a night holds
    every active prescription once and the snapshot samples each fill a fixed number of times.
    Long waits fill many nights, so this is the figure live monitoring can be held to. None for
    a frame without the column (a snapshot made before it was kept)."""
    if NIGHTS not in frame.columns:
        return None
    # the live error is of refills within the horizon (the contract's error_days)
    refill = pl.col("days_to_refill")
    seen = _joined(pred, frame).filter(
        refill.is_not_null() & (refill <= HORIZON_DAYS) & (pl.col(NIGHTS) > 0)
    )
    if seen.is_empty():
        return None
    error = (pl.col("predicted_days_to_refill") - pl.col("days_to_refill")).abs()
    return seen.select((error * pl.col(NIGHTS)).sum() / pl.col(NIGHTS).sum()).item()


def by_segment(
    pred: pl.DataFrame, frame: pl.DataFrame, segments: tuple[str, ...] = SEGMENTS
) -> pl.DataFrame:
    """``evaluate`` per value of each segment column, long format (segment, value, metrics…)."""
    df = _joined(pred, frame)
    rows = []
    for segment in segments:
        for (value,), part in df.group_by(segment, maintain_order=True):
            rows.append({"segment": segment, "value": str(value), **_evaluate_joined(part)})
    return pl.DataFrame(rows).sort("segment", "value")


def outreach_simulation(
    pred: pl.DataFrame,
    frame: pl.DataFrame,
    lead_days: tuple[int, ...] = (7, 14),
    max_lapse_probability: float | None = None,
) -> pl.DataFrame:
    """Contact each owner ``lead`` days before the predicted refill; how useful is it?

    Every row is one outreach decision: the contact goes out on day max(predicted − lead, 0)
    after the as-of day, unless ``max_lapse_probability`` is given and the row's lapse
    probability exceeds it (those owners would go to a win-back flow instead). On rows with
    an observed refill, the refill counts as *contacted on time* when a contact preceded it by
    at most ``lead`` days; *late* when the owner had already refilled, *early* when the contact
    came more than ``lead`` days before. On rows with a known lapse label, a contact is
    *wasted* when the prescription lapsed (no refill by run-out + 30 days).
    """
    df = _joined(pred, frame)
    contacted = (
        pl.lit(True)
        if max_lapse_probability is None
        else pl.col("lapse_probability") <= max_lapse_probability
    )
    seen = df.filter(pl.col("days_to_refill").is_not_null())
    sent = df.filter(pl.col("lapse").is_not_null() & contacted)
    rows = []
    for lead in lead_days:
        contact = (pl.col("predicted_days_to_refill") - lead).clip(lower_bound=0.0)
        ahead = pl.col("days_to_refill") - contact  # how long before the refill the contact came
        shares = seen.select(
            on_time=(contacted & (ahead >= 0) & (ahead <= lead)).mean(),
            late=(contacted & (ahead < 0)).mean(),
            early=(contacted & (ahead > lead)).mean(),
        ).row(0, named=True)
        wasted = int(sent.get_column("lapse").sum())
        rows.append(
            {
                "lead_days": lead,
                "refills": seen.height,
                "share_refills_contacted_on_time": shares["on_time"],
                "share_contact_late": shares["late"],
                "share_contact_early": shares["early"],
                "contacts": sent.height,
                "contacts_wasted_on_lapsed": wasted,
                "share_contacts_wasted": wasted / sent.height if sent.height else math.nan,
            }
        )
    return pl.DataFrame(rows)
