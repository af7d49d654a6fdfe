"""validation.against_truth: a night's scores against a hand-made world truth."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from refill_assets.validation.against_truth import (
    held_against_truth,
    labelled_scores,
    read_fills,
)

NIGHT, END = date(2025, 2, 10), date(2025, 7, 31)


def _truth(folder):
    # rx A: refilled 2025-03-05; its last fill's law: 33 or 39 days after it
    # rx B: never refilled; half its draws stop, half come after the lapse deadline
    # rx C: filled on 2025-02-09 in the world, which the platform did not know yet
    rows = [
        ("O1", "A", date(2025, 1, 1), 30, [30] * 8),
        ("O2", "A", date(2025, 1, 29), 30, [33] * 4 + [39] * 4),
        ("O3", "A", date(2025, 3, 5), 30, [30] * 8),
        ("O4", "B", date(2025, 1, 15), 30, [-1] * 4 + [100] * 4),
        ("O5", "C", date(2025, 1, 10), 30, [30] * 8),
        ("O6", "C", date(2025, 2, 9), 30, [30] * 8),
    ]
    pl.DataFrame(
        rows,
        schema={
            "order_id": pl.String,
            "rx_id": pl.String,
            "fill_date": pl.Date,
            "days_supply": pl.Int64,
            "draw_gap_days": pl.List(pl.Int16),
        },
        orient="row",
    ).write_parquet(folder / "next_fill.parquet")
    return folder


def _scores() -> pl.DataFrame:
    def row(rx, last, days, p10, p90, lapse):
        return {
            "as_of_date": NIGHT,
            "rx_id": rx,
            "last_fill_date": last,
            "predicted_days_to_refill": float(days),
            "refill_date_p10": NIGHT + timedelta(days=p10),
            "refill_date_p90": NIGHT + timedelta(days=p90),
            "lapse_probability": lapse,
            "model_name": "lightgbm",
        }

    return pl.DataFrame(
        [
            row("A", date(2025, 1, 29), 16, 10, 28, 0.2),
            row("B", date(2025, 1, 15), 5, 0, 20, 0.7),
            row("C", date(2025, 1, 10), 20, 10, 30, 0.1),
        ]
    )


def test_labels_follow_the_contract(tmp_path):
    rows = labelled_scores(_scores(), read_fills(_truth(tmp_path)), NIGHT, END).sort("rx_id")
    assert rows["matched"].to_list() == [True, True, False]  # C's last fill came later
    assert rows["days_to_refill"].to_list() == [23, None, None]
    # C: the world's last fill (Feb 9) has no successor by its deadline (Apr 10), but the
    # row is left out: the score answered for the fill of Jan 10
    assert rows["lapse"].to_list() == [False, True, True]


def test_the_night_against_rule_and_oracle(tmp_path):
    out = held_against_truth(_scores(), _truth(tmp_path), NIGHT, END)
    assert (out["rows_scored"], out["rows_unmatched"], out["rows_without_oracle"]) == (3, 1, 0)
    assert out["rows_refill_observed"] == 1 and out["rows_lapse_known"] == 2
    assert out["mae_days"] == 7  # predicted 16, refilled after 23
    assert out["rule_mae_days"] == 5  # run-out on Feb 28: 18 days
    assert out["oracle_mae_days"] == 1  # 21 or 27 days left: median 24
    assert out["mae_vs_rule"] == pytest.approx(7 / 5)
    assert out["mae_vs_oracle"] == 7 and out["oracle_vs_rule"] == pytest.approx(1 / 5)
    assert out["coverage_p10_p90"] == 1.0  # 23 within [10, 28]
    assert out["lapse_roc_auc"] == 1.0 and out["lapse_auc_gap"] == 0.0
    assert out["model"] == "lightgbm"


def test_a_world_that_ends_too_soon_is_refused(tmp_path):
    with pytest.raises(ValueError, match="120 days"):
        held_against_truth(_scores(), _truth(tmp_path), NIGHT, NIGHT + timedelta(days=60))
