"""Contract rules on rows of strings → typed accepted rows and quarantined rows.

Every check is a column expression over the whole batch (all files of all
days being loaded), so a million rows cost one pass. A row's quarantine
reason is the first rule it breaks, in contract column order.
"""

from __future__ import annotations

import polars as pl

from refill_assets.contract.extracts import BOOL, DATE, DEC, INT, PII_COLUMNS, TS, Column, Extract
from refill_assets.ingest.normalize import canonical_text

_TRUE = ("true", "t", "y", "yes", "1")
_FALSE = ("false", "f", "n", "no", "0")
# ISO-8601 with a Z or numeric offset; a timestamp without one is ambiguous and rejected
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"
_HAS_OFFSET = r"(Z|z|[+-]\d{2}:?\d{2})$"


def _typed(col: Column) -> pl.Expr:
    text = pl.col(col.name)
    if col.type == INT:
        f = text.cast(pl.Float64, strict=False)
        return pl.when(f.is_finite() & (f == f.floor())).then(f.cast(pl.Int64))
    if col.type == DEC:
        f = text.cast(pl.Float64, strict=False)
        return pl.when(f.is_finite()).then(f)
    if col.type == BOOL:
        low = text.str.to_lowercase()
        return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)
    if col.type == DATE:
        return text.str.to_date("%Y-%m-%d", strict=False)
    if col.type == TS:
        iso = text.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
        parsed = iso.str.to_datetime(_TS_FORMAT, time_zone="UTC", strict=False)
        return pl.when(iso.str.contains(_HAS_OFFSET)).then(parsed).dt.replace_time_zone(None)
    return text


def _problem(col: Column) -> pl.Expr:
    """The reason this column makes the row unacceptable, or null."""
    raw, canon, typed = pl.col(f"text_{col.name}"), pl.col(f"canon_{col.name}"), pl.col(col.name)
    checks = []
    if col.required:
        checks.append((raw.is_null(), pl.lit(f"missing required {col.name}")))
    shown = raw.str.slice(0, 40)
    checks.append(
        (raw.is_not_null() & canon.is_null(), pl.format("invalid {} '{}'", pl.lit(col.name), shown))
    )
    checks.append(
        (
            canon.is_not_null() & typed.is_null(),
            pl.format("unparseable {} {} '{}'", pl.lit(col.type), pl.lit(col.name), shown),
        )
    )
    if col.allowed is not None:
        checks.append(
            (
                typed.is_not_null() & ~typed.is_in(col.allowed),
                pl.format("unknown {} '{}'", pl.lit(col.name), shown),
            )
        )
    if col.non_negative:
        checks.append((typed < 0, pl.format("negative {} '{}'", pl.lit(col.name), shown)))
    reason = pl.lit(None, pl.String)
    for cond, why in reversed(checks):
        reason = pl.when(cond).then(why).otherwise(reason)
    return reason


def split_valid(extract: Extract, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted typed rows with ``text_<col>`` originals, quarantined rows with a reason).

    ``rows`` holds one String column per contract column plus lineage columns.
    """
    names = extract.column_names
    # an empty field is null (contract); so is one of only blanks
    text = rows.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in names)
    originals = text.select(pl.col(names).name.prefix("text_"))
    canon = text.with_columns(canonical_text(extract))
    typed = canon.with_columns([_typed(c).alias(c.name) for c in extract.columns])
    judged = pl.concat(
        [typed, originals, canon.select(pl.col(names).name.prefix("canon_"))], how="horizontal"
    ).with_columns(
        _reason=pl.coalesce([_problem(c) for c in extract.columns]),
        _column=pl.coalesce(
            [pl.when(_problem(c).is_not_null()).then(pl.lit(c.name)) for c in extract.columns]
        ),
    )
    accepted = judged.filter(pl.col("_reason").is_null()).drop(
        "_reason", "_column", *[f"canon_{c}" for c in names]
    )
    lineage = [c for c in rows.columns if c not in names]
    rejected = judged.filter(pl.col("_reason").is_not_null()).select(
        *lineage,
        column_name=pl.col("_column"),
        reason=pl.col("_reason"),
        record=record_json(extract),
    )
    return accepted, rejected


def record_json(extract: Extract) -> pl.Expr:
    """The row's original text as JSON, owner PII left out (quarantine lives in the warehouse)."""
    keep = [c for c in extract.column_names if c not in PII_COLUMNS.get(extract.name, ())]
    return pl.struct([pl.col(f"text_{c}").alias(c) for c in keep]).struct.json_encode()
