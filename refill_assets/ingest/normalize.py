"""Canonical values: the spelling variants and unit mixes the contract warns of.

The one place values are normalised: the raw zone holds canonical values only, and dbt
reads them as they are (its staging models rename and cast, nothing more).

Two kinds of expressions, both on whole columns:
- ``canonical_text``: string → canonical string, *before* typing. A value the
  rule cannot read becomes null, and validation reports it as invalid.
- ``derive``: typed columns → the extra columns of the raw zone (fill date,
  weight in kg, zip3, hashed contact details…).
"""

from __future__ import annotations

import polars as pl

from refill_assets.contract.extracts import Extract
from refill_assets.ingest.sig import units_per_day

LB_TO_KG = 0.45359237

_CHANNELS = {
    "mail": "mail",
    "mailorder": "mail",
    "clinic": "clinic",
    "inclinic": "clinic",
    "ecommerce": "ecommerce",
    "ecom": "ecommerce",
    "online": "ecommerce",
    "web": "ecommerce",
}
_SPECIES = {
    **dict.fromkeys(("dog", "dogs", "canine", "k9", "puppy", "canis"), "dog"),
    **dict.fromkeys(("cat", "cats", "feline", "kitten", "kitty", "felis"), "cat"),
}
_WEIGHT_UNITS = {
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), "lb"),
    **dict.fromkeys(("kg", "kgs", "kilogram", "kilograms"), "kg"),
}


def _letters(c: str) -> pl.Expr:
    return pl.col(c).str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")


def ndc11(c: str) -> pl.Expr:
    """11-digit NDC; producers lose leading zeros (10 or 9 digits) or add hyphens."""
    digits = pl.col(c).str.replace_all(r"[\s-]", "")
    ok = digits.str.contains(r"^\d{9,11}$")
    return pl.when(ok).then(digits.str.zfill(11)).alias(c)


def canonical_text(extract: Extract) -> list[pl.Expr]:
    """Per-extract canonicalisation of string columns (applied before typing)."""
    exprs = [
        pl.col(c.name).str.to_lowercase()
        for c in extract.columns
        if c.allowed is not None and c.name not in ("channel", "weight_unit")
    ]
    if extract.name in ("rx_orders", "inventory"):
        exprs.append(ndc11("ndc"))
    if extract.name == "rx_orders":
        exprs.append(_letters("channel").replace_strict(_CHANNELS, default=None))
    if extract.name == "pets":
        unit = _letters("weight_unit").replace_strict(_WEIGHT_UNITS, default=None)
        exprs.append(
            pl.when(pl.col("weight_unit").is_null())
            .then(pl.lit("lb"))
            .otherwise(unit)
            .alias("weight_unit")
        )
    if extract.name == "customers":
        exprs.append(pl.col("state").str.to_uppercase())
    return exprs


def derive(extract: Extract) -> list[pl.Expr]:
    """Raw-zone columns computed from the typed row (``text_<col>`` holds the original text)."""
    if extract.name == "rx_orders":
        # the order's fill date is the store-local calendar date, which the text still carries
        return [
            pl.col("text_order_ts").str.slice(0, 10).str.to_date("%Y-%m-%d").alias("fill_date"),
            units_per_day(pl.col("sig")),
        ]
    if extract.name == "pets":
        factor = pl.when(pl.col("weight_unit") == "kg").then(1.0).otherwise(LB_TO_KG)
        return [
            _letters("species").replace_strict(_SPECIES, default="other").alias("species"),
            pl.col("species").alias("species_raw"),
            (pl.col("weight") * factor).round(3).alias("weight_kg"),
        ]
    if extract.name == "customers":
        zip5 = pl.col("zip5").str.replace_all(r"\D", "")
        return [
            pl.when(zip5.str.len_chars().is_between(3, 5))
            .then(zip5.str.zfill(5).str.slice(0, 3))
            .alias("zip3"),
        ]
    return []


def contact_keys() -> dict[str, pl.Expr]:
    """Owner contact details in the canonical form that gets hashed."""
    return {
        "email_hash": pl.col("email").str.strip_chars().str.to_lowercase(),
        "phone_hash": pl.col("phone").str.replace_all(r"\D", "").str.slice(-10),
    }
