"""metrics: hand-checked on tiny arrays and frames."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from refill_assets.models import metrics


def test_timing_metrics_by_hand():
    out = metrics.timing_metrics(
        predicted=np.array([10.0, 20.0, 30.0, 40.0]),
        actual=np.array([12.0, 20.0, 38.0, 35.0]),
        p10=np.array([5.0, 21.0, 25.0, 30.0]),
        p90=np.array([15.0, 25.0, 35.0, 50.0]),
    )
    # errors 2, 0, 8, 5
    assert out["mae_days"] == pytest.approx(3.75)
    assert out["median_ae_days"] == pytest.approx(3.5)
    assert out["within_3d"] == pytest.approx(0.5)
    assert out["within_7d"] == pytest.approx(0.75)
    assert out["coverage_p10_p90"] == pytest.approx(0.5)  # rows 1 and 4


def test_lapse_metrics_by_hand():
    out = metrics.lapse_metrics(
        np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True])
    )
    # positive pairs ranked correctly: (0.35>0.1), (0.8>0.1), (0.8>0.4); wrong: (0.35<0.4)
    assert out["lapse_roc_auc"] == pytest.approx(0.75)
    # ranking 0.8(+), 0.4(-), 0.35(+), 0.1(-): precision 1 at recall .5, 2/3 at recall 1
    assert out["lapse_pr_auc"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert out["lapse_brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert math.isnan(metrics.lapse_metrics(np.array([0.2]), np.array([True]))["lapse_roc_auc"])


def test_calibration_table_bins():
    table = metrics.calibration_table(np.array([0.05, 0.07, 0.95, 1.0]), np.array([0, 1, 1, 1]))
    assert table.get_column("bin").to_list() == [0, 9]
    assert table.get_column("rows").to_list() == [2, 2]
    assert table.get_column("observed_rate").to_list() == [0.5, 1.0]
    assert table.get_column("mean_predicted").to_list() == pytest.approx([0.06, 0.975])


def _tiny() -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = pl.DataFrame(
        {
            "days_to_refill": [10.0, 20.0, None, 30.0],
            "lapse": [False, True, True, None],
            "species": ["dog", "cat", "dog", "cat"],
            "drug_class": ["a", "a", "b", "b"],
            "cycle_days": [30, 30, 60, 60],
            "channel": ["x", "x", "x", "x"],
            "autoship": [True, False, False, True],
        }
    )
    pred = pl.DataFrame(
        {
            "predicted_days_to_refill": [15.0, 12.0, 40.0, 31.0],
            "p10_days": [5.0, 10.0, 30.0, 20.0],
            "p90_days": [20.0, 15.0, 60.0, 40.0],
            "lapse_probability": [0.1, 0.7, 0.9, 0.2],
        }
    )
    return frame, pred


def test_the_nightly_mae_weighs_each_example_by_its_nights():
    frame, pred = _tiny()
    # errors 5, 8, (no refill), 1 on 10, 30, 5, 10 nights: the long window weighs most
    nights = frame.with_columns(window_days=pl.Series([10, 30, 5, 10]))
    assert metrics.nightly_mae(pred, nights) == pytest.approx((50 + 240 + 10) / 50)
    assert metrics.evaluate(pred, nights)["mae_days"] == pytest.approx(14 / 3)  # unweighted
    assert metrics.nightly_mae(pred, frame) is None  # a snapshot without the column


def test_evaluate_uses_only_rows_with_known_outcomes():
    frame, pred = _tiny()
    out = metrics.evaluate(pred, frame)
    assert (out["rows_refill_observed"], out["rows_lapse_known"]) == (3, 3)
    assert out["mae_days"] == pytest.approx((5 + 8 + 1) / 3)
    assert out["lapse_roc_auc"] == pytest.approx(1.0)


def test_by_segment_breaks_down_each_segment():
    frame, pred = _tiny()
    seg = metrics.by_segment(pred, frame)
    assert set(seg.get_column("segment")) == set(metrics.SEGMENTS)
    dog = seg.filter(segment="species", value="dog").row(0, named=True)
    assert dog["rows_refill_observed"] == 1
    assert dog["mae_days"] == pytest.approx(5.0)


@pytest.mark.parametrize("bad", [float("nan"), None, float("inf")])
def test_every_metric_refuses_a_missing_or_non_finite_prediction_naming_the_row(bad):
    frame, pred = _tiny()
    frame = frame.with_columns(
        rx_id=pl.Series(["R1", "R2", "R3", "R4"]),
        as_of_date=pl.Series(["2026-01-01"] * 4).str.to_date(),
    )
    pred = pred.with_columns(p90_days=pl.Series([20.0, bad, 60.0, 40.0], dtype=pl.Float64))
    for metric in (metrics.evaluate, metrics.by_segment, metrics.outreach_simulation):
        with pytest.raises(metrics.NonFinitePredictions, match=r"1 of 4 rows .* R2 @ 2026-01-01"):
            metric(pred, frame)
    assert metrics.non_finite(_tiny()[1], frame) is None


def test_outreach_simulation_by_hand():
    frame, pred = _tiny()
    out = metrics.outreach_simulation(pred, frame, lead_days=(7,)).row(0, named=True)
    # contacts on days 8, 5, (33), 24; refills at 10, 20, 30: ahead 2 (on time), 15 (early), 6
    assert out["share_refills_contacted_on_time"] == pytest.approx(2 / 3)
    assert out["share_contact_early"] == pytest.approx(1 / 3)
    assert out["share_contact_late"] == 0.0
    assert (out["contacts"], out["contacts_wasted_on_lapsed"]) == (3, 2)
    held = metrics.outreach_simulation(pred, frame, lead_days=(7,), max_lapse_probability=0.5)
    assert held.row(0, named=True)["contacts_wasted_on_lapsed"] == 0
