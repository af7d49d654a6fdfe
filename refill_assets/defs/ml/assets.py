"""Training snapshot → one asset per model (runs in MLflow) → validation and the gate.

Unpartitioned: they learn from the whole curated history. `refill run` over
history builds them; the nightly job leaves them alone (the `retrain` job
and its weekly schedule do), so a night only scores with the champion.
"""

import json

import dagster as dg
import polars as pl

from refill_assets.defs.resources import WAREHOUSE_POOL, ModelStore, WarehouseResource
from refill_assets.features import registry
from refill_assets.features.examples import training_examples
from refill_assets.features.snapshot import snapshot_hash
from refill_assets.models import tracking
from refill_assets.models.schema import KINDS
from refill_assets.models.split import time_split
from refill_assets.storage.files import write_parquet_atomic
from refill_assets.storage.warehouse import connect

SNAPSHOT = dg.AssetKey(["features", "training_snapshot"])
# what the feature builder reads (refill_assets/features): lineage in the UI, order in a run
CURATED = [
    dg.AssetKey(key)
    for key in (
        ["marts", "refill_intervals"],
        ["marts", "active_maintenance_rx_spans"],
        ["marts", "adherence_monthly"],
        ["staging", "stg_rx_order_versions"],
        ["staging", "stg_pet_versions"],
        ["raw", "customers"],
        ["raw", "engagement"],
        ["raw", "inventory"],
        ["raw", "shipments"],
        ["raw", "vet_reauth"],
    )
]
ONNX_KINDS = ("lightgbm", "xgboost_aft")
ONNX_PARITY_DAYS = 1e-3


class TrainingConfig(dg.Config):
    seed: int = 0
    n_trials: int = 8  # the bounded hyper-parameter search, per GBM
    samples_per_fill: int = 2


@dg.asset(
    key=SNAPSHOT,
    deps=CURATED,
    pool=WAREHOUSE_POOL,
    group_name="features",
    kinds={"polars", "parquet"},
    description="Point-in-time (prescription, as-of day) examples with labels and every "
    "registry feature; its content hash goes with every model trained on it.",
)
def training_snapshot(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    warehouse: WarehouseResource,
    models: ModelStore,
):
    with connect(warehouse.path, read_only=True) as con:
        frame = training_examples(con, samples_per_fill=config.samples_per_fill, seed=config.seed)
    digest = snapshot_hash(frame)
    write_parquet_atomic(frame, models.snapshot)
    models.snapshot_digest.write_text(digest)  # each model logs it without rehashing
    return dg.MaterializeResult(
        metadata={
            "rows": frame.height,
            "snapshot_hash": digest,
            "as_of_range": f"{frame['as_of_date'].min()} … {frame['as_of_date'].max()}",
            "features": len(registry.FEATURES),
            "path": dg.MetadataValue.path(str(models.snapshot)),
        }
    )


def load_split(models: ModelStore):
    """The snapshot and its time split (deterministic: every model sees the same periods).

    The data end comes from the snapshot's labels (``labels.data_end``); the test
    period ends a horizon before it, so every test row is fully followed up.
    """
    frame = pl.read_parquet(models.snapshot)
    return frame, time_split(frame)


def build_model_asset(kind: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["models", kind],
        deps=[SNAPSHOT],
        group_name="models",
        kinds={"mlflow"},
        description=f"The {kind} model of the days to the next refill, its 80% interval and "
        "lapse probability; a run and a registered version in MLflow.",
    )
    def _model(context: dg.AssetExecutionContext, config: TrainingConfig, models: ModelStore):
        # the learning libraries load here, not when the definitions load (every run, the UI)
        from refill_assets.models.bundle import write_bundle
        from refill_assets.models.onnx_export import (
            OnnxPredictor,
            export_onnx,
            max_abs_diff_days,
        )
        from refill_assets.models.train import train

        _, split = load_split(models)
        numeric = [n for n in registry.feature_names() if n not in registry.categorical_names()]
        trained = train(
            kind,
            split,
            numeric,
            registry.categorical_names(),
            seed=config.seed,
            n_trials=config.n_trials,
        )
        folder = models.model_dir(kind)
        write_parquet_atomic(trained.test_predictions, folder / "test_predictions.parquet")
        files = {}
        parity = None
        if kind in ONNX_KINDS:
            export = export_onnx(trained.model)
            onnx_pred = OnnxPredictor(export).predict(split.test)
            parity = max_abs_diff_days(trained.test_predictions, onnx_pred)
            if parity <= ONNX_PARITY_DAYS:  # only an export that predicts the same is kept
                # the inference service's model directory: graphs + feature schema
                example = split.test.select(registry.feature_names()).row(0, named=True)
                files["onnx"] = write_bundle(export, folder / "onnx", example)
            else:
                context.log.warning(f"ONNX export of {kind} differs by {parity:.2e} days: not kept")
        digest = models.snapshot_digest.read_text()
        logged = tracking.log_model_run(
            models.tracking_uri,
            models.artifacts,
            model_name=kind,
            model=trained.model,
            example=split.test.select(registry.feature_names()).head(5),
            params={**trained.params, "seed": config.seed, "training_rows": split.train.height},
            metrics={f"validation_{k}": v for k, v in trained.validation_metrics.items()},
            dataset_hash=digest,
            files=files,
        )
        record = {
            "kind": kind,
            "version": logged.version,
            "run_id": logged.run_id,
            "validation": trained.validation_metrics,
            "train_window": f"{split.train['as_of_date'].min()} … {split.cuts[0]}",
        }
        (folder / "model.json").write_text(json.dumps(record, default=str, indent=2))
        return dg.MaterializeResult(
            metadata={
                "mlflow_version": logged.version,
                "mlflow_run_id": logged.run_id,
                "dataset_hash": digest,
                "seconds": round(trained.seconds, 1),
                "validation_mae_days": trained.validation_metrics["mae_days"],
                "validation_lapse_auc": trained.validation_metrics["lapse_roc_auc"],
                "onnx_max_abs_diff_days": parity,
                "onnx_exported": bool(files),
                "tuning_trials": dg.MetadataValue.json(trained.tuning_trials),
            }
        )

    return _model


model_assets = [build_model_asset(kind) for kind in KINDS]
