"""A small warehouse under a test's home, loaded from hand-written deliveries; hand-built
rows of the promised outputs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from refill_assets.ingest.landing import Landing
from refill_assets.ingest.load import IngestReport, ingest_days
from refill_assets.quality import validate, verdict
from refill_assets.storage.layout import Layout
from tests.support.landing_builder import deliver, rx_order

KEY = b"test-pii-key"
D1 = date(2024, 3, 1)  # a Friday

Tweak = Callable[[int, dict], dict]


class Warehouse:
    """``home`` as a ``Layout``, with its landing zone beside the warehouse."""

    def __init__(self, home: Path):
        self.layout = Layout(home)
        self.landing = home / "landing"

    @staticmethod
    def day(n: int) -> date:
        """Delivery day n, counting from 1."""
        return D1 + timedelta(days=n - 1)

    def orders(self, n: int, count: int, tweak: Tweak | None = None) -> list[dict]:
        """``count`` rx_orders of day n (ids unique below 1,000 a day), each through ``tweak``."""
        rows = [rx_order(n * 1000 + j, day=self.day(n)) for j in range(count)]
        return [tweak(j, r) if tweak else r for j, r in enumerate(rows)]

    def deliver_orders(self, n: int, count: int, tweak: Tweak | None = None) -> None:
        deliver(self.landing, "rx_orders", self.day(n), "a", self.orders(n, count, tweak))

    def load(self, start: date, end: date, extract: str = "rx_orders") -> IngestReport:
        landing = Landing(str(self.landing))
        lay = self.layout
        return ingest_days(extract, start, end, landing, lay.warehouse, lay.raw_root, KEY)

    def connect(self, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.layout.warehouse), read_only=read_only)


def missing(column: str, bad: int) -> Tweak:
    """The first ``bad`` rows of a day without ``column``."""
    return lambda j, r: r | {column: None} if j < bad else r


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)


# --- promised outputs, as hand-built frames ------------------------------------------------


def score(i: int, day: date, **overrides) -> dict:
    """A row of ``scores.rx_refill_scores``: rx i scored on ``day``, every promise kept."""
    row = {
        "as_of_date": day,
        "rx_id": f"RX{i:05d}",
        "pet_id": f"P{i:04d}",
        "customer_id": f"C{i:04d}",
        "drug_class": "nsaid",
        "last_fill_date": day - timedelta(days=20),
        "predicted_refill_date": day + timedelta(days=10),
        "predicted_days_to_refill": 10.0,
        "refill_date_p10": day + timedelta(days=5),
        "refill_date_p90": day + timedelta(days=16),
        "lapse_probability": 0.2,
        "model_name": "refill_interval",
        "model_version": "3",
        "run_id": "run-1",
    }
    return row | overrides


def export_row(i: int, day: date, **overrides) -> dict:
    """A row of the outreach export: rx i's owner contacted on ``day``, every promise kept."""
    row = {
        "campaign_id": "CAMP1",
        "customer_id": f"C{i:04d}",
        "pet_id": f"P{i:04d}",
        "rx_id": f"RX{i:05d}",
        "drug_name": "Carprofen 75 mg, chewable",
        "predicted_refill_date": day + timedelta(days=7),
        "contact_on": day,
        "channel": "email" if i % 2 else "sms",
        "lapse_probability": 0.3,
        "model_version": "3",
    }
    return row | overrides


def as_frame(rows: list[dict]) -> pd.DataFrame:
    """``rows`` as DuckDB's ``.df()`` reads them: dates as ``datetime64``."""
    frame = pd.DataFrame(rows)
    for c in frame.columns:
        if isinstance(rows[0][c], date):
            frame[c] = pd.to_datetime(frame[c])
    return frame


def validate_output(
    wh: Warehouse,
    dataset: str,
    days: list[date] | None,
    frame: pd.DataFrame | None = None,
    run: str = "r1",
) -> verdict.Verdict:
    """``validate.output`` on a writable connection to ``wh``; its one verdict."""
    with wh.connect(read_only=False) as con:
        (found,) = validate.output(con, wh.layout, dataset, days, run, frame=frame)
    return found
