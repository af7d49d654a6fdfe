"""The monitoring report on a hand-made warehouse: one self-contained page, the headline
figures against a computation by hand, the sections of a young warehouse, a writer out of
step."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import polars as pl
import pytest

from refill_assets.monitoring.performance import PERFORMANCE_COLUMNS, PERFORMANCE_TABLE
from refill_assets.monitoring.report import (
    DRIFT_TABLE,
    KPI_TABLE,
    RESPONSE_TABLE,
    build_monitoring_report,
)

TITLES = (
    "Daily MAE: model against the heuristic",
    "Interval coverage and late share",
    "Feature and prediction drift",
    "Pilot KPIs by arm",
    "Outreach response by channel",
)


def _day(d: int) -> date:
    return date(2024, 1, d)


def _performance() -> pl.DataFrame:
    # (day, version, status, rows_refilled, mae, heuristic mae, coverage, late share)
    rows = [
        (1, "6", "final", 200, 9.0, 10.0, 0.60, 0.30),  # the former version: not in the headline
        (2, "6", "final", 200, 9.0, 10.0, 0.60, 0.30),
        (3, "7", "final", 100, 5.0, 8.0, 0.80, 0.50),
        (4, "7", "final", 300, 4.0, 6.0, 0.84, 0.46),
        (5, "7", "provisional", 50, 3.0, 4.0, 0.90, 0.40),
        (6, "7", "provisional", 0, None, None, None, None),  # last night: nothing settled yet
    ]
    frame = pl.DataFrame(
        rows,
        schema=["d", "model_version", "status", "rows_refilled", "mae_days"]
        + ["heuristic_mae_days", "coverage_p10_p90", "late_share"],
        orient="row",
    )
    return frame.select(
        pl.col("d").map_elements(_day, return_dtype=pl.Date).alias("as_of_date"),
        pl.lit("lightgbm").alias("model_name"),
        "model_version",
        "status",
        pl.lit(500).alias("rows_scored"),
        pl.col("rows_refilled").alias("rows_settled"),
        "rows_refilled",
        pl.lit(0).alias("rows_lapse_known"),
        "mae_days",
        "heuristic_mae_days",
        "coverage_p10_p90",
        "late_share",
        pl.lit(_day(6)).alias("through"),
    )


def _drift() -> pl.DataFrame:
    # (day, version, feature, kind, statistic, psi, wasserstein, js, drifted)
    rows = [
        (2, "6", "weight_kg", "numeric", "psi", 0.01, 0.01, None, False),
        (2, "6", "species", "categorical", "jensen_shannon", None, None, 0.02, False),
        (6, "7", "weight_kg", "numeric", "psi", 0.50, 0.02, None, True),
        (6, "7", "age_years", "numeric", "psi", 0.01, 0.01, None, False),
        (6, "7", "days_since_last_fill", "numeric", "wasserstein", 0.05, 0.25, None, True),
        (6, "7", "species", "categorical", "jensen_shannon", None, None, 0.05, False),
        (6, "7", "predicted_days_to_refill", "prediction", "psi", 0.05, 0.01, None, False),
        (6, "7", "lapse_probability", "prediction", "psi", 0.30, 0.01, None, True),
    ]
    frame = pl.DataFrame(
        rows,
        schema=["d", "model_version", "feature", "kind", "statistic", "psi", "wasserstein"]
        + ["jensen_shannon", "drifted"],
        orient="row",
    )
    return frame.select(
        pl.col("d").map_elements(_day, return_dtype=pl.Date).alias("as_of_date"),
        pl.exclude("d"),
        reference_rows=pl.lit(1000),
        current_rows=pl.lit(800),
        reference_null_share=pl.lit(0.0),
        current_null_share=pl.lit(0.0),
    )


def _kpis() -> pl.DataFrame:
    rows = [
        ("2024-01", "capture_in_window", 0.60, 0.50, None, None),
        ("2024-02", "capture_in_window", 0.64, 0.52, None, None),
        ("all", "capture_in_window", 0.62, 0.51, 0.05, 0.17),
        ("2024-01", "lapse_rate", 0.10, 0.12, None, None),
        ("all", "lapse_rate", 0.11, 0.12, None, None),  # no CI computed
    ]
    frame = pl.DataFrame(
        rows, schema=["period", "kpi", "treated", "control", "ci_low", "ci_high"], orient="row"
    )
    return frame.with_columns(
        difference=pl.col("treated") - pl.col("control"),
        treated_units=pl.lit(400),
        control_units=pl.lit(100),
        treated_owners=pl.lit(300),
        control_owners=pl.lit(80),
        method=pl.lit("owner-clustered bootstrap"),
        cost_per_prediction=pl.lit(None, pl.Float64),
        through=pl.lit(_day(6)),
    )


def _response() -> pl.DataFrame:
    rows = [
        ("2024-01", "email", 100, 40, 10, 8),
        ("2024-01", "sms", 50, 30, 12, 7),
        ("all", "email", 180, 70, 20, 15),
        ("all", "sms", 90, 50, 20, 12),
    ]
    frame = pl.DataFrame(
        rows,
        schema=["period", "channel", "contacts", "opened", "clicked", "ordered_14d"],
        orient="row",
    )
    return frame.with_columns(
        (pl.col(c) / pl.col("contacts")).alias(f"{r}_rate")
        for c, r in (("opened", "open"), ("clicked", "click"), ("ordered_14d", "order"))
    ).with_columns(control_order_rate=pl.lit(0.05))


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
    con.register("incoming", frame)
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM incoming")
    con.unregister("incoming")


def _performance_table(con: duckdb.DuckDBPyConnection) -> None:
    # the writer's declared types, so the report reads what `recompute_days` leaves
    con.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
    declared = ", ".join(f"{n} {t}" for n, t in PERFORMANCE_COLUMNS.items())
    con.execute(f"CREATE TABLE {PERFORMANCE_TABLE} ({declared})")
    con.register("incoming", _performance())
    con.execute(f"INSERT INTO {PERFORMANCE_TABLE} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


@pytest.fixture
def con():
    with duckdb.connect() as c:
        yield c


def _page(path, figures: bool = True) -> str:
    page = path.read_text(encoding="utf-8")
    assert page.count("window.PlotlyConfig") == int(figures)  # plotly.js embedded once at most
    assert re.search(r"<script[^>]*\bsrc=", page) is None  # nothing fetched (no CDN)
    return page


def test_the_full_report(con, tmp_path):
    _performance_table(con)
    _write(con, DRIFT_TABLE, _drift())
    _write(con, KPI_TABLE, _kpis())
    _write(con, RESPONSE_TABLE, _response())

    report = build_monitoring_report(con, tmp_path / "monitoring.html")

    assert report.path == tmp_path / "monitoring.html"
    page = _page(report.path)
    for title in TITLES:
        assert f"<h2>{title}</h2>" in page
    assert "v7 model (provisional)" in page  # provisional days are a trace of their own
    assert "v6 model" in page  # the former version is drawn too
    # the heat map's cells name their deciding statistic, whichever it is
    for cell in ("psi 0.5 (drifted)", "wasserstein 0.25 (drifted)", "jensen_shannon 0.05 (stable)"):
        assert cell in page
    assert "not written yet" not in page and "No final scoring day yet" not in page

    h = report.headline
    assert h["model_version"] == "7"  # the latest version with a settled refill
    assert (h["nights_monitored"], h["final_nights"]) == (6, 4)
    # final days of version 7: days 3 and 4, weighted by their settled refills
    assert h["days_final"] == 2 and h["rows_refilled_final"] == 400
    assert h["mae_days_final"] == pytest.approx((100 * 5 + 300 * 4) / 400)
    assert h["heuristic_mae_days_final"] == pytest.approx((100 * 8 + 300 * 6) / 400)
    assert h["mae_ratio_final"] == pytest.approx(1700 / 2600)
    assert h["coverage_final"] == pytest.approx((100 * 0.80 + 300 * 0.84) / 400)
    assert h["late_share_final"] == pytest.approx((100 * 0.50 + 300 * 0.46) / 400)
    # every settled row of version 7, provisional days included (day 6 has none)
    assert h["days_settled"] == 4 and h["rows_refilled_settled"] == 450
    assert h["mae_days_settled"] == pytest.approx((500 + 1200 + 50 * 3) / 450)
    assert h["heuristic_mae_days_settled"] == pytest.approx((800 + 1800 + 50 * 4) / 450)
    assert h["mae_ratio_settled"] == pytest.approx(1850 / 2800)
    assert h["coverage_settled"] == pytest.approx((80 + 252 + 50 * 0.90) / 450)
    # the last night of version 7: 2 of 4 features drifted, and one prediction column
    assert h["drift_night"] == "2024-01-06"
    assert h["drifted_share"] == pytest.approx(2 / 4)
    assert h["predictions_drifted"] == 1
    assert h["capture_in_window_treated"] == pytest.approx(0.62)
    assert h["capture_in_window_control"] == pytest.approx(0.51)
    assert h["capture_in_window_difference"] == pytest.approx(0.11)
    assert (h["capture_in_window_ci_low"], h["capture_in_window_ci_high"]) == (0.05, 0.17)


def test_the_headline_follows_the_version_asked(con, tmp_path):
    _performance_table(con)
    h = build_monitoring_report(con, tmp_path / "m.html", model_version="6").headline
    assert h["model_version"] == "6"
    assert h["mae_days_final"] == pytest.approx(9.0) and h["mae_ratio_final"] == 0.9


def test_a_champion_promoted_tonight_leaves_the_headline_to_the_one_it_replaced(con, tmp_path):
    _performance_table(con)
    con.execute(
        f"INSERT INTO {PERFORMANCE_TABLE} (as_of_date, model_name, model_version, status,"
        " rows_scored, rows_settled, rows_refilled, rows_lapse_known, through)"
        " VALUES (?, 'lightgbm', '8', 'provisional', 900, 0, 0, 0, ?)",
        [_day(7), _day(7)],
    )
    h = build_monitoring_report(con, tmp_path / "m.html").headline
    assert h["model_version"] == "7"  # v8 scored the last day but has nothing settled yet
    assert h["mae_days_final"] == pytest.approx((100 * 5 + 300 * 4) / 400)


def test_a_young_warehouse_says_what_is_not_there_yet(con, tmp_path):
    # first nights: performance rows, none final, and no drift, KPI or response table
    _performance_table(con)
    con.execute(f"DELETE FROM {PERFORMANCE_TABLE} WHERE status = 'final'")
    report = build_monitoring_report(con, tmp_path / "m.html")
    page = _page(report.path)
    for title in TITLES:
        assert f"<h2>{title}</h2>" in page
    assert "No final scoring day yet: outcomes settle over 90 days" in page
    for table in (DRIFT_TABLE, KPI_TABLE, RESPONSE_TABLE):
        assert f"{table} is not written yet" in page
    h = report.headline
    assert h["final_nights"] == 0 and h["mae_days_final"] is None and h["mae_ratio_final"] is None
    assert h["mae_days_settled"] == pytest.approx(3.0)
    assert h["drifted_share"] is None and h["capture_in_window_difference"] is None


def test_nothing_written_at_all_still_gives_a_page(con, tmp_path):
    con.execute("CREATE SCHEMA monitoring")
    _write(con, KPI_TABLE, _kpis().head(0))  # created, no rows yet
    report = build_monitoring_report(con, tmp_path / "m.html")
    page = _page(report.path, figures=False)
    assert f"{PERFORMANCE_TABLE} is not written yet" in page
    assert f"{KPI_TABLE} has no rows yet" in page
    assert report.headline["model_version"] is None
    assert report.headline["nights_monitored"] == 0


@pytest.mark.parametrize(
    ("table", "column"),
    [(KPI_TABLE, "ci_high"), (DRIFT_TABLE, "statistic"), (RESPONSE_TABLE, "control_order_rate")],
)
def test_a_table_without_a_column_is_refused_by_name(con, tmp_path, table, column):
    _performance_table(con)
    frames = {DRIFT_TABLE: _drift(), KPI_TABLE: _kpis(), RESPONSE_TABLE: _response()}
    _write(con, table, frames[table].drop(column))
    with pytest.raises(ValueError, match=rf"{table} lacks the columns \['{column}'\]"):
        build_monitoring_report(con, tmp_path / "m.html")
    assert not (tmp_path / "m.html").exists()
