"""reading.read_file: one delivered file → rows of strings, malformed lines, or a rejection."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import polars as pl
import pytest

from refill_assets.contract.extracts import EXTRACTS, TS, Column, Extract
from refill_assets.ingest.reading import FileRejected, read_file
from refill_assets.ingest.validate import split_valid
from tests.support.landing_builder import (
    INVENTORY_SCHEMA,
    csv_bytes,
    inventory_item,
    jsonl_bytes,
    parquet_bytes,
    rx_order,
    shipment,
)

RX = EXTRACTS["rx_orders"]
SHIP = EXTRACTS["shipments"]
INV = EXTRACTS["inventory"]
RX_COLS = list(rx_order(0))


def _by_line(frame: pl.DataFrame) -> dict[int, dict]:
    return {r["_line"]: r for r in frame.to_dicts()}


# --- CSV ------------------------------------------------------------------------------------


def test_csv_quoted_commas_and_doubled_quotes_read_back_exactly():
    rows = [
        rx_order(1, drug_name='Carprofen 75 mg, "chewable"', sig='Give 1 tab, "BID"'),
        rx_order(2, drug_name='""', sig=","),
    ]
    out = read_file(RX, "a.csv", csv_bytes(rows))
    got = _by_line(out.rows)
    assert got[2]["drug_name"] == 'Carprofen 75 mg, "chewable"'
    assert got[2]["sig"] == 'Give 1 tab, "BID"'
    assert got[3]["drug_name"] == '""'
    assert got[3]["sig"] == ","
    assert out.malformed.height == 0


def test_csv_columns_matched_by_header_name_not_position():
    rows = [rx_order(1), rx_order(2, channel="clinic", status="pending")]
    shuffled = RX_COLS[7:] + RX_COLS[:7]
    out = read_file(RX, "a.csv", csv_bytes(rows, shuffled))
    assert out.rows.columns == ["_line", *RX.column_names]
    assert out.rows.drop("_line").to_dicts() == rows


def test_csv_bom_crlf_and_trailing_newline():
    rows = [rx_order(1), rx_order(2)]
    data = csv_bytes(rows, bom=True, crlf=True)
    assert data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\r\n")
    out = read_file(RX, "a.csv", data)
    assert out.rows["_line"].to_list() == [2, 3]
    assert out.rows["order_id"].to_list() == ["O00001", "O00002"]
    # no carriage return left on the last field
    assert out.rows["updated_at"].to_list() == [r["updated_at"] for r in rows]
    assert out.malformed.height == 0 and out.extra_columns == ()


def test_csv_without_trailing_newline_keeps_last_row():
    data = csv_bytes([rx_order(1), rx_order(2)], trailing_newline=False)
    out = read_file(RX, "a.csv", data)
    assert out.rows["order_id"].to_list() == ["O00001", "O00002"]


def test_csv_header_only_is_zero_rows_not_a_rejection():
    out = read_file(RX, "a.csv", (",".join(RX_COLS) + "\n").encode())
    assert out.rows.height == 0 and out.malformed.height == 0


def test_csv_ragged_rows_are_malformed_with_their_line_numbers():
    good = csv_bytes([rx_order(1)]).decode()
    short = ",".join(list(rx_order(2, drug_name="Carprofen").values())[:-1])
    long = ",".join([*rx_order(3, drug_name="Carprofen").values(), "surplus"])
    data = good + short + "\n\n" + long + "\n" + csv_bytes([rx_order(4)]).decode().split("\n")[1]
    out = read_file(RX, "a.csv", data.encode())
    assert out.rows["_line"].to_list() == [2, 6]
    bad = _by_line(out.malformed)
    assert set(bad) == {3, 5}  # line 4 is blank: skipped, but still counted
    assert bad[3]["reason"] == "expected 20 fields, found 19"
    assert bad[5]["reason"] == "expected 20 fields, found 21"
    assert bad[3]["record"] == short and bad[3]["column_name"] is None


def test_csv_empty_first_field_is_a_null_not_a_malformed_row():
    # column order is free, so an optional column may come first and be empty
    cols = ["clinic_id"] + [c for c in RX_COLS if c != "clinic_id"]
    out = read_file(RX, "a.csv", csv_bytes([rx_order(1, clinic_id=None)], cols))
    assert out.malformed.to_dicts() == []
    assert out.rows["order_id"].to_list() == ["O00001"]
    assert out.rows["clinic_id"].to_list() in ([""], [None])


def test_csv_header_names_padded_with_blanks_still_match():
    rows = [rx_order(1), rx_order(2, drug_name='Carprofen 75 mg, "chewable"')]
    header, *body = csv_bytes(rows).decode().split("\n")
    padded = ", ".join(header.split(","))
    out = read_file(RX, "a.csv", "\n".join([padded, *body]).encode())
    assert out.rows["order_id"].to_list() == ["O00001", "O00002"]
    assert out.rows["drug_name"].to_list()[1] == 'Carprofen 75 mg, "chewable"'
    assert out.extra_columns == ()


def test_csv_missing_required_column_rejects_file_naming_file_and_column():
    cols = [c for c in RX_COLS if c != "qty_dispensed"]
    with pytest.raises(FileRejected) as e:
        read_file(RX, "rx_orders/dt=2024-03-01/orders_a.csv", csv_bytes([rx_order(1)], cols))
    assert "rx_orders/dt=2024-03-01/orders_a.csv" in str(e.value)
    assert "qty_dispensed" in str(e.value)


def test_csv_missing_optional_column_reads_as_null():
    cols = [c for c in RX_COLS if c != "sig"]
    out = read_file(RX, "a.csv", csv_bytes([rx_order(1)], cols))
    assert out.rows["sig"].to_list() == [None]
    assert out.extra_columns == ()


def test_csv_extra_column_is_drift_and_rows_still_read():
    rows = [rx_order(1) | {"loyalty_tier": "gold"}]
    out = read_file(RX, "a.csv", csv_bytes(rows))
    assert out.extra_columns == ("loyalty_tier",)
    assert "loyalty_tier" not in out.rows.columns
    assert out.rows["order_id"].to_list() == ["O00001"]


def test_csv_not_utf8_rejects_file_naming_it():
    data = csv_bytes([rx_order(1, drug_name="Caf\u00e9")]).decode().encode("latin-1")
    with pytest.raises(FileRejected) as e:
        read_file(RX, "latin1.csv", data)
    assert "latin1.csv" in str(e.value) and "UTF-8" in str(e.value)


def test_csv_empty_file_rejected():
    with pytest.raises(FileRejected, match="empty.csv"):
        read_file(RX, "empty.csv", b"")


def test_wrong_extension_rejected():
    with pytest.raises(FileRejected, match="orders.txt"):
        read_file(RX, "orders.txt", csv_bytes([rx_order(1)]))
    with pytest.raises(FileRejected, match="orders.jsonl"):
        read_file(RX, "orders.jsonl", jsonl_bytes([rx_order(1)]))


def test_extension_case_does_not_matter():
    out = read_file(RX, "ORDERS.CSV", csv_bytes([rx_order(1)]))
    assert out.rows.height == 1


# --- JSON Lines -----------------------------------------------------------------------------


def test_jsonl_broken_line_non_object_and_blank_line():
    lines = [
        json.dumps(shipment(1)),
        '{"shipment_id": "S2", "order_id": ',  # broken
        "",  # blank: ignored
        '["S3", "O3"]',  # valid JSON, not an object
        "42",
        json.dumps(shipment(5)),
    ]
    out = read_file(SHIP, "s.jsonl", ("\n".join(lines) + "\n").encode())
    assert out.rows["_line"].to_list() == [1, 6]
    assert out.rows["shipment_id"].to_list() == ["S00001", "S00005"]
    bad = _by_line(out.malformed)
    assert set(bad) == {2, 4, 5}
    assert {b["reason"] for b in bad.values()} == {"not a JSON object"}
    assert bad[4]["record"] == '["S3", "O3"]'


def test_jsonl_shipment_file_cut_short_loads_whole_lines_and_quarantines_the_cut_one():
    whole = jsonl_bytes([shipment(1), shipment(2), shipment(3)])
    cut = whole[: len(whole) - 25]  # the delivery stopped inside the third line
    out = read_file(SHIP, "shipments_20250301_01.jsonl", cut)
    assert out.rows["shipment_id"].to_list() == ["S00001", "S00002"]
    assert set(_by_line(out.malformed)) == {3}


def test_jsonl_missing_keys_and_json_null_read_as_null():
    rows = [shipment(1, carrier=None, delivered_at=None), shipment(2)]
    out = read_file(SHIP, "s.jsonl", jsonl_bytes(rows, drop_none=True))
    got = _by_line(out.rows)
    assert got[1]["carrier"] is None and got[1]["delivered_at"] is None
    assert got[2]["carrier"] == "UPS"
    out = read_file(SHIP, "s.jsonl", jsonl_bytes(rows))  # explicit JSON null
    assert _by_line(out.rows)[1]["carrier"] is None


def test_jsonl_unknown_key_is_drift():
    out = read_file(SHIP, "s.jsonl", jsonl_bytes([shipment(1) | {"tracking_url": "x"}]))
    assert out.extra_columns == ("tracking_url",)
    assert out.rows.height == 1


def test_jsonl_bom_and_crlf():
    data = b"\xef\xbb\xbf" + jsonl_bytes([shipment(1), shipment(2)]).replace(b"\n", b"\r\n")
    out = read_file(SHIP, "s.jsonl", data)
    assert out.rows["shipment_id"].to_list() == ["S00001", "S00002"]
    assert out.malformed.height == 0


def test_jsonl_empty_delivery_is_zero_rows_not_a_rejection():
    # a day's delta with no events: zero lines is still "one object per line"
    out = read_file(SHIP, "s.jsonl", b"")
    assert out.rows.height == 0 and out.malformed.height == 0


def test_jsonl_only_broken_lines_are_all_malformed():
    out = read_file(SHIP, "s.jsonl", b"{oops\nnot json\n")
    assert out.rows.height == 0
    assert out.malformed["_line"].to_list() == [1, 2]


def test_jsonl_not_utf8_rejected():
    with pytest.raises(FileRejected, match="s.jsonl"):
        read_file(SHIP, "s.jsonl", b'{"shipment_id": "\xff\xfe"}\n')


# --- Parquet --------------------------------------------------------------------------------


def _inventory_parquet(n: int = 3) -> bytes:
    items = [inventory_item(i, expected_restock_date=date(2024, 3, 9)) for i in range(n)]
    return parquet_bytes(items, INVENTORY_SCHEMA)


def test_parquet_values_rendered_as_contract_text():
    out = read_file(INV, "inv.parquet", _inventory_parquet())
    first = out.rows.row(0, named=True)
    assert first["_line"] == 1
    assert first["snapshot_date"] == "2024-03-01"
    assert first["expected_restock_date"] == "2024-03-09"
    assert first["on_hand_units"] == "100"
    assert first["backordered"] == "false"
    assert first["ndc"] == "00012345600"
    accepted, rejected = split_valid(INV, out.rows)
    assert rejected.height == 0
    assert accepted["snapshot_date"].to_list() == [date(2024, 3, 1)] * 3


def test_parquet_truncated_rejected_naming_file():
    data = _inventory_parquet()
    for cut in (len(data) // 2, len(data) - 4, 10):
        with pytest.raises(FileRejected, match="inv_2024.parquet"):
            read_file(INV, "inv_2024.parquet", data[:cut])


def test_parquet_missing_required_column_rejected():
    frame = pl.DataFrame([inventory_item(1)], schema=INVENTORY_SCHEMA).drop("backordered")
    with pytest.raises(FileRejected, match="backordered"):
        read_file(INV, "inv.parquet", parquet_bytes(frame))


def test_parquet_timestamp_columns_naive_as_utc_and_aware_keep_instant():
    # a Parquet extract with ts columns: naive values are UTC, zoned ones keep their instant
    events = Extract(
        "events",
        "parquet",
        (Column("naive_ts", TS, required=True), Column("zoned_ts", TS)),
        ("naive_ts",),
        "naive_ts",
    )
    frame = pl.DataFrame(
        {
            "naive_ts": [datetime(2024, 3, 1, 9, 15), datetime(2024, 3, 1, 23, 59, 59, 250000)],
            "zoned_ts": [datetime(2024, 3, 1, 9, 15), None],
        }
    ).with_columns(pl.col("zoned_ts").dt.replace_time_zone("America/Chicago"))
    buf = io.BytesIO()
    frame.write_parquet(buf)
    out = read_file(events, "e.parquet", buf.getvalue())
    accepted, rejected = split_valid(events, out.rows)
    assert rejected.height == 0
    assert accepted["naive_ts"].to_list() == [
        datetime(2024, 3, 1, 9, 15),
        datetime(2024, 3, 1, 23, 59, 59, 250000),
    ]
    assert accepted["zoned_ts"].to_list() == [datetime(2024, 3, 1, 15, 15), None]
