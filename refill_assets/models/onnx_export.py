"""ONNX export of the GBMs and the onnxruntime path that serves them.

Only the tree ensembles go to ONNX; the closed-form post-processing (AFT quantiles and
survival, interval repair) stays in Python and is the very function the native ``predict``
uses, so the two paths differ only by the trees' arithmetic.

XGBoost ``survival:aft``: onnxmltools silently exports such boosters as a constant. The
workaround exports the *margin*: the booster is re-labelled ``reg:squarederror`` (identity
link) with its base score moved to margin space (AFT stores exp(margin)), which leaves the
trees and so the margin unchanged; the AFT transform is applied outside. ``max_abs_diff_days``
is the parity check every export must pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
import polars as pl
import xgboost as xgb
from onnxmltools import convert_lightgbm, convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

from refill_assets.models.lgbm import LgbmModel
from refill_assets.models.schema import DAY_COLUMNS
from refill_assets.models.xgb_aft import XgbAftModel

TARGET_OPSET = 15
INPUT = "features"


@dataclass(frozen=True)
class OnnxExport:
    """ONNX graphs by output name, plus the fitted model (encoding and post-processing)."""

    model: XgbAftModel | LgbmModel
    graphs: dict[str, bytes]


def _margin_booster(booster: xgb.Booster) -> xgb.Booster:
    doc = json.loads(booster.save_raw("json"))
    learner = doc["learner"]
    base_score = float(learner["learner_model_param"]["base_score"].strip("[]"))
    learner["learner_model_param"]["base_score"] = f"[{float(np.log(base_score))!r}]"
    learner["objective"] = {"name": "reg:squarederror", "reg_loss_param": {"scale_pos_weight": "1"}}
    return xgb.Booster(model_file=bytearray(json.dumps(doc).encode()))


def export_onnx(model: XgbAftModel | LgbmModel) -> OnnxExport:
    assert model.encoder is not None, "fit first"
    types = [(INPUT, FloatTensorType([None, len(model.encoder.columns)]))]
    if isinstance(model, XgbAftModel):
        onx = convert_xgboost(
            _margin_booster(model.booster), initial_types=types, target_opset=TARGET_OPSET
        )
        return OnnxExport(model, {"margin": onx.SerializeToString()})
    graphs = {
        name: convert_lightgbm(
            m, initial_types=types, target_opset=TARGET_OPSET
        ).SerializeToString()
        for name, m in model.quantile_models.items()
    }
    # zipmap=False: probabilities as a plain (n, 2) tensor instead of a list of dicts
    lapse = convert_lightgbm(
        model.lapse_model, initial_types=types, target_opset=TARGET_OPSET, zipmap=False
    )
    graphs["lapse"] = lapse.SerializeToString()
    return OnnxExport(model, graphs)


class OnnxPredictor:
    """Predicts the common schema with onnxruntime sessions over an ``OnnxExport``."""

    def __init__(self, export: OnnxExport, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # the converted classifier declares its label output as shape {1}: a harmless warning
        options.log_severity_level = 3
        self.model = export.model
        self.sessions = {
            name: ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
            for name, graph in export.graphs.items()
        }

    def _run(self, name: str, matrix: np.ndarray) -> np.ndarray:
        outputs = self.sessions[name].run(None, {INPUT: matrix})
        # regressors have one output; classifiers (label, probabilities): keep P(lapse)
        return outputs[0].ravel() if len(outputs) == 1 else outputs[1][:, 1]

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        matrix = self.model.encoder.transform(frame)
        if isinstance(self.model, XgbAftModel):
            return self.model.from_margin(self._run("margin", matrix), frame)
        return self.model.from_raw({name: self._run(name, matrix) for name in self.sessions})


def max_abs_diff_days(native: pl.DataFrame, onnx: pl.DataFrame) -> float:
    """Largest absolute difference, in days, over the point and interval columns."""
    return float(
        max(
            np.max(np.abs(native[c].to_numpy() - onnx[c].to_numpy()), initial=0.0)
            for c in DAY_COLUMNS
        )
    )
