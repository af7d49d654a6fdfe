"""``simulate``: build the world, write its landing zone and its ground truth."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from refill_assets.contract.extracts import EXTRACTS
from refill_simulator import delivery, quirks
from refill_simulator.catalog import build_clinics, catalog_arrays
from refill_simulator.engagement import engagement_rows
from refill_simulator.faults import FAULTS_FILE, injected_faults
from refill_simulator.fills import run_fills
from refill_simulator.formats import stream, zone_offsets
from refill_simulator.orders import order_events, rx_order_rows, vet_reauth_rows
from refill_simulator.people import customer_rows, pet_rows
from refill_simulator.population import build_customers, build_pets
from refill_simulator.prescriptions import build_prescriptions
from refill_simulator.process import Process, draw_process, process_record
from refill_simulator.shift import Shift
from refill_simulator.shipments import shipment_rows
from refill_simulator.state import World
from refill_simulator.supply import build_supply, inventory_rows
from refill_simulator.timeline import build_timeline
from refill_simulator.truth import write_truth
from refill_simulator.writer import write_extract

# pets giving a world of at least 1,000,000 fills over 18 months
LARGE_WORLD_PETS = 160_000
DEMO_WORLD_PETS = 20_000


@dataclass(frozen=True)
class SimulationSummary:
    pets: int
    customers: int
    prescriptions: int
    fills: int  # filled and partial orders placed in the world
    rows: dict[str, int] = field(hash=False)  # rows per extract, as first delivered
    files: int
    seconds: float
    landing: Path
    truth: Path
    family: bool = False  # the process was drawn from the family (truth/process.json)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(landing=str(self.landing), truth=str(self.truth))
        return out


def build_world(
    pets: int, start: date, end: date, seed: int, process: Process, shift: Shift | None = None
) -> World:
    p = process
    tl = build_timeline(start, end)
    cat = catalog_arrays()
    clinics = build_clinics(pets, p, stream(seed, "clinics"))
    pet_table = build_pets(pets, tl.n_days, len(clinics.ids), p, stream(seed, "pets"))
    customers, pet_table = build_customers(pet_table, p, stream(seed, "customers"))
    rx = build_prescriptions(
        pet_table, customers, cat, len(clinics.ids), tl, stream(seed, "prescriptions")
    )
    supply = build_supply(len(cat.ndc), tl, p, stream(seed, "supply"))
    log = run_fills(
        rx, pet_table, customers, clinics, cat, supply, tl, p, stream(seed, "fills"), shift
    )
    offsets = zone_offsets(tl)
    return World(seed, p, tl, cat, clinics, customers, pet_table, rx, supply, log, offsets, shift)


def _dirty(name: str, rows: pl.DataFrame, w: World, rng) -> pl.DataFrame:
    """The row-level quirks, in the order a source system would commit them."""
    rows = quirks.value_quirks(name, rows, w.process, rng)
    rows = quirks.resend_newer(name, rows, w.tl, w.process, rng)
    if name == "rx_orders":
        rows = quirks.orphan_order(rows, w.tl)
    return quirks.with_malformed(name, rows, w.process, rng)


def _land(name: str, build, w: World, root: Path, dirty: bool) -> tuple[int, int]:
    """Build, deliver and write one extract; returns (files, rows).

    Takes the builder rather than its rows, so that nothing outside holds
    on to the clean rows while their dirty, delivered copy is made.
    """
    extract = EXTRACTS[name]
    rng = stream(w.seed, f"deliver-{name}")
    rows = build()
    if extract.format != "parquet":
        if dirty:
            rows = _dirty(name, rows, w, rng)
        else:
            rows = rows.with_columns(_raw=pl.lit(None, pl.String))
        rows = delivery.deliver(name, rows, w.tl, w.process, rng, dirty)
    plan = delivery.file_plan(name, extract.format, rows, w.tl, w.process, rng, dirty)
    written = write_extract(root, extract, rows, plan, w.tl, rng)
    return written.files, written.rows


def _land_orders(w: World, landing: Path, truth: Path, dirty: bool, written: dict) -> int:
    """The truth and the extracts made from order events; returns the number of fills."""
    orders = order_events(w, stream(w.seed, "orders"))
    fills = write_truth(w, orders, truth)
    builders = {
        "rx_orders": lambda: rx_order_rows(orders, w),
        "vet_reauth": lambda: vet_reauth_rows(w, stream(w.seed, "vet_reauth")),
        "shipments": lambda: shipment_rows(orders, w, stream(w.seed, "shipments")),
    }
    # one extract at a time, so that only one is ever held as text
    for name, build in builders.items():
        written[name] = _land(name, build, w, landing, dirty)
    return fills


def _land_people(w: World, landing: Path, dirty: bool, written: dict) -> None:
    """Engagement first: its unsubscribes become customers rows."""
    opt_outs = []

    def engagement() -> pl.DataFrame:
        events, unsubscribed = engagement_rows(w, stream(w.seed, "engagement"))
        opt_outs.append(unsubscribed)
        return events

    builders = {
        "engagement": engagement,
        "customers": lambda: customer_rows(w, opt_outs[0], stream(w.seed, "customer_rows")),
        "pets": lambda: pet_rows(w, stream(w.seed, "pet_rows")),
        "inventory": lambda: inventory_rows(w.supply, w.cat, w.tl, stream(w.seed, "inventory")),
    }
    for name, build in builders.items():
        written[name] = _land(name, build, w, landing, dirty)


def simulate(
    out_dir: Path,
    pets: int = 2000,
    start: date = date(2025, 1, 1),
    end: date = date(2025, 4, 30),
    seed: int = 7,
    quirks: bool = True,
    family: bool = False,
    shift: Shift | None = None,
) -> SimulationSummary:
    """Simulate the pharmacy and write ``out_dir/landing`` and ``out_dir/truth``.

    Both folders are replaced if they exist. ``quirks=False`` writes a clean
    world: the same process, no bad data and no layout surprises.
    ``family=True`` draws the latent process from the family of worlds
    (``process.draw_process(seed)``) instead of the standard one; either way
    ``truth/process.json`` records it. ``shift`` changes the process from its
    start on (``shift.Shift``), the truth's too; process.json records it.
    ``truth/faults.csv`` lists the faults injected (``faults``; empty without
    quirks).
    """
    began = time.perf_counter()
    out_dir = Path(out_dir)
    landing, truth = out_dir / "landing", out_dir / "truth"
    for folder in (landing, truth):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    process = draw_process(seed) if family else Process()
    record = json.dumps(process_record(process, family, shift), indent=2)
    (truth / "process.json").write_text(record + "\n", encoding="utf-8")
    w = build_world(pets, start, end, seed, process, shift)
    faults = injected_faults(w.tl, quirks)
    faults.write_csv(truth / FAULTS_FILE, date_format="%Y-%m-%d")
    written: dict[str, tuple[int, int]] = {}
    fills = _land_orders(w, landing, truth, quirks, written)
    _land_people(w, landing, quirks, written)
    return SimulationSummary(
        pets=len(w.pets),
        customers=len(w.customers),
        prescriptions=len(w.rx),
        fills=fills,
        rows={name: n_rows for name, (_, n_rows) in written.items()},
        files=sum(n_files for n_files, _ in written.values()),
        seconds=round(time.perf_counter() - began, 3),
        landing=landing,
        truth=truth,
        family=family,
    )
