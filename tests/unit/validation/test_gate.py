"""The champion/challenger gate's two rules, on hand-made metrics."""

from __future__ import annotations

import math

import polars as pl
import pytest

from refill_assets.validation.gate import GatePolicy, decide


def segments(maes: dict[str, float], rows: int = 1000) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["species"] * len(maes),
            "value": list(maes),
            "rows": [rows] * len(maes),
            "mae_days": list(maes.values()),
        }
    )


def test_first_champion_needs_only_the_margin():
    ok = decide("lgbm", 3.5, 4.0, segments({"dog": 3.4}))
    assert ok.promoted and ok.champion is None
    short = decide("lgbm", 3.7, 4.0, segments({"dog": 3.4}))  # 7.5 % better, 10 % needed
    assert not short.promoted
    assert "misses the 10% margin" in short.reasons[0]
    # nothing serves yet: the baseline does until a challenger passes
    assert short.fallback == "heuristic" and "baseline serves" in short.reasons[-1]
    assert ok.fallback is None


def test_a_failing_challenger_keeps_the_current_champion():
    champion = segments({"dog": 3.4})
    kept = decide("xgb", 3.9, 4.0, segments({"dog": 3.4}), "lgbm", champion)
    assert not kept.promoted and kept.fallback is None


def test_a_large_segment_regression_blocks():
    challenger = segments({"dog": 3.0, "cat": 4.3})
    champion = segments({"dog": 3.5, "cat": 4.0})  # cat 7.5 % worse than the champion
    blocked = decide("xgb", 3.2, 4.0, challenger, "lgbm", champion)
    assert not blocked.promoted
    assert blocked.regressions == [
        {"segment": "species", "value": "cat", "rows": 1000, "mae_days": 4.3, "champion_mae": 4.0}
    ]
    lenient = decide("xgb", 3.2, 4.0, challenger, "lgbm", champion, GatePolicy(tolerance=0.10))
    assert lenient.promoted


def test_small_segments_do_not_block():
    challenger = segments({"cat": 6.0}, rows=20)
    champion = segments({"cat": 3.0}, rows=20)
    assert decide("xgb", 3.0, 4.0, challenger, "lgbm", champion).promoted


@pytest.mark.parametrize(("challenger_mae", "heuristic_mae"), [(3.5, math.nan), (math.nan, 4.0)])
def test_the_gate_never_decides_on_a_non_finite_figure(challenger_mae, heuristic_mae):
    # a NaN compares false with everything: "misses the margin (<= nan)" used to fall back
    # to the baseline as champion and pass the check
    out = decide("lgbm", challenger_mae, heuristic_mae, segments({"dog": 3.4}))
    assert out.undecided and "nan" in out.undecided
    assert not out.promoted and out.fallback is None
