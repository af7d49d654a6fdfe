"""The ledger of injected faults (``truth/faults.csv``) against the landing zone written.

Every promise is checked on the files, read back with the standard library
and pyarrow, not on the constants that placed the faults.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from refill_assets.contract.extracts import EXTRACTS
from refill_simulator import SimulationSummary, simulate
from refill_simulator.delivery import DRIFT_COLUMN, MISSING_COLUMN, OUTAGE_DAY_FRACTION, FilePlan
from refill_simulator.faults import FAULT_KINDS, FAULTS_FILE, SCHEMA, injected_faults
from refill_simulator.timeline import build_timeline
from refill_simulator.writer import write_extract

START, END = date(2025, 1, 1), date(2025, 2, 28)
# big enough that even the sparse extracts (vet_reauth, customers) have rows on their outage day
PETS, SEED = 800, 5


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> SimulationSummary:
    return simulate(tmp_path_factory.mktemp("faults"), pets=PETS, start=START, end=END, seed=SEED)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> SimulationSummary:
    out = tmp_path_factory.mktemp("faults-clean")
    return simulate(out, pets=200, start=START, end=date(2025, 1, 31), seed=3, quirks=False)


@pytest.fixture(scope="module")
def ledger(world) -> pl.DataFrame:
    return pl.read_csv(world.truth / FAULTS_FILE, schema=SCHEMA)


def _folder(world: SimulationSummary, extract: str, day: date) -> Path:
    return world.landing / extract / f"dt={day.isoformat()}"


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def _rows_of_day(world: SimulationSummary, extract: str, day: date) -> dict[str, int]:
    """Rows whose updated_at (UTC) falls on ``day``, counted by the folder delivering them."""
    found: dict[str, int] = {}
    for path in sorted((world.landing / extract).glob("dt=*/*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            at = header.index("updated_at")
            for row in reader:
                if len(row) == len(header) and row[at][:10] == day.isoformat():
                    found[path.parent.name] = found.get(path.parent.name, 0) + 1
    return found


def _of(ledger: pl.DataFrame, kind: str) -> list[tuple[str, date]]:
    return ledger.filter(pl.col("kind") == kind).select("extract", "day").rows()


def test_ledger_is_the_simulators(world, ledger):
    assert ledger.equals(injected_faults(build_timeline(START, END), quirks=True))
    assert ledger["day"].is_sorted() and set(ledger["kind"]) == set(FAULT_KINDS)
    assert ledger["day"].is_between(START, END).all()
    outages = ledger.filter(pl.col("kind") == "outage")
    assert sorted(outages["extract"]) == sorted(OUTAGE_DAY_FRACTION)
    text = (world.truth / FAULTS_FILE).read_text(encoding="utf-8").splitlines()
    assert text[0] == "extract,day,kind" and len(text) == len(ledger) + 1
    print(ledger)


def test_outage_days_deliver_nothing(world, ledger):
    """No folder on the outage day; rows of that day (there are some) come the day after."""
    for extract, day in _of(ledger, "outage"):
        assert not _folder(world, extract, day).exists(), (extract, day)
        found = _rows_of_day(world, extract, day)
        after = f"dt={day + timedelta(days=1)}"
        assert found.get(after, 0) > 0, (extract, day, found)
        assert min(found) >= after


def test_next_day_copy_skips_an_outage(tmp_path):
    """A copy planned for "the next day's folder" goes to the next delivery, past the outage."""
    extract = EXTRACTS["vet_reauth"]
    tl = build_timeline(START, START + timedelta(days=9))
    columns = {name: pl.Series([None, None], dtype=pl.String) for name in extract.column_names}
    delivered = pl.DataFrame(
        {**columns, "_raw": [None, None], "_dt": [0, 2], "_part": [0, 0]},
        schema_overrides={"_raw": pl.String},
    )
    plan = FilePlan(next_day_copies=frozenset({(0, 0)}))
    write_extract(tmp_path, extract, delivered, plan, tl, rng=None)
    days = sorted(p.name for p in (tmp_path / "vet_reauth").iterdir())
    assert days == ["dt=2025-01-01", "dt=2025-01-03"]
    after = sorted(p.name for p in (tmp_path / "vet_reauth" / "dt=2025-01-03").iterdir())
    assert after == ["vet_reauth_20250101_01.csv", "vet_reauth_20250103_01.csv"]


def test_file_missing_column(world, ledger):
    for extract, day in _of(ledger, "file_missing_column"):
        headers = [_header(p) for p in sorted(_folder(world, extract, day).glob("*.csv"))]
        assert any(MISSING_COLUMN not in h and "order_id" in h for h in headers), (extract, day)
        assert any(MISSING_COLUMN in h for h in headers)  # the day's rows, delivered properly


def test_file_truncated(world, ledger):
    for extract, day in _of(ledger, "file_truncated"):
        files = sorted(_folder(world, extract, day).glob("*.parquet"))
        unreadable = []
        for path in files:
            try:
                pq.read_table(path)
            except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
                unreadable.append(path.name)
        assert 1 <= len(unreadable) < len(files), (extract, day, unreadable)


def test_schema_drift(world, ledger):
    for extract, day in _of(ledger, "schema_drift"):
        folders = sorted((world.landing / extract).glob("dt=*"))
        first = f"dt={day.isoformat()}"
        earlier = [p for f in folders if f.name < first for p in f.glob("*.csv")]
        assert earlier and not any(DRIFT_COLUMN in _header(p) for p in earlier)
        on_day = sorted(_folder(world, extract, day).glob("*.csv"))
        assert any(DRIFT_COLUMN in _header(p) for p in on_day), (extract, day)


def test_clean_world_has_no_faults(clean):
    ledger = pl.read_csv(clean.truth / FAULTS_FILE, schema=SCHEMA)
    assert ledger.is_empty() and ledger.schema == pl.Schema(SCHEMA)
    empty = injected_faults(build_timeline(START, date(2025, 1, 31)), quirks=False)
    assert empty.is_empty() and empty.schema == pl.Schema(SCHEMA)
