"""Live performance per scoring day: the figures against a direct computation, final vs
provisional, and the checks."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from refill_assets.monitoring.outcomes import OUTCOME_COLUMNS, OUTCOMES_TABLE
from refill_assets.monitoring.performance import (
    PerformancePolicy,
    findings,
    pooled,
    recompute_days,
)
from refill_assets.scoring.scores import BASELINE_COLUMNS, BASELINE_TABLE
from refill_assets.storage.warehouse import ensure_table

DAY = date(2024, 6, 1)
N = 400


def _outcomes(day: date, seed: int, settled_share: float = 1.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    error = rng.integers(-12, 10, N)
    lapse_p = rng.uniform(0, 1, N).round(2)  # rounded: ties, which the AUC must average
    lapsed = rng.uniform(0, 1, N) < lapse_p
    refilled = ~lapsed | (rng.uniform(0, 1, N) < 0.3)
    actual = [day + timedelta(days=int(d)) for d in rng.integers(5, 60, N)]
    predicted = [a + timedelta(days=int(e)) for a, e in zip(actual, error, strict=True)]
    return pl.DataFrame(
        {
            "as_of_date": [day] * N,
            "rx_id": [f"rx{i}" for i in range(N)],
            "model_name": "lightgbm",
            "model_version": "7",
            "predicted_refill_date": predicted,
            "refill_date_p10": [p - timedelta(days=5) for p in predicted],
            "refill_date_p90": [p + timedelta(days=5) for p in predicted],
            "lapse_probability": lapse_p,
            "actual_refill_date": actual,
            "lapsed": lapsed,
            "error_days": error,
            "in_interval": np.abs(error) <= 5,
            "settled": rng.uniform(0, 1, N) < settled_share,
        }
    ).with_columns(  # no refill within the horizon: no timing outcome
        pl.when(pl.lit(refilled)).then(pl.col(c)).alias(c) for c in ("error_days", "in_interval")
    )


@pytest.fixture
def con():
    with duckdb.connect() as c:
        ensure_table(c, OUTCOMES_TABLE, OUTCOME_COLUMNS)
        ensure_table(c, BASELINE_TABLE, BASELINE_COLUMNS)
        yield c


def _load(con, frame: pl.DataFrame, baseline_shift: int | None = 3) -> None:
    con.register("incoming", frame)
    con.execute(f"INSERT INTO {OUTCOMES_TABLE} BY NAME SELECT * FROM incoming")
    if baseline_shift is not None:  # the heuristic: a constant error of `shift` more days
        con.execute(
            f"INSERT INTO {BASELINE_TABLE} SELECT as_of_date, rx_id, 'heuristic', '1',"
            f" actual_refill_date + {baseline_shift} FROM incoming"
        )
    con.unregister("incoming")


def test_the_figures_are_those_of_the_settled_rows(con):
    frame = _outcomes(DAY, 1, settled_share=0.8)
    _load(con, frame)
    row = recompute_days(con, [DAY], DAY + timedelta(days=10), 90).row(0, named=True)
    settled = frame.filter(pl.col("settled"))
    timed = settled.filter(pl.col("error_days").is_not_null())
    errors = timed["error_days"].cast(pl.Float64).to_numpy()
    assert row["rows_scored"] == N and row["rows_settled"] == settled.height
    assert row["rows_refilled"] == timed.height
    assert row["mae_days"] == pytest.approx(np.abs(errors).mean())
    assert row["bias_days"] == pytest.approx(errors.mean())
    assert row["median_ae_days"] == pytest.approx(np.median(np.abs(errors)))
    assert row["late_share"] == pytest.approx((errors < 0).mean())
    assert row["within_7d"] == pytest.approx((np.abs(errors) <= 7).mean())
    assert row["coverage_p10_p90"] == pytest.approx((np.abs(errors) <= 5).mean())
    y, p = settled["lapsed"].to_numpy(), settled["lapse_probability"].to_numpy()
    assert row["lapse_roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert row["lapse_brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert 0 <= row["lapse_calibration_error"] < 0.15  # drawn calibrated: small, not zero
    assert row["heuristic_mae_days"] == pytest.approx(3.0)
    assert row["status"] == "provisional"  # 20 % open, 10 days old


def test_final_when_settled_or_mature_and_only_the_days_asked_are_replaced(con):
    _load(con, _outcomes(DAY, 2, settled_share=1.0))
    later = DAY + timedelta(days=1)
    _load(con, _outcomes(later, 3, settled_share=0.5))
    rows = recompute_days(con, [DAY, later], DAY + timedelta(days=20), 90)
    assert dict(zip(rows["as_of_date"], rows["status"], strict=True)) == {
        DAY: "final",
        later: "provisional",
    }
    again = recompute_days(con, [later], later + timedelta(days=90), 90)
    assert again["status"].to_list() == ["final"]  # matured
    (count,) = con.execute("select count(*) from monitoring.performance_daily").fetchone()
    assert count == 2
    assert recompute_days(con, [], None, 90).height == 0


def _performance(con, days: int, shift: int) -> pl.DataFrame:
    for i in range(days):
        _load(con, _outcomes(DAY + timedelta(days=i), 10 + i), baseline_shift=shift)
    through = DAY + timedelta(days=days + 200)
    return recompute_days(con, [DAY + timedelta(days=i) for i in range(days)], through, 90)


def test_the_checks_pool_final_days_and_say_what_they_saw(con):
    performance = _performance(con, 5, shift=20)
    policy = PerformancePolicy(min_rows=100)
    figures = pooled(performance, "7", policy)
    assert figures["days"] == 5 and figures["rows_refilled"] == performance["rows_refilled"].sum()
    by_name = {f.name: f for f in findings(figures, offline_mae=figures["mae_days"], policy=policy)}
    assert by_name["live_mae"].passed
    assert by_name["beats_heuristic"].passed  # the heuristic is 20 days off
    assert not by_name["interval_coverage"].passed  # ±5 days of errors drawn in -12..9
    assert "coverage_p10_p90" in by_name["interval_coverage"].message
    worse = findings(figures, offline_mae=figures["mae_days"] / 2, policy=policy)
    assert not {f.name: f for f in worse}["live_mae"].passed
    assert pooled(performance, "other-version", policy) is None
    quiet = findings(None, None, policy)
    assert all(f.passed and "not judged" in f.message for f in quiet)


def test_a_heuristic_as_good_as_the_model_fails_the_ratio(con):
    performance = _performance(con, 3, shift=1)
    figures = pooled(performance, "7", PerformancePolicy(min_rows=100))
    ratio = {f.name: f for f in findings(figures, None, PerformancePolicy(min_rows=100))}
    assert (
        not ratio["beats_heuristic"].passed
        and "model/heuristic" in ratio["beats_heuristic"].message
    )
    assert ratio["live_mae"].passed and "no offline figure" in ratio["live_mae"].message
