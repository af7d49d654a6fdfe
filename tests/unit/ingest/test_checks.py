"""checks.schema: the file-level asset-check rule, on warehouses loaded from hand-written
deliveries (the rules on rows and days are tested in ``tests/unit/quality``)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from refill_assets.ingest import checks
from refill_assets.ingest.landing import Landing
from refill_assets.ingest.load import ingest_days
from tests.support.landing_builder import csv_bytes, deliver, rx_order, write_bytes, write_csv

KEY = b"test-pii-key"
D1 = date(2024, 3, 1)


def day(n: int) -> date:
    """Delivery day n, counting from 1."""
    return D1 + timedelta(days=n - 1)


def _orders(n_day: int, count: int) -> list:
    return [rx_order(n_day * 1000 + j, day=day(n_day)) for j in range(count)]


class Warehouse:
    def __init__(self, tmp: Path):
        self.landing, self.path, self.raw = tmp / "landing", tmp / "wh.duckdb", tmp / "raw"

    def load(self, start: date, end: date, extract: str = "rx_orders"):
        landing = Landing(str(self.landing))
        return ingest_days(extract, start, end, landing, self.path, self.raw, KEY)

    def check(self, rule, start: date, end: date, extract: str = "rx_orders") -> checks.Outcome:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return rule(con, extract, start, end)


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)


def _without(column: str) -> list[str]:
    return [c for c in rx_order(0) if c != column]


def test_schema_fails_when_the_latest_file_is_rejected_then_passes_after_recovery(wh):
    deliver(wh.landing, "rx_orders", day(1), "a", _orders(1, 5))
    write_csv(wh.landing, "rx_orders", day(2), "a.csv", _orders(2, 5), _without("status"))
    wh.load(day(1), day(2))

    broken = wh.check(checks.schema, day(1), day(2))
    assert not broken.passed
    assert "latest file rejected" in broken.description and "status" in broken.description
    assert list(broken.metadata["rejected_files"]) == ["rx_orders/dt=2024-03-02/a.csv"]

    drifted = [r | {"loyalty_tier": "gold"} for r in _orders(3, 5)]
    deliver(wh.landing, "rx_orders", day(3), "a", drifted)
    wh.load(day(3), day(3))
    recovered = wh.check(checks.schema, day(1), day(3))
    assert recovered.passed
    assert list(recovered.metadata["rejected_files"]) == ["rx_orders/dt=2024-03-02/a.csv"]
    assert "status" in recovered.metadata["rejected_files"]["rx_orders/dt=2024-03-02/a.csv"]
    assert recovered.metadata["drift_columns"] == ["loyalty_tier"]
    # as of day 2 the feed was broken, whatever came later
    assert not wh.check(checks.schema, day(1), day(2)).passed


def test_schema_a_duplicate_is_not_a_recovery(wh):
    deliver(wh.landing, "rx_orders", day(1), "a", _orders(1, 5))
    write_csv(wh.landing, "rx_orders", day(2), "a.csv", _orders(2, 5), _without("order_ts"))
    write_bytes(wh.landing, "rx_orders", day(3), "a.csv", csv_bytes(_orders(1, 5)))
    wh.load(day(1), day(3))
    out = wh.check(checks.schema, day(1), day(3))
    assert not out.passed


def test_schema_passes_with_all_files_good(wh):
    for n in (1, 2):
        deliver(wh.landing, "rx_orders", day(n), "a", _orders(n, 3))
    wh.load(day(1), day(2))
    out = wh.check(checks.schema, day(1), day(2))
    assert out.passed and out.metadata == {"rejected_files": {}, "drift_columns": []}
