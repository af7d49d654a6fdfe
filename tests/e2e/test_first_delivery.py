"""Issue 19, nothing left behind silently: `refill run` as a new user runs it, as a process.

- A world whose history starts in another month than the old default first partition
  (2024-01-01), run with no setting: the partitions start at the first delivery day, and
  the last day's scores cover every prescription active on it by the contract's definition,
  computed here from the landing zone itself.
- A landing zone with deliveries before an explicit REFILL_PARTITIONS_START: refused, with
  the first delivery day and the variable named, and nothing loaded.
- A file the platform cannot place: shown in the summary's reconciliation, and the blocking
  check `files_reconciled` fails the run.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

import tests.support.landing_builder as lb
from refill_simulator import simulate
from tests.support.small_world import refill_env, run_refill

# eight months (the models' time split needs them, tests/e2e/test_pipeline.py), starting a
# quarter before the old default first partition
START, END = date(2023, 10, 1), date(2024, 5, 31)
OLD_DEFAULT = date(2024, 1, 1)
ACTIVE_LOOKBACK_DAYS = 180  # the contract's active window (deliberately not imported)
ACUTE = ("antibiotic", "gastro")


def _env(home: Path, **extra: str) -> dict[str, str]:
    """A new user's environment: REFILL_PARTITIONS_START not set."""
    env = refill_env(home, REFILL_GATE_MARGIN="-1", **extra)
    if "REFILL_PARTITIONS_START" not in extra:
        env.pop("REFILL_PARTITIONS_START")
    return env


def _warehouse_rows(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _latest(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    stamp = pl.col("updated_at").str.to_datetime(time_zone="UTC")
    return frame.sort(stamp).unique(key, keep="last")


def _active_rx(landing: Path, day: date) -> pl.DataFrame:
    """The contract's active maintenance prescriptions on ``day`` (the last delivery day, so
    every delivery is known), from the landing zone's files: a maintenance drug, a dog or cat
    not reported deceased or transferred, a filled or partial order filled in (day − 180, day].
    With each rx, the first delivery day of its pet."""
    orders = pl.read_csv(landing / "rx_orders" / "*" / "*.csv", infer_schema=False)
    pets = pl.read_csv(
        landing / "pets" / "*" / "*.csv", infer_schema=False, include_file_paths="path"
    )
    pet_first_dt = pets.group_by("pet_id").agg(
        first_dt=pl.col("path").str.extract(r"dt=(\d{4}-\d{2}-\d{2})", 1).str.to_date().min()
    )
    sent = pl.col("is_maintenance").str.to_lowercase()
    maintenance = (
        pl.when(sent.is_in(["true", "y"]))
        .then(True)
        .when(sent.is_in(["false", "n"]))
        .then(False)
        .otherwise(~pl.col("drug_class").is_in(ACUTE))
    )
    fills = _latest(orders, "order_id").filter(
        pl.col("status").is_in(["filled", "partial"]),
        maintenance,
        # the fill date is the local calendar date of order_ts, written in local time
        pl.col("order_ts").str.slice(0, 10).str.to_date()
        > day - timedelta(days=ACTIVE_LOOKBACK_DAYS),
        pl.col("order_ts").str.slice(0, 10).str.to_date() <= day,
    )
    alive = _latest(pets, "pet_id").filter(
        pl.col("species").str.to_lowercase().is_in(["dog", "cat"]), pl.col("status") == "active"
    )
    return (
        fills.join(alive.select("pet_id"), on="pet_id")
        .join(pet_first_dt, on="pet_id")
        .group_by("rx_id")
        .agg(pl.col("first_dt").min())
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("first_delivery")
    # a clean world (no bad rows, canonical spellings), so the contract's definition can be
    # applied to its files directly
    simulate(root / "world", pets=500, start=START, end=END, seed=11, quirks=False)
    home = root / "home"
    landing = root / "world" / "landing"
    run = run_refill(home, "run", "--landing", str(landing), env=_env(home))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {"home": home, "landing": landing, "stdout": run.stdout}


def test_no_setting_partitions_start_at_the_first_delivery_day(world):
    assert f"delivery days {START} … {END}" in world["stdout"]
    for extract in ("rx_orders", "pets", "customers"):
        first = _warehouse_rows(world["home"], f"select min(_dt) from raw.{extract}")
        assert first == [(START,)], extract
    # nothing of the landing zone was left behind, and the summary says so per extract
    left = _warehouse_rows(
        world["home"], "select count(*) from raw.landing_files where not accounted"
    )
    assert left == [(0,)]
    assert "landing zone files: seen = loaded + duplicate + rejected + skipped" in world["stdout"]
    orphans = _warehouse_rows(
        world["home"],
        "select count(*) from quarantine.orphan_orders where reason <> 'pet_within_grace'",
    )
    assert orphans == [(0,)]


def test_last_day_scores_cover_every_active_prescription(world):
    expected = _active_rx(world["landing"], END)
    # the history before the old default start matters: many active rx have pets first
    # delivered then, whose orders the old default sent to the orphan quarantine
    assert expected.filter(pl.col("first_dt") < OLD_DEFAULT).height > 50
    scored = {
        rx
        for (rx,) in _warehouse_rows(
            world["home"], "select rx_id from scores.rx_refill_scores where as_of_date = ?", [END]
        )
    }
    assert scored == set(expected["rx_id"])


def _tiny_landing(root: Path, first: date) -> Path:
    """A few contract-following deliveries: one pet, its owner and an order on ``first``,
    an order a day later."""
    landing = root / "landing"
    lb.deliver(landing, "customers", first, "customers", [lb.customer(1, day=first)])
    lb.deliver(landing, "pets", first, "pets", [lb.pet(1, day=first, customer_id="C0001")])
    order = {"pet_id": "P0001", "customer_id": "C0001"}
    lb.deliver(landing, "rx_orders", first, "orders", [lb.rx_order(1, day=first, **order)])
    later = first + timedelta(days=1)
    lb.deliver(landing, "rx_orders", later, "orders", [lb.rx_order(2, day=later, **order)])
    return landing


def test_history_before_the_configured_start_is_refused_and_nothing_loaded(tmp_path):
    landing = _tiny_landing(tmp_path, date(2023, 12, 30))
    home = tmp_path / "home"
    env = _env(home, REFILL_PARTITIONS_START="2023-12-31")
    run = run_refill(home, "run", "--landing", str(landing), "--skip-training", env=env)
    assert run.returncode != 0
    assert "refill run: FAILED" in run.stdout
    assert "first delivery day is 2023-12-30" in run.stdout
    assert "REFILL_PARTITIONS_START" in run.stdout
    assert not (home / "warehouse.duckdb").exists()  # no quiet partial load


def test_a_file_the_platform_cannot_place_fails_the_reconciliation(tmp_path):
    first = date(2024, 2, 27)
    landing = _tiny_landing(tmp_path, first)
    # a dt folder spelled wrong: its rows would silently never arrive
    lb.write_bytes(landing, "rx_orders", "2024-02-28", ".placeholder", b"")
    misplaced = landing / "rx_orders" / "2024-02-28" / "orders.csv"
    misplaced.parent.mkdir()
    misplaced.write_bytes(lb.csv_bytes([lb.rx_order(3, day="2024-02-28")]))
    home = tmp_path / "home"
    run = run_refill(home, "run", "--landing", str(landing), "--skip-training", env=_env(home))
    assert run.returncode != 0
    out = run.stdout
    assert "refill run: FAILED" in out
    assert f"delivery days {first}" in out  # the partitions start at the first delivery day
    # rx_orders: 2 delivered files loaded, the misplaced one skipped; the hidden one accounted
    assert "rx_orders" in out and "4 = 2 + 0 + 0 + 2" in out
    assert "outside_dt_folder=1" in out and "hidden=1" in out
    assert "raw/rx_orders:files_reconciled" in out
    assert "rx_orders/2024-02-28/orders.csv" in out
