"""Validation of every model on the temporal holdout, and the champion/challenger gate.

The challenger is the non-heuristic model with the best validation MAE. The
gate (refill_assets.models.gate) decides on the test period whether it
replaces the champion; the decision and its reasons go to metadata and MLflow.
The blocking check fails when no model fit to serve is champion afterwards,
which stops the scores below it.
"""

import json

import dagster as dg
import polars as pl

from refill_assets.defs.ml.assets import load_split
from refill_assets.defs.resources import SETTINGS, ModelStore
from refill_assets.features import registry
from refill_assets.models import tracking
from refill_assets.models.gate import GatePolicy, decide
from refill_assets.models.labels import HORIZON_DAYS
from refill_assets.models.oracle import oracle_predictions, read_truth
from refill_assets.models.schema import KINDS, PREDICTION_COLUMNS
from refill_assets.reports.page import markdown_table

VALIDATION = dg.AssetKey(["models", "validation"])
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


SHOWN = ["model", "mae_days", "median_ae_days", "within_7d", "coverage_p10_p90"]
SHOWN += ["lapse_roc_auc", "lapse_brier"]


class GateConfig(dg.Config):
    # defaults from REFILL_GATE_MARGIN / REFILL_GATE_TOLERANCE; a run's config overrides
    margin: float = SETTINGS.gate_margin  # the challenger's MAE must be this share lower
    tolerance: float = SETTINGS.gate_tolerance  # allowed regression of a large segment
    min_rows: int = 500  # a segment this large counts


@dg.asset(
    key=VALIDATION,
    deps=[dg.AssetKey(["models", kind]) for kind in KINDS],
    group_name="models",
    kinds={"mlflow", "html"},
    check_specs=[
        dg.AssetCheckSpec(
            "champion_gate",
            asset=VALIDATION,
            blocking=True,
            description="A champion fit to serve is in effect after the gate's decision.",
        )
    ],
    description="Metrics of every model (and the oracle) on the temporal holdout, the "
    "validation report, model cards, and the champion/challenger decision.",
)
def validation(context: dg.AssetExecutionContext, config: GateConfig, models: ModelStore):
    # scikit-learn's metrics load here, not when the definitions load
    from refill_assets.models.metrics import by_segment
    from refill_assets.reports.validation import Holdout, model_card, validate, write_report

    _, split = load_split(models)
    records = {k: json.loads((models.model_dir(k) / "model.json").read_text()) for k in KINDS}
    preds = {
        k: pl.read_parquet(models.model_dir(k) / "test_predictions.parquet").select(
            PREDICTION_COLUMNS
        )
        for k in KINDS
    }
    truth = read_truth(models.truth_dir) if models.truth_dir else None
    oracle = oracle_predictions(split.test, truth) if truth is not None else None
    holdout = Holdout(split.test, preds, oracle)
    result = validate(holdout)
    mae = {row["model"]: row["mae_days"] for row in result.metrics.iter_rows(named=True)}

    challenger = min(
        (k for k in KINDS if k != "heuristic"), key=lambda k: records[k]["validation"]["mae_days"]
    )
    current = tracking.champion(models.tracking_uri, models.artifacts)
    champion_segments = None
    if current is not None:
        served = tracking.load_model(models.tracking_uri, models.artifacts, current.version)
        features = tracking.as_model_input(split.test.select(registry.feature_names()))
        champion_segments = by_segment(pl.from_pandas(served.predict(features)), split.test)
    decision = decide(
        challenger,
        mae[challenger],
        mae["heuristic"],
        result.segments[challenger],
        f"{current.model_name} v{current.version}" if current else None,
        champion_segments,
        GatePolicy(config.margin, config.tolerance, config.min_rows),
    )
    uri, artifacts = models.tracking_uri, models.artifacts
    if decision.promoted or decision.fallback:
        promoted = challenger if decision.promoted else decision.fallback
        tracking.promote(uri, artifacts, records[promoted]["version"], decision.as_dict())
    tracking.record_decision(uri, artifacts, records[challenger]["run_id"], decision.as_dict())
    in_effect = tracking.champion(uri, artifacts)

    # every test row is followed for the whole horizon (models.split): say so with the window
    window = (
        f"{split.cuts[1]} … {split.test['as_of_date'].max()} (as-of days, each followed up "
        f"for {HORIZON_DAYS:g} days; data end {split.data_end})"
    )
    report = write_report(
        models.reports / "validation.html", holdout, result, decision.as_dict(), window
    )
    docs = {f.name: (f.meaning, f.unit) for f in registry.FEATURES}
    for kind in KINDS:
        model_card(
            models.reports / "model_cards" / f"{kind}.md",
            kind,
            docs,
            records[kind]["train_window"],
            result.metrics.filter(pl.col("model") == kind).row(0, named=True),
            result.segments[kind],
            LIMITATIONS[kind],
        )
    yield dg.MaterializeResult(
        metadata={
            "metrics": dg.MetadataValue.md(markdown_table(result.metrics.select(SHOWN))),
            "challenger": challenger,
            "promoted": decision.promoted,
            "reasons": dg.MetadataValue.json(decision.reasons),
            "champion": f"{in_effect.model_name} v{in_effect.version}" if in_effect else "none",
            "report": dg.MetadataValue.path(str(report)),
            "test_window": window,
        }
    )
    yield dg.AssetCheckResult(
        check_name="champion_gate",
        passed=in_effect is not None,
        description="; ".join(decision.reasons)
        + (f"; champion: {in_effect.model_name} v{in_effect.version}" if in_effect else ""),
        metadata={"promoted": decision.promoted, "challenger": challenger},
    )
