"""The validation report and model cards from real model predictions on the synthetic frame."""

from __future__ import annotations

import polars as pl

from refill_assets.models.split import time_split
from refill_assets.models.train import train
from refill_assets.validation.cards import model_card
from refill_assets.validation.report import Holdout, validate, write_report
from tests.support.model_fixture import CATEGORICAL, NUMERIC, make_frame


def test_report_and_cards(tmp_path):
    split = time_split(make_frame(n_rx=600, seed=9))
    preds = {
        kind: train(kind, split, NUMERIC, CATEGORICAL, n_trials=1, threads=1).test_predictions
        for kind in ("heuristic", "lightgbm")
    }
    # an "oracle" that knows the answer for half the rows
    known = pl.Series([i % 2 == 0 for i in range(split.test.height)])
    oracle = split.test.select(
        predicted_days_to_refill=pl.col("days_to_refill").fill_null(0.0),
        p10_days=pl.col("days_to_refill").fill_null(0.0),
        p90_days=pl.col("days_to_refill").fill_null(0.0),
        lapse_probability=pl.col("lapse").cast(pl.Float64).fill_null(0.0),
    ).with_columns(has_truth=known)
    holdout = Holdout(split.test, preds, oracle)
    result = validate(holdout)

    assert result.metrics["model"].to_list() == ["heuristic", "lightgbm", "oracle"]
    oracle_row = result.metrics.row(2, named=True)
    assert oracle_row["mae_days"] == 0.0 and oracle_row["rows"] == int(known.sum())
    assert set(result.outreach["lead_days"]) == {7, 14}
    assert set(result.segments) == {"heuristic", "lightgbm"}

    page = write_report(
        tmp_path / "validation.html", holdout, result, {"promoted": True, "reasons": ["ok"]}, "w"
    )
    text = page.read_text()
    assert "Calibration — lightgbm" in text and "Outreach simulation" in text

    card = model_card(
        tmp_path / "cards" / "lightgbm.md",
        "lightgbm",
        {"days_supply_remaining": ("days of supply left", "days")},
        "2024-01-01 … 2025-01-01",
        result.metrics.row(1, named=True),
        result.segments["lightgbm"],
        "Trained on a synthetic world.",
    )
    body = card.read_text()
    assert "`days_supply_remaining`: days of supply left (days)" in body
    assert "mae_days" in body and "Weakest large segments" in body
