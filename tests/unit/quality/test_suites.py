"""The extracts' row suites: each critical expectation fails on a frame that breaks it.

Ingestion quarantines the rows that would break them, so no delivery can reach these
expectations: they guard the raw tables against a bug upstream, and are tested on frames.
"""

from __future__ import annotations

import duckdb
import pytest

from refill_assets.contract.raw_tables import create_table_sql, table_columns
from refill_assets.quality import frames, suites, verdict
from refill_assets.quality.gx_run import QualityProject

CLEAN = """
INSERT INTO t (order_id, rx_id, customer_id, pet_id, ndc, drug_name, drug_class,
  qty_dispensed, days_supply, channel, status, order_ts, fill_date, updated_at, _dt, _file, _line)
VALUES
  ('o1', 'r1', 'c1', 'p1', '00012345678', 'Carprofen', 'nsaid', 30, 30, 'mail', 'filled',
   TIMESTAMP '2024-03-01 10:00', DATE '2024-03-01', TIMESTAMP '2024-03-01 11:00',
   DATE '2024-03-01', 'f1.csv', 2),
  ('o2', 'r2', 'c2', 'p2', '00012345679', 'Apoquel', 'dermatology', 60, 30, 'ecommerce',
   'partial', TIMESTAMP '2024-03-02 10:00', DATE '2024-03-02', TIMESTAMP '2024-03-02 11:00',
   DATE '2024-03-02', 'f2.csv', 2)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> QualityProject:
    root = tmp_path_factory.mktemp("gx")
    return QualityProject(root / "store", root / "docs")


@pytest.fixture
def table() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(create_table_sql("t", table_columns("rx_orders")))
    con.execute(CLEAN)
    return con


def _failed(project: QualityProject, con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    suite = suites.extract_rows("rx_orders")
    columns = [*suites.columns_of(suite), "_dt"]
    frame = frames.read(con, "t", columns, "TRUE", {}, suites.presence_only("rx_orders"))
    result = project.validate(suite, frame, "test", ["_dt"])
    found = verdict.read(result, frame, "raw.rx_orders", "_dt", [])
    return {f.rule: f.days for f in found.failed(suites.CRITICAL)}


def test_clean_rows_meet_every_expectation(project, table):
    assert _failed(project, table) == {}


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ("pet_id = NULL", "required:pet_id"),
        ("status = 'shipped'", "allowed:status"),
        ("channel = 'Mail'", "allowed:channel"),
        ("drug_class = 'vitamins'", "allowed:drug_class"),
        ("qty_dispensed = -5", "non_negative:qty_dispensed"),
        ("days_supply = -1", "non_negative:days_supply"),
        ("_file = 'f1.csv'", "line_loaded_once"),  # the second row is the first's line again
    ],
)
def test_a_broken_row_fails_its_expectation_on_its_day(project, table, change, rule):
    table.execute(f"UPDATE t SET {change} WHERE order_id = 'o2'")
    failed = _failed(project, table)
    assert set(failed) == {rule}
    assert "2024-03-02" in failed[rule]
