"""quality: the asset-check rules, on warehouses loaded from hand-written deliveries."""

from __future__ import annotations

from collections.abc import Callable
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


def _orders(n_day: int, count: int, tweak: Callable[[int, dict], dict] | None = None) -> list:
    rows = [rx_order(n_day * 1000 + j, day=day(n_day)) for j in range(count)]
    return [tweak(j, r) if tweak else r for j, r in enumerate(rows)]


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


# --- valid_share ----------------------------------------------------------------------------


def _missing_pet(bad: int) -> Callable[[int, dict], dict]:
    return lambda j, r: r | {"pet_id": None} if j < bad else r


def test_valid_share_passes_at_99_percent(wh):
    deliver(wh.landing, "rx_orders", day(1), "a", _orders(1, 100, _missing_pet(1)))
    wh.load(day(1), day(1))
    out = wh.check(checks.valid_share, day(1), day(1))
    assert out.passed
    assert out.metadata == {"valid_share": 0.99, "rows": 100, "invalid_required": 1}


def test_valid_share_fails_below_99_percent(wh):
    deliver(wh.landing, "rx_orders", day(1), "a", _orders(1, 150, _missing_pet(3)))
    wh.load(day(1), day(1))
    out = wh.check(checks.valid_share, day(1), day(1))
    assert not out.passed
    assert out.metadata["valid_share"] == pytest.approx(0.98)
    assert out.metadata["invalid_required"] == 3


def test_valid_share_does_not_block_a_small_feed_for_one_bad_row(wh):
    deliver(wh.landing, "rx_orders", day(1), "a", _orders(1, 12, _missing_pet(1)))
    deliver(wh.landing, "rx_orders", day(2), "a", _orders(2, 12, _missing_pet(3)))
    wh.load(day(1), day(2))
    one = wh.check(checks.valid_share, day(1), day(1))
    assert one.passed and one.metadata["valid_share"] == pytest.approx(11 / 12)
    assert not wh.check(checks.valid_share, day(2), day(2)).passed


def test_valid_share_counts_malformed_lines_but_not_optional_column_errors(wh):
    def bad_optional(j, r):
        return r | {"days_supply": "-1"} if j < 10 else r

    data = csv_bytes(_orders(1, 100, bad_optional)).decode()
    data += "O9,RX9,only,three-fields-too-few\n"  # malformed line: counts as invalid
    write_bytes(wh.landing, "rx_orders", day(1), "a.csv", data.encode())
    wh.load(day(1), day(1))
    out = wh.check(checks.valid_share, day(1), day(1))
    assert out.metadata["rows"] == 101 and out.metadata["invalid_required"] == 1
    assert out.metadata["valid_share"] == pytest.approx(100 / 101)
    assert out.passed
    # the optional-column errors still show in the quarantine rate (a warning)
    rate = wh.check(checks.quarantine_rate, day(1), day(1))
    assert not rate.passed
    assert rate.metadata["top_reasons"] == {
        "negative days_supply": 10,
        "expected 20 fields, found 4": 1,
    }


def test_valid_share_only_counts_the_range(wh):
    deliver(wh.landing, "rx_orders", day(1), "a", _orders(1, 10, _missing_pet(5)))
    deliver(wh.landing, "rx_orders", day(2), "a", _orders(2, 10))
    wh.load(day(1), day(2))
    assert not wh.check(checks.valid_share, day(1), day(2)).passed
    out = wh.check(checks.valid_share, day(2), day(2))
    assert out.passed and out.metadata["rows"] == 10


# --- schema ---------------------------------------------------------------------------------


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


# --- row_count ------------------------------------------------------------------------------


def test_row_count_flags_a_day_far_below_its_trailing_week(wh):
    for n in range(1, 9):
        deliver(wh.landing, "rx_orders", day(n), "a", _orders(n, 20))
    deliver(wh.landing, "rx_orders", day(9), "a", _orders(9, 5))
    deliver(wh.landing, "rx_orders", day(10), "a", _orders(10, 18))
    wh.load(day(1), day(10))
    out = wh.check(checks.row_count, day(1), day(10))
    assert not out.passed
    assert out.metadata["days_flagged"] == {"2024-03-09": {"rows": 5, "trailing_median": 20.0}}
    assert wh.check(checks.row_count, day(10), day(10)).passed


def test_row_count_flags_a_day_far_above_and_passes_a_steady_feed(wh):
    for n in range(1, 10):
        deliver(wh.landing, "rx_orders", day(n), "a", _orders(n, 60 if n == 9 else 20 + n % 3))
    wh.load(day(1), day(9))
    assert wh.check(checks.row_count, day(1), day(8)).passed
    out = wh.check(checks.row_count, day(9), day(9))
    assert not out.passed and list(out.metadata["days_flagged"]) == ["2024-03-09"]


# --- null_spikes ----------------------------------------------------------------------------


def test_null_spikes_flags_a_column_that_suddenly_goes_null(wh):
    for n in range(1, 9):
        deliver(wh.landing, "rx_orders", day(n), "a", _orders(n, 25))
    no_clinic = _orders(9, 25, lambda j, r: r | {"clinic_id": None} if j < 20 else r)
    deliver(wh.landing, "rx_orders", day(9), "a", no_clinic)
    wh.load(day(1), day(9))

    assert wh.check(checks.null_spikes, day(1), day(8)).passed
    out = wh.check(checks.null_spikes, day(1), day(9))
    assert not out.passed
    assert out.metadata["spikes"] == [
        {"day": "2024-03-09", "column": "clinic_id", "null_share": 0.8, "trailing": 0.0}
    ]


def test_null_spikes_ignores_small_days(wh):
    for n in range(1, 9):
        deliver(wh.landing, "rx_orders", day(n), "a", _orders(n, 25))
    deliver(wh.landing, "rx_orders", day(9), "a", _orders(9, 5, lambda j, r: r | {"sig": None}))
    wh.load(day(1), day(9))
    assert wh.check(checks.null_spikes, day(9), day(9)).passed


# --- quarantine_rate ------------------------------------------------------------------------


@pytest.mark.parametrize(("bad", "passed"), [(0, True), (2, True), (3, False)])
def test_quarantine_rate(wh, bad, passed):
    rows = _orders(1, 200, lambda j, r: r | {"status": "misplaced"} if j < bad else r)
    deliver(wh.landing, "rx_orders", day(1), "a", rows)
    wh.load(day(1), day(1))
    out = wh.check(checks.quarantine_rate, day(1), day(1))
    assert out.passed is passed
    assert out.metadata["quarantine_rate"] == pytest.approx(bad / 200)
    assert out.metadata["top_reasons"] == ({"unknown status": bad} if bad else {})
