"""validation.champion: which candidate challenges the champion."""

from __future__ import annotations

import pytest

from refill_assets.validation.champion import choose_challenger


def _record(mae: float) -> dict:
    return {"validation": {"mae_days": mae}}


def test_the_challenger_is_the_best_model_by_validation_mae_never_the_baseline():
    found = {
        "heuristic": _record(1.0),  # best, but the baseline never challenges itself
        "lightgbm": _record(5.0),
        "xgboost_aft": _record(4.0),
        "coxnet": _record(9.0),
    }
    assert choose_challenger(found) == "xgboost_aft"


def test_no_candidate_but_the_baseline_is_an_error():
    with pytest.raises(ValueError):
        choose_challenger({"heuristic": _record(1.0)})
