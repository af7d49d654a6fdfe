"""load.ingest_days: landing zone → raw-zone Parquet → warehouse, idempotent and all-or-nothing."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from refill_assets.ingest.landing import Landing
from refill_assets.ingest.load import ingest_days
from tests.support.landing_builder import (
    csv_bytes,
    customer,
    deliver,
    pet,
    rx_order,
    write_bytes,
    write_csv,
)

KEY = b"test-pii-key"
D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)
BOOKKEEPING = ("quarantine.rows", "raw.files", "raw.schema_drift")


class Zone:
    def __init__(self, tmp: Path):
        self.landing = tmp / "landing"
        self.warehouse = tmp / "warehouse.duckdb"
        self.raw = tmp / "raw"
        self.landing.mkdir()

    def ingest(self, extract: str, start: date, end: date):
        landing = Landing(str(self.landing))
        return ingest_days(extract, start, end, landing, self.warehouse, self.raw, KEY)

    def query(self, sql: str, params=None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params).fetchall()

    def parquet(self, extract: str) -> dict[str, list[tuple]]:
        return {
            str(p.relative_to(self.raw)): sorted(pl.read_parquet(p).rows(), key=repr)
            for p in sorted((self.raw / extract).rglob("*.parquet"))
        }

    def snapshot(self, extract: str) -> dict:
        tables = (f"raw.{extract}", *BOOKKEEPING)
        out = {t: sorted(self.query(f"SELECT * FROM {t}"), key=repr) for t in tables}
        out["parquet"] = self.parquet(extract)
        return out


@pytest.fixture
def zone(tmp_path: Path) -> Zone:
    return Zone(tmp_path)


def test_rows_land_with_lineage_and_normal_form(zone):
    deliver(zone.landing, "rx_orders", D1, "a", [rx_order(1, ndc="123456789"), rx_order(2)])
    deliver(zone.landing, "rx_orders", D1, "b", [rx_order(3, channel="E-Commerce")])
    deliver(zone.landing, "rx_orders", D2, "a", [rx_order(4, day=D2)])
    report = zone.ingest("rx_orders", D1, D2)

    assert (report.files_loaded, report.rows_loaded, report.rows_quarantined) == (3, 4, 0)
    rows = zone.query(
        "SELECT order_id, _dt, _file, _line, ndc, channel, order_ts, fill_date"
        " FROM raw.rx_orders ORDER BY order_id"
    )
    assert rows == [
        ("O00001", D1, "rx_orders/dt=2024-03-01/a.csv", 2, "00123456789", "mail",
         datetime(2024, 3, 1, 15, 15), D1),
        ("O00002", D1, "rx_orders/dt=2024-03-01/a.csv", 3, "00012345678", "mail",
         datetime(2024, 3, 1, 15, 15), D1),
        ("O00003", D1, "rx_orders/dt=2024-03-01/b.csv", 2, "00012345678", "ecommerce",
         datetime(2024, 3, 1, 15, 15), D1),
        ("O00004", D2, "rx_orders/dt=2024-03-02/a.csv", 2, "00012345678", "mail",
         datetime(2024, 3, 2, 15, 15), D2),
    ]  # fmt: skip
    files = zone.query(
        "SELECT _file, status, rows_loaded, rows_quarantined FROM raw.files ORDER BY 1"
    )
    assert files == [
        ("rx_orders/dt=2024-03-01/a.csv", "loaded", 2, 0),
        ("rx_orders/dt=2024-03-01/b.csv", "loaded", 1, 0),
        ("rx_orders/dt=2024-03-02/a.csv", "loaded", 1, 0),
    ]
    # the raw zone holds the same rows, one Parquet file per delivery day
    parquet = zone.parquet("rx_orders")
    assert set(parquet) == {
        "rx_orders/dt=2024-03-01/part-0.parquet",
        "rx_orders/dt=2024-03-02/part-0.parquet",
    }
    assert sum(len(v) for v in parquet.values()) == 4
    assert sorted(r for v in parquet.values() for r in v) == sorted(
        zone.query("SELECT * FROM raw.rx_orders")
    )


def test_quarantined_rows_recorded_with_file_line_and_reason(zone):
    rows = [rx_order(1), rx_order(2, status="lost"), rx_order(3, qty_dispensed="-1")]
    deliver(zone.landing, "rx_orders", D1, "a", rows)
    report = zone.ingest("rx_orders", D1, D1)
    assert report.rows_loaded == 1 and report.rows_quarantined == 2
    got = zone.query(
        "SELECT extract, _dt, _file, _line, column_name, reason FROM quarantine.rows ORDER BY _line"
    )
    assert got == [
        ("rx_orders", D1, "rx_orders/dt=2024-03-01/a.csv", 3, "status", "unknown status 'lost'"),
        ("rx_orders", D1, "rx_orders/dt=2024-03-01/a.csv", 4, "qty_dispensed",
         "negative qty_dispensed '-1'"),
    ]  # fmt: skip
    assert zone.query("SELECT rows_loaded, rows_quarantined FROM raw.files") == [(1, 2)]


def test_duplicate_file_same_day_other_name_loaded_once(zone):
    data = csv_bytes([rx_order(1), rx_order(2)])
    write_bytes(zone.landing, "rx_orders", D1, "orders.csv", data)
    write_bytes(zone.landing, "rx_orders", D1, "orders_resent.csv", data)
    report = zone.ingest("rx_orders", D1, D1)
    assert report.rows_loaded == 2
    assert report.files_duplicate == ["rx_orders/dt=2024-03-01/orders_resent.csv"]
    assert zone.query("SELECT count(*), count(DISTINCT order_id) FROM raw.rx_orders") == [(2, 2)]
    files = zone.query("SELECT _file, status, rows_loaded FROM raw.files ORDER BY _file")
    assert files == [
        ("rx_orders/dt=2024-03-01/orders.csv", "loaded", 2),
        ("rx_orders/dt=2024-03-01/orders_resent.csv", "duplicate", 0),
    ]


@pytest.mark.parametrize("one_run", [True, False], ids=["one-run", "night-by-night"])
def test_duplicate_file_on_a_later_day_loaded_once(zone, one_run):
    data = csv_bytes([rx_order(1), rx_order(2)])
    write_bytes(zone.landing, "rx_orders", D1, "orders.csv", data)
    write_bytes(zone.landing, "rx_orders", D3, "orders_again.csv", data)
    if one_run:
        zone.ingest("rx_orders", D1, D3)
    else:
        for d in (D1, D2, D3):
            zone.ingest("rx_orders", d, d)
    assert zone.query("SELECT _dt, count(*) FROM raw.rx_orders GROUP BY _dt") == [(D1, 2)]
    assert zone.query("SELECT _dt, status FROM raw.files ORDER BY _dt") == [
        (D1, "loaded"),
        (D3, "duplicate"),
    ]
    assert list(zone.parquet("rx_orders")) == ["rx_orders/dt=2024-03-01/part-0.parquet"]


def _messy_landing(zone: Zone) -> None:
    """Good rows, quarantined rows, a drifted file, a rejected file and a duplicate."""
    deliver(zone.landing, "rx_orders", D1, "a", [rx_order(1), rx_order(2, status="??")])
    deliver(zone.landing, "rx_orders", D1, "b", [rx_order(3) | {"loyalty_tier": "gold"}])
    cols = [c for c in rx_order(0) if c != "status"]
    write_csv(zone.landing, "rx_orders", D2, "broken.csv", [rx_order(4, day=D2)], cols)
    deliver(zone.landing, "rx_orders", D2, "c", [rx_order(5, day=D2), rx_order(6, day=D2)])
    write_bytes(
        zone.landing,
        "rx_orders",
        D3,
        "a_copy.csv",
        csv_bytes([rx_order(1), rx_order(2, status="??")]),
    )
    deliver(zone.landing, "rx_orders", D3, "d", [rx_order(7, day=D3, order_ts="bad")])


def test_reingesting_the_same_range_changes_nothing(zone):
    _messy_landing(zone)
    first = zone.ingest("rx_orders", D1, D3)
    before = zone.snapshot("rx_orders")
    assert len(before["raw.rx_orders"]) == 4
    assert len(before["quarantine.rows"]) == 2
    assert len(before["raw.schema_drift"]) == 1
    assert sorted(s for *_, s, _, _, _ in before["raw.files"]) == [
        "duplicate", "loaded", "loaded", "loaded", "loaded", "rejected",
    ]  # fmt: skip

    second = zone.ingest("rx_orders", D1, D3)
    assert zone.snapshot("rx_orders") == before
    assert (second.rows_loaded, second.rows_quarantined) == (
        first.rows_loaded,
        first.rows_quarantined,
    )
    # a sub-range again, then the whole range again: still the same
    zone.ingest("rx_orders", D2, D2)
    assert zone.snapshot("rx_orders") == before


def test_reingesting_after_a_file_is_removed_removes_its_rows(zone):
    _messy_landing(zone)
    zone.ingest("rx_orders", D1, D3)
    (zone.landing / "rx_orders" / "dt=2024-03-01" / "b.csv").unlink()
    for f in (zone.landing / "rx_orders" / "dt=2024-03-03").iterdir():
        f.unlink()
    zone.ingest("rx_orders", D1, D3)

    assert zone.query("SELECT order_id FROM raw.rx_orders ORDER BY 1") == [
        ("O00001",), ("O00005",), ("O00006",),
    ]  # fmt: skip
    assert "b.csv" not in str(zone.query("SELECT * FROM raw.files"))
    assert zone.query("SELECT count(*) FROM raw.files WHERE _dt = ?", [D3]) == [(0,)]
    assert zone.query("SELECT count(*) FROM raw.schema_drift") == [(0,)]
    assert zone.query("SELECT _dt, _line FROM quarantine.rows") == [(D1, 3)]
    parquet = zone.parquet("rx_orders")
    assert sorted(parquet) == [
        "rx_orders/dt=2024-03-01/part-0.parquet",
        "rx_orders/dt=2024-03-02/part-0.parquet",
    ]
    assert [r[0] for r in parquet["rx_orders/dt=2024-03-01/part-0.parquet"]] == ["O00001"]


def test_rejected_file_does_not_stop_the_partition(zone):
    deliver(zone.landing, "rx_orders", D1, "a_good", [rx_order(1), rx_order(2)])
    cols = [c for c in rx_order(0) if c != "order_ts"]
    write_csv(zone.landing, "rx_orders", D1, "b_no_order_ts.csv", [rx_order(3)], cols)
    write_bytes(
        zone.landing, "rx_orders", D1, "c_latin1.csv", "order_id\nCaf\u00e9\n".encode("latin-1")
    )
    write_bytes(zone.landing, "rx_orders", D1, "d_wrong.jsonl", b'{"order_id": "O9"}\n')
    deliver(zone.landing, "rx_orders", D1, "e_good", [rx_order(5)])
    report = zone.ingest("rx_orders", D1, D1)

    assert zone.query("SELECT order_id FROM raw.rx_orders ORDER BY 1") == [
        ("O00001",), ("O00002",), ("O00005",),
    ]  # fmt: skip
    rejected = dict(zone.query("SELECT _file, reason FROM raw.files WHERE status = 'rejected'"))
    assert (
        set(rejected)
        == set(report.files_rejected)
        == {
            "rx_orders/dt=2024-03-01/b_no_order_ts.csv",
            "rx_orders/dt=2024-03-01/c_latin1.csv",
            "rx_orders/dt=2024-03-01/d_wrong.jsonl",
        }
    )
    for name, reason in rejected.items():
        assert name in reason
    assert "order_ts" in rejected["rx_orders/dt=2024-03-01/b_no_order_ts.csv"]
    assert zone.query("SELECT count(*) FROM quarantine.rows") == [(0,)]  # nothing half-loaded


# --- PII ------------------------------------------------------------------------------------


def _customers_landing(zone: Zone) -> list[dict]:
    people = [
        customer(1),
        customer(2, email="  Zed.Okonkwo-Lindqvist@Mail.Example.org ", phone="+1 617.555.0142"),
        customer(3, zip5="2134", marketing_opt_in="N"),
    ]
    quarantined = customer(4, created_at="last tuesday")
    deliver(zone.landing, "customers", D1, "customers", [*people, quarantined])
    # a ragged line (too many fields) carrying PII in clear text, and a drifted file
    ragged = csv_bytes([customer(5)]).decode().split("\n")[1] + ",oops"
    good = csv_bytes([customer(6, day=D2)]).decode()
    write_bytes(zone.landing, "customers", D2, "c.csv", (good + ragged + "\n").encode())
    deliver(
        zone.landing, "customers", D2, "drift", [customer(7, day=D2) | {"loyalty_tier": "gold"}]
    )
    deliver(
        zone.landing, "pets", D1, "pets", [pet(1), pet(2, name="Sir Wagglesworth", status="??")]
    )
    return [*people, quarantined, customer(5), customer(6), customer(7)]


def _leaked(column: str, values: list, people: list[dict]) -> list[str]:
    """The clear-text PII of ``people`` found in a column's values."""
    cols = ("first_name", "last_name", "email", "phone", "address_line1")
    secrets = {p[c].strip() for p in people for c in cols} | {"Biscuit1", "Sir Wagglesworth"}
    secrets |= {"".join(ch for ch in p["phone"] if ch.isdigit()) for p in people}
    if not column.endswith("hash"):  # a hex digest may hold any short run of digits
        secrets |= {p["zip5"] for p in people}
    text = "\n".join(str(v) for v in values).lower()
    return sorted(s for s in secrets if s.lower() in text)


def test_customer_pii_never_in_clear_text_anywhere(zone):
    people = _customers_landing(zone)
    report = zone.ingest("customers", D1, D2)
    zone.ingest("pets", D1, D1)
    assert report.rows_loaded == 5 and report.rows_quarantined == 2

    with duckdb.connect(str(zone.warehouse), read_only=True) as con:
        text_columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
            " WHERE data_type = 'VARCHAR'"
        ).fetchall()
        assert len(text_columns) > 10
        for schema, table, column in text_columns:
            values = con.execute(f'SELECT DISTINCT "{column}" FROM {schema}.{table}').fetchall()
            leaked = _leaked(column, [v for (v,) in values], people)
            assert not leaked, f"{schema}.{table}.{column} holds {leaked}"
    parquet_files = sorted(zone.raw.rglob("*.parquet"))
    assert len(parquet_files) == 3
    for path in parquet_files:
        frame = pl.read_parquet(path)
        for column in frame.columns:
            leaked = _leaked(column, frame[column].to_list(), people)
            assert not leaked, f"{path}:{column} holds {leaked}"


def test_contact_details_hashed_with_the_key(zone):
    people = _customers_landing(zone)
    zone.ingest("customers", D1, D2)
    got = {
        r[0]: r[1:]
        for r in zone.query("SELECT customer_id, email_hash, phone_hash, zip3 FROM raw.customers")
    }
    for p in people:
        if p["customer_id"] not in got:
            continue
        email_hash, phone_hash, _ = got[p["customer_id"]]
        email = p["email"].strip().lower()
        digits = "".join(ch for ch in p["phone"] if ch.isdigit())[-10:]
        assert email_hash == hmac.new(KEY, email.encode(), hashlib.sha256).hexdigest()
        assert phone_hash == hmac.new(KEY, digits.encode(), hashlib.sha256).hexdigest()
    assert sorted(got) == ["C0001", "C0002", "C0003", "C0006", "C0007"]
    assert got["C0003"][2] == "021"
    # same address, different key → different token (the hash is keyed)
    other = ingest_days(
        "customers", D1, D1, Landing(str(zone.landing)), zone.warehouse.with_name("w2.duckdb"),
        zone.raw.with_name("raw2"), b"another-key",
    )  # fmt: skip
    assert other.rows_loaded == 3
    with duckdb.connect(str(zone.warehouse.with_name("w2.duckdb")), read_only=True) as con:
        (h,) = con.execute(
            "SELECT email_hash FROM raw.customers WHERE customer_id = 'C0001'"
        ).fetchone()
    assert h != got["C0001"][0]


# --- crash safety ---------------------------------------------------------------------------


def _break_raw_table(con: duckdb.DuckDBPyConnection) -> None:
    # day 2 carries an order with no clinic: the first table written in the transaction fails
    con.execute("ALTER TABLE raw.rx_orders ALTER COLUMN clinic_id SET NOT NULL")


def _break_drift_table(con: duckdb.DuckDBPyConnection) -> None:
    # day 2's file drifts by two columns: the last table written in the transaction fails
    con.execute("CREATE UNIQUE INDEX one_drift_per_extract ON raw.schema_drift (extract)")


@pytest.mark.parametrize("breaker", [_break_raw_table, _break_drift_table], ids=["first", "last"])
def test_failed_warehouse_write_leaves_previous_state(zone, breaker):
    deliver(zone.landing, "rx_orders", D1, "a", [rx_order(1), rx_order(2, status="??")])
    zone.ingest("rx_orders", D1, D1)
    before = zone.snapshot("rx_orders")
    assert len(before["raw.rx_orders"]) == 1 and len(before["quarantine.rows"]) == 1

    day2 = [rx_order(3, day=D2, clinic_id=None) | {"x1": "a", "x2": "b"}, rx_order(4, day=D2)]
    deliver(zone.landing, "rx_orders", D2, "b", day2)
    deliver(zone.landing, "rx_orders", D1, "late", [rx_order(5, status="??")])
    with duckdb.connect(str(zone.warehouse)) as con:
        breaker(con)

    with pytest.raises(duckdb.Error, match="(?i)constraint"):
        zone.ingest("rx_orders", D1, D2)

    after = zone.snapshot("rx_orders")
    for table in ("raw.rx_orders", *BOOKKEEPING):
        assert after[table] == before[table], table


def test_failed_warehouse_write_leaves_raw_zone_parquet_as_before(zone):
    deliver(zone.landing, "rx_orders", D1, "a", [rx_order(1), rx_order(2)])
    zone.ingest("rx_orders", D1, D1)
    before = zone.parquet("rx_orders")
    deliver(zone.landing, "rx_orders", D1, "late", [rx_order(5, clinic_id=None)])
    deliver(zone.landing, "rx_orders", D2, "b", [rx_order(3, day=D2, clinic_id=None)])
    with duckdb.connect(str(zone.warehouse)) as con:
        _break_raw_table(con)
    with pytest.raises(duckdb.Error, match="(?i)constraint"):
        zone.ingest("rx_orders", D1, D2)
    # the raw zone must not run ahead of the warehouse it feeds
    assert zone.parquet("rx_orders") == before
