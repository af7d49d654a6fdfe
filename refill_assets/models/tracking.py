"""MLflow: where model runs live, how one is logged, and which version is champion.

The store is local by default (SQLite backend and artifacts under
``$REFILL_HOME/mlflow``); ``MLFLOW_TRACKING_URI`` points it at a server. Every
candidate is a version of one registered model, so "the champion" is one
alias on one name, whatever kind of model wins.

mlflow is imported inside the functions: the import costs seconds, and only
training, the gate and deploys need it, not every process that loads the
Dagster definitions.
"""

from __future__ import annotations

import subprocess
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl
import polars.selectors as cs

REGISTERED_MODEL = "refill_next_refill"
EXPERIMENT = "refill"
CHAMPION = "champion"
JUDGED_MODEL = "judged_model"  # the fit the holdout judged, beside a refit (log_model_run)
# what a logged model needs to load and predict, pinned to what trained it
_RUNTIME = (
    "polars",
    "numpy",
    "scikit-learn",
    "lightgbm",
    "xgboost",
    "scikit-survival",
    "pandas",
    "pyarrow",
)


@dataclass(frozen=True)
class LoggedModel:
    run_id: str
    model_name: str  # the kind: heuristic, lightgbm, xgboost_aft, coxnet, ...
    version: str  # version of REGISTERED_MODEL


def _client(tracking_uri: str, artifacts: Path):
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        artifacts.mkdir(parents=True, exist_ok=True)
        mlflow.create_experiment(EXPERIMENT, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(EXPERIMENT)
    return mlflow, mlflow.MlflowClient(tracking_uri)


def code_version() -> str:
    """The git commit of the code that trained (``+dirty`` with local changes), else unknown."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def as_model_input(frame: pl.DataFrame):
    """Features as a logged model takes them: pandas, integers as doubles.

    A column with a null arrives in pandas as float, and MLflow refuses to turn
    int64 into float64, so the signature and every caller use doubles.
    """
    return frame.with_columns(cs.integer().cast(pl.Float64)).to_pandas()


def _requirements() -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in _RUNTIME]


def _pyfunc(model: Any):
    """An MLflow python model around any of ours: pandas in, pandas out."""
    import mlflow.pyfunc

    class RefillModel(mlflow.pyfunc.PythonModel):
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def predict(self, context, model_input, params=None):
            return self.inner.predict(pl.from_pandas(model_input)).to_pandas()

    return RefillModel(model)


def log_model_run(
    tracking_uri: str,
    artifacts: Path,
    *,
    model_name: str,
    model: Any,
    example: pl.DataFrame,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    dataset_hash: str,
    files: Mapping[str, Path] | None = None,
    judged: Any | None = None,
) -> LoggedModel:
    """One run: parameters, metrics, dataset hash, code version, files, the model, registered.

    ``judged``: the fit the holdout judged, when the registered ``model`` is a refit on more
    rows (``models.train``); logged beside it as ``JUDGED_MODEL``, unregistered, so that a
    later gate re-scores this version on rows it never trained on (``load_judged``)."""
    mlflow, client = _client(tracking_uri, artifacts)
    from mlflow.models import infer_signature

    with mlflow.start_run(run_name=model_name) as run:
        mlflow.set_tags(
            {"model_name": model_name, "dataset_hash": dataset_hash, "code_version": code_version()}
        )
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None})
        for folder, path in (files or {}).items():
            mlflow.log_artifact(str(path), artifact_path=folder)
        sample = example.head(5)
        with warnings.catch_warnings():
            # MLflow asks for type hints (we give an explicit signature) and warns that a
            # python_model is pickled (it is our own code, loaded by our own services)
            warnings.filterwarnings("ignore", message=".*type hints to the `predict` method")
            signature = infer_signature(as_model_input(sample), model.predict(sample).to_pandas())
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=_pyfunc(model),
                signature=signature,
                input_example=as_model_input(sample),
                pip_requirements=_requirements(),
                registered_model_name=REGISTERED_MODEL,
            )
            if judged is not None:
                mlflow.pyfunc.log_model(
                    name=JUDGED_MODEL,
                    python_model=_pyfunc(judged),
                    signature=signature,
                    input_example=as_model_input(sample),
                    pip_requirements=_requirements(),
                )
    version = str(info.registered_model_version)
    client.set_model_version_tag(REGISTERED_MODEL, version, "model_name", model_name)
    client.set_model_version_tag(REGISTERED_MODEL, version, "dataset_hash", dataset_hash)
    return LoggedModel(run.info.run_id, model_name, version)


def champion(tracking_uri: str, artifacts: Path) -> LoggedModel | None:
    """The version carrying the ``champion`` alias, if any."""
    from mlflow.exceptions import MlflowException

    _, client = _client(tracking_uri, artifacts)
    try:
        mv = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION)
    except MlflowException:
        return None
    return LoggedModel(mv.run_id, mv.tags.get("model_name", ""), str(mv.version))


def promote(tracking_uri: str, artifacts: Path, version: str, reasons: Mapping[str, Any]) -> None:
    """Move the ``champion`` alias to ``version`` and record why on that version."""
    _, client = _client(tracking_uri, artifacts)
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION, version)
    for key, value in reasons.items():
        client.set_model_version_tag(REGISTERED_MODEL, version, f"gate.{key}", str(value)[:5000])


def record_decision(tracking_uri: str, artifacts: Path, run_id: str, decision: Mapping) -> None:
    """The gate's decision, reasons and the figures it read, on the challenger's run; the
    figures also as metrics ``gate.<role>.<metric>`` (role: challenger, heuristic, champion)."""
    _, client = _client(tracking_uri, artifacts)
    client.set_tag(run_id, "gate.decision", str(decision.get("promoted")))
    client.log_dict(run_id, dict(decision), "gate_decision.json")
    for role, values in decision.get("figures", {}).items():
        for metric, value in values.items():
            client.log_metric(run_id, f"gate.{role}.{metric}", value)


HOLDOUT_TAG = "holdout."  # a version's figures on the test period, as tags


def record_holdout_figures(
    tracking_uri: str, artifacts: Path, version: str, figures: Mapping[str, float]
) -> None:
    """``version``'s figures on the test period the gate judged, as tags ``holdout.<metric>``:
    what the live monitoring holds the served model against."""
    _, client = _client(tracking_uri, artifacts)
    for metric, value in figures.items():
        client.set_model_version_tag(REGISTERED_MODEL, version, HOLDOUT_TAG + metric, str(value))


def holdout_figures(tracking_uri: str, artifacts: Path, version: str) -> dict[str, float]:
    """The figures ``record_holdout_figures`` left on ``version`` (empty: none)."""
    _, client = _client(tracking_uri, artifacts)
    tags = client.get_model_version(REGISTERED_MODEL, version).tags
    return {
        k.removeprefix(HOLDOUT_TAG): float(v) for k, v in tags.items() if k.startswith(HOLDOUT_TAG)
    }


def load_model(tracking_uri: str, artifacts: Path, version: str):
    """A registered version as an MLflow pyfunc (pandas in, pandas out)."""
    mlflow, _ = _client(tracking_uri, artifacts)
    return mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL}/{version}")


def load_judged(tracking_uri: str, artifacts: Path, logged: LoggedModel):
    """The fit the holdout judged of a logged version (``log_model_run``'s ``judged``), as a
    pyfunc; the registered model itself for a run that logged none (no refit)."""
    from mlflow.exceptions import MlflowException

    mlflow, _ = _client(tracking_uri, artifacts)
    try:
        return mlflow.pyfunc.load_model(f"runs:/{logged.run_id}/{JUDGED_MODEL}")
    except MlflowException:  # a run without it: nothing was refitted, the model is the fit
        return load_model(tracking_uri, artifacts, logged.version)


def download_artifact(
    tracking_uri: str, artifacts: Path, run_id: str, path: str, dest: Path
) -> Path | None:
    """The artifact ``path`` (``folder/name``) of run ``run_id``, downloaded into ``dest``;
    None when the run has none (a model without an ONNX export, a version trained before
    its reference sample was kept)."""
    mlflow, client = _client(tracking_uri, artifacts)
    folder = path.rpartition("/")[0]
    if not any(a.path == path for a in client.list_artifacts(run_id, folder)):
        return None
    dest.mkdir(parents=True, exist_ok=True)
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=path, dst_path=str(dest)
    )
    return Path(local)


def model_version(tracking_uri: str, artifacts: Path, version: str) -> LoggedModel:
    """A registered version of the model, by number."""
    _, client = _client(tracking_uri, artifacts)
    mv = client.get_model_version(REGISTERED_MODEL, version)
    return LoggedModel(mv.run_id, mv.tags.get("model_name", ""), str(mv.version))


def record_deployment(
    tracking_uri: str, artifacts: Path, version: str, deployment: Mapping[str, Any]
) -> None:
    """Where and when ``version`` was deployed, as tags of that registered version."""
    _, client = _client(tracking_uri, artifacts)
    for key, value in deployment.items():
        client.set_model_version_tag(REGISTERED_MODEL, version, f"deploy.{key}", str(value)[:5000])
