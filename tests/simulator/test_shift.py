"""A shift of the latent process from a date on: nothing moves before it, late owners and
carriers are slower after it, and the truth and process.json know it.

Clean worlds of 600 pets over seven months (a couple of seconds each),
shifted from April 1 with lateness_factor 2.0 rather than the default 1.5,
so that a hundred late owners' refills show it well beyond their noise.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from refill_assets.cli.main import main
from refill_simulator import Shift, SimulationSummary, simulate
from refill_simulator.fills import DISPENSED_COLUMNS
from refill_simulator.process import Process, draw_process, process_record
from refill_simulator.truth import LAPSE_GRACE_DAYS
from refill_simulator.world import build_world
from tests.simulator import test_simulator as standard

START, END = date(2025, 1, 1), date(2025, 7, 31)
SHIFT = Shift(date(2025, 4, 1), transit_extra_days=3, lateness_factor=2.0)
SEED = 3
WORLD = dict(pets=600, start=START, end=END, seed=SEED, quirks=False)
# a smaller world, for the tests comparing bytes
SMALL = dict(pets=300, start=START, end=date(2025, 3, 31), seed=SEED)


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> SimulationSummary:
    return simulate(tmp_path_factory.mktemp("plain"), **WORLD)


@pytest.fixture(scope="module")
def shifted(tmp_path_factory) -> SimulationSummary:
    return simulate(tmp_path_factory.mktemp("shifted"), shift=SHIFT, **WORLD)


def _process_json(world: SimulationSummary) -> dict:
    return json.loads((world.truth / "process.json").read_text(encoding="utf-8"))


def _truth(world: SimulationSummary) -> pl.DataFrame:
    """next_fill.parquet with each pet's adherence profile and the fill's truth as a ratio."""
    pets = pl.read_parquet(world.truth / "pets.parquet")
    return (
        pl.read_parquet(world.truth / "next_fill.parquet")
        .join(pets, on="pet_id")
        .with_columns(
            true_ratio=pl.col("true_mean_days") / pl.col("days_supply"),
            ratio=(pl.col("next_fill_date") - pl.col("fill_date")).dt.total_days()
            / pl.col("days_supply"),
        )
    )


def _orders(world: SimulationSummary) -> pl.DataFrame:
    """The final version of every order (a clean world: one header, no quirks)."""
    files = sorted(world.landing.glob("rx_orders/dt=*/*.csv"))
    rows = pl.concat([pl.read_csv(f, infer_schema_length=0) for f in files])
    return rows.filter(pl.col("status") != "pending").with_columns(
        day=pl.col("order_ts").str.slice(0, 10).str.to_date()
    )


def _shipments(world: SimulationSummary) -> pl.DataFrame:
    """One row per delivered shipment: its order's rx and day, shipped and delivered dates."""
    events = [
        json.loads(line)
        for path in sorted(world.landing.glob("shipments/dt=*/*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    ships = pl.DataFrame(events, infer_schema_length=None)
    held = ships.filter(pl.col("status") == "backordered")["shipment_id"]
    delivered = ships.filter(pl.col("status") == "delivered").select(
        "shipment_id",
        shipped=pl.col("shipped_at").str.slice(0, 10).str.to_date(),
        delivered=pl.col("delivered_at").str.slice(0, 10).str.to_date(),
    )
    return (
        ships.filter(pl.col("status") == "created")
        .select(
            "shipment_id",
            "order_id",
            "warehouse_id",
            "promised_ship_date",
            backordered=pl.col("shipment_id").is_in(held.implode()),
        )
        .join(_orders(world).select("order_id", "rx_id", "day"), on="order_id")
        .join(delivered, on="shipment_id", how="left")
    )


def _same_rows(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """The same rows, in any order."""
    return a.sort(a.columns).equals(b.sort(b.columns))


# ---------------------------------------------------------------- no shift, no change


def test_no_shift_or_one_after_the_end_changes_nothing(tmp_path):
    simulate(tmp_path / "default", **SMALL)
    simulate(tmp_path / "none", shift=None, **SMALL)
    after_end = Shift(SMALL["end"] + timedelta(days=1))
    simulate(tmp_path / "after", shift=after_end, **SMALL)
    default = standard._digest(tmp_path / "default")
    assert default == standard._digest(tmp_path / "none")
    after = standard._digest(tmp_path / "after")
    assert after.keys() == default.keys()
    assert [name for name in default if default[name] != after[name]] == ["truth/process.json"]
    records = [
        json.loads((tmp_path / name / "truth" / "process.json").read_text(encoding="utf-8"))
        for name in ("default", "after")
    ]
    assert records[0]["shift"] is None
    assert records[1]["shift"] == after_end.record()
    assert {**records[1], "shift": None} == records[0]


def test_same_seed_same_shifted_world(tmp_path):
    shift = Shift(date(2025, 2, 15))
    a = simulate(tmp_path / "a", shift=shift, **SMALL)
    b = simulate(tmp_path / "b", shift=shift, **SMALL)
    simulate(tmp_path / "plain", **SMALL)
    assert standard._digest(tmp_path / "a") == standard._digest(tmp_path / "b")
    assert a.rows == b.rows and a.fills == b.fills
    assert standard._digest(tmp_path / "a") != standard._digest(tmp_path / "plain")


# ---------------------------------------------------------------- before the start


def test_the_process_before_the_start_is_the_unshifted_worlds():
    plain = build_world(400, START, date(2025, 4, 30), SEED, Process())
    shifted = build_world(400, START, date(2025, 4, 30), SEED, Process(), SHIFT)
    first = SHIFT.first_day(plain.tl)
    before, after = pl.col("day") < first, pl.col("day") >= first
    assert plain.log.fills.filter(before).equals(shifted.log.fills.filter(before))
    # what a fill decides (a canceled order, a reauthorization) belongs to its day
    for log in ("cancels", "reauths"):
        decided = pl.col("fill_day") < first
        a, b = getattr(plain.log, log), getattr(shifted.log, log)
        assert a.filter(decided).equals(b.filter(decided)), log
    # each prescription goes on from the same first fill on or after the start, dispensed
    # as it was; what follows it is drawn again
    firsts = [
        w.log.fills.filter(after)
        .filter(pl.col("k") == pl.col("k").min().over("rx"))
        .select(DISPENSED_COLUMNS)
        for w in (plain, shifted)
    ]
    assert firsts[0].height > 100 and _same_rows(*firsts)
    assert not plain.log.fills.filter(after).equals(shifted.log.fills.filter(after))


def test_delivered_before_the_start_the_same_fills_and_shipments(plain, shifted):
    # the same orders, but for their ids and times
    columns = ["rx_id", "pet_id", "ndc", "sig", "qty_dispensed", "days_supply", "channel"]
    columns += ["refills_remaining", "status", "day"]
    early = [
        _orders(w).filter(pl.col("day") < SHIFT.start).select(columns) for w in (plain, shifted)
    ]
    assert early[0].height > 500 and _same_rows(*early)
    # the same shipments of those orders: warehouse, promised date, held by a backorder
    columns = ["rx_id", "day", "warehouse_id", "promised_ship_date", "backordered"]
    ships = [
        _shipments(w).filter(pl.col("day") < SHIFT.start).select(columns) for w in (plain, shifted)
    ]
    assert ships[0].height > 300 and _same_rows(*ships)
    # the same fills, what followed them, and the same law
    truth = [_truth(w).filter(pl.col("fill_date") < SHIFT.start) for w in (plain, shifted)]
    realised = ["rx_id", "pet_id", "fill_date", "days_supply", "next_fill_date", "outcome"]
    assert _same_rows(*(t.select(realised) for t in truth))
    law = [t["true_ratio"].mean() for t in truth]
    assert abs(law[0] - law[1]) < 0.01
    # no fill touches the pets or the stock: those keep their bytes, after the start too
    pets = [(w.truth / "pets.parquet").read_bytes() for w in (plain, shifted)]
    assert pets[0] == pets[1]
    for extract in ("inventory", "pets"):
        digests = [standard._digest(w.landing / extract) for w in (plain, shifted)]
        assert digests[0] and digests[0] == digests[1], extract


# ---------------------------------------------------------------- from the start


def test_carriers_are_slower_from_the_start(plain, shifted):
    def transit(world: SimulationSummary) -> tuple[float, float]:
        days = (
            _shipments(world)
            .drop_nulls("delivered")
            .select(
                after=pl.col("shipped") >= SHIFT.start,
                days=(pl.col("delivered") - pl.col("shipped")).dt.total_days(),
            )
        )
        return tuple(days.filter(pl.col("after") == a)["days"].mean() for a in (False, True))

    (before_a, after_a), (before_b, after_b) = transit(plain), transit(shifted)
    assert abs(before_b - before_a) < 0.2
    assert abs(after_b - after_a - SHIFT.transit_extra_days) < 0.3


def test_late_owners_are_later_from_the_start(plain, shifted):
    late = [_truth(w).filter(pl.col("adherence_profile") == "late") for w in (plain, shifted)]
    # the law: the truth draws with the shift from the start on, and only then
    after = [t.filter(pl.col("fill_date") >= SHIFT.start)["true_ratio"].mean() for t in late]
    assert after[1] - after[0] > 0.1
    # what happened: refills of a month's supply or less, early enough not to be censored
    seen = pl.col("fill_date").is_between(SHIFT.start, END - timedelta(days=60))
    refills = [
        t.filter(seen, pl.col("days_supply") <= 31, pl.col("outcome") == "refilled") for t in late
    ]
    assert min(r.height for r in refills) > 50
    assert refills[1]["ratio"].mean() - refills[0]["ratio"].mean() > 0.05


def test_the_truth_stays_calibrated_after_the_start(shifted):
    truth = _truth(shifted)
    cutoff = pl.col("fill_date") + pl.duration(days=pl.col("days_supply") + LAPSE_GRACE_DAYS)
    settled = truth.filter(pl.col("fill_date") >= SHIFT.start, cutoff < pl.lit(END))
    gap = (pl.col("next_fill_date") - pl.col("fill_date")).dt.total_days()
    lapsed = settled.select(gap.is_null() | (gap > pl.col("days_supply") + LAPSE_GRACE_DAYS))
    assert settled.height > 300
    assert abs(lapsed.to_series().mean() - settled["true_lapse_probability"].mean()) < 0.03


def test_process_json_records_the_shift(plain, shifted):
    record = _process_json(shifted)
    assert record["shift"] == {
        "start": "2025-04-01",
        "transit_extra_days": 3,
        "lateness_factor": 2.0,
    }
    assert record == json.loads(json.dumps(process_record(Process(), False, SHIFT)))
    assert {**record, "shift": None} == _process_json(plain)


def test_a_family_world_shifts_too(tmp_path):
    shift = Shift(date(2025, 2, 15))
    family = dict(SMALL, family=True, quirks=False)
    drawn = simulate(tmp_path / "drawn", **family)
    moved = simulate(tmp_path / "moved", shift=shift, **family)
    record = _process_json(moved)
    assert record == json.loads(json.dumps(process_record(draw_process(SEED), True, shift)))
    truth = [_truth(w) for w in (drawn, moved)]
    realised = ["rx_id", "fill_date", "days_supply", "next_fill_date", "outcome"]
    before, after = pl.col("fill_date") < shift.start, pl.col("fill_date") >= shift.start
    assert _same_rows(*(t.filter(before).select(realised) for t in truth))
    assert not _same_rows(*(t.filter(after).select(realised) for t in truth))


# ---------------------------------------------------------------- the command line


def test_cli_shift_flags(tmp_path: Path, capsys):
    out = tmp_path / "cli"
    argv = ["simulate", "--out", str(out), "--pets", "200", "--end", "2025-02-15", "--seed", "4"]
    assert main([*argv, "--shift-from", "2025-02-01", "--shift-lateness", "1.8"]) == 0
    assert json.loads(capsys.readouterr().out)["fills"] > 0
    record = json.loads((out / "truth" / "process.json").read_text(encoding="utf-8"))
    assert record["shift"] == Shift(date(2025, 2, 1), lateness_factor=1.8).record()
    assert record["shift"]["transit_extra_days"] == Shift.transit_extra_days
    assert main([*argv, "--shift-transit-days", "2"]) == 2


def test_a_shift_takes_no_negative_numbers():
    with pytest.raises(ValueError):
        Shift(START, transit_extra_days=-1)
    with pytest.raises(ValueError):
        Shift(START, lateness_factor=-0.5)
