"""normalize + sig: canonical NDC, channel, species, weight, zip3, and units per day from sig."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.ingest.normalize import derive, ndc11
from refill_assets.ingest.sig import units_per_day
from refill_assets.ingest.validate import split_valid
from tests.support.landing_builder import customer, pet, rx_order


def _accept(extract_name: str, rows: list[dict]) -> pl.DataFrame:
    """Validated and derived rows; fails the test if any row was quarantined."""
    extract = EXTRACTS[extract_name]
    text = {c: [r[c] for r in rows] for c in extract.column_names}
    frame = pl.DataFrame(text, schema=dict.fromkeys(text, pl.String)).with_row_index(
        "_line", offset=2
    )
    accepted, rejected = split_valid(extract, frame.cast({"_line": pl.Int32}))
    assert rejected.to_dicts() == []
    return accepted.with_columns(derive(extract))


def _ndc(values: list[str | None]) -> list[str | None]:
    return (
        pl.DataFrame({"ndc": values}, schema={"ndc": pl.String})
        .select(ndc11("ndc"))["ndc"]
        .to_list()
    )


# --- NDC ------------------------------------------------------------------------------------


def test_ndc_left_padded_from_9_and_10_digits_and_hyphens_removed():
    got = _ndc(["12345678", "123456789", "1234567890", "00123456789", "00012-3456-78", None])
    assert got == [None, "00123456789", "01234567890", "00123456789", "00012345678", None]


def test_ndc_through_validation():
    rows = [rx_order(1, ndc="0012-3456-78"), rx_order(2, ndc=" 12345678901 ")]
    assert _accept("rx_orders", rows)["ndc"].to_list() == ["00012345678", "12345678901"]


@settings(deadline=None)
@given(
    st.integers(min_value=9, max_value=11).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n)
    )
)
def test_any_9_to_11_digit_string_pads_to_11_keeping_its_digits(digits):
    (got,) = _ndc([digits])
    assert len(got) == 11 and got.isdigit()
    assert got.endswith(digits)
    assert got[: 11 - len(digits)] == "0" * (11 - len(digits))


def _is_ndc_like(s: str) -> bool:
    digits = s.replace("-", "").replace(" ", "")
    return digits.isascii() and digits.isdigit() and 9 <= len(digits) <= 11


@settings(deadline=None)
@given(st.text(min_size=1, max_size=14).filter(lambda s: not _is_ndc_like(s)))
def test_anything_else_is_not_an_ndc(text):
    assert _ndc([text]) == [None]


# --- channel --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "channel"),
    [
        ("mail", "mail"),
        ("Mail", "mail"),
        ("MAIL", "mail"),
        ("E-Commerce", "ecommerce"),
        ("eCommerce", "ecommerce"),
        ("ecommerce", "ecommerce"),
        ("ECom", "ecommerce"),
        ("in-clinic", "clinic"),
        ("Clinic", "clinic"),
        (" In Clinic ", "clinic"),
    ],
)
def test_channel_variants(raw, channel):
    assert _accept("rx_orders", [rx_order(1, channel=raw)])["channel"].to_list() == [channel]


# --- species, weight ------------------------------------------------------------------------


def test_species_variants_and_other_species_kept_raw():
    raws = ["dog", "Dog", "canine", "K9", "Canis", "cat", "Feline", "CAT", "felis"]
    raws += ["ferret", "Bearded Dragon"]
    got = _accept("pets", [pet(i, species=s) for i, s in enumerate(raws)])
    assert got["species"].to_list() == ["dog"] * 5 + ["cat"] * 4 + ["other"] * 2
    assert got["species_raw"].to_list() == raws


@pytest.mark.parametrize(
    ("weight", "unit", "kg"),
    [
        ("22", "lb", 9.979),
        ("10", "kg", 10.0),
        ("22", None, 9.979),  # null unit means lb
        ("4.5", "kg", 4.5),
        ("0", "lb", 0.0),
        (None, "kg", None),
    ],
)
def test_weight_to_kg(weight, unit, kg):
    got = _accept("pets", [pet(1, weight=weight, weight_unit=unit)])
    assert got["weight_kg"].to_list() == [kg]


@pytest.mark.parametrize(
    ("unit", "kg"), [("KG", 10.0), ("Kg", 10.0), ("LB", 4.536), ("lbs", 4.536)]
)
def test_weight_unit_spelling_variants(unit, kg):
    # normalize._WEIGHT_UNITS declares these spellings; they must be read, not quarantined
    got = _accept("pets", [pet(1, weight="10", weight_unit=unit)])
    assert got["weight_kg"].to_list() == [kg]


# --- zip3 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zip5", "zip3"),
    [
        ("02134", "021"),
        ("2134", "021"),  # lost its leading zero
        ("501", "005"),  # lost two (00501)
        ("90210", "902"),
        (" 10001 ", "100"),
        ("12", None),
        (None, None),
    ],
)
def test_zip3_from_zip5_that_may_have_lost_leading_zeros(zip5, zip3):
    assert _accept("customers", [customer(1, zip5=zip5)])["zip3"].to_list() == [zip3]


# --- sig ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sig", "per_day"),
    [
        ("1 tab PO SID", 1.0),
        ("1 tab PO BID", 2.0),
        ("1 tab PO TID", 3.0),
        ("1 tab PO QID", 4.0),
        ("2 tab PO q8h", 6.0),
        ("1 tab PO q12h", 2.0),
        ("1 tab PO q24h", 1.0),
        ("1 tab PO EOD", 0.5),
        ("0.5 mL PO q12h", 1.0),
        ("Give 1/2 tablet by mouth once daily", 0.5),
        ("Give 1 tablet by mouth twice daily", 2.0),
        ("Give 2 tablets by mouth three times daily", 6.0),
        ("Give 1 capsule by mouth every other day", 0.5),
        ("Apply 1 pipette monthly", 1 / 30),
        ("Give 1 chewable monthly", 1 / 30),
        ("Give 1 tablet weekly", 1 / 7),
        ("Give 1 chewable every 3 months", 1 / 90),
        ("Give one tablet by mouth twice daily", 2.0),
        ("Give half tablet by mouth once daily", 0.5),
        ("Give one tablet by mouth q12h", 2.0),
        ("Give half tablet by mouth q24h", 0.5),
        ("Give one chewable every 30 days", 1 / 30),
    ],
)
def test_sig_units_per_day(sig, per_day):
    got = pl.DataFrame({"sig": [sig]}).select(units_per_day(pl.col("sig")))
    assert got["sig_units_per_day"].to_list() == [pytest.approx(per_day)]


@pytest.mark.parametrize("sig", ["Use as directed", "1 tab PO", "BID", "", None])
def test_unreadable_sig_is_null(sig):
    got = pl.DataFrame({"sig": [sig]}, schema={"sig": pl.String}).select(
        units_per_day(pl.col("sig"))
    )
    assert got["sig_units_per_day"].to_list() == [None]


def test_sig_units_per_day_lands_with_the_order():
    rows = [
        rx_order(1, sig="1 tab PO BID"),
        rx_order(2, sig="Apply 1 pipette monthly"),
        rx_order(3, sig=None),
    ]
    got = _accept("rx_orders", rows)["sig_units_per_day"].to_list()
    assert got == [2.0, pytest.approx(1 / 30), None]
