"""The partitions the definitions load follow the landing zone, and the ingestion check
`files_reconciled` stops the run (the UI's and the schedules' path) when a file is left
behind: before the first partition, or where the platform cannot place it."""

from __future__ import annotations

import json
import subprocess
import sys

import dagster as dg
import pytest

import tests.support.landing_builder as lb
from refill_assets.defs.ingest.assets import RECONCILIATION_CHECK, build_ingest_asset
from refill_assets.defs.resources import LandingResource, WarehouseResource
from tests.support.small_world import ROOT, refill_env

DAY = "2024-03-01"  # a partition of the definitions the tests load (tests/conftest.py)

_SHOW = """
import json
from refill_assets.definitions import defs
from refill_assets.defs.partitions import START
job = defs.resolve_job_def("nightly")
print(json.dumps({
    "start": START.day.isoformat(),
    "first_key": job.partitions_def.get_first_partition_key(),
    "configured": START.configured,
}))
"""


def _load_definitions(tmp_path, landing, **extra) -> tuple[dict, str]:
    """The definitions as `dagster dev` loads them for this landing zone, in a fresh process."""
    env = refill_env(tmp_path / "home", REFILL_LANDING_URI=str(landing), **extra)
    if "REFILL_PARTITIONS_START" not in extra:
        env.pop("REFILL_PARTITIONS_START")
    done = subprocess.run(
        [sys.executable, "-c", _SHOW], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.fixture
def early_landing(tmp_path):
    landing = tmp_path / "landing"
    lb.deliver(landing, "pets", "2023-07-01", "pets", [lb.pet(1, day="2023-07-01")])
    lb.deliver(landing, "rx_orders", "2023-07-02", "orders", [lb.rx_order(1, day="2023-07-02")])
    return landing


def test_unset_the_partitions_start_at_the_landing_zones_first_delivery_day(
    tmp_path, early_landing
):
    shown, _ = _load_definitions(tmp_path, early_landing)
    assert shown == {"start": "2023-07-01", "first_key": "2023-07-01", "configured": False}


def test_a_configured_start_after_the_first_delivery_is_kept_and_warned_about(
    tmp_path, early_landing
):
    shown, stderr = _load_definitions(tmp_path, early_landing, REFILL_PARTITIONS_START="2024-01-01")
    assert shown == {"start": "2024-01-01", "first_key": "2024-01-01", "configured": True}
    assert "first delivery day is 2023-07-01" in stderr
    assert "REFILL_PARTITIONS_START" in stderr


def _materialize(tmp_path, landing) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [build_ingest_asset("rx_orders")],
        resources={
            "landing": LandingResource(uri=str(landing), pii_key="k"),
            "warehouse": WarehouseResource(home=str(tmp_path / "home")),
        },
        partition_key=DAY,
        raise_on_error=False,
    )


def _reconciliation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == RECONCILIATION_CHECK
    ]
    return evaluation


def test_a_delivery_before_the_first_partition_fails_the_blocking_check(tmp_path):
    landing = tmp_path / "landing"
    lb.deliver(landing, "rx_orders", DAY, "orders", [lb.rx_order(i) for i in range(5)])
    lb.deliver(landing, "rx_orders", "2023-12-15", "orders", [lb.rx_order(9, day="2023-12-15")])
    result = _materialize(tmp_path, landing)
    assert not result.success  # blocking: nothing downstream is built on a partial history
    check = _reconciliation(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "1 delivered before the first partition" in check.description
    assert "first delivery day is 2023-12-15" in check.description
    assert "REFILL_PARTITIONS_START=2024-01-01" in check.description


def test_a_file_the_platform_cannot_place_fails_the_blocking_check(tmp_path):
    landing = tmp_path / "landing"
    lb.deliver(landing, "rx_orders", DAY, "orders", [lb.rx_order(i) for i in range(5)])
    misplaced = landing / "rx_orders" / "dt=2024-3-1" / "orders.csv"
    misplaced.parent.mkdir()
    misplaced.write_bytes(lb.csv_bytes([lb.rx_order(7)]))
    result = _materialize(tmp_path, landing)
    assert not result.success
    check = _reconciliation(result)
    assert not check.passed
    assert "rx_orders/dt=2024-3-1/orders.csv" in check.description
    meta = {k: v.value for k, v in check.metadata.items()}
    assert (meta["files_seen"], meta["files_loaded"], meta["files_skipped"]) == (2, 1, 1)
    assert meta["reconciliation"]["rx_orders"]["skipped_reasons"] == {"outside_dt_folder": 1}


def test_a_clean_landing_zone_passes_with_the_four_counts(tmp_path):
    landing = tmp_path / "landing"
    lb.deliver(landing, "rx_orders", DAY, "orders", [lb.rx_order(i) for i in range(5)])
    lb.deliver(landing, "rx_orders", DAY, "orders_again", [lb.rx_order(i) for i in range(5)])
    result = _materialize(tmp_path, landing)
    assert result.success
    check = _reconciliation(result)
    assert check.passed
    assert check.description == "2 file(s) seen = 1 loaded + 1 duplicate + 0 rejected + 0 skipped"
