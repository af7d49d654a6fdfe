"""validate.output: the promised outputs' suites run by GX on hand-built frames and tables."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from refill_assets.outreach.export import EXPORT_COLUMNS
from refill_assets.quality import outputs, verdict
from refill_assets.quality.datasets import EXPORT
from refill_assets.quality.scorecard import TABLE
from refill_assets.scoring.scores import COLUMNS, SCORES_TABLE
from refill_assets.storage.warehouse import ensure_table
from tests.unit.quality.conftest import Warehouse, as_frame, export_row, score, validate_output

DAYS = [Warehouse.day(n) for n in (1, 2, 3)]


def _rows(make, bad: dict | None = None, day=DAYS[1]) -> list[dict]:
    """Three rows a day of ``DAYS`` (``make(i, day)``), the second of ``day`` with ``bad``."""
    return [
        make(i, d) | ((bad or {}) if (d, i) == (day, 1) else {}) for d in DAYS for i in range(3)
    ]


def _by_rule(found: verdict.Verdict, severity: str) -> dict[str, tuple[str, ...]]:
    return {f.rule: f.days for f in found.failed(severity)}


def _success_by_day(found: verdict.Verdict, rule: str) -> dict:
    card = found.scorecard.filter(expectation=rule).sort("day")
    return dict(zip(card["day"].to_list(), card["success"].to_list(), strict=True))


@pytest.mark.parametrize(("dataset", "make"), [(SCORES_TABLE, score), (EXPORT, export_row)])
def test_a_clean_frame_passes_every_expectation(wh, dataset, make):
    found = validate_output(wh, dataset, DAYS, as_frame(_rows(make)))
    assert found.failures == ()
    n = len(outputs.suite(dataset).expectations)
    card = found.scorecard
    assert card.height == n * len(DAYS)  # every expectation judged every day
    assert card["success"].all()
    assert sorted(set(card["day"].to_list())) == DAYS
    assert set(card["dataset"].to_list()) == {dataset}


def test_a_p10_after_the_prediction_fails_critically_on_its_day_only(wh):
    p10_late = {"refill_date_p10": DAYS[1] + timedelta(days=12)}  # the prediction: day + 10
    found = validate_output(wh, SCORES_TABLE, DAYS, as_frame(_rows(score, p10_late)))
    critical = found.failed("critical")
    assert [(f.rule, f.days, f.unexpected) for f in critical] == [
        ("p10_not_after_prediction", (str(DAYS[1]),), 1)
    ]
    assert found.failed("warning") == []
    assert _success_by_day(found, "p10_not_after_prediction") == {
        DAYS[0]: True,
        DAYS[1]: False,
        DAYS[2]: True,
    }
    # every other expectation held on that day
    held = found.scorecard.filter(day=DAYS[1], success=True)
    assert held.height == len(outputs.suite(SCORES_TABLE).expectations) - 1


def test_a_lapse_probability_above_one_fails_its_range(wh):
    found = validate_output(
        wh, SCORES_TABLE, DAYS, as_frame(_rows(score, {"lapse_probability": 1.2}, DAYS[2]))
    )
    assert _by_rule(found, "critical") == {"range:lapse_probability": (str(DAYS[2]),)}
    (failure,) = found.failed("critical")
    assert failure.sample == ("1.2",)


def test_an_export_with_an_extra_column_fails_contract_columns(wh):
    frame = as_frame(_rows(export_row)).assign(email="someone@example.com")
    assert list(frame.columns) == [*EXPORT_COLUMNS, "email"]  # the contract's, and one more
    found = validate_output(wh, EXPORT, DAYS, frame)
    critical = _by_rule(found, "critical")
    assert list(critical) == ["contract_columns"]
    assert critical["contract_columns"] == tuple(str(d) for d in DAYS)  # the file, every day


def test_an_export_row_by_fax_fails_allowed_channel(wh):
    found = validate_output(wh, EXPORT, DAYS, as_frame(_rows(export_row, {"channel": "fax"})))
    assert _by_rule(found, "critical") == {"allowed:channel": (str(DAYS[1]),)}
    assert found.failed("critical")[0].sample == ("fax",)
    assert _success_by_day(found, "allowed:channel") == {
        DAYS[0]: True,
        DAYS[1]: False,
        DAYS[2]: True,
    }


def test_a_table_read_from_the_warehouse_is_judged_on_every_day_present(wh):
    later = DAYS[2] + timedelta(days=4)  # a gap: the days present, not a range
    rows = [*_rows(score, {"lapse_probability": -0.1}, DAYS[0]), score(7, later)]
    with wh.connect(read_only=False) as con:
        ensure_table(con, SCORES_TABLE, COLUMNS)
        con.register("delivered", pl.DataFrame(rows).to_arrow())
        con.execute(f"INSERT INTO {SCORES_TABLE} BY NAME SELECT * FROM delivered")
    found = validate_output(wh, SCORES_TABLE, None)
    assert sorted(set(found.scorecard["day"].to_list())) == [*DAYS, later]
    assert _by_rule(found, "critical") == {"range:lapse_probability": (str(DAYS[0]),)}
    with wh.connect() as con:
        recorded = con.execute(
            f"SELECT DISTINCT day FROM {TABLE} WHERE dataset = ? ORDER BY day", [SCORES_TABLE]
        ).fetchall()
        failed = con.execute(
            f"SELECT day, expectation FROM {TABLE} WHERE NOT success ORDER BY ALL"
        ).fetchall()
    assert [d for (d,) in recorded] == [*DAYS, later]
    assert failed == [(DAYS[0], "range:lapse_probability")]
