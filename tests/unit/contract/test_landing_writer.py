"""contract.landing_writer: the landing layout, written as the contract states it and read back
by the platform's own reader."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.contract.landing_writer import (
    file_name,
    part_label,
    serialize,
    write_day,
    write_days,
    write_file,
)
from refill_assets.ingest.landing import Landing
from refill_assets.ingest.reading import read_file
from tests.support.landing_builder import INVENTORY_SCHEMA, inventory_item, rx_order, shipment

RX, SHIP, INV = EXTRACTS["rx_orders"], EXTRACTS["shipments"], EXTRACTS["inventory"]
DAY = date(2024, 3, 7)


def _frame(extract_name: str, rows: list[dict]) -> pl.DataFrame:
    if extract_name == "inventory":
        return pl.DataFrame(rows, schema=INVENTORY_SCHEMA)
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))


def _rows(extract_name: str, day: date = DAY, n: int = 3) -> list[dict]:
    make = {"rx_orders": rx_order, "shipments": shipment, "inventory": inventory_item}
    return [make[extract_name](i, day) for i in range(1, n + 1)]


def _header(extract_name: str, data: bytes) -> list[str]:
    """The columns a file carries, read with the standard library and pyarrow."""
    fmt = EXTRACTS[extract_name].format
    if fmt == "csv":
        return next(csv.reader(io.StringIO(data.decode("utf-8"))))
    if fmt == "jsonl":
        keys: list[str] = []
        for line in data.decode("utf-8").splitlines():
            keys += [k for k in json.loads(line) if k not in keys]
        return keys
    return pq.read_schema(io.BytesIO(data)).names


FORMATS = pytest.mark.parametrize("name", ["rx_orders", "shipments", "inventory"])


@FORMATS
def test_layout_and_file_names_per_format(tmp_path: Path, name: str):
    extract = EXTRACTS[name]
    path = write_day(tmp_path, extract, DAY, _frame(name, _rows(name)))
    assert path.relative_to(tmp_path).as_posix() == (
        f"{name}/dt=2024-03-07/{name}_20240307_01.{extract.format}"
    )
    assert file_name(extract, DAY, part_label(1)) == f"{name}_20240307_02.{extract.format}"
    assert (
        file_name(extract, DAY, "WH-NJ1", "_resent")
        == f"{name}_20240307_WH-NJ1_resent.{extract.format}"
    )
    second = write_day(tmp_path, extract, DAY, _frame(name, _rows(name)), label=part_label(2))
    assert second.parent == path.parent and second.name == f"{name}_20240307_03.{extract.format}"
    files = Landing(str(tmp_path)).files(name)
    assert [(f.dt, f.name) for f in files] == [(DAY, path.name), (DAY, second.name)]


def test_write_file_puts_bytes_in_the_days_folder(tmp_path: Path):
    path = write_file(tmp_path, RX, DAY, "anything.csv", b"order_id\n")
    assert path == tmp_path / "rx_orders" / "dt=2024-03-07" / "anything.csv"
    assert path.read_bytes() == b"order_id\n"


@FORMATS
def test_round_trip_through_the_platforms_reader(tmp_path: Path, name: str):
    extract = EXTRACTS[name]
    rows = _rows(name)
    if name == "rx_orders":  # quoting, unicode and nulls in CSV
        rows[0] |= {
            "drug_name": 'Carprofen 75 mg, "chewable"',
            "sig": "½ tab, BID",
            "clinic_id": None,
        }
    if name == "shipments":
        rows[1] |= {"carrier": 'Fed"Ex, Ground', "shipped_at": None}
    if name == "inventory":
        rows[2] |= {"backordered": True, "expected_restock_date": date(2024, 4, 1)}
    frame = _frame(name, rows)
    path = write_day(tmp_path, extract, DAY, frame)
    out = read_file(extract, path.name, path.read_bytes())
    assert out.malformed.height == 0 and out.extra_columns == ()
    assert out.rows["_line"].to_list() == [
        i + (2 if extract.format == "csv" else 1) for i in range(len(rows))
    ]
    expected = frame.select(pl.col(extract.column_names).cast(pl.String))
    assert out.rows.drop("_line").to_dicts() == expected.to_dicts()
    if name == "inventory":
        assert out.rows["backordered"].to_list() == ["false", "false", "true"]
        assert out.rows["snapshot_date"].to_list() == ["2024-03-07"] * 3
        assert out.rows["expected_restock_date"].to_list() == [None, None, "2024-04-01"]


@FORMATS
def test_hidden_columns_never_reach_a_file(tmp_path: Path, name: str):
    extract = EXTRACTS[name]
    frame = _frame(name, _rows(name)).with_columns(
        _day=pl.lit(DAY), _raw=pl.lit("x"), _part=pl.lit(0)
    )
    path = write_day(tmp_path, extract, DAY, frame)
    assert _header(name, path.read_bytes()) == list(extract.column_names)
    for columns in (["_raw"], [*extract.column_names, "_day"]):
        with pytest.raises(ValueError, match="hidden"):
            serialize(frame, columns, extract.format)


def test_columns_as_asked_in_that_order(tmp_path: Path):
    frame = _frame("rx_orders", _rows("rx_orders")).with_columns(loyalty_tier=pl.lit("gold"))
    columns = [
        "status",
        "order_id",
        *[c for c in RX.column_names if c not in ("status", "order_id")],
    ]
    data = serialize(frame, [*columns, "loyalty_tier"], "csv")
    assert _header("rx_orders", data) == [*columns, "loyalty_tier"]
    out = read_file(RX, "a.csv", data)
    assert out.extra_columns == ("loyalty_tier",)
    assert out.rows["order_id"].to_list() == ["O00001", "O00002", "O00003"]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="format"):
        serialize(_frame("rx_orders", _rows("rx_orders")), ["order_id"], "xlsx")


def test_write_days_one_file_per_delivery_day(tmp_path: Path):
    days = [date(2024, 3, 9), date(2024, 3, 7), date(2024, 3, 9), date(2024, 3, 8)]
    rows = [rx_order(i, d) for i, d in enumerate(days, 1)]
    frame = _frame("rx_orders", rows).with_columns(_day=pl.Series(days))
    paths = write_days(tmp_path, RX, frame, "_day")
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "rx_orders/dt=2024-03-09/rx_orders_20240309_01.csv",
        "rx_orders/dt=2024-03-07/rx_orders_20240307_01.csv",
        "rx_orders/dt=2024-03-08/rx_orders_20240308_01.csv",
    ]
    got = {p.parent.name: read_file(RX, p.name, p.read_bytes()).rows["order_id"] for p in paths}
    assert {k: v.to_list() for k, v in got.items()} == {
        "dt=2024-03-09": ["O00001", "O00003"],
        "dt=2024-03-07": ["O00002"],
        "dt=2024-03-08": ["O00004"],
    }
    assert [f.dt for f in Landing(str(tmp_path)).files("rx_orders")] == sorted(set(days))
