"""The landing zone's reconciliation: every file seen is loaded, duplicate, rejected or skipped
with its reason, and a file neither loaded nor accounted for fails the check."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

import tests.support.landing_builder as lb
from refill_assets.ingest.landing import Landing
from refill_assets.ingest.load import ingest_days
from refill_assets.ingest.partition_start import PartitionStart
from refill_assets.ingest.reconcile import OUTSIDE, classify, outcome, reconcile

KEY = b"test-pii-key"
D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)
FROM_LANDING = PartitionStart(D1, configured=False, first_delivery=D1)
_buckets = itertools.count()


def _ledger(*rows: tuple[str, str, str | None]) -> pl.DataFrame:
    schema = {"_file": pl.String, "status": pl.String, "reason": pl.String}
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def test_every_path_gets_a_status_and_each_skip_a_reason():
    paths = [
        "rx_orders/dt=2024-02-29/early.csv",  # before the first partition
        "rx_orders/dt=2024-03-01/a.csv",
        "rx_orders/dt=2024-03-01/a_again.csv",
        "rx_orders/dt=2024-03-01/broken.csv",
        "rx_orders/dt=2024-03-01/.a.csv.part",  # an upload in progress
        "rx_orders/dt=2024-03-02/late_arrival.csv",  # in the window, not in raw.files
        "rx_orders/dt=2024-03-09/tomorrow.csv",  # after the run's last day
        "rx_orders/2024-03-01/no_dt.csv",
        "rx_orders/dt=2024-02-30/no_such_day.csv",
        "rx_orders/dt=2024-03-01/nested/deeper.csv",
        "rx_orders/stray.csv",
        "rx-orders/dt=2024-03-01/typo.csv",
        "manifest.json",
    ]
    ledger = _ledger(
        ("rx_orders/dt=2024-03-01/a.csv", "loaded", None),
        ("rx_orders/dt=2024-03-01/a_again.csv", "duplicate", "same content"),
        ("rx_orders/dt=2024-03-01/broken.csv", "rejected", "missing required column"),
    )
    got = classify(paths, ledger, D1, D3)
    assert got.height == len(paths)
    by_file = {
        f: (s, r, a) for f, s, r, a in got.select("_file", "status", "reason", "accounted").rows()
    }
    assert by_file == {
        "rx_orders/dt=2024-02-29/early.csv": ("skipped", "before_partitions", False),
        "rx_orders/dt=2024-03-01/a.csv": ("loaded", None, True),
        "rx_orders/dt=2024-03-01/a_again.csv": ("duplicate", "same content", True),
        "rx_orders/dt=2024-03-01/broken.csv": ("rejected", "missing required column", True),
        "rx_orders/dt=2024-03-01/.a.csv.part": ("skipped", "hidden", True),
        "rx_orders/dt=2024-03-02/late_arrival.csv": ("skipped", "not_loaded", False),
        "rx_orders/dt=2024-03-09/tomorrow.csv": ("skipped", "after_window", True),
        "rx_orders/2024-03-01/no_dt.csv": ("skipped", "outside_dt_folder", False),
        "rx_orders/dt=2024-02-30/no_such_day.csv": ("skipped", "outside_dt_folder", False),
        "rx_orders/dt=2024-03-01/nested/deeper.csv": ("skipped", "outside_dt_folder", False),
        "rx_orders/stray.csv": ("skipped", "outside_dt_folder", False),
        "rx-orders/dt=2024-03-01/typo.csv": ("skipped", "unknown_extract", False),
        "manifest.json": ("skipped", "not_in_extract_folder", False),
    }
    days = dict(got.select("_file", "_dt").rows())
    assert days["rx_orders/dt=2024-02-29/early.csv"] == date(2024, 2, 29)
    assert days["rx-orders/dt=2024-03-01/typo.csv"] is None  # placed nowhere


def test_an_empty_landing_zone_classifies_to_nothing():
    assert classify([], _ledger(), D1, D3).height == 0


@pytest.fixture
def zone(tmp_path) -> dict:
    landing = tmp_path / "landing"
    lb.deliver(landing, "rx_orders", D1, "orders", [lb.rx_order(1), lb.rx_order(2)])
    lb.deliver(landing, "rx_orders", D1, "orders_resent", [lb.rx_order(1), lb.rx_order(2)])
    lb.write_bytes(landing, "rx_orders", D2, "broken.csv", b"order_id,rx_id\nO9,RX9\n")
    lb.deliver(landing, "rx_orders", D3, "tomorrow", [lb.rx_order(3, day=D3)])
    lb.deliver(landing, "pets", D1, "pets", [lb.pet(1)])
    return {"landing": landing, "warehouse": tmp_path / "warehouse.duckdb", "raw": tmp_path / "raw"}


def _run(zone: dict, extract: str, start: PartitionStart = FROM_LANDING, end: date = D2):
    landing = Landing(str(zone["landing"]))
    ingest_days(extract, start.day, end, landing, zone["warehouse"], zone["raw"], KEY)
    with duckdb.connect(str(zone["warehouse"])) as con:
        rec = reconcile(con, landing, extract, start, end)
        table = con.execute(
            "SELECT extract, _file, status, reason, accounted FROM raw.landing_files ORDER BY _file"
        ).fetchall()
    return rec, table


def test_after_ingestion_files_seen_add_up_and_the_check_passes(zone):
    rec, table = _run(zone, "rx_orders")
    counts = rec.counts()["rx_orders"]
    assert counts["seen"] == 4
    assert (counts["loaded"], counts["duplicate"], counts["rejected"], counts["skipped"]) == (
        1,
        1,
        1,
        1,
    )
    assert counts["skipped_reasons"] == {"after_window": 1}
    result = outcome(rec)
    assert result.passed, result.description
    assert result.description == "4 file(s) seen = 1 loaded + 1 duplicate + 1 rejected + 1 skipped"
    assert result.metadata["files_seen"] == 4 and result.metadata["not_accounted_for"] == 0
    # recorded in the warehouse: this extract's files only (pets has not been run)
    assert [(e, s, r) for e, _, s, r, _ in table] == [
        ("rx_orders", "loaded", None),
        ("rx_orders", "duplicate", "same content as an earlier delivery"),
        ("rx_orders", "rejected", table[2][3]),
        ("rx_orders", "skipped", "after_window"),
    ]
    assert table[2][3]  # the rejection's reason, from raw.files


def test_a_file_the_platform_cannot_place_fails_the_check(zone):
    stray = zone["landing"] / "rx_orders" / "2024-03-02" / "orders.csv"
    stray.parent.mkdir()
    stray.write_bytes(lb.csv_bytes([lb.rx_order(7, day=D2)]))
    (zone["landing"] / "README.txt").write_text("deliveries for the platform\n")
    rec, table = _run(zone, "rx_orders")
    result = outcome(rec)
    assert not result.passed
    assert result.description.startswith("2 file(s) neither loaded nor accounted for")
    assert "rx_orders/2024-03-02/orders.csv" in result.description
    assert "README.txt" in result.description
    assert result.metadata["files_not_accounted_for"] == [
        {"file": "README.txt", "reason": "not_in_extract_folder"},
        {"file": "rx_orders/2024-03-02/orders.csv", "reason": "outside_dt_folder"},
    ]
    assert rec.counts()[OUTSIDE]["skipped_reasons"] == {"not_in_extract_folder": 1}
    assert ("rx_orders/2024-03-02/orders.csv", "skipped", "outside_dt_folder", False) in [
        row[1:] for row in table
    ]
    # a file of no extract fails every extract's check; recorded once
    rec_pets, table = _run(zone, "pets")
    assert not outcome(rec_pets).passed
    assert [row[1] for row in table].count("README.txt") == 1


def test_a_delivery_before_the_first_partition_fails_and_names_the_setting(zone):
    lb.deliver(zone["landing"], "rx_orders", "2024-02-20", "early", [lb.rx_order(5)])
    configured = PartitionStart(D1, configured=True, first_delivery=None)
    rec, _ = _run(zone, "rx_orders", configured)
    result = outcome(rec)
    assert not result.passed
    assert "1 delivered before the first partition" in result.description
    assert "first delivery day is 2024-02-20" in result.description
    assert "REFILL_PARTITIONS_START" in result.description
    assert result.metadata["first_delivery_day"] == "2024-02-20"


def test_a_late_file_in_a_day_already_loaded_fails_until_the_day_is_loaded_again(zone):
    _run(zone, "rx_orders")
    lb.deliver(zone["landing"], "rx_orders", D1, "late", [lb.rx_order(8)])
    with duckdb.connect(str(zone["warehouse"])) as con:
        rec = reconcile(con, Landing(str(zone["landing"])), "rx_orders", FROM_LANDING, D2)
    assert not outcome(rec).passed
    assert rec.not_accounted["reason"].to_list() == ["not_loaded"]
    rec, _ = _run(zone, "rx_orders")  # the range run again takes it in
    assert outcome(rec).passed


def _upload(s3, root: Path, bucket: str) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            key = f"exports/{path.relative_to(root).as_posix()}"
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def test_s3_lists_the_same_paths_and_first_day_as_the_local_folder(s3, tmp_path):
    root = tmp_path / "landing"
    lb.deliver(root, "pets", "2023-11-30", "pets", [lb.pet(1)])
    lb.deliver(root, "rx_orders", D1, "orders", [lb.rx_order(1)])
    lb.write_bytes(root, "rx_orders", "2023-11-02", ".pending.csv", b"order_id\n")  # hidden
    (root / "rx_orders" / "dt=2023-02-30").mkdir()
    (root / "rx_orders" / "dt=2023-02-30" / "x.csv").write_bytes(b"order_id\n")
    (root / "notes.txt").write_text("hi")
    bucket = f"landing-reconcile-{next(_buckets)}"
    s3.create_bucket(Bucket=bucket)
    _upload(s3, root, bucket)
    s3.put_object(Bucket=bucket, Key="exports/rx_orders/", Body=b"")  # a console folder marker
    local, remote = Landing(str(root)), Landing(f"s3://{bucket}/exports", s3_client=s3)
    assert remote.paths() == local.paths()
    assert len(local.paths()) == 5
    extracts = ("rx_orders", "pets", "customers")
    assert remote.first_delivery_day(extracts) == local.first_delivery_day(extracts)
    assert local.first_delivery_day(extracts) == date(2023, 11, 30)
    assert local.first_delivery_day(["rx_orders"]) == D1  # hidden and impossible days skipped
    assert [f.dt for f in remote.files("rx_orders")] == [D1]  # no crash on dt=2023-02-30
