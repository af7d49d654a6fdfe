"""The generic dispensing-history import: a history → a landing zone the platform loads as is.

A small hand-written history goes through the import, the platform's own ingestion
(``ingest_days``, as the ingest assets call it, and the blocking quality rules) and the dbt
models up to ``marts.refill_intervals``; the real SMART history (a copy in tests/data),
through the import and ingestion.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from refill_assets.cli.main import main
from refill_assets.contract.extracts import EXTRACTS
from refill_assets.imports.dispensing import (
    DispensingHistoryError,
    fills,
    import_dispensing,
)
from refill_assets.ingest import checks as ingest_checks
from refill_assets.ingest.landing import Landing
from refill_assets.ingest.load import ingest_days
from refill_assets.quality import validate
from refill_assets.quality.suites import CRITICAL
from refill_assets.storage.layout import Layout
from tests.support.dbt_runner import run_dbt

# a copy of ../shared/data/smart-refills (Apache 2.0, its LICENSE and README beside it)
SMART = Path(__file__).resolve().parents[2] / "data" / "smart-refills"
KEY = b"test-key"

# (patient, drug, fill date, quantity, days' supply): SMART's refills.txt columns
HISTORY = [
    ("101", "197361", "2025-01-02", "30", "30"),
    ("101", "197361", "2025-02-03", "30", "30"),
    ("101", "197361", "2025-03-01", "30", "30"),
    ("101", "197361", "2025-04-05", "30", "30"),
    ("101", "314076", "2025-01-02", "90", "90"),
    ("101", "314076", "2025-04-10", "90", "90"),
    ("102", "197361", "2025-01-15", "60", "30"),
    ("102", "197361", "2025-02-20", "60", "30"),
    ("103", "6809", "2025-02-01", "0", "0"),  # quantity 0, days 0: a real SMART edge case
    ("103", "6809", "2025-03-03", "45.5", "30"),
]
DRUGS = [("197361", "Amlodipine 5 MG Oral Tablet"), ("314076", "Lisinopril 10 MG Oral Tablet")]


def write_tsv(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def history_file(tmp: Path) -> Path:
    # SMART's column order, with its extra ID column: columns are matched by name
    rows = [(str(i), p, d, rx, days, q) for i, (p, rx, d, q, days) in enumerate(HISTORY, 1)]
    return write_tsv(tmp / "refills.txt", ["ID", "PID", "DATE", "RXN", "DAYS", "Q"], rows)


def drugs_file(tmp: Path) -> Path:
    rows = [(str(i), "101", rx, name, "1 daily") for i, (rx, name) in enumerate(DRUGS, 1)]
    return write_tsv(tmp / "meds.txt", ["ID", "PID", "RxNorm", "Name", "SIG"], rows)


def ingest_all(landing: Path, warehouse: Path, raw: Path, start: date, end: date) -> dict:
    zone = Landing(str(landing))
    return {name: ingest_days(name, start, end, zone, warehouse, raw, KEY) for name in EXTRACTS}


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict:
    """The hand-written history imported, ingested and curated up to refill_intervals."""
    tmp = tmp_path_factory.mktemp("dispensing")
    summary = import_dispensing(history_file(tmp), tmp / "out", drugs_file(tmp))
    warehouse = tmp / "warehouse.duckdb"
    reports = ingest_all(
        summary.landing, warehouse, tmp / "raw", summary.first_fill, summary.last_fill
    )
    # the blocking checks: the latest file readable, and the suites' critical expectations
    with duckdb.connect(str(warehouse)) as con:
        first, last = summary.first_fill, summary.last_fill
        checks = {
            (name, "schema"): ingest_checks.schema(con, name, first, last) for name in EXTRACTS
        }
        critical = {
            name: [
                f.rule
                for v in validate.extract(con, Layout(tmp / "home"), name, first, last, "import")
                for f in v.failed(CRITICAL)
            ]
            for name in EXTRACTS
        }
    run_dbt("run", "--select", "+refill_intervals", warehouse=warehouse, work=tmp / "dbt")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        fills_mart = con.execute("select * from marts.fills").pl()
        intervals = con.execute("select * from marts.refill_intervals").pl()
        pets = con.execute("select * from intermediate.int_pet_versions").pl()
    return {
        "tmp": tmp,
        "summary": summary,
        "reports": reports,
        "checks": checks,
        "critical": critical,
        "fills": fills_mart,
        "intervals": intervals,
        "pets": pets,
    }


def test_layout_follows_the_contract(imported):
    s = imported["summary"]
    landing = s.landing
    assert sorted(p.name for p in landing.iterdir()) == ["customers", "pets", "rx_orders"]
    assert sorted(p.name for p in landing.parent.iterdir()) == ["landing"]
    days = sorted({d for _, _, d, _, _ in HISTORY})
    assert sorted(p.name for p in (landing / "rx_orders").iterdir()) == [f"dt={d}" for d in days]
    first = {"101": "2025-01-02", "102": "2025-01-15", "103": "2025-02-01"}
    for name in ("pets", "customers"):
        folders = sorted(p.name for p in (landing / name).iterdir())
        assert folders == [f"dt={d}" for d in sorted(set(first.values()))]
    for name in ("rx_orders", "pets", "customers"):
        for f in (landing / name).rglob("*"):
            if f.is_file():
                day = f.parent.name[3:]
                assert f.name == f"{name}_{day.replace('-', '')}_01.csv"
                header = f.read_text(encoding="utf-8").splitlines()[0].split(",")
                assert header == list(EXTRACTS[name].column_names)


def test_rows_carry_the_history_and_the_documented_constants(imported):
    landing = imported["summary"].landing
    orders = pl.read_csv(landing / "rx_orders" / "**" / "*.csv", infer_schema=False)
    assert orders.height == len(HISTORY)
    assert set(orders["drug_class"]) == {"other"} and set(orders["channel"]) == {"clinic"}
    assert set(orders["status"]) == {"filled"}
    for column in ("clinic_id", "sig", "qty_prescribed", "refills_remaining", "autoship"):
        assert orders[column].null_count() == orders.height, column
    # dt = fill date, and the fill date is the order's date
    assert (orders["order_ts"].str.slice(0, 10) == orders["order_id"].str.slice(-10)).all()
    names = dict(zip(orders["ndc"], orders["drug_name"], strict=True))
    assert names == {
        "00000197361": "Amlodipine 5 MG Oral Tablet",
        "00000314076": "Lisinopril 10 MG Oral Tablet",
        "00000006809": "6809",  # no name in the drug table: the drug id itself
    }
    pets = pl.read_csv(landing / "pets" / "**" / "*.csv", infer_schema=False)
    assert set(pets["species"]) == {"dog"} and set(pets["status"]) == {"active"}
    customers = pl.read_csv(landing / "customers" / "**" / "*.csv", infer_schema=False)
    pii = ("first_name", "last_name", "email", "phone", "address_line1", "zip5")
    assert all(customers[c].null_count() == customers.height for c in pii)


def test_ingestion_accepts_every_row(imported):
    reports = imported["reports"]
    for name, report in reports.items():
        assert report.rows_quarantined == 0, (name, report.quarantine_reasons)
        assert not report.files_rejected and not report.drift_columns, name
    assert reports["rx_orders"].rows_loaded == len(HISTORY)
    assert reports["pets"].rows_loaded == reports["customers"].rows_loaded == 3
    for key, outcome in imported["checks"].items():
        assert outcome.passed, (key, outcome.description)
    assert imported["critical"] == {name: [] for name in EXTRACTS}


def test_fills_and_prescriptions_match_the_input(imported):
    f = imported["fills"]
    assert f.height == len(HISTORY)
    assert f["rx_id"].n_unique() == len({(p, rx) for p, rx, *_ in HISTORY}) == 4
    assert f["is_maintenance"].all()
    pets = imported["pets"]
    assert set(pets["species"]) == {"dog"} and pets.height == 3


def test_refill_intervals_are_the_input_date_differences(imported):
    expected = (
        pl.DataFrame(HISTORY, schema=["p", "rx", "d", "q", "days"], orient="row")
        .with_columns(pl.col("d").str.to_date())
        .sort("p", "rx", "d")
        .with_columns(gap=(pl.col("d").shift(-1).over("p", "rx") - pl.col("d")).dt.total_days())
        .select(order_id=pl.concat_str("p", "rx", pl.col("d").cast(pl.String), separator=":"))
        .with_columns(days_to_next_fill=pl.Series([32, 26, 35, None, 98, None, 36, None, 30, None]))
    )
    got = imported["intervals"].select("order_id", "days_to_next_fill")
    assert got.sort("order_id").equals(expected.sort("order_id"))


def test_same_day_rows_of_a_drug_are_one_fill():
    history = pl.DataFrame(
        {
            "PID": ["1", "1", "1", "2"],
            "RXN": ["9", "9", "9", "9"],
            "DATE": ["2025-01-01", "2025-01-01", "2025-01-31", "2025-01-01"],
            "Q": ["0", "150", "30", "30"],
            "DAYS": ["10", "10", "30", "30"],
        }
    )
    out, merged = fills(history)
    assert merged == 1 and out.height == 3
    first = out.filter(pl.col("patient") == "1").row(0, named=True)
    assert (first["quantity"], first["days_supply"]) == (150.0, 10)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("DATE", "03/01/2025", "a bad DATE: line 3"),
        ("Q", "", "an empty Q: line 3"),
        ("Q", "-5", "a negative Q/DAYS: line 3"),
        ("DAYS", "7.5", "a fractional DAYS: line 3"),
    ],
)
def test_unmappable_rows_stop_the_import_by_line_without_values(column, value, message):
    good = {"PID": "1", "RXN": "9", "DATE": "2025-01-01", "Q": "30", "DAYS": "30"}
    history = pl.DataFrame([good, good | {"DATE": "2025-01-31", column: value}])
    with pytest.raises(DispensingHistoryError, match=message) as err:
        fills(history)
    assert value == "" or value not in str(err.value)


def test_cli_maps_other_column_names_and_writes_only_landing(tmp_path, capsys):
    history = tmp_path / "fills.csv"
    history.write_text(
        "patient,product,dispensed_on,units,supply_days\n"
        "A7,amox-250,2025-03-01,20,10\nA7,amox-250,2025-03-12,20,10\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(
        [
            *["import-dispensing", "--history", str(history), "--out", str(out)],
            "--columns",
            "patient=patient,drug=product,fill_date=dispensed_on,quantity=units,"
            "days_supply=supply_days",
        ]
    )
    assert code == 0
    assert '"fills": 2' in capsys.readouterr().out
    assert [p.name for p in out.iterdir()] == ["landing"]
    orders = pl.read_csv(out / "landing" / "rx_orders" / "**" / "*.csv", infer_schema=False)
    # a drug id that is not a number gets a key from its rank among the drug ids
    assert set(orders["ndc"]) == {"00000000001"} and set(orders["drug_name"]) == {"amox-250"}
    # the default headers are not there; an unknown key is refused
    assert main(["import-dispensing", "--history", str(history), "--out", str(out)]) == 2
    args = ["import-dispensing", "--history", str(history), "--out", str(out)]
    assert main([*args, "--columns", "pharmacy=store"]) == 2
    assert "unknown column key" in capsys.readouterr().err


def test_smart_history_imports_and_ingests_without_quarantine(tmp_path):
    summary = import_dispensing(SMART / "refills.txt", tmp_path / "out", SMART / "meds.txt")
    raw = pl.read_csv(SMART / "refills.txt", separator="\t", infer_schema=False)
    pairs = raw.select("PID", "RXN").unique().height
    same_day = raw.height - raw.select("PID", "RXN", "DATE").unique().height
    assert summary.history_rows == raw.height
    assert summary.fills == raw.height - same_day == summary.rows["rx_orders"]
    assert summary.same_day_rows_merged == same_day
    assert summary.prescriptions == pairs
    assert summary.patients == raw["PID"].n_unique() == summary.rows["pets"]
    assert summary.first_fill.isoformat() == raw["DATE"].min()
    zone = Landing(str(summary.landing))
    for name in ("rx_orders", "pets", "customers"):
        report = ingest_days(
            name,
            summary.first_fill,
            summary.last_fill,
            zone,
            tmp_path / "warehouse.duckdb",
            tmp_path / "raw",
            KEY,
        )
        assert report.rows_quarantined == 0, (name, report.quarantine_reasons)
        assert not report.files_rejected, name
        assert report.rows_loaded == summary.rows[name]
