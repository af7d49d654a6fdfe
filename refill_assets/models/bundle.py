"""A model directory the service can load without the training code: the ONNX graphs of a
GBM and ``serving.json``, its feature schema and the parameters of its last step.

``package`` turns a model directory into SageMaker's ``model.tar.gz`` (files at the root of
the archive, which SageMaker unpacks into /opt/ml/model), stamped with the model version.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from refill_assets.models import tracking
from refill_assets.models.labels import HORIZON_DAYS, LAPSE_GRACE_DAYS, SUPPLY
from refill_assets.models.lgbm import LgbmModel
from refill_assets.models.onnx_export import OnnxExport
from refill_assets.models.onnx_runtime import EXAMPLE, MANIFEST
from refill_assets.models.xgb_aft import XgbAftModel


def manifest(export: OnnxExport) -> dict:
    """What the service needs besides the graphs: the matrix's columns in order (numeric as
    they are, categorical as codes of their sorted categories) and how to finish."""
    model, encoder = export.model, export.model.encoder
    assert encoder is not None, "fit first"
    body = {
        "numeric": list(encoder.numeric),
        "categorical": {c: list(v) for c, v in encoder.categories.items()},
        "graphs": sorted(export.graphs),
    }
    if isinstance(model, XgbAftModel):
        return body | {
            "kind": "xgboost_aft",
            "sigma": float(model.output_sigma),
            "horizon_days": HORIZON_DAYS,
            "lapse_grace_days": LAPSE_GRACE_DAYS,
            "supply_feature": SUPPLY,
            # days of supply left for a row that does not know its supply (labels.lapse_deadline)
            "supply_fallback": float(model.supply_fallback),
        }
    if isinstance(model, LgbmModel):
        return body | {"kind": "lightgbm"}
    raise TypeError(f"no serving bundle for {type(model).__name__}")


def write_bundle(export: OnnxExport, folder: Path, example: dict | None = None) -> Path:
    """The graphs, the manifest and, given one feature row, ``example.json``: a request
    body the smoke test of a deploy sends (``{"instances": [example]}``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, graph in export.graphs.items():
        (folder / f"{name}.onnx").write_bytes(graph)
    (folder / MANIFEST).write_text(json.dumps(manifest(export), indent=2))
    if example is not None:
        (folder / EXAMPLE).write_text(json.dumps({"instances": [example]}, default=str))
    return folder


def package(folder: Path, version: str, out: Path) -> Path:
    """``model.tar.gz`` of the bundle in ``folder``, its manifest stamped with ``version``."""
    stamped = json.loads((folder / MANIFEST).read_text()) | {"model_version": str(version)}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for path in sorted([*folder.glob("*.onnx"), *folder.glob(EXAMPLE)]):
            tar.add(path, arcname=path.name)
        data = json.dumps(stamped, indent=2).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return out


def package_logged(
    tracking_uri: str, artifacts: Path, logged: tracking.LoggedModel, workdir: Path, out: Path
) -> Path | None:
    """The bundle logged with ``logged``'s run, downloaded into ``workdir`` and packaged as
    ``out`` stamped with its version; returns the downloaded bundle folder (its example is
    the deploy's smoke request), or None when the run has no ONNX export."""
    bundle = tracking.download_artifact(
        tracking_uri, artifacts, logged.run_id, "onnx/onnx", workdir
    )
    if bundle is not None:
        package(bundle, logged.version, out)
    return bundle
