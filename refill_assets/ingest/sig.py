"""Units per day from free-text directions (``sig``), as a polars expression.

Covers the forms pharmacies write for pets: Latin abbreviations (SID, BID,
TID, QID, q8h/q12h/q24h, EOD), plain English ("twice daily", "every other
day", "monthly"), fractions ("1/2 tablet") and number words ("one", "half").
A sig it cannot read gives null, so the days' supply stays unknown rather
than wrong.
"""

from __future__ import annotations

import polars as pl

# (pattern, administrations per day); the first match wins, most specific first.
_FREQUENCIES: tuple[tuple[str, float], ...] = (
    (r"every\s*(3|three)\s*months|every\s*12\s*weeks|\bquarterly\b|\bq90d\b", 1 / 90),
    (r"\bmonthly\b|every\s*month|once\s*a\s*month|every\s*30\s*days|\bq30d\b", 1 / 30),
    (r"\bweekly\b|every\s*week|once\s*a\s*week|\bq7d\b", 1 / 7),
    (r"every\s*other\s*day|\beod\b|\bqod\b|\bq48h\b", 0.5),
    (r"\bqid\b|\bq6h\b|four\s*times\s*(a\s*)?da(il)?y", 4.0),
    (r"\btid\b|\bq8h\b|three\s*times\s*(a\s*)?da(il)?y", 3.0),
    (r"\bbid\b|\bq12h\b|twice\s*(a\s*)?da(il)?y|two\s*times\s*(a\s*)?da(il)?y", 2.0),
    (r"\bsid\b|\bqd\b|\bq24h\b|once\s*(a\s*)?da(il)?y|every\s*day|\bdaily\b", 1.0),
)

_WORDS = {"one": 1.0, "two": 2.0, "three": 3.0, "half": 0.5, "one-half": 0.5, "quarter": 0.25}


def units_per_day(sig: pl.Expr) -> pl.Expr:
    # a few dozen distinct directions among a million orders: read each one once
    return sig.map_batches(_per_distinct, return_dtype=pl.Float64).alias("sig_units_per_day")


def _per_distinct(sigs: pl.Series) -> pl.Series:
    distinct = sigs.unique().drop_nulls()
    per_day = distinct.to_frame().select(_units_per_day(pl.col(sigs.name))).to_series()
    return sigs.replace_strict(distinct, per_day, default=None, return_dtype=pl.Float64)


def _units_per_day(sig: pl.Expr) -> pl.Expr:
    text = sig.str.to_lowercase()
    freq = pl.lit(None, pl.Float64)
    for pattern, per_day in reversed(_FREQUENCIES):
        freq = pl.when(text.str.contains(pattern)).then(pl.lit(per_day)).otherwise(freq)
    return _dose(text) * freq


def _dose(text: pl.Expr) -> pl.Expr:
    """Units per administration: the first fraction, decimal or number word."""
    fraction = text.str.extract_groups(r"(\d+)\s*/\s*(\d+)")
    num = fraction.struct.field("1").cast(pl.Float64) / fraction.struct.field("2").cast(pl.Float64)
    # the dose is never the number inside a frequency ("q12h", "every 30 days")
    decimal = (
        text.str.replace_all(r"\bq\d+[hd]\b|every\s*\d+\s*(?:day|week|month)s?", "")
        .str.extract(r"(\d+(?:\.\d+)?)")
        .cast(pl.Float64)
    )
    word = text.str.extract(r"\b(one-half|half|quarter|one|two|three)\b").replace_strict(
        _WORDS, default=None, return_dtype=pl.Float64
    )
    # "1/2" must win over its leading "1"; a decimal over a word ("give one 2.5 mL"? rare)
    return pl.coalesce(num, decimal, word)
