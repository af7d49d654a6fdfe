"""A model card per model kind: inputs, training window, holdout metrics, weakest segments, and
the limitations each kind is known to have (written here, next to the card they go on)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from refill_assets.reports.page import table_html

LIMITATIONS = {
    "heuristic": "Knows only the supply and a per-segment lateness; blind to history.",
    "lightgbm": "Quantiles of the refills of rows followed for the whole horizon, fitted on a "
    "sample (the median continues a short least-squares fit); lapse from a separate "
    "classifier. A behaviour the history never shows (a first winter's seasonal pause) is "
    "predicted as an ordinary late refill.",
    "xgboost_aft": "One log-normal cannot hold the owners who never return: timing given a "
    "refill is read off it; fitted on a sample.",
    "coxnet": "Proportional hazards cannot express run-out + lateness: an owner likely to lapse "
    "gets late timings too; trained on a sample.",
}


def model_card(
    path: Path,
    kind: str,
    features: Mapping[str, tuple[str, str]],  # name → (meaning, unit)
    window: str,
    metrics: Mapping[str, float],
    segments: pl.DataFrame,
    limitations: str,
) -> Path:
    """A short markdown card: inputs, training window, metrics, weakest segments, limits."""
    weakest = (
        segments.filter(pl.col("rows_refill_observed") >= 100)
        .sort("mae_days", descending=True)
        .head(5)
        .select("segment", "value", "rows", "mae_days", "coverage_p10_p90")
    )
    lines = [
        f"# Model card — {kind}",
        "",
        f"**Training window:** {window}",
        "",
        "## Inputs",
        *[f"- `{name}`: {meaning} ({unit})" for name, (meaning, unit) in features.items()],
        "",
        "## Metrics on the temporal holdout",
        *[f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}" for k, v in metrics.items()],
        "",
        "## Weakest large segments (by MAE)",
        table_html(weakest),
        "",
        "## Limitations",
        limitations,
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path
