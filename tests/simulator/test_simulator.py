# Over 400 lines: one test module per simulator promise would scatter one shared world.
"""The simulated pharmacy: reproducible, contract-shaped, dirty as promised, realistic.

Files are read back with the standard library (csv, json) and pyarrow, not
with the simulator's own code, so the tests check what an ingestion job
would see.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from refill_assets.contract.extracts import EXTRACTS, PETS, RX_ORDERS
from refill_assets.contract.rules import ACUTE_CLASSES, DRUG_CLASSES
from refill_assets.models.oracle import oracle_predictions, read_truth
from refill_assets.reports.realism import gap_ratio_summary, gap_ratios, read_smart_refills
from refill_simulator import SimulationSummary, simulate
from refill_simulator.truth import DRAWS_COLUMN, LAPSE_GRACE_DAYS, STOP_DRAW, TRUTH_DRAWS

START, END = date(2025, 1, 1), date(2025, 4, 30)
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"
# a copy of ../shared/data/smart-refills (Apache 2.0, its LICENSE and README beside it)
SMART_REFILLS = Path(__file__).resolve().parents[1] / "data" / "smart-refills"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> SimulationSummary:
    return simulate(tmp_path_factory.mktemp("dirty"), pets=1500, start=START, end=END, seed=11)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> SimulationSummary:
    out = tmp_path_factory.mktemp("clean")
    return simulate(out, pets=600, start=START, end=date(2025, 2, 28), seed=3, quirks=False)


def _csv_files(root: Path, extract: str) -> list[Path]:
    return sorted(root.glob(f"{extract}/dt=*/*.csv"))


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


def _rows(root: Path, extract: str) -> pl.DataFrame:
    """Every well-formed row of an extract's files, as text, with its dt and file."""
    records = []
    for path in _csv_files(root, extract):
        header, rows = _read_csv(path)
        for row in rows:
            if len(row) == len(header):
                records.append({**dict(zip(header, row, strict=True)), "_file": path.name})
                records[-1]["_dt"] = path.parent.name[3:]
    return pl.DataFrame(records, infer_schema_length=None)


def _jsonl(root: Path, extract: str) -> tuple[list[dict], int]:
    """Parsed objects of an extract, and the number of lines that are not JSON."""
    objects, broken = [], 0
    for path in sorted(root.glob(f"{extract}/dt=*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                objects.append({**json.loads(line), "_dt": path.parent.name[3:]})
            except json.JSONDecodeError:
                broken += 1
    return objects, broken


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- shape


def test_same_seed_same_bytes_other_seed_other_world(tmp_path):
    small = dict(pets=200, start=START, end=date(2025, 2, 15))
    a = simulate(tmp_path / "a", seed=5, **small)
    b = simulate(tmp_path / "b", seed=5, **small)
    simulate(tmp_path / "c", seed=6, **small)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert a.rows == b.rows and a.fills == b.fills


def test_summary_and_truth_beside_landing(world):
    summary = world.as_dict()
    assert summary["pets"] == 1500 and summary["customers"] < 1500
    assert summary["prescriptions"] > summary["pets"] > 0
    assert set(summary["rows"]) == set(EXTRACTS) and min(summary["rows"].values()) > 0
    assert world.truth.parent == world.landing.parent
    assert not list(world.landing.rglob("next_fill*")) and not list(world.landing.rglob("pets.*"))
    truth = pl.read_parquet(world.truth / "next_fill.parquet")
    assert len(truth) == world.fills
    assert pl.read_parquet(world.truth / "pets.parquet").height == 1500


def test_layout_is_the_contracts(world):
    for name, extract in EXTRACTS.items():
        folders = sorted((world.landing / name).iterdir())
        assert folders, name
        for folder in folders:
            day = date.fromisoformat(re.fullmatch(r"dt=(\d{4}-\d{2}-\d{2})", folder.name)[1])
            assert START <= day <= END
            assert all(f.suffix == f".{extract.format}" for f in folder.iterdir())


def test_columns_are_the_contracts_but_for_the_planted_breaks(world):
    missing_required = []
    for name in ("rx_orders", "vet_reauth", "customers", "pets"):
        expected = set(EXTRACTS[name].column_names)
        for path in _csv_files(world.landing, name):
            header = set(_read_csv(path)[0])
            if not set(EXTRACTS[name].required) <= header:
                missing_required.append((path.name, set(EXTRACTS[name].required) - header))
                continue
            assert header - expected <= {"loyalty_tier"}, path
            assert expected <= header, path
    assert missing_required == [(missing_required[0][0], {"order_ts"})]
    for name in ("shipments", "engagement"):
        objects, _ = _jsonl(world.landing, name)
        assert {frozenset(o) - {"_dt"} for o in objects} == {frozenset(EXTRACTS[name].column_names)}
    unreadable = 0
    for path in sorted(world.landing.glob("inventory/dt=*/*.parquet")):
        try:
            assert tuple(pq.read_schema(path).names) == EXTRACTS["inventory"].column_names
        except Exception:  # noqa: BLE001 - any failure to read is the planted truncation
            unreadable += 1
    assert unreadable == 1


def test_clean_world_has_no_quirks(clean):
    root = clean.landing
    for name in ("rx_orders", "vet_reauth", "customers", "pets"):
        for folder in (root / name).iterdir():
            files = list(folder.iterdir())
            assert len(files) == 1, folder
            header, rows = _read_csv(files[0])
            assert tuple(header) == EXTRACTS[name].column_names
            assert all(len(r) == len(header) for r in rows)
    orders = _rows(root, "rx_orders")
    assert set(orders["channel"]) <= {"mail", "clinic", "ecommerce"}
    assert set(orders["status"]) <= {"pending", "filled", "partial", "canceled"}
    assert (orders["ndc"].str.len_chars() == 11).all()
    assert (orders["days_supply"] != "").all() and (orders["is_maintenance"] != "").all()
    assert (orders["updated_at"].str.slice(0, 10) == orders["_dt"]).all()
    species = set(_rows(root, "pets")["species"])
    assert {"dog", "cat"} <= species and not species & {"Dog", "K9", "canine", "Feline"}
    for name in ("shipments", "engagement"):
        objects, broken = _jsonl(root, name)
        assert broken == 0 and len({json.dumps(o, sort_keys=True) for o in objects}) == len(objects)
    for path in root.glob("inventory/dt=*/*.parquet"):
        pq.read_table(path)


# ---------------------------------------------------------------- bad data


def test_rows_resent_late_and_twice(world):
    orders = _rows(world.landing, "rx_orders")
    final = orders.filter(pl.col("status").is_in(["filled", "partial"]))
    versions = final.group_by("order_id", "status").agg(pl.col("updated_at").n_unique())
    assert versions.filter(pl.col("updated_at") > 1).height > 0  # re-sent, newer updated_at
    lines = orders.drop("_file", "_dt")
    assert lines.is_duplicated().sum() > 0  # identical re-sends
    delay = pl.col("_dt").str.to_date() - pl.col("updated_at").str.slice(0, 10).str.to_date()
    days = orders.select(delay.dt.total_days())["_dt"]
    assert days.min() >= 0 and {1, 2} <= set(days)


def test_files_split_duplicated_and_missing(world):
    hashes: dict[str, list[Path]] = {}
    for path in world.landing.rglob("*.*"):
        hashes.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), []).append(path)
    copies = [paths for paths in hashes.values() if len(paths) > 1]
    assert any(a.name == b.name and a.parent != b.parent for a, b, *_ in copies)
    assert any(a.name != b.name and a.parent == b.parent for a, b, *_ in copies)
    folders = [f for name in EXTRACTS for f in (world.landing / name).iterdir()]
    assert sum(len(list(f.iterdir())) > 1 for f in folders) > 10
    orders = _rows(world.landing, "rx_orders")
    delivered = set(orders["_dt"])
    every_day = {str(d.date()) for d in pl.date_range(START, END, eager=True).cast(pl.Datetime)}
    outage = every_day - delivered
    assert len(outage) == 1  # and the outage day's rows come the day after
    assert orders.filter(pl.col("order_ts").str.slice(0, 10) == min(outage)).height > 0


def test_values_need_normalising(world):
    orders = _rows(world.landing, "rx_orders")
    assert {9, 10, 11} <= set(orders["ndc"].str.len_chars())
    assert {"Mail", "E-Commerce", "eCommerce", "in-clinic", "MAIL"} <= set(orders["channel"])
    with_sig = orders.filter(pl.col("days_supply") == "", pl.col("sig") != "")
    assert with_sig.height > 0 and orders.filter(pl.col("is_maintenance") == "").height > 0
    assert {"Y", "N"} & set(orders["autoship"])
    offsets = set(orders["order_ts"].str.extract(r"([+-]\d{2}:\d{2})$").drop_nulls())
    assert {"-05:00", "-08:00"} <= offsets and orders["updated_at"].str.ends_with("Z").all()
    pets = _rows(world.landing, "pets")
    assert {"dog", "Dog", "canine", "K9", "cat", "Feline", "CAT"} <= set(pets["species"])
    assert {"lb", "kg", ""} <= set(pets["weight_unit"])
    customers = _rows(world.landing, "customers")
    assert (customers["zip5"].str.len_chars() == 4).sum() > 0
    headers = {tuple(_read_csv(p)[0]) for p in _csv_files(world.landing, "rx_orders")}
    assert len(headers) > 2  # column order varies (and loyalty_tier joins)


def test_schema_drift_from_a_day_on(world):
    days_with = sorted(
        p.parent.name
        for p in _csv_files(world.landing, "rx_orders")
        if "loyalty_tier" in _read_csv(p)[0]
    )
    days_without = sorted(
        p.parent.name
        for p in _csv_files(world.landing, "rx_orders")
        if "loyalty_tier" not in _read_csv(p)[0]
    )
    assert days_with and days_without and days_without[-1] < days_with[0]


def test_malformed_rows_of_every_kind(world):
    orders = _rows(world.landing, "rx_orders")
    ragged = sum(
        len(row) != len(header)
        for header, rows in map(_read_csv, _csv_files(world.landing, "rx_orders"))
        for row in rows
    )
    bad_ts = orders.filter(~pl.col("order_ts").str.contains(TIMESTAMP))
    assert bad_ts.height > 0 and ragged > 0
    qty = orders["qty_dispensed"]
    assert qty.str.contains(r"[A-Za-z]").any() and qty.str.starts_with("-").any()
    assert set(orders["status"]) - set(RX_ORDERS.column("status").allowed)
    assert (orders["pet_id"] == "").any()
    share = (bad_ts.height + ragged) / len(orders)
    assert 0.0001 < share < 0.005
    for name in ("shipments", "engagement"):
        objects, broken = _jsonl(world.landing, name)
        assert broken > 0 and broken / len(objects) < 0.005


def test_one_orphan_order(world):
    pets = set(_rows(world.landing, "pets")["pet_id"])
    orders = _rows(world.landing, "rx_orders").filter(pl.col("pet_id") != "")
    orphans = set(orders["pet_id"]) - pets
    assert len(orphans) == 1
    assert orders.filter(pl.col("pet_id").is_in(orphans))["order_id"].n_unique() == 1


# ---------------------------------------------------------------- the process


SIG = re.compile(
    r"^(?:(?P<q>[\d./]+) tab PO (?P<f>SID|BID|TID|QID|q12h|q8h|q24h)"
    r"|Give (?P<gq>[\d./]+) tablets? by mouth (?P<gf>once|twice|three times) daily"
    r"|Give (?P<cq>[\d./]+) capsules? by mouth every other day"
    r"|(?P<mq>[\d./]+) mL PO BID"
    r"|(?P<monthly>Apply 1 pipette monthly|Give 1 chewable monthly))$"
)
FREQ = {"SID": 1, "q24h": 1, "BID": 2, "q12h": 2, "TID": 3, "q8h": 3, "QID": 4}
GIVE = {"once": 1, "twice": 2, "three times": 3}


def units_per_day(sig: str) -> Fraction:
    m = SIG.match(sig)
    assert m, sig
    if m["monthly"]:
        return Fraction(1, 30)
    if m["q"]:
        return Fraction(m["q"]) * FREQ[m["f"]]
    if m["gq"]:
        return Fraction(m["gq"]) * GIVE[m["gf"]]
    if m["cq"]:
        return Fraction(m["cq"]) / 2
    return Fraction(m["mq"]) * 2


def _valid_orders(root: Path) -> pl.DataFrame:
    orders = _rows(root, "rx_orders").filter(
        pl.col("status").is_in(RX_ORDERS.column("status").allowed),
        pl.col("qty_dispensed").str.contains(r"^\d+$"),
        pl.col("order_ts").str.contains(TIMESTAMP),
        pl.col("pet_id") != "",
    )
    return orders.sort("updated_at").group_by("order_id").last()


def test_days_supply_follows_the_sig(world):
    orders = _valid_orders(world.landing).filter(pl.col("days_supply") != "")
    assert set(orders["drug_class"]) == set(DRUG_CLASSES)
    for sig, qty, supply in orders.select("sig", "qty_dispensed", "days_supply").iter_rows():
        assert int(supply) == int(Fraction(qty) / units_per_day(sig)), (sig, qty, supply)


def test_reauthorization_refills_the_next_order(world):
    reauth = _rows(world.landing, "vet_reauth").filter(pl.col("status") == "approved")
    orders = _valid_orders(world.landing).filter(pl.col("status").is_in(["filled", "partial"]))
    orders = orders.with_columns(ts=pl.col("order_ts").str.to_datetime(time_zone="UTC"))
    answered = reauth.select(
        "rx_id", "refills_granted", ts=pl.col("responded_at").str.to_datetime(time_zone="UTC")
    ).sort("ts")
    nxt = answered.join_asof(
        orders.sort("ts"), on="ts", by="rx_id", strategy="forward", check_sortedness=False
    )
    nxt = nxt.filter(pl.col("order_id").is_not_null())
    assert nxt.height > 20
    assert (nxt["refills_remaining"] == nxt["refills_granted"]).mean() > 0.95
    assert not orders["refills_remaining"].str.starts_with("-").any()


def test_clinic_pickups_never_ship_and_backorders_ship_late(world):
    orders = _valid_orders(world.landing)
    pickup = pl.col("channel").str.to_lowercase().str.contains("clinic")
    clinic = set(orders.filter(pickup)["order_id"])
    shipments, _ = _jsonl(world.landing, "shipments")
    assert clinic and not clinic & {s["order_id"] for s in shipments}
    held = {s["shipment_id"] for s in shipments if s["status"] == "backordered"}
    late = [
        s
        for s in shipments
        if s["shipment_id"] in held and s["status"] == "shipped" and s["shipped_at"]
    ]
    assert all(s["shipped_at"][:10] >= s["promised_ship_date"] for s in late)
    assert sum(s["shipped_at"][:10] > s["promised_ship_date"] for s in late) > len(late) / 2


def test_pii_looks_real(world):
    customers = _rows(world.landing, "customers").filter(pl.col("customer_id") != "")
    assert customers["email"].str.contains(r"^[a-z]+\.?[a-z]+\d*@example\.(com|net|org)$").all()
    assert customers["phone"].str.contains(r"^\(555\) \d{3}-\d{4}$").all()
    assert customers["address_line1"].str.contains(r"^\d+ [A-Z][a-z]+ [A-Z][a-z]+$").all()
    assert customers["state"].str.contains(r"^[A-Z]{2}$").all()


def test_species_mix(world):
    pets = _rows(world.landing, "pets").filter(pl.col("species") != "")
    species = pets.group_by("pet_id").last()["species"].str.to_lowercase()
    dogs = species.is_in(["dog", "canine", "k9", "k-9"]).mean()
    cats = species.is_in(["cat", "feline"]).mean()
    assert 0.55 < dogs < 0.65 and 0.32 < cats < 0.42 and 0 < 1 - dogs - cats < 0.06
    assert set(PETS.column("status").allowed) <= set(pets["status"])  # deaths, transfers


def _maintenance_truth(world) -> pl.DataFrame:
    truth = pl.read_parquet(world.truth / "next_fill.parquet")
    classes = _valid_orders(world.landing).select("order_id", "drug_class")
    return truth.join(classes, on="order_id").filter(~pl.col("drug_class").is_in(ACUTE_CLASSES))


def test_gap_ratios_look_like_real_dispensing(world):
    # every next fill inside the world is itself a fill of the truth
    fills = _maintenance_truth(world).select("rx_id", "fill_date", "days_supply")
    stats = gap_ratio_summary(gap_ratios(fills))
    assert stats["n"] > 1000
    assert 0.95 <= stats["median"] <= 1.05
    assert 0.82 <= stats["q25"] <= 0.95 and 1.08 <= stats["q75"] <= 1.25


def test_truth_is_coherent_and_calibrated(world):
    truth = pl.read_parquet(world.truth / "next_fill.parquet").drop_nulls("true_p10_days")
    assert (truth["true_p10_days"] <= truth["true_p50_days"]).all()
    assert (truth["true_p50_days"] <= truth["true_p90_days"]).all()
    assert truth["true_lapse_probability"].is_between(0, 1).all()
    assert (truth["next_fill_date"].drop_nulls() > truth["fill_date"].min()).all()
    cutoff = pl.col("fill_date") + pl.duration(days=pl.col("days_supply") + 30)
    settled = truth.filter(cutoff < pl.lit(END))
    gap = (pl.col("next_fill_date") - pl.col("fill_date")).dt.total_days()
    lapsed = settled.select(gap.is_null() | (gap > pl.col("days_supply") + 30))
    assert abs(lapsed.to_series().mean() - settled["true_lapse_probability"].mean()) < 0.03


def test_engaged_owners_refill_on_time(world):
    truth = _maintenance_truth(world).filter(pl.col("next_fill_date").is_not_null())
    pets = pl.read_parquet(world.truth / "pets.parquet")
    off_time = ((pl.col("next_fill_date") - pl.col("fill_date")).dt.total_days()
                / pl.col("days_supply") - 1).abs()  # fmt: skip
    by_level = (
        truth.join(pets, on="pet_id")
        .group_by("engagement_level")
        .agg(off_time.median().alias("off"))
        .sort("engagement_level")
    )
    off = dict(by_level.iter_rows())
    assert off["high"] < off["low"]


def test_reference_data_gap_ratios():
    stats = gap_ratio_summary(gap_ratios(read_smart_refills(SMART_REFILLS), min_fills=2))
    assert stats["median"] == pytest.approx(1.0)
    assert stats["q25"] == pytest.approx(0.867, abs=0.01)
    assert stats["q75"] == pytest.approx(1.167, abs=0.01)


def test_gap_ratios_by_hand():
    fills = pl.DataFrame(
        {
            "rx_id": ["a", "a", "a", "b", "b"],
            "fill_date": [date(2025, 1, 1), date(2025, 1, 31), date(2025, 3, 17)] + [START] * 2,
            "days_supply": [30, 30, 30, 30, 30],
        }
    )
    assert gap_ratios(fills).to_list() == [1.0, 1.5]  # b has two fills: too few
    assert gap_ratio_summary([1.0, 1.5])["median"] == 1.25
    assert gap_ratio_summary([])["n"] == 0


def test_stored_draws_reproduce_the_summaries(world):
    truth = pl.read_parquet(world.truth / "next_fill.parquet")
    assert truth.schema[DRAWS_COLUMN] == pl.List(pl.Int16)
    draws = truth[DRAWS_COLUMN].list.to_array(TRUTH_DRAWS).to_numpy()
    assert draws.shape == (len(truth), TRUTH_DRAWS)
    assert (np.diff(draws, axis=1) >= 0).all()  # sorted, stops first
    assert ((draws == STOP_DRAW) | (draws >= 1)).all()
    refill = draws != STOP_DRAW
    supply = truth["days_supply"].to_numpy()[:, None]
    lapse = (~refill | (draws > supply + LAPSE_GRACE_DAYS)).mean(axis=1)
    assert np.array_equal(lapse, truth["true_lapse_probability"].to_numpy())
    some = refill.any(axis=1)
    assert truth["true_p50_days"].is_not_null().to_numpy().tolist() == some.tolist()
    for i in np.flatnonzero(some):
        gap = draws[i][refill[i]]
        stored = truth.row(int(i), named=True)
        assert stored["true_mean_days"] == pytest.approx(gap.mean(), rel=1e-12)
        for q in (10, 50, 90):
            assert stored[f"true_p{q}_days"] == pytest.approx(np.quantile(gap, q / 100), abs=1e-9)


def test_the_oracle_on_the_fill_day_is_the_stored_law(world):
    truth = read_truth(world.truth)
    assert DRAWS_COLUMN in truth.columns
    day = pl.read_parquet(world.truth / "next_fill.parquet", columns=["fill_date"])["fill_date"]
    frame = truth.select(last_order_id="order_id", last_fill_date=day, as_of_date=day)
    pred = oracle_predictions(frame, truth)
    assert pred["has_truth"].to_list() == truth["true_p50_days"].is_not_null().to_list()
    both = pl.concat([truth, pred], how="horizontal").filter("has_truth")
    for mine, stored in (
        ("predicted_days_to_refill", "true_p50_days"),
        ("p10_days", "true_p10_days"),
        ("p90_days", "true_p90_days"),
        ("lapse_probability", "true_lapse_probability"),
    ):
        assert (both[mine] - both[stored]).abs().max() < 1e-9, mine
