"""Landing on S3 (moto in server mode on loopback) behaves exactly like the same local folder."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import duckdb
import pytest

from refill_assets.ingest.landing import Landing
from refill_assets.ingest.load import ingest_days
from tests.support.landing_builder import (
    day_dir,
    deliver,
    engagement_event,
    inventory_item,
    rx_order,
    shipment,
    write_bytes,
)

KEY = b"test-pii-key"
D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)
EXTRACTS = ("rx_orders", "shipments", "inventory", "engagement")
_buckets = itertools.count()


def _bucket(s3) -> str:
    name = f"landing-{next(_buckets)}"
    s3.create_bucket(Bucket=name)
    return name


def _upload(s3, root: Path, bucket: str, prefix: str) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            key = path.relative_to(root).as_posix()
            s3.put_object(
                Bucket=bucket, Key=f"{prefix}/{key}" if prefix else key, Body=path.read_bytes()
            )


def _landing_zone(root: Path) -> None:
    deliver(root, "rx_orders", D1, "orders_a", [rx_order(1), rx_order(2, status="??")])
    deliver(root, "rx_orders", D1, "orders_b", [rx_order(3) | {"loyalty_tier": "gold"}])
    deliver(root, "rx_orders", D3, "orders_a", [rx_order(4, day=D3), rx_order(1, day=D3)])
    write_bytes(root, "rx_orders", D3, "orders_broken.csv", b"order_id,rx_id\nO9,RX9\n")
    deliver(root, "shipments", D1, "ship", [shipment(1), shipment(2, carrier=None)])
    deliver(root, "shipments", D2, "ship", [shipment(3, day=D2)])
    deliver(root, "inventory", D1, "snapshot", [inventory_item(i) for i in range(3)])
    deliver(root, "inventory", D2, "snapshot", [inventory_item(i, day=D2) for i in range(4)])
    deliver(root, "engagement", D2, "events", [engagement_event(i, day=D2) for i in range(5)])
    # things that are not deliveries: ignored by both
    (day_dir(root, "rx_orders", D1) / "nested").mkdir()
    (day_dir(root, "rx_orders", D1) / "nested" / "deeper.csv").write_bytes(b"order_id\n")
    (root / "rx_orders" / "stray.csv").write_bytes(b"order_id\n")
    (root / "rx_orders" / "not-a-day").mkdir()
    (root / "rx_orders" / "not-a-day" / "x.csv").write_bytes(b"order_id\n")


def _listing(landing: Landing, extract: str) -> list[tuple]:
    return [(f.extract, f.dt, f.name) for f in landing.files(extract)]


@pytest.mark.parametrize("prefix", ["landing", "client/acme/landing/", ""])
def test_s3_lists_and_reads_the_same_files_as_the_local_folder(s3, tmp_path, prefix):
    local_root = tmp_path / "landing"
    _landing_zone(local_root)
    bucket = _bucket(s3)
    _upload(s3, local_root, bucket, prefix.strip("/"))
    local = Landing(str(local_root))
    remote = Landing(f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}", s3_client=s3)
    assert remote.is_s3 and not local.is_s3

    for extract in EXTRACTS:
        assert _listing(remote, extract) == _listing(local, extract), extract
        for lf, rf in zip(local.files(extract), remote.files(extract), strict=True):
            assert remote.read(rf) == local.read(lf)
    assert _listing(local, "rx_orders") == [
        ("rx_orders", D1, "orders_a.csv"),
        ("rx_orders", D1, "orders_b.csv"),
        ("rx_orders", D3, "orders_a.csv"),
        ("rx_orders", D3, "orders_broken.csv"),
    ]
    assert remote.delivery_days(EXTRACTS) == local.delivery_days(EXTRACTS) == [D1, D2, D3]
    assert remote.files("vet_reauth") == [] == local.files("vet_reauth")


def test_s3_skips_hidden_files_like_the_local_folder(s3, tmp_path):
    # a producer's in-flight upload (".part" style name) is not a delivery yet, local or S3
    local_root = tmp_path / "landing"
    deliver(local_root, "rx_orders", D1, "orders", [rx_order(1)])
    write_bytes(local_root, "rx_orders", D1, ".orders_next.csv.tmp", b"order_id\nO2\n")
    write_bytes(local_root, "rx_orders", D1, ".orders_next.csv", b"order_id\nO2\n")
    bucket = _bucket(s3)
    _upload(s3, local_root, bucket, "landing")
    remote = Landing(f"s3://{bucket}/landing", s3_client=s3)
    assert _listing(remote, "rx_orders") == _listing(Landing(str(local_root)), "rx_orders")
    assert _listing(remote, "rx_orders") == [("rx_orders", D1, "orders.csv")]


def test_s3_landing_needs_a_client():
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        Landing("s3://bucket/prefix")


def _tables(warehouse: Path, extract: str) -> dict[str, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in (f"raw.{extract}", "quarantine.rows", "raw.files", "raw.schema_drift")
        }


def test_ingest_from_s3_gives_the_same_raw_tables_as_from_the_folder(s3, tmp_path):
    local_root = tmp_path / "landing"
    _landing_zone(local_root)
    bucket = _bucket(s3)
    _upload(s3, local_root, bucket, "landing")
    zones = {
        "local": Landing(str(local_root)),
        "s3": Landing(f"s3://{bucket}/landing", s3_client=s3),
    }
    for extract in EXTRACTS:
        got = {}
        for kind, landing in zones.items():
            wh = tmp_path / f"{kind}.duckdb"
            report = ingest_days(extract, D1, D3, landing, wh, tmp_path / f"raw-{kind}", KEY)
            assert report.rows_loaded > 0
            got[kind] = _tables(wh, extract)
        assert got["s3"] == got["local"], extract
    rx = _tables(tmp_path / "s3.duckdb", "rx_orders")
    assert len(rx["raw.rx_orders"]) == 4
    rx_files = sorted(r for r in rx["raw.files"] if r[0] == "rx_orders")
    assert [r[4] for r in sorted(rx_files, key=lambda r: r[2])] == [
        "loaded",
        "loaded",
        "loaded",
        "rejected",
    ]
    assert len(rx["raw.schema_drift"]) == 1
    assert [r[0] for r in rx["quarantine.rows"]] == ["rx_orders"]
