"""Releasing one registered model version to the SageMaker Serverless endpoint.

``servable``: may this champion be served at all (only the GBMs have an ONNX export)?
``release``: package that version's serving bundle from MLflow, deploy it
(``deploy.sagemaker.deploy``: rollback on any failure) and record the deployment as
tags of the MLflow version.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from refill_assets.deploy.sagemaker import DeployConfig, Deployment, deploy
from refill_assets.models import tracking
from refill_assets.models.onnx_runtime import EXAMPLE
from refill_assets.models.schema import SERVED_KINDS


@dataclass(frozen=True)
class Release:
    model: tracking.LoggedModel
    deployment: Deployment

    @property
    def record(self) -> dict:
        """The deployment as recorded on the MLflow version (the smoke answer aside)."""
        return {k: v for k, v in asdict(self.deployment).items() if k != "smoke"}


def servable(model: tracking.LoggedModel) -> bool:
    return model.model_name in SERVED_KINDS


def release(
    version: str,
    tracking_uri: str,
    artifacts: Path,
    account: DeployConfig,
    sagemaker: Any,
    s3: Any,
    invoke: Callable[[str, bytes], dict],
    wait_seconds: int,
) -> Release:
    """Deploy registered version ``version``; ``invoke(endpoint, body)`` is the smoke call."""
    from refill_assets.models.bundle import package_logged

    model = tracking.model_version(tracking_uri, artifacts, version)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "model.tar.gz"
        bundle = package_logged(tracking_uri, artifacts, model, Path(scratch) / "bundle", archive)
        if bundle is None:
            raise RuntimeError(f"{model.model_name} v{model.version} has no ONNX export")
        example = (bundle / EXAMPLE).read_bytes()
        done = deploy(
            sagemaker,
            s3,
            account,
            archive,
            model.version,
            smoke=lambda endpoint: invoke(endpoint, example),
            wait_seconds=wait_seconds,
        )
    released = Release(model, done)
    tracking.record_deployment(tracking_uri, artifacts, model.version, released.record)
    return released
