"""One candidate model from the training snapshot: fit, export, log to MLflow, record.

``build_candidate`` is what the training asset of each model kind runs: train on the
snapshot's time split and predict its test period, then refit the same recipe on the whole
snapshot to serve (``models.train``), keep an ONNX export only when it predicts the test
period like the native serving model (``ONNX_PARITY_DAYS``), log the run with the reference
sample the nightly drift reads (``models.reference``) and register a version in MLflow, and
leave ``model.json`` and the test predictions for validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from refill_assets.features import registry
from refill_assets.models import records, tracking
from refill_assets.models.reference import write_reference
from refill_assets.models.schema import SERVED_KINDS
from refill_assets.models.split import Split, time_split
from refill_assets.storage.layout import Layout

# an export that differs from the native model by more than this on any test row is dropped
ONNX_PARITY_DAYS = 1e-3


@dataclass(frozen=True)
class Candidate:
    record: dict  # model.json
    seconds: float
    onnx_max_abs_diff_days: float | None  # None: a kind without an ONNX export
    onnx_exported: bool
    tuning_trials: list[dict]
    dataset_hash: str


def read_split(snapshot: Path) -> Split:
    """The snapshot's time split (deterministic: every model sees the same periods).

    The data end comes from the snapshot's labels (``labels.data_end``); the test
    period ends a horizon before it, so every test row is fully followed up.
    """
    return time_split(pl.read_parquet(snapshot))


def build_candidate(
    kind: str, layout: Layout, tracking_uri: str, *, seed: int, n_trials: int
) -> Candidate:
    # the learning libraries load here, not when the definitions load (every run, the UI)
    from refill_assets.models.bundle import write_bundle
    from refill_assets.models.onnx_export import OnnxPredictor, export_onnx, max_abs_diff_days
    from refill_assets.models.train import train

    frame = pl.read_parquet(layout.snapshot)
    split = time_split(frame)
    categorical = registry.categorical_names()
    numeric = [n for n in registry.feature_names() if n not in categorical]
    trained = train(kind, split, numeric, categorical, seed=seed, n_trials=n_trials, refit_on=frame)
    folder = layout.model_dir(kind)
    # what the nightly drift holds this version's nights against
    population = pl.read_parquet(layout.reference_population)
    files = {"reference": write_reference(trained.model, population, folder)}
    del frame
    records.write_test_predictions(folder, trained.test_predictions)
    parity = None
    if kind in SERVED_KINDS:
        export = export_onnx(trained.model)
        parity = max_abs_diff_days(
            trained.model.predict(split.test), OnnxPredictor(export).predict(split.test)
        )
        if parity <= ONNX_PARITY_DAYS:  # only an export that predicts the same is kept
            # the inference service's model directory: graphs + feature schema
            example = split.test.select(registry.feature_names()).row(0, named=True)
            files["onnx"] = write_bundle(export, folder / "onnx", example)
    digest = layout.snapshot_digest.read_text()
    logged = tracking.log_model_run(
        tracking_uri,
        layout.mlflow_artifacts,
        model_name=kind,
        model=trained.model,
        example=split.test.select(registry.feature_names()).head(5),
        params={
            **trained.params,
            "seed": seed,
            "training_rows": split.train.height,  # the fit the test period judged
            "serving_rows": trained.refit_rows,  # the refit that serves
        },
        metrics={f"validation_{k}": v for k, v in trained.validation_metrics.items()},
        dataset_hash=digest,
        files=files,
        judged=trained.judged,
    )
    record = {
        "kind": kind,
        "version": logged.version,
        "run_id": logged.run_id,
        "validation": trained.validation_metrics,
        "train_window": f"{split.train['as_of_date'].min()} … {split.cuts[0]}",
        "serving_window": f"{split.train['as_of_date'].min()} … {split.data_end}",
    }
    records.write_record(folder, record)
    return Candidate(
        record, trained.seconds, parity, "onnx" in files, trained.tuning_trials, digest
    )
