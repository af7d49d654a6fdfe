"""The monitoring report's cost section on a hand-made in-memory warehouse: the 30 days of
spend up to the newest recorded cost, the forecast's variance computed by hand, the section's
text, figure and table (per 1,000 predictions, significant digits), and the headline."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from refill_assets.cost import ledger
from refill_assets.cost.explorer import FOCUS_SCHEMA, FORECAST_SCHEMA
from refill_assets.cost.guardrails import Compared
from refill_assets.monitoring import economics, report_cost
from refill_assets.monitoring.report import build_monitoring_report
from refill_assets.reports.page import Section

HEADLINE_KEYS = {
    "cost_usd_all",
    "cost_per_1000_predictions_all",
    "cost_per_captured_refill_all",
    "benefit_per_cloud_usd_all",
    "forecast_variance_30d",
}


@pytest.fixture
def con():
    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()


def _tables(con) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }


def _estimates(run_id: str, ran_on: date, cost: float, start=None, end=None, item="compute"):
    start = start or ran_on
    return pl.DataFrame(
        {
            "run_id": [run_id],
            "job": ["nightly"],
            "ran_on": [ran_on],
            "window_start": [start],
            "window_end": [end or start],
            "asset": ["rx_refill_scores"],
            "item": [item],
            "cost_usd": [cost],
        }
    )


def _actuals(rows: list[tuple[date, str, float]]) -> pl.DataFrame:
    """FOCUS rows (charge day, service, billed cost)."""
    return pl.DataFrame(
        {
            "BillingPeriodStart": [d.replace(day=1) for d, _, _ in rows],
            "BillingPeriodEnd": [d.replace(day=28) for d, _, _ in rows],
            "ChargePeriodStart": [d for d, _, _ in rows],
            "ChargePeriodEnd": [d + timedelta(days=1) for d, _, _ in rows],
            "BilledCost": [c for _, _, c in rows],
            "EffectiveCost": [c for _, _, c in rows],
            "BillingCurrency": ["USD"] * len(rows),
            "ServiceName": [s for _, s, _ in rows],
            "ResourceId": [None] * len(rows),
            "Tags": ["{}"] * len(rows),
            "ConsumedQuantity": [1.0] * len(rows),
            "ConsumedUnit": ["Hrs"] * len(rows),
            "x_Estimated": [False] * len(rows),
        },
        schema=FOCUS_SCHEMA,
    )


def _forecast(made_on: date, days: dict[date, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "made_on": [made_on] * len(days),
            "day": list(days),
            "mean_usd": list(days.values()),
            "low_usd": [v * 0.5 for v in days.values()],
            "high_usd": [v * 1.5 for v in days.values()],
        },
        schema=FORECAST_SCHEMA,
    )


def _economics_frame(cost_per_prediction: float | None = 0.000012345) -> pl.DataFrame:
    rows = {
        "period": ["2024-01", "all"],
        "cost_usd": [0.012345, 0.012345],
        "predictions": [1000, 1000],
        "cost_per_prediction": [cost_per_prediction, cost_per_prediction],
        "refills_captured": [None, 40.0],
        "cost_per_captured_refill": [None, 0.012345 / 40],
        "incremental_refills": [None, 10.0],
        "benefit_usd": [None, 25.0],
        "benefit_per_cloud_usd": [None, 25.0 / 0.012345],
    }
    return pl.DataFrame(rows, schema=economics.COLUMNS)


def _economics_from_warehouse(con) -> pl.DataFrame:
    """1,000 scores in January 2024 and one night's estimate of $2.50."""
    con.execute("CREATE SCHEMA IF NOT EXISTS scores")
    con.execute("CREATE TABLE scores.rx_refill_scores (as_of_date DATE, rx_id VARCHAR)")
    con.execute(
        "INSERT INTO scores.rx_refill_scores "
        "SELECT DATE '2024-01-15', 'rx' || i FROM range(1000) t(i)"
    )
    ledger.record_run(con, "run-1", _estimates("run-1", date(2024, 1, 15), 2.5))
    return economics.unit_economics(economics.cost_by_period(con), None, None)


# ---------------------------------------------------------------- spend


def test_spend_on_empty_tables_is_none_and_creates_the_cost_tables(con):
    assert report_cost.spend(con) == (None, None)
    tables = _tables(con)
    assert {ledger.ESTIMATES_TABLE, ledger.ACTUALS_TABLE, ledger.FORECASTS_TABLE} <= tables


def test_spend_with_estimates_only_ends_on_the_newest_run_and_compares_nothing(con):
    ledger.record_run(con, "a", _estimates("a", date(2024, 3, 1), 1.0))
    ledger.record_run(con, "b", _estimates("b", date(2024, 3, 10), 2.0))
    ledger.record_run(con, "c", _estimates("c", date(2024, 3, 10), 0.5))

    days, compared = report_cost.spend(con)

    assert compared.end == date(2024, 3, 10)
    assert compared.start == date(2024, 2, 10)  # 30 days, both ends included
    assert (compared.days, compared.skipped) == (0, 30)
    assert compared.variance is None
    assert days.height == 30
    assert days["day"].to_list() == [date(2024, 2, 10) + timedelta(days=i) for i in range(30)]
    by_day = dict(zip(days["day"], days["estimated_usd"], strict=True))
    assert by_day[date(2024, 3, 10)] == pytest.approx(2.5)
    assert by_day[date(2024, 3, 1)] == pytest.approx(1.0)
    assert by_day[date(2024, 3, 5)] == 0.0
    assert days["actual_usd"].is_null().all()
    assert days["forecast_usd"].is_null().all()


def test_spend_with_actuals_and_forecasts_ends_on_the_newest_day_and_computes_variance(con):
    ledger.record_run(con, "a", _estimates("a", date(2024, 3, 3), 1.0))
    # actuals are newer than the last estimate: the window ends on 2024-03-05
    actual = {
        date(2024, 3, 1): 2.0,  # no forecast made before it: not compared
        date(2024, 3, 2): 4.0,
        date(2024, 3, 3): 6.0,
        date(2024, 3, 5): 10.0,
    }
    ledger.record_actuals(
        con,
        _actuals(
            [(d, "Amazon Elastic Container Service", v / 2) for d, v in actual.items()]
            + [(d, "Amazon Simple Storage Service", v / 2) for d, v in actual.items()]
        ),
        date(2024, 3, 1),
        date(2024, 3, 5),
    )
    # day-ahead forecasts; 2024-03-04 has a forecast but no actual: not compared
    ledger.record_forecast(
        con, date(2024, 3, 1), _forecast(date(2024, 3, 1), {date(2024, 3, 2): 5.0})
    )
    ledger.record_forecast(
        con,
        date(2024, 3, 2),
        _forecast(date(2024, 3, 2), {date(2024, 3, 3): 9.0, date(2024, 3, 4): 7.0}),
    )
    ledger.record_forecast(
        con, date(2024, 3, 4), _forecast(date(2024, 3, 4), {date(2024, 3, 5): 8.0})
    )
    # made on the day itself: not a day-ahead forecast, ignored
    ledger.record_forecast(
        con, date(2024, 3, 5), _forecast(date(2024, 3, 5), {date(2024, 3, 5): 100.0})
    )

    days, compared = report_cost.spend(con)

    assert compared.end == date(2024, 3, 5)
    assert compared.start == date(2024, 2, 5)
    assert days.height == 30 and days["day"].max() == date(2024, 3, 5)
    assert compared.days == 3
    both_actual = 4.0 + 6.0 + 10.0
    both_forecast = 5.0 + 9.0 + 8.0
    assert compared.actual_usd == pytest.approx(both_actual)
    assert compared.forecast_usd == pytest.approx(both_forecast)
    assert compared.variance == pytest.approx(abs(both_forecast - both_actual) / both_actual)
    by_day = {row["day"]: row for row in days.iter_rows(named=True)}
    assert by_day[date(2024, 3, 1)]["actual_usd"] == pytest.approx(2.0)
    assert by_day[date(2024, 3, 4)]["actual_usd"] is None
    assert by_day[date(2024, 3, 4)]["forecast_usd"] == pytest.approx(7.0)
    assert by_day[date(2024, 3, 5)]["forecast_usd"] == pytest.approx(8.0)
    assert by_day[date(2024, 3, 3)]["estimated_usd"] == pytest.approx(1.0)


# ---------------------------------------------------------------- section


@pytest.mark.parametrize("frame", [None, pl.DataFrame(schema=economics.COLUMNS)])
def test_section_without_economics_names_the_table(frame):
    section = report_cost.section(frame, None, None)
    assert isinstance(section, Section)
    assert section.title == "Cost and unit economics"
    assert economics.ECONOMICS_TABLE in section.text
    assert section.figures == [] and section.tables == []


def test_section_without_actuals_says_so_with_one_table_and_no_figure(con):
    ledger.record_run(con, "a", _estimates("a", date(2024, 1, 15), 1.0))
    days, compared = report_cost.spend(con)

    section = report_cost.section(_economics_frame(), days, compared)

    assert "No actual spend yet" in section.text
    assert "variance" not in section.text.lower()
    assert section.figures == []
    assert len(section.tables) == 1
    # no spend recorded at all: the same
    bare = report_cost.section(_economics_frame(), None, None)
    assert "No actual spend yet" in bare.text and bare.figures == [] and len(bare.tables) == 1


def test_section_with_actuals_shows_the_variance_and_a_figure():
    days = pl.DataFrame(
        {
            "day": [date(2024, 3, 1), date(2024, 3, 2)],
            "actual_usd": [4.0, None],
            "estimated_usd": [3.0, 2.0],
            "forecast_usd": [5.0, 2.5],
        }
    )
    compared = Compared(date(2024, 2, 2), date(2024, 3, 2), 1, 29, 4.0, 5.0)

    section = report_cost.section(_economics_frame(), days, compared)

    assert "No actual spend yet" not in section.text
    assert "25.0%" in section.text  # |5 - 4| / 4
    assert "target < 20%" in section.text
    assert "1 comparable day(s) to 2024-03-02" in section.text
    assert len(section.figures) == 1
    assert len(section.tables) == 1
    traces = {trace.name for trace in section.figures[0].data}
    assert traces == {"estimated_usd", "actual_usd", "forecast_usd"}


def test_section_with_actuals_but_no_comparable_day_says_na():
    days = pl.DataFrame(
        {
            "day": [date(2024, 3, 1)],
            "actual_usd": [4.0],
            "estimated_usd": [3.0],
            "forecast_usd": [None],
        },
        schema_overrides={"forecast_usd": pl.Float64},
    )
    compared = Compared(date(2024, 1, 31), date(2024, 3, 1), 0, 30, 0.0, 0.0)
    section = report_cost.section(_economics_frame(), days, compared)
    assert "variance n/a" in section.text
    assert len(section.figures) == 1


def test_section_table_shows_cost_per_1000_predictions_in_significant_digits():
    section = report_cost.section(_economics_frame(), None, None)
    (table,) = section.tables
    assert "cost_per_prediction" not in table.columns
    assert "cost_per_1000_predictions" in table.columns
    assert table["cost_per_1000_predictions"].to_list() == ["0.01235", "0.01235"]
    assert table["cost_usd"].to_list() == ["0.01235", "0.01235"]
    # a null stays empty, never "nan" nor "None"
    assert table.filter(period="2024-01")["cost_per_captured_refill"].to_list() == [None]
    assert "nan" not in str(table.rows())
    assert table["predictions"].to_list() == [1000, 1000]


def test_section_table_keeps_a_null_cost_per_prediction_empty():
    section = report_cost.section(_economics_frame(cost_per_prediction=None), None, None)
    (table,) = section.tables
    assert table["cost_per_1000_predictions"].to_list() == [None, None]


def test_section_table_from_the_warehouse_economics(con):
    frame = _economics_from_warehouse(con)
    section = report_cost.section(frame, *report_cost.spend(con))
    (table,) = section.tables
    assert table["period"].to_list() == ["2024-01", "all"]
    # $2.50 over 1,000 predictions: $2.50 per 1,000
    assert table["cost_per_1000_predictions"].to_list() == ["2.5", "2.5"]
    assert table["cost_per_captured_refill"].to_list() == [None, None]


# ---------------------------------------------------------------- headline


def test_headline_reads_the_all_row():
    compared = Compared(date(2024, 2, 2), date(2024, 3, 2), 3, 27, 20.0, 22.0)
    out = report_cost.headline(_economics_frame(), compared)
    assert set(out) == HEADLINE_KEYS
    assert out["cost_usd_all"] == pytest.approx(0.012345)
    assert out["cost_per_1000_predictions_all"] == pytest.approx(0.012345)
    assert out["cost_per_captured_refill_all"] == pytest.approx(0.012345 / 40)
    assert out["benefit_per_cloud_usd_all"] == pytest.approx(25.0 / 0.012345)
    assert out["forecast_variance_30d"] == pytest.approx(0.1)


def test_headline_from_the_warehouse_economics(con):
    out = report_cost.headline(_economics_from_warehouse(con), None)
    assert out["cost_usd_all"] == pytest.approx(2.5)
    assert out["cost_per_1000_predictions_all"] == pytest.approx(2.5)
    assert out["cost_per_captured_refill_all"] is None
    assert out["benefit_per_cloud_usd_all"] is None
    assert out["forecast_variance_30d"] is None


@pytest.mark.parametrize(
    "frame",
    [
        None,
        pl.DataFrame(schema=economics.COLUMNS),
        _economics_frame().filter(period="2024-01"),  # no 'all' row
    ],
)
def test_headline_is_none_when_absent(frame):
    out = report_cost.headline(frame, None)
    assert set(out) == HEADLINE_KEYS
    assert all(value is None for value in out.values())


# ---------------------------------------------------------------- the report page


def test_monitoring_report_with_only_economics_and_cost_tables(con, tmp_path):
    economics.write_economics(con, _economics_frame())
    ledger.record_run(con, "a", _estimates("a", date(2024, 1, 15), 1.0))
    ledger.record_actuals(
        con,
        _actuals([(date(2024, 1, 15), "Amazon Elastic Container Service", 1.2)]),
        date(2024, 1, 15),
        date(2024, 1, 15),
    )
    ledger.record_forecast(
        con, date(2024, 1, 14), _forecast(date(2024, 1, 14), {date(2024, 1, 15): 1.5})
    )

    report = build_monitoring_report(con, tmp_path / "m.html")

    assert report.path == tmp_path / "m.html"
    page = report.path.read_text(encoding="utf-8")
    assert "Cost and unit economics" in page
    assert "cost_per_1000_predictions" in page
    assert "0.01235" in page
    assert "target &lt; 20%" in page
    assert report.headline["cost_per_1000_predictions_all"] == pytest.approx(0.012345)
    assert report.headline["forecast_variance_30d"] == pytest.approx(0.3 / 1.2)
