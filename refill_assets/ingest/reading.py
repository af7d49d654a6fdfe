"""One delivered file → rows of strings with line numbers, or a whole-file rejection.

Every format is read into the same shape — one ``String`` column per contract
column, plus ``_line`` — so that one set of rules (``validate``) types and
checks every extract. Rows that are broken as *text* (a CSV row with the
wrong number of fields, a JSON line that is not an object) come back
separately as malformed; everything else is judged later, value by value.

Text files are split into physical lines (polars/DuckDB do the per-line
work), so a quoted CSV field containing a newline reads as two malformed
lines: quarantined, never silently lost.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import duckdb
import polars as pl

from refill_assets.contract import Extract

# One CSV field, quoted (with "" escapes) or bare, after its comma; a line is read with a comma
# put in front, so an empty first field is still a field.
_CSV_FIELD = r',(?:"(?:[^"]|"")*"|[^,"]*)'


class FileRejected(Exception):
    """A file that cannot be loaded at all; nothing of it is loaded."""


@dataclass(frozen=True)
class FileRows:
    rows: pl.DataFrame  # _line + one String column per contract column
    malformed: pl.DataFrame  # _line, reason, record
    extra_columns: tuple[str, ...]  # schema drift: columns the contract does not know


MALFORMED_SCHEMA = {
    "_line": pl.Int32,
    "column_name": pl.String,
    "reason": pl.String,
    "record": pl.String,
}


def read_file(
    extract: Extract, name: str, data: bytes, scratch: duckdb.DuckDBPyConnection | None = None
) -> FileRows:
    """``scratch``: an in-memory DuckDB connection to reuse across files (JSON Lines)."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix != extract.format:
        raise FileRejected(f"{name}: expected a .{extract.format} file for {extract.name}")
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[extract.format]
    return reader(extract, name, data, scratch)


def _text_lines(name: str, data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileRejected(f"{name}: not valid UTF-8 ({e.reason} at byte {e.start})") from e
    # split on \n only: str.splitlines would also break on \x0b, \u2028 and friends
    return text.removeprefix("\ufeff").split("\n")


def _conform(extract: Extract, name: str, frame: pl.DataFrame, header: list[str]) -> tuple:
    missing = [c for c in extract.required if c not in header]
    if missing:
        raise FileRejected(f"{name}: missing required column(s) {', '.join(missing)}")
    extra = tuple(c for c in header if c not in extract.column_names and c != "")
    absent = [pl.lit(None, pl.String).alias(c) for c in extract.column_names if c not in header]
    rows = frame.with_columns(absent).select("_line", *extract.column_names)
    return rows, extra


def _read_csv(extract: Extract, name: str, data: bytes, scratch=None) -> FileRows:
    lines = _text_lines(name, data)
    if not lines or not lines[0].strip():
        raise FileRejected(f"{name}: empty file, no header row")
    header_line = lines[0].rstrip("\r")
    header = [h.strip() for h in next(csv.reader([header_line]))]
    body = pl.DataFrame(
        {"_line": pl.int_range(2, len(lines) + 1, eager=True, dtype=pl.Int32), "text": lines[1:]}
    ).with_columns(pl.col("text").str.strip_suffix("\r"))
    body = body.filter(pl.col("text").str.strip_chars() != "")
    # without a quote, fields are commas + 1; only quoted lines need the quote-aware regex
    quoted = pl.col("text").str.contains('"', literal=True)
    counted = pl.concat(
        [
            body.filter(~quoted).with_columns(
                n=pl.col("text").str.count_matches(",", literal=True) + 1
            ),
            body.filter(quoted).with_columns(
                n=(pl.lit(",") + pl.col("text")).str.count_matches(_CSV_FIELD)
            ),
        ]
    ).sort("_line")
    malformed = counted.filter(pl.col("n") != len(header)).select(
        "_line",
        column_name=pl.lit(None, pl.String),
        reason=pl.format("expected {} fields, found {}", pl.lit(len(header)), pl.col("n")),
        record=pl.col("text"),
    )
    good = counted.filter(pl.col("n") == len(header))
    frame = _parse_lines(header_line, good) if good.height else None
    if frame is None:
        frame = _split_fields(good, header)
    frame = frame.select("_line", *[h for h in header if h in extract.column_names])
    rows, extra = _conform(extract, name, frame, header)
    return FileRows(rows, malformed.cast(MALFORMED_SCHEMA), extra)


def _parse_lines(header_line: str, good: pl.DataFrame) -> pl.DataFrame | None:
    """The native CSV reader over well-formed lines; None if it does not see one row per line
    (a quoted field spanning lines), so the caller falls back to splitting line by line."""
    text = header_line + "\n" + good["text"].str.join("\n").item() + "\n"
    try:
        parsed = pl.read_csv(io.BytesIO(text.encode()), infer_schema=False)
    except pl.exceptions.PolarsError:
        return None
    if parsed.height != good.height:
        return None
    return parsed.with_columns(good["_line"])


def _split_fields(good: pl.DataFrame, header: list[str]) -> pl.DataFrame:
    fields = (pl.lit(",") + pl.col("text")).str.extract_all(_CSV_FIELD)
    return good.select(
        "_line",
        *[
            _unquote(fields.list.get(i, null_on_oob=True).str.strip_prefix(",")).alias(h)
            for i, h in enumerate(header)
        ],
    )


def _unquote(field: pl.Expr) -> pl.Expr:
    quoted = field.str.starts_with('"') & field.str.ends_with('"') & (field.str.len_chars() >= 2)
    inner = field.str.slice(1, field.str.len_chars() - 2).str.replace_all('""', '"', literal=True)
    return pl.when(quoted).then(inner).otherwise(field)


def _read_jsonl(extract: Extract, name: str, data: bytes, scratch=None) -> FileRows:
    lines = _text_lines(name, data)
    body = pl.DataFrame(
        {"_line": pl.int_range(1, len(lines) + 1, eager=True, dtype=pl.Int32), "text": lines}
    ).filter(pl.col("text").str.strip_chars() != "")
    con = scratch or duckdb.connect()
    try:
        con.register("body", body)
        flagged = con.execute(
            "SELECT _line, text, CASE WHEN json_valid(text) THEN json_type(text) = 'OBJECT'"
            " ELSE false END AS ok FROM body"
        ).pl()
        good = flagged.filter("ok").drop("ok")
        con.register("good", good)
        keys = con.execute(
            "SELECT DISTINCT unnest(json_keys(text)) AS k FROM good ORDER BY k"
        ).fetchall()
        header = [k for (k,) in keys] if good.height else list(extract.column_names)
        known = [c for c in extract.column_names if c in header]
        # one parse per line for every value (json_extract_string per column re-parses)
        shape = json.dumps(dict.fromkeys(known, "VARCHAR"))
        frame = (
            con.execute(f"SELECT _line, json_transform(text, '{shape}') AS v FROM good")
            .pl()
            .unnest("v")
            if known
            else good.select("_line")
        )
        con.unregister("body")
        con.unregister("good")
    finally:
        if scratch is None:
            con.close()
    malformed = flagged.filter(~pl.col("ok")).select(
        "_line",
        column_name=pl.lit(None, pl.String),
        reason=pl.lit("not a JSON object"),
        record=pl.col("text"),
    )
    rows, extra = _conform(extract, name, frame.cast({"_line": pl.Int32}), header)
    return FileRows(rows, malformed.cast(MALFORMED_SCHEMA), extra)


def _read_parquet(extract: Extract, name: str, data: bytes, scratch=None) -> FileRows:
    try:
        table = pl.read_parquet(io.BytesIO(data))
    except Exception as e:  # polars raises several error types for a broken file
        raise FileRejected(f"{name}: unreadable Parquet ({type(e).__name__}: {e})") from e
    as_text = [_to_text(table[c]).alias(c) for c in table.columns if c in extract.column_names]
    frame = table.select(as_text).with_row_index("_line", offset=1).cast({"_line": pl.Int32})
    rows, extra = _conform(extract, name, frame, table.columns)
    return FileRows(rows, pl.DataFrame(schema=MALFORMED_SCHEMA), extra)


def _to_text(s: pl.Series) -> pl.Series:
    """Parquet values rendered as the contract's text forms, so one validator reads all."""
    if isinstance(s.dtype, pl.Datetime):
        aware = s if s.dtype.time_zone else s.dt.replace_time_zone("UTC")
        return aware.dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z")
    if s.dtype == pl.Date:
        return s.dt.to_string("%Y-%m-%d")
    return s.cast(pl.String)
