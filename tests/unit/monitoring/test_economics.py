"""Unit economics: each run's estimate spread over its delivery days and summed per month,
predictions counted per month, the refills the outreach captured and added, and the margin
read from the environment."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from refill_assets.cost.ledger import ESTIMATE_COLUMNS, record_run
from refill_assets.monitoring.economics import (
    COLUMNS,
    ECONOMICS_TABLE,
    cost_by_period,
    margin_per_refill,
    unit_economics,
    write_economics,
)
from refill_assets.monitoring.kpis import KPI_COLUMNS
from refill_assets.scoring.scores import SCORES_TABLE
from refill_assets.storage.warehouse import ensure_table

D = date.fromisoformat
_POLARS = {"VARCHAR": pl.String, "DATE": pl.Date, "DOUBLE": pl.Float64, "BIGINT": pl.Int64}
# what the meter hands over (``ledger_rows``): the service is the ledger's to add
ESTIMATE_SCHEMA = {c: _POLARS[t] for c, t in ESTIMATE_COLUMNS.items() if c != "service"}
KPI_SCHEMA = {c: _POLARS[t] for c, t in KPI_COLUMNS.items()}
MARGIN = "REFILL_MARGIN_PER_REFILL_USD"


@pytest.fixture
def con():
    con = duckdb.connect()
    ensure_table(con, SCORES_TABLE, {"as_of_date": "DATE", "rx_id": "VARCHAR"})
    yield con
    con.close()


def run(run_id: str, start: str, end: str, *costs: float, ran_on: str | None = None):
    """A run's estimate rows over the delivery days ``start``..``end``, one per cost."""
    return pl.DataFrame(
        [
            {
                "run_id": run_id,
                "job": "nightly",
                "ran_on": D(ran_on or end),
                "window_start": D(start),
                "window_end": D(end),
                "asset": f"asset_{i}",
                "item": "compute",
                "cost_usd": usd,
            }  # fmt: skip
            for i, usd in enumerate(costs)
        ],
        schema=ESTIMATE_SCHEMA,
    )


def scores(con, *days: str) -> None:
    rows = pl.DataFrame(
        {"as_of_date": [D(d) for d in days], "rx_id": [f"rx{i}" for i in range(len(days))]}
    )
    con.register("rows_in", rows)
    con.execute(f"INSERT INTO {SCORES_TABLE} BY NAME SELECT * FROM rows_in")
    con.unregister("rows_in")


def by_period(frame: pl.DataFrame, column: str) -> dict:
    return dict(zip(frame["period"], frame[column], strict=True))


# cost_by_period


def test_a_run_over_a_whole_month_costs_that_month_its_total(con):
    record_run(con, "jan", run("jan", "2024-01-01", "2024-01-31", 3.0, 0.10))

    costs = by_period(cost_by_period(con), "cost_usd")

    assert set(costs) == {"2024-01", "all"}
    assert costs["2024-01"] == pytest.approx(3.10)
    assert costs["all"] == pytest.approx(3.10)


def test_a_run_across_two_months_is_split_by_its_days(con):
    record_run(con, "edge", run("edge", "2024-01-31", "2024-02-01", 2.0))
    # 3 days of March and 1 of April
    record_run(con, "late", run("late", "2024-03-29", "2024-04-01", 4.0))

    costs = by_period(cost_by_period(con), "cost_usd")

    assert costs["2024-01"] == pytest.approx(1.0)
    assert costs["2024-02"] == pytest.approx(1.0)
    assert costs["2024-03"] == pytest.approx(3.0)
    assert costs["2024-04"] == pytest.approx(1.0)
    assert costs["all"] == pytest.approx(6.0)


def test_runs_of_the_same_month_add_up(con):
    record_run(con, "a", run("a", "2024-01-05", "2024-01-05", 1.25))
    record_run(con, "b", run("b", "2024-01-06", "2024-01-06", 0.75))

    assert by_period(cost_by_period(con), "cost_usd")["2024-01"] == pytest.approx(2.0)


def test_predictions_are_score_rows_per_month_and_cost_per_prediction_divides(con):
    record_run(con, "jan", run("jan", "2024-01-01", "2024-01-31", 3.0))
    record_run(con, "feb", run("feb", "2024-02-10", "2024-02-10", 2.0))
    scores(con, "2024-01-01", "2024-01-15", "2024-01-31", "2024-02-10", "2024-03-01")

    got = cost_by_period(con)

    assert by_period(got, "predictions") == {"2024-01": 3, "2024-02": 1, "2024-03": 1, "all": 5}
    per = by_period(got, "cost_per_prediction")
    assert per["2024-01"] == pytest.approx(1.0)
    assert per["2024-02"] == pytest.approx(2.0)
    assert per["all"] == pytest.approx(1.0)
    # a month with predictions and no recorded cost
    assert by_period(got, "cost_usd")["2024-03"] == 0.0


def test_cost_per_prediction_is_null_without_predictions(con):
    record_run(con, "jan", run("jan", "2024-01-01", "2024-01-31", 3.0))

    got = cost_by_period(con)

    assert by_period(got, "predictions")["2024-01"] == 0
    assert by_period(got, "cost_per_prediction")["2024-01"] is None
    assert by_period(got, "cost_per_prediction")["all"] is None


def test_pending_rows_replace_their_run_and_add_to_the_others(con):
    record_run(con, "current", run("current", "2024-01-10", "2024-01-10", 5.0))
    record_run(con, "other", run("other", "2024-01-11", "2024-01-11", 1.0))
    pending = pl.concat(
        [
            run("current", "2024-01-10", "2024-01-10", 2.0, 0.5),
            run("new", "2024-02-01", "2024-02-01", 0.25),
        ]
    )

    costs = by_period(cost_by_period(con, pending), "cost_usd")

    assert costs["2024-01"] == pytest.approx(2.0 + 0.5 + 1.0)
    assert costs["2024-02"] == pytest.approx(0.25)
    assert costs["all"] == pytest.approx(3.75)
    # the ledger itself is untouched: pending rows are not recorded
    assert by_period(cost_by_period(con), "cost_usd")["all"] == pytest.approx(6.0)


def test_pending_rows_with_their_service_are_accepted_too(con):
    pending = run("new", "2024-01-10", "2024-01-10", 0.5).with_columns(
        service=pl.lit("Amazon Elastic Container Service")
    )

    assert by_period(cost_by_period(con, pending), "cost_usd")["2024-01"] == pytest.approx(0.5)


def test_empty_pending_changes_nothing(con):
    record_run(con, "a", run("a", "2024-01-10", "2024-01-10", 1.0))

    got = cost_by_period(con, run("x", "2024-01-01", "2024-01-01"))

    assert by_period(got, "cost_usd")["2024-01"] == pytest.approx(1.0)


# unit_economics


def costs_frame(rows: list[tuple[str, float, int]]) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows,
        schema={"period": pl.String, "cost_usd": pl.Float64, "predictions": pl.Int64},
        orient="row",
    )
    return frame.with_columns(cost_per_prediction=pl.col("cost_usd") / pl.col("predictions"))


def kpi_rows(rows: list[tuple[str, str, float, float, int]]) -> pl.DataFrame:
    """(period, kpi, treated share, difference over control, treated units)."""
    return pl.DataFrame(
        [
            {
                "period": p,
                "kpi": k,
                "treated": t,
                "control": t - d,
                "difference": d,
                "treated_units": n,
                "control_units": n,
                "method": "test",
            }  # fmt: skip
            for p, k, t, d, n in rows
        ],
        schema=KPI_SCHEMA,
    )


COSTS = costs_frame([("all", 80.0, 2000), ("2024-02", 30.0, 1000), ("2024-01", 50.0, 1000)])
KPIS = kpi_rows(
    [
        ("2024-01", "capture_in_window", 0.5, 0.1, 200),
        ("2024-01", "wasted_contact", 0.9, 0.4, 999),
        ("2024-02", "capture_in_window", 0.6, 0.05, 100),
        ("all", "capture_in_window", 0.5333333333333333, 0.0833333333333333, 300),
    ]
)


def test_unit_economics_captured_and_incremental_refills_from_the_capture_kpi():
    got = unit_economics(COSTS, KPIS, margin_usd=None)

    assert by_period(got, "refills_captured") == pytest.approx(
        {"2024-01": 100.0, "2024-02": 60.0, "all": 160.0}
    )
    assert by_period(got, "incremental_refills") == pytest.approx(
        {"2024-01": 20.0, "2024-02": 5.0, "all": 25.0}
    )
    assert by_period(got, "cost_per_captured_refill") == pytest.approx(
        {"2024-01": 0.5, "2024-02": 0.5, "all": 0.5}
    )


def test_unit_economics_benefit_is_the_lift_times_the_margin_over_the_cost():
    got = unit_economics(COSTS, KPIS, margin_usd=10.0)

    assert by_period(got, "benefit_usd") == pytest.approx(
        {"2024-01": 200.0, "2024-02": 50.0, "all": 250.0}
    )
    assert by_period(got, "benefit_per_cloud_usd") == pytest.approx(
        {"2024-01": 4.0, "2024-02": 50.0 / 30.0, "all": 250.0 / 80.0}
    )


def test_unit_economics_without_margin_has_no_benefit():
    got = unit_economics(COSTS, KPIS, margin_usd=None)

    assert got["benefit_usd"].is_null().all()
    assert got["benefit_per_cloud_usd"].is_null().all()
    assert got["refills_captured"].is_not_null().all()


def test_unit_economics_columns_and_all_row_last():
    got = unit_economics(COSTS, KPIS, margin_usd=1.0)

    assert got.schema == pl.Schema(COLUMNS)
    assert got["period"].to_list() == ["2024-01", "2024-02", "all"]


def test_unit_economics_without_kpis_keeps_the_cost_columns():
    for kpis in (None, kpi_rows([])):
        got = unit_economics(COSTS, kpis, margin_usd=10.0)

        assert list(got.columns) == list(COLUMNS)
        for column in ("refills_captured", "incremental_refills", "cost_per_captured_refill"):
            assert got[column].is_null().all()
        assert got["benefit_usd"].is_null().all()
        assert by_period(got, "cost_usd") == {"2024-01": 50.0, "2024-02": 30.0, "all": 80.0}
        assert by_period(got, "cost_per_prediction") == pytest.approx(
            {"2024-01": 0.05, "2024-02": 0.03, "all": 0.04}
        )


def test_unit_economics_period_without_a_kpi_row_has_null_captured():
    got = unit_economics(COSTS, KPIS.filter(pl.col("period") != "2024-02"), margin_usd=None)

    assert by_period(got, "refills_captured")["2024-02"] is None
    assert by_period(got, "refills_captured")["2024-01"] == pytest.approx(100.0)


def test_unit_economics_from_cost_by_period(con):
    record_run(con, "jan", run("jan", "2024-01-01", "2024-01-31", 20.0))
    scores(con, "2024-01-05", "2024-01-06")

    got = unit_economics(
        cost_by_period(con), kpi_rows([("2024-01", "capture_in_window", 0.5, 0.25, 80)]), 2.0
    )

    row = got.filter(pl.col("period") == "2024-01").row(0, named=True)
    assert row["cost_per_prediction"] == pytest.approx(10.0)
    assert row["refills_captured"] == pytest.approx(40.0)
    assert row["cost_per_captured_refill"] == pytest.approx(0.5)
    assert row["benefit_usd"] == pytest.approx(40.0)
    assert row["benefit_per_cloud_usd"] == pytest.approx(2.0)


# margin_per_refill


@pytest.mark.parametrize("env", [{}, {MARGIN: ""}])
def test_margin_unset_is_none(env):
    assert margin_per_refill(env) is None


@pytest.mark.parametrize(("given", "expected"), [("12.5", 12.5), ("0", 0.0), ("3", 3.0)])
def test_margin_is_read_as_usd(given, expected):
    assert margin_per_refill({MARGIN: given}) == expected


@pytest.mark.parametrize("given", ["-1", "abc", "nan", "inf", "-inf"])
def test_margin_not_a_finite_non_negative_number_raises(given):
    with pytest.raises(ValueError, match=MARGIN):
        margin_per_refill({MARGIN: given})


# write_economics


def test_write_economics_replaces_the_whole_table(con):
    first = unit_economics(COSTS, KPIS, margin_usd=1.0)
    second = unit_economics(costs_frame([("2024-03", 9.0, 3), ("all", 9.0, 3)]), None, None)

    write_economics(con, first)
    write_economics(con, second)

    stored = con.execute(f"SELECT * FROM {ECONOMICS_TABLE} ORDER BY period").pl()
    assert stored["period"].to_list() == ["2024-03", "all"]
    assert stored["cost_usd"].to_list() == [9.0, 9.0]
    assert stored["cost_per_prediction"].to_list() == [3.0, 3.0]
