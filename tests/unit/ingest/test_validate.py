"""validate.split_valid: contract types and rules → typed rows, or quarantine with a reason."""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl
import pytest

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.ingest.normalize import derive
from refill_assets.ingest.reading import read_file
from refill_assets.ingest.validate import split_valid
from tests.support.landing_builder import (
    csv_bytes,
    customer,
    engagement_event,
    pet,
    rx_order,
    vet_reauth,
)

RX = EXTRACTS["rx_orders"]


def _split(extract_name: str, rows: list[dict]):
    """Rows of strings as ``reading`` hands them over (empty CSV field = ""), line 2 onward."""
    extract = EXTRACTS[extract_name]
    text = {c: [None if r[c] is None else str(r[c]) for r in rows] for c in extract.column_names}
    lines = pl.Series("_line", range(2, len(rows) + 2), dtype=pl.Int32)
    return split_valid(
        extract,
        pl.DataFrame(text, schema_overrides=dict.fromkeys(text, pl.String)).insert_column(0, lines),
    )


def test_rows_read_from_a_file_validate_like_hand_built_ones():
    rows = [rx_order(1), rx_order(2, clinic_id=None, status="lost")]
    extract = EXTRACTS["rx_orders"]
    from_file = split_valid(extract, read_file(extract, "f.csv", csv_bytes(rows)).rows)
    by_hand = _split("rx_orders", rows)
    assert from_file[0].equals(by_hand[0]) and from_file[1].equals(by_hand[1])


def _one_rejection(extract_name: str, row: dict) -> dict:
    accepted, rejected = _split(extract_name, [row])
    assert accepted.height == 0
    assert rejected.height == 1
    return rejected.row(0, named=True)


@pytest.mark.parametrize(
    ("override", "column", "reason"),
    [
        ({"order_id": ""}, "order_id", "missing required order_id"),
        ({"pet_id": "   "}, "pet_id", "missing required pet_id"),
        ({"order_ts": ""}, "order_ts", "missing required order_ts"),
        ({"qty_dispensed": "sixty"}, "qty_dispensed", "unparseable dec qty_dispensed 'sixty'"),
        ({"qty_prescribed": "6O"}, "qty_prescribed", "unparseable dec qty_prescribed '6O'"),
        ({"qty_dispensed": "NaN"}, "qty_dispensed", "unparseable dec qty_dispensed 'NaN'"),
        ({"days_supply": "30.5"}, "days_supply", "unparseable int days_supply '30.5'"),
        (
            {"refills_authorized": "x"},
            "refills_authorized",
            "unparseable int refills_authorized 'x'",
        ),
        ({"autoship": "maybe"}, "autoship", "unparseable bool autoship 'maybe'"),
        (
            {"order_ts": "2024-03-01T10:15:00"},
            "order_ts",
            "unparseable ts order_ts '2024-03-01T10:15:00'",
        ),
        (
            {"order_ts": "03/01/2024 10:15"},
            "order_ts",
            "unparseable ts order_ts '03/01/2024 10:15'",
        ),
        (
            {"updated_at": "2024-02-30T00:00:00Z"},
            "updated_at",
            "unparseable ts updated_at '2024-02-30T00:00:00Z'",
        ),
        ({"status": "shipped"}, "status", "unknown status 'shipped'"),
        ({"drug_class": "vitamins"}, "drug_class", "unknown drug_class 'vitamins'"),
        ({"qty_dispensed": "-1"}, "qty_dispensed", "negative qty_dispensed '-1'"),
        ({"refills_remaining": "-2"}, "refills_remaining", "negative refills_remaining '-2'"),
        ({"ndc": "12345"}, "ndc", "invalid ndc '12345'"),
        ({"ndc": "0001234567A"}, "ndc", "invalid ndc '0001234567A'"),
        ({"ndc": "000123456789"}, "ndc", "invalid ndc '000123456789'"),
        ({"channel": "carrier pigeon"}, "channel", "invalid channel 'carrier pigeon'"),
    ],
)
def test_rx_order_rule_gives_exact_reason_and_column(override, column, reason):
    got = _one_rejection("rx_orders", rx_order(1) | override)
    assert (got["column_name"], got["reason"]) == (column, reason)
    assert got["_line"] == 2


@pytest.mark.parametrize(
    ("extract", "row", "column", "reason"),
    [
        (
            "vet_reauth",
            vet_reauth(1, expires_on="2024-13-01"),
            "expires_on",
            "unparseable date expires_on '2024-13-01'",
        ),
        ("vet_reauth", vet_reauth(1, status="lost"), "status", "unknown status 'lost'"),
        ("engagement", engagement_event(1, channel="push"), "channel", "unknown channel 'push'"),
        ("engagement", engagement_event(1, event_ts=None), "event_ts", "missing required event_ts"),
        ("pets", pet(1, weight_unit="stone"), "weight_unit", "invalid weight_unit 'stone'"),
        ("pets", pet(1, weight="-3"), "weight", "negative weight '-3'"),
        (
            "pets",
            pet(1, birth_date="01/06/2019"),
            "birth_date",
            "unparseable date birth_date '01/06/2019'",
        ),
    ],
)
def test_other_extracts_rules(extract, row, column, reason):
    got = _one_rejection(extract, row)
    assert (got["column_name"], got["reason"]) == (column, reason)


def test_first_broken_rule_in_contract_column_order_wins():
    got = _one_rejection("rx_orders", rx_order(1, status="bogus", qty_dispensed="-5", ndc="1"))
    assert got["column_name"] == "ndc"  # ndc precedes qty_dispensed precedes status


def test_good_and_bad_rows_are_split_not_dropped():
    rows = [rx_order(1), rx_order(2, status="??"), rx_order(3)]
    accepted, rejected = _split("rx_orders", rows)
    assert accepted["order_id"].to_list() == ["O00001", "O00003"]
    assert rejected["_line"].to_list() == [3]


def test_accepted_values_are_typed():
    row = rx_order(
        1,
        qty_prescribed="60.5",
        qty_dispensed="0",
        days_supply="30",
        refills_authorized="5.0",
        is_maintenance=None,
        clinic_id="   ",
        status="FILLED",
        drug_class="NSAID",
    )
    accepted, rejected = _split("rx_orders", [row])
    assert rejected.height == 0
    got = accepted.row(0, named=True)
    assert got["qty_prescribed"] == 60.5 and got["qty_dispensed"] == 0.0
    assert got["days_supply"] == 30 and isinstance(got["days_supply"], int)
    assert got["refills_authorized"] == 5
    assert got["is_maintenance"] is None
    assert got["clinic_id"] is None  # blank is null
    assert got["status"] == "filled" and got["drug_class"] == "nsaid"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Y", True),
        ("y", True),
        ("N", False),
        ("n", False),
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("false", False),
        ("FALSE", False),
        ("", None),
    ],
)
def test_bool_variants(text, value):
    accepted, rejected = _split("rx_orders", [rx_order(1, autoship=text)])
    assert rejected.height == 0
    assert accepted["autoship"].to_list() == [value]


@pytest.mark.parametrize(
    ("order_ts", "utc", "fill_date"),
    [
        ("2024-03-01T23:30:00-08:00", datetime(2024, 3, 2, 7, 30), date(2024, 3, 1)),
        ("2024-03-02T00:30:00+05:30", datetime(2024, 3, 1, 19, 0), date(2024, 3, 2)),
        ("2024-03-01T10:15:00Z", datetime(2024, 3, 1, 10, 15), date(2024, 3, 1)),
        ("2024-03-01 21:00:00-0500", datetime(2024, 3, 2, 2, 0), date(2024, 3, 1)),
        (
            "2024-11-03T01:30:00.250-04:00",
            datetime(2024, 11, 3, 5, 30, 0, 250000),
            date(2024, 11, 3),
        ),
    ],
)
def test_timestamps_to_utc_and_fill_date_is_local_calendar_date(order_ts, utc, fill_date):
    accepted, rejected = _split("rx_orders", [rx_order(1, order_ts=order_ts)])
    assert rejected.height == 0
    got = accepted.with_columns(derive(RX)).row(0, named=True)
    assert got["order_ts"] == utc
    assert got["fill_date"] == fill_date


def test_dates_are_typed():
    accepted, rejected = _split("vet_reauth", [vet_reauth(1, expires_on="2024-12-31")])
    assert rejected.height == 0
    assert accepted["expires_on"].to_list() == [date(2024, 12, 31)]


def test_customer_pii_never_in_quarantine_record():
    rows = [
        customer(1, created_at="yesterday"),
        customer(2, marketing_opt_in="perhaps"),
        customer(3, customer_id=""),
    ]
    accepted, rejected = _split("customers", rows)
    assert accepted.height == 0 and rejected.height == 3
    pii = ("first_name", "last_name", "email", "phone", "address_line1", "zip5")
    for q, src in zip(rejected.iter_rows(named=True), rows, strict=True):
        record = json.loads(q["record"])
        assert not set(pii) & set(record)
        assert record["state"] == "MA"  # the non-PII columns are kept for triage
        for col in pii:
            assert src[col] not in q["record"] and src[col] not in q["reason"]


def test_pet_name_never_in_quarantine_record():
    accepted, rejected = _split("pets", [pet(1, status="lost")])
    record = json.loads(rejected["record"][0])
    assert "name" not in record and "Biscuit1" not in rejected["record"][0]
    assert record["pet_id"] == "P0001"
