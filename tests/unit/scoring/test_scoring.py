"""Score rows in the contract's shape, and a window of days replaced all or nothing."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from refill_assets.scoring.scores import COLUMNS, SCORES_TABLE, replace_days, score_day

D = date(2025, 6, 1)


def rows(day: date, rx: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "as_of_date": [day] * len(rx),
            "rx_id": rx,
            "pet_id": [f"P{r}" for r in rx],
            "customer_id": ["C1"] * len(rx),
            "drug_class": ["cardiac"] * len(rx),
            "last_fill_date": [date(2025, 5, 10)] * len(rx),
            "days_supply_remaining": [8.0] * len(rx),
        }
    )


def predictions(days: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "predicted_days_to_refill": days,
            "p10_days": [d - 2.4 for d in days],
            "p90_days": [d + 5.6 for d in days],
            "lapse_probability": [0.25] * len(days),
        }
    )


def test_score_rows_follow_the_contract():
    scored = score_day(rows(D, ["R1", "R2"]), predictions([9.4, 0.0]), "lightgbm", "3", "run-1")
    assert scored.columns == list(COLUMNS)
    first = scored.row(0, named=True)
    assert first["predicted_refill_date"] == date(2025, 6, 10)  # 9.4 days rounds to 9
    assert first["refill_date_p10"] == date(2025, 6, 8)
    assert first["refill_date_p90"] == date(2025, 6, 16)
    assert (first["model_name"], first["model_version"], first["run_id"]) == (
        "lightgbm",
        "3",
        "run-1",
    )
    assert scored.row(1, named=True)["predicted_refill_date"] == D


def test_replacing_a_window_is_idempotent_and_leaves_other_days(tmp_path):
    other = date(2025, 5, 31)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        replace_days(
            con, score_day(rows(other, ["R9"]), predictions([3.0]), "h", "1", "r"), other, other
        )
        day = score_day(rows(D, ["R1", "R2"]), predictions([5.0, 6.0]), "h", "1", "r")
        replace_days(con, day, D, D)
        replace_days(con, day, D, D)
        count = dict(
            con.execute(f"select as_of_date, count(*) from {SCORES_TABLE} group by 1").fetchall()
        )
        assert count == {other: 1, D: 2}
        broken = day.with_columns(as_of_date=pl.lit("not a date"))
        with pytest.raises(duckdb.Error):
            replace_days(con, broken, D, D)
        # the failed replace rolled back: the day is still whole
        assert con.execute(
            f"select count(*) from {SCORES_TABLE} where as_of_date = ?", [D]
        ).fetchone() == (2,)
