"""ONNX export of the GBMs and the onnxruntime path that serves them.

Only the tree ensembles go to ONNX; the closed-form post-processing (AFT quantiles and
survival, interval repair) stays in Python and is the very function the native ``predict``
uses, so the two paths differ only by the trees' arithmetic.

XGBoost ``survival:aft``: onnxmltools silently exports such boosters as a constant. The
workaround exports the *margin*: the booster is re-labelled ``reg:squarederror`` (identity
link) with its base margin (AFT stores exp(margin)) moved into the first tree, which leaves
the margin unchanged; the AFT transform is applied outside. ``max_abs_diff_days`` is the
parity check every export must pass.

Both paths read the same float32 matrix (``design.OrdinalEncoder``), but that alone does not
make them agree: the exported trees must also branch on it like the native ones and sum their
leaves like them, and two conversions broke that:

* LightGBM stores float64 thresholds (midpoints between training values), while an ONNX
  TreeEnsemble holds float32 ones; the converter rounds to nearest, which can land *on* a
  float32 feature value v above the threshold t (t < v = float32(t)): native sends v right,
  ONNX (v <= float32(t)) left, and that tree's leaf changes by up to days. Features that are
  means or rounded decimals sit exactly on such midpoints all the time (the mean of the gap
  ratios 29/30 and 31/32 is their midpoint). Rounding each threshold *down* to float32 is
  exact instead: for float32 x, x <= t iff x <= floor32(t). Branches then agree exactly;
  leaf sums differ only by onnxruntime's float32 accumulation (LightGBM's is float64),
  about 1e-4 days.
* XGBoost sums its float32 leaves starting from the base margin; onnxruntime sums them in
  tree order too but adds the base value last. Float32 addition is not associative, and the
  AFT's exp() turns the few-ulp margin difference into > 1e-3 days on long predictions, so
  the base margin goes into the first tree's leaves, where XGBoost adds it: bit-identical
  margins on a single-threaded session (more threads let onnxruntime split the sum).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import polars as pl
import xgboost as xgb
from onnxmltools import convert_lightgbm, convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

from refill_assets.models.lgbm import LgbmModel
from refill_assets.models.onnx_runtime import INPUT, run_graph, session
from refill_assets.models.schema import DAY_COLUMNS
from refill_assets.models.xgb_aft import XgbAftModel

TARGET_OPSET = 15


@dataclass(frozen=True)
class OnnxExport:
    """ONNX graphs by output name, plus the fitted model (encoding and post-processing)."""

    model: XgbAftModel | LgbmModel
    graphs: dict[str, bytes]


def _margin_booster(booster: xgb.Booster) -> xgb.Booster:
    """The AFT booster as an identity-link regressor of its margin, base margin in tree 0.

    XGBoost computes ((base + leaf_0) + leaf_1) + ... in float32; onnxruntime computes
    ((leaf_0 + leaf_1) + ...) + base. With float32(base + leaf) as tree 0's leaves and a zero
    base, onnxruntime performs XGBoost's own additions (``x + 0`` is exact).
    """
    doc = json.loads(booster.save_raw("json"))
    learner = doc["learner"]
    base_score = float(learner["learner_model_param"]["base_score"].strip("[]"))
    base_margin = np.float32(np.log(base_score))  # AFT stores exp(margin)
    learner["learner_model_param"]["base_score"] = "[0.0]"
    learner["objective"] = {"name": "reg:squarederror", "reg_loss_param": {"scale_pos_weight": "1"}}
    first = learner["gradient_booster"]["model"]["trees"][0]
    values = np.asarray(first["split_conditions"], dtype=np.float32)
    leaf = np.asarray(first["left_children"]) == -1
    values[leaf] = values[leaf] + base_margin  # float32 + float32: XGBoost's first addition
    first["split_conditions"] = [float(v) for v in values]
    return xgb.Booster(model_file=bytearray(json.dumps(doc).encode()))


def _floor_float32(values: np.ndarray) -> np.ndarray:
    """The largest float32 <= each float64 value (float32 casts round to nearest)."""
    nearest = values.astype(np.float32)
    above = nearest.astype(np.float64) > values
    return np.where(above, np.nextafter(nearest, np.float32(-np.inf)), nearest)


# LightGBM decision_type bits (include/LightGBM/tree.h)
_CATEGORICAL, _DEFAULT_LEFT = 1, 2
_MISSING_NONE, _MISSING_ZERO = 0, 1


def _float32_booster(booster: lgb.Booster) -> lgb.Booster:
    """The booster with float32 thresholds that split every float32 input as the original.

    Numerical thresholds go down to float32 (see the module docstring); categorical ones are
    small integers, unchanged. NaN on a feature without missing values in training
    (missing type None) is read as 0.0 natively, while the converter sends it down the
    default branch: that branch is set to where 0.0 goes, which native prediction ignores.
    """
    # tree_sizes (byte offsets for parallel loading) would no longer match: LightGBM parses
    # the trees sequentially without it
    lines = [s for s in booster.model_to_string().split("\n") if not s.startswith("tree_sizes=")]
    thresholds = np.empty(0)
    for i, line in enumerate(lines):
        if line.startswith("threshold="):
            thresholds = np.array(line.removeprefix("threshold=").split(), dtype=np.float64)
            rounded = _floor_float32(thresholds)
            lines[i] = "threshold=" + " ".join(repr(float(t)) for t in rounded)
        elif line.startswith("decision_type="):
            types = [int(t) for t in line.removeprefix("decision_type=").split()]
            for j, kind in enumerate(types):
                missing = (kind >> 2) & 3
                if kind & _CATEGORICAL:
                    continue
                if missing == _MISSING_ZERO:  # zero_as_missing: no ONNX equivalent
                    raise ValueError("LightGBM zero_as_missing splits cannot be exported")
                if missing == _MISSING_NONE:
                    left = thresholds[j] >= 0.0  # where NaN, read as 0.0, goes natively
                    types[j] = kind | _DEFAULT_LEFT if left else kind & ~_DEFAULT_LEFT
            lines[i] = "decision_type=" + " ".join(map(str, types))
    return lgb.Booster(model_str="\n".join(lines))


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
            _float32_booster(m.booster_), initial_types=types, target_opset=TARGET_OPSET
        ).SerializeToString()
        for name, m in model.quantile_models.items()
    }
    # zipmap=False: probabilities as a plain (n, 2) tensor instead of a list of dicts
    lapse = convert_lightgbm(
        _float32_booster(model.lapse_model.booster_),
        initial_types=types,
        target_opset=TARGET_OPSET,
        zipmap=False,
    )
    graphs["lapse"] = lapse.SerializeToString()
    return OnnxExport(model, graphs)


class OnnxPredictor:
    """Predicts the common schema with onnxruntime sessions over an ``OnnxExport``.

    ``threads`` > 1 may split a tree ensemble's float32 sum across threads, in another order
    than the native one: the XGBoost margin then no longer matches bit for bit.
    """

    def __init__(self, export: OnnxExport, threads: int = 1) -> None:
        self.model = export.model
        self.sessions = {name: session(g, threads) for name, g in export.graphs.items()}

    def _run(self, name: str, matrix: np.ndarray) -> np.ndarray:
        return run_graph(self.sessions[name], matrix)

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
