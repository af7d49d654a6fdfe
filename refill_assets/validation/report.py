"""The validation report (HTML): every model, and the oracle, on the temporal holdout.

Inputs are the models' predictions on the temporal holdout (test period),
the holdout frame with its labels, and optionally the oracle's predictions;
every number comes from ``refill_assets.models.metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from refill_assets.models.metrics import (
    by_segment,
    calibration_table,
    evaluate,
    outreach_simulation,
)
from refill_assets.models.schema import PREDICTION_COLUMNS
from refill_assets.reports.page import Section, write_page


@dataclass(frozen=True)
class Holdout:
    frame: pl.DataFrame  # test period: keys, labels, segments
    predictions: Mapping[str, pl.DataFrame]  # model kind → prediction columns, frame order
    oracle: pl.DataFrame | None = None  # prediction columns + has_truth, frame order


@dataclass(frozen=True)
class Validation:
    metrics: pl.DataFrame  # one row per model (and the oracle, on rows it knows)
    segments: dict[str, pl.DataFrame]  # model kind → by_segment
    outreach: pl.DataFrame  # model, lead_days, shares


def validate(holdout: Holdout) -> Validation:
    rows, segments, outreach = [], {}, []
    for kind, pred in holdout.predictions.items():
        pred = pred.select(PREDICTION_COLUMNS)
        rows.append({"model": kind, **evaluate(pred, holdout.frame)})
        segments[kind] = by_segment(pred, holdout.frame)
        outreach.append(outreach_simulation(pred, holdout.frame).with_columns(model=pl.lit(kind)))
    if holdout.oracle is not None and holdout.oracle["has_truth"].any():
        known = holdout.oracle["has_truth"]
        oracle = holdout.oracle.filter(known).select(PREDICTION_COLUMNS)
        rows.append({"model": "oracle", **evaluate(oracle, holdout.frame.filter(known))})
    return Validation(
        pl.DataFrame(rows), segments, pl.concat(outreach).select("model", pl.exclude("model"))
    )


def write_report(
    path: Path, holdout: Holdout, result: Validation, decision: Mapping, window: str
) -> Path:
    figures = [
        _calibration(kind, pred, holdout.frame) for kind, pred in holdout.predictions.items()
    ]
    sections = [
        Section(
            "Headline metrics on the temporal holdout",
            f"Test period {window}. Timing metrics on rows with an observed refill, lapse "
            "metrics on rows whose lapse is decided; the oracle row uses only rows the "
            "simulator's truth covers (its next-fill law given no refill before the as-of "
            "day: 64 draws per fill, conditioned on the wait since the last fill).",
            tables=[result.metrics],
        ),
        Section(
            "Champion / challenger decision",
            "The gate judges timing (MAE against the heuristic, with a margin) and the lapse "
            "probability the outreach acts on (AUC and Brier not worse than the heuristic's "
            "beyond a tolerance; AUC not below the champion's). "
            + "; ".join(decision.get("reasons", [])),
            tables=[_figures(decision), _decision(decision)],
        ),
        Section("Lapse probability calibration", "Predicted against observed, 10 bins.", figures),
        Section(
            "Outreach simulation",
            "Contact each owner `lead` days before the predicted refill.",
            tables=[result.outreach],
        ),
        *[Section(f"Segments — {kind}", "", tables=[seg]) for kind, seg in result.segments.items()],
    ]
    return write_page(path, "Refill platform — model validation", sections)


def _figures(decision: Mapping) -> pl.DataFrame:
    """What the gate read: one row per role (challenger, heuristic, champion)."""
    names = {"challenger": decision.get("challenger"), "heuristic": "heuristic"}
    names["champion"] = decision.get("champion")
    rows = [
        {"role": role, "model": names.get(role), **values}
        for role, values in decision.get("figures", {}).items()
    ]
    return pl.DataFrame(rows) if rows else pl.DataFrame({"role": [], "model": []})


def _decision(decision: Mapping) -> pl.DataFrame:
    return pl.DataFrame([{k: str(v) for k, v in decision.items() if k != "figures"}])


def _calibration(kind: str, pred: pl.DataFrame, frame: pl.DataFrame) -> go.Figure:
    known = frame["lapse"].is_not_null()
    table = calibration_table(
        pred.filter(known)["lapse_probability"].to_numpy(),
        frame.filter(known)["lapse"].to_numpy(),
    )
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot"})
    fig.add_scatter(x=table["mean_predicted"], y=table["observed_rate"], name=kind)
    fig.update_layout(
        title=f"Calibration — {kind}", xaxis_title="predicted", yaxis_title="observed"
    )
    return fig
