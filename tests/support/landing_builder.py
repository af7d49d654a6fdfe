"""Hand-written, contract-following deliveries for tests (not the project's simulator).

Writes ``<root>/<extract>/dt=<YYYY-MM-DD>/<name>`` exactly as the landing-zone contract
(``shared/contracts/raw-extracts.md``) describes: CSV (UTF-8, header, ``"`` quoting,
empty field = null), JSON Lines (one object per line, missing key = null) and Parquet.
The row factories return plain dicts of contract values; tests override what they need.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import polars as pl

# formats as the contract's table lists them (deliberately not imported from the code under test)
FORMATS = {
    "rx_orders": "csv",
    "vet_reauth": "csv",
    "customers": "csv",
    "pets": "csv",
    "shipments": "jsonl",
    "inventory": "parquet",
    "engagement": "jsonl",
}

INVENTORY_SCHEMA = {
    "snapshot_date": pl.Date,
    "warehouse_id": pl.String,
    "ndc": pl.String,
    "on_hand_units": pl.Int64,
    "backordered": pl.Boolean,
    "expected_restock_date": pl.Date,
}


def day_dir(root: Path, extract: str, dt: date | str) -> Path:
    d = Path(root) / extract / f"dt={_iso(dt)}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_bytes(root: Path, extract: str, dt: date | str, name: str, data: bytes) -> Path:
    path = day_dir(root, extract, dt) / name
    path.write_bytes(data)
    return path


# --- encoders -------------------------------------------------------------------------------


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def csv_bytes(
    rows: Iterable[dict],
    columns: Sequence[str] | None = None,
    *,
    bom: bool = False,
    crlf: bool = False,
    trailing_newline: bool = True,
) -> bytes:
    """A CSV file: header of ``columns`` (default: the first row's keys, in order)."""
    rows = list(rows)
    cols = list(columns) if columns is not None else list(rows[0])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(cols)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in cols])
    text = buf.getvalue()
    if not trailing_newline:
        text = text.removesuffix("\r\n" if crlf else "\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def jsonl_bytes(rows: Iterable[dict], *, drop_none: bool = False) -> bytes:
    """One JSON object per line; ``drop_none`` leaves null keys out (missing key = null)."""
    lines = []
    for r in rows:
        obj = {k: v for k, v in r.items() if not (drop_none and v is None)}
        lines.append(json.dumps(obj, default=_cell))
    return ("\n".join(lines) + "\n").encode("utf-8")


def parquet_bytes(rows: Sequence[dict] | pl.DataFrame, schema: dict | None = None) -> bytes:
    frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(list(rows), schema=schema)
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


def write_csv(root, extract, dt, name, rows, columns=None, **kw) -> Path:
    return write_bytes(root, extract, dt, name, csv_bytes(rows, columns, **kw))


def write_jsonl(root, extract, dt, name, rows, **kw) -> Path:
    return write_bytes(root, extract, dt, name, jsonl_bytes(rows, **kw))


def write_parquet(root, extract, dt, name, rows, schema=None) -> Path:
    if schema is None and extract == "inventory" and not isinstance(rows, pl.DataFrame):
        schema = INVENTORY_SCHEMA
    return write_bytes(root, extract, dt, name, parquet_bytes(rows, schema))


def deliver(root: Path, extract: str, dt: date | str, name: str, rows: Sequence[dict]) -> Path:
    """A delivery in the extract's own format; ``name`` gets the right extension."""
    fmt = FORMATS[extract]
    fname = f"{name}.{fmt}"
    if fmt == "csv":
        return write_csv(root, extract, dt, fname, rows)
    if fmt == "jsonl":
        return write_jsonl(root, extract, dt, fname, rows)
    return write_parquet(root, extract, dt, fname, rows)


# --- contract-following rows ----------------------------------------------------------------


def _iso(d: date | str) -> str:
    return d.isoformat() if isinstance(d, date) else d


def rx_order(i: int, day: date | str = "2024-03-01", **overrides) -> dict:
    d = _iso(day)
    row = {
        "order_id": f"O{i:05d}",
        "rx_id": f"RX{i:05d}",
        "customer_id": f"C{i % 7:04d}",
        "pet_id": f"P{i % 11:04d}",
        "clinic_id": "CL01",
        "ndc": "00012345678",
        "drug_name": "Carprofen 75 mg, chewable",
        "drug_class": "nsaid",
        "is_maintenance": "true",
        "sig": "1 tab PO BID",
        "qty_prescribed": "60",
        "qty_dispensed": "60",
        "days_supply": "30",
        "refills_authorized": "5",
        "refills_remaining": "4",
        "channel": "mail",
        "autoship": "N",
        "status": "filled",
        "order_ts": f"{d}T10:15:00-05:00",
        "updated_at": f"{d}T15:15:00Z",
    }
    return row | overrides


def vet_reauth(i: int, day: date | str = "2024-03-01", **overrides) -> dict:
    d = _iso(day)
    row = {
        "reauth_id": f"RA{i:05d}",
        "rx_id": f"RX{i:05d}",
        "clinic_id": "CL01",
        "requested_at": f"{d}T09:00:00-06:00",
        "responded_at": None,
        "status": "pending",
        "refills_granted": None,
        "expires_on": None,
        "updated_at": f"{d}T15:00:00Z",
    }
    return row | overrides


def customer(i: int, day: date | str = "2024-03-01", **overrides) -> dict:
    d = _iso(day)
    row = {
        "customer_id": f"C{i:04d}",
        "first_name": f"Philippa{i}",
        "last_name": f"Quenneville{i}",
        "email": f"Philippa.Quenneville{i}@Example.COM",
        "phone": f"(617) 555-{i:04d}",
        "address_line1": f"{100 + i} Wisteria Lane",
        "zip5": "02134",
        "state": "MA",
        "marketing_opt_in": "Y",
        "created_at": "2023-01-05T08:00:00-05:00",
        "updated_at": f"{d}T12:00:00Z",
    }
    return row | overrides


def pet(i: int, day: date | str = "2024-03-01", **overrides) -> dict:
    d = _iso(day)
    row = {
        "pet_id": f"P{i:04d}",
        "customer_id": f"C{i:04d}",
        "name": f"Biscuit{i}",
        "species": "dog",
        "breed": "Beagle",
        "birth_date": "2019-06-01",
        "weight": "22",
        "weight_unit": "lb",
        "status": "active",
        "updated_at": f"{d}T12:00:00Z",
    }
    return row | overrides


def shipment(i: int, day: date | str = "2024-03-01", **overrides) -> dict:
    d = _iso(day)
    row = {
        "shipment_id": f"S{i:05d}",
        "order_id": f"O{i:05d}",
        "warehouse_id": "WH1",
        "carrier": "UPS",
        "promised_ship_date": d,
        "shipped_at": f"{d}T18:00:00Z",
        "delivered_at": None,
        "status": "shipped",
        "event_ts": f"{d}T18:00:00Z",
    }
    return row | overrides


def inventory_item(i: int, day: date | str = "2024-03-01", **overrides) -> dict:
    row = {
        "snapshot_date": date.fromisoformat(_iso(day)),
        "warehouse_id": "WH1",
        "ndc": f"{12345600 + i:011d}",
        "on_hand_units": 100 + i,
        "backordered": False,
        "expected_restock_date": None,
    }
    return row | overrides


def engagement_event(i: int, day: date | str = "2024-03-01", **overrides) -> dict:
    d = _iso(day)
    row = {
        "event_id": f"E{i:06d}",
        "customer_id": f"C{i % 7:04d}",
        "channel": "email",
        "event_type": "sent",
        "campaign_id": "CAMP1",
        "event_ts": f"{d}T14:00:00Z",
    }
    return row | overrides
