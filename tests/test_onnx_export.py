"""onnx_export: the ONNX path predicts what the native models predict."""

from __future__ import annotations

import numpy as np
import pytest
from model_fixture import CATEGORICAL, NUMERIC, make_frame

from refill_assets.models.lgbm import LgbmModel
from refill_assets.models.onnx_export import OnnxPredictor, export_onnx, max_abs_diff_days
from refill_assets.models.split import time_split
from refill_assets.models.xgb_aft import XgbAftModel

MODELS = {
    "xgb_aft": lambda: XgbAftModel(NUMERIC, CATEGORICAL, nthread=1),
    "lgbm": lambda: LgbmModel(NUMERIC, CATEGORICAL, n_jobs=1),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_onnx_matches_native_within_a_thousandth_of_a_day(name: str):
    split = time_split(make_frame(n_rx=1000))
    model = MODELS[name]().fit(split.train)
    native = model.predict(split.test)
    onnx = OnnxPredictor(export_onnx(model)).predict(split.test)
    assert native["predicted_days_to_refill"].std() > 1.0  # not the constant-output failure
    assert max_abs_diff_days(native, onnx) <= 1e-3
    lapse_diff = np.abs(
        native["lapse_probability"].to_numpy() - onnx["lapse_probability"].to_numpy()
    )
    assert lapse_diff.max() <= 1e-4
