"""onnx_export: the ONNX path predicts what the native models predict."""

from __future__ import annotations

import numpy as np
import pytest

from refill_assets.models.lgbm import LgbmModel
from refill_assets.models.onnx_export import (
    OnnxPredictor,
    _float32_booster,
    export_onnx,
    max_abs_diff_days,
)
from refill_assets.models.split import time_split
from refill_assets.models.xgb_aft import XgbAftModel
from tests.support.model_fixture import CATEGORICAL, NUMERIC, make_frame

MODELS = {
    "xgb_aft": lambda: XgbAftModel(NUMERIC, CATEGORICAL, nthread=1),
    "lgbm": lambda: LgbmModel(NUMERIC, CATEGORICAL, n_jobs=1),
}


@pytest.fixture(scope="module")
def split():
    # like real feature frames: nulls, a feature missing only at prediction time, and rounded
    # decimals that sit exactly on split thresholds; the clean fixture hides broken exports
    split = time_split(make_frame(n_rx=1000, missing_share=0.1, decimals=2))
    assert split.train["days_since_last_fill"].null_count() == 0
    assert split.test["days_since_last_fill"].null_count() > 0
    return split


@pytest.mark.parametrize("name", list(MODELS))
def test_onnx_matches_native_within_a_thousandth_of_a_day(name: str, split):
    model = MODELS[name]().fit(split.train)
    native = model.predict(split.test)
    onnx = OnnxPredictor(export_onnx(model)).predict(split.test)
    assert native["predicted_days_to_refill"].std() > 1.0  # not the constant-output failure
    assert max_abs_diff_days(native, onnx) <= 1e-3
    lapse_diff = np.abs(
        native["lapse_probability"].to_numpy() - onnx["lapse_probability"].to_numpy()
    )
    assert lapse_diff.max() <= 1e-4


def test_float32_thresholds_split_float32_inputs_like_the_originals(split):
    model = LgbmModel(NUMERIC, CATEGORICAL, n_jobs=1, params={"n_estimators": 100})
    model.fit(split.train)
    matrix = model.encoder.transform(split.test)
    for booster in [m.booster_ for m in model.quantile_models.values()]:
        exported = _float32_booster(booster)
        thresholds = [
            node["threshold"]
            for tree in exported.dump_model()["tree_info"]
            for node in _splits(tree["tree_structure"])
        ]
        finite = np.array([t for t in thresholds if abs(t) < 1e300])  # 1e300 stands for inf
        assert np.array_equal(finite.astype(np.float32).astype(np.float64), finite)
        # the very same predictions, bit for bit, NaNs included
        assert np.array_equal(exported.predict(matrix), booster.predict(matrix))


def _splits(node: dict):
    if "split_index" in node:
        yield node
        yield from _splits(node["left_child"])
        yield from _splits(node["right_child"])
