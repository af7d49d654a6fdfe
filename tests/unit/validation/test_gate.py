"""The champion/challenger gate's rules, on hand-made metrics."""

from __future__ import annotations

import math

import polars as pl
import pytest

from refill_assets.validation.gate import Figures, GatePolicy, decide

HEURISTIC = Figures(mae_days=4.0, lapse_roc_auc=0.70, lapse_brier=0.10)


def fig(mae: float, auc: float = 0.80, brier: float = 0.09) -> Figures:
    return Figures(mae, auc, brier)


def segments(maes: dict[str, float], rows: int = 1000) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["species"] * len(maes),
            "value": list(maes),
            "rows": [rows] * len(maes),
            "mae_days": list(maes.values()),
        }
    )


def test_first_champion_needs_the_margin_and_a_lapse_no_worse():
    ok = decide("lgbm", fig(3.5), HEURISTIC, segments({"dog": 3.4}))
    assert ok.promoted and ok.champion is None
    assert ok.figures["challenger"]["mae_days"] == 3.5
    assert ok.figures["heuristic"]["lapse_roc_auc"] == 0.70
    short = decide("lgbm", fig(3.7), HEURISTIC, segments({"dog": 3.4}))  # 7.5 % better
    assert not short.promoted
    assert "misses the 10% margin" in short.reasons[0]
    # nothing serves yet: the baseline does until a challenger passes
    assert short.fallback == "heuristic" and "baseline serves" in short.reasons[-1]
    assert ok.fallback is None


@pytest.mark.parametrize(
    ("auc", "brier", "blocks"),
    [
        (0.69, 0.10, False),  # 0.01 below the heuristic's AUC: inside the tolerance
        (0.68, 0.09, True),  # ranks lapses worse than the baseline
        (0.80, 0.105, False),  # Brier 5 % above: inside the tolerance
        (0.80, 0.11, True),  # calibrated worse: the 14-day lead's threshold would misfire
    ],
)
def test_a_better_timing_does_not_buy_a_worse_lapse(auc, brier, blocks):
    out = decide("lgbm", fig(3.0, auc, brier), HEURISTIC, segments({"dog": 3.0}))
    assert out.promoted is not blocks
    lapse_reasons = [r for r in out.reasons if r.startswith("lapse")]
    assert len(lapse_reasons) == 2
    assert any(("falls below" in r or "exceeds" in r) for r in lapse_reasons) is blocks


def test_a_failing_challenger_keeps_the_current_champion():
    champion = segments({"dog": 3.4})
    kept = decide("xgb", fig(3.9), HEURISTIC, segments({"dog": 3.4}), "lgbm", champion, fig(3.4))
    assert not kept.promoted and kept.fallback is None


def test_a_large_segment_regression_blocks():
    challenger = segments({"dog": 3.0, "cat": 4.3})
    champion = segments({"dog": 3.5, "cat": 4.0})  # cat 7.5 % worse than the champion
    blocked = decide("xgb", fig(3.2), HEURISTIC, challenger, "lgbm", champion, fig(3.6))
    assert not blocked.promoted
    assert blocked.regressions == [
        {"segment": "species", "value": "cat", "rows": 1000, "mae_days": 4.3, "champion_mae": 4.0}
    ]
    lenient = decide(
        "xgb",
        fig(3.2),
        HEURISTIC,
        challenger,
        "lgbm",
        champion,
        fig(3.6),
        GatePolicy(tolerance=0.10),
    )
    assert lenient.promoted


def test_the_champions_lapse_ranking_is_not_given_up():
    def against_champion(auc: float):
        # the champion ranks lapses at 0.85; the challenger times better
        champion = segments({"dog": 3.5})
        return decide(
            "xgb", fig(3.0, auc=auc), HEURISTIC, segments({"dog": 3.0}), "lgbm v1",
            champion, fig(3.5, auc=0.85),
        )  # fmt: skip

    worse = against_champion(0.82)
    assert not worse.promoted and worse.fallback is None
    assert any("vs lgbm v1 0.850: falls below" in r for r in worse.reasons)
    assert worse.figures["champion"]["lapse_roc_auc"] == 0.85
    assert against_champion(0.845).promoted


def test_small_segments_do_not_block():
    challenger = segments({"cat": 6.0}, rows=20)
    champion = segments({"cat": 3.0}, rows=20)
    assert decide("xgb", fig(3.0), HEURISTIC, challenger, "lgbm", champion, fig(3.0)).promoted


@pytest.mark.parametrize(
    ("challenger", "heuristic"),
    [
        (fig(3.5), Figures(math.nan, 0.7, 0.1)),
        (fig(math.nan), HEURISTIC),
        # no decided lapse of both kinds in the holdout: no AUC to judge the lapse on
        (fig(3.5, auc=math.nan), Figures(4.0, math.nan, 0.1)),
    ],
)
def test_the_gate_never_decides_on_a_non_finite_figure(challenger, heuristic):
    # a NaN compares false with everything: "misses the margin (<= nan)" used to fall back
    # to the baseline as champion and pass the check
    out = decide("lgbm", challenger, heuristic, segments({"dog": 3.4}))
    assert out.undecided and "nan" in out.undecided
    assert not out.promoted and out.fallback is None
    # what it read is kept, for MLflow and the report
    assert set(out.figures) == {"challenger", "heuristic"}


def test_figures_read_from_a_metrics_row():
    row = {"model": "lgbm", "mae_days": 3.1, "lapse_roc_auc": 0.8, "lapse_brier": 0.07, "rows": 9}
    assert Figures.of(row) == Figures(3.1, 0.8, 0.07)
