"""One asset per model kind: a candidate trained on the snapshot, a run and version in MLflow.

Unpartitioned: they learn from the whole curated history. `refill run` over
history builds them; the nightly job leaves them alone (the `retrain` job
and its weekly schedule do), so a night only scores with the champion.
"""

import dagster as dg

from refill_assets.defs.cost.meter import metered
from refill_assets.defs.features.assets import SNAPSHOT, TrainingConfig
from refill_assets.defs.resources import ModelStore
from refill_assets.models.candidate import ONNX_PARITY_DAYS, build_candidate
from refill_assets.models.schema import KINDS


def build_model_asset(kind: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["models", kind],
        deps=[SNAPSHOT],
        group_name="models",
        kinds={"mlflow"},
        description=f"The {kind} model of the days to the next refill, its 80% interval and "
        "lapse probability; a run and a registered version in MLflow.",
    )
    @metered
    def _model(context: dg.AssetExecutionContext, config: TrainingConfig, models: ModelStore):
        built = build_candidate(
            kind, models.layout, models.tracking_uri, seed=config.seed, n_trials=config.n_trials
        )
        parity = built.onnx_max_abs_diff_days
        if parity is not None and not built.onnx_exported:
            context.log.warning(
                f"ONNX export of {kind} differs by {parity:.2e} days (> {ONNX_PARITY_DAYS}): "
                "not kept"
            )
        return dg.MaterializeResult(
            metadata={
                "mlflow_version": built.record["version"],
                "mlflow_run_id": built.record["run_id"],
                "dataset_hash": built.dataset_hash,
                "seconds": round(built.seconds, 1),
                "validation_mae_days": built.record["validation"]["mae_days"],
                "validation_lapse_auc": built.record["validation"]["lapse_roc_auc"],
                "onnx_max_abs_diff_days": parity,
                "onnx_exported": built.onnx_exported,
                "tuning_trials": dg.MetadataValue.json(built.tuning_trials),
            }
        )

    return _model


model_assets = [build_model_asset(kind) for kind in KINDS]
