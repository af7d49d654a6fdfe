"""Delivered files → rows of strings with file and line, or whole-file rejections.

Every format is read into the same shape — one ``String`` column per contract
column, plus ``_line`` — so that one set of rules (``validate``) types and
checks every extract. Rows that are broken as *text* (a CSV row with the
wrong number of fields, a JSON line that is not an object) come back
separately as malformed; everything else is judged later, value by value.

A truncated file: a Parquet file cut short (its footer gone) cannot be read and is
rejected whole, by name; a CSV or JSONL file cut short (a shipments or engagement
delivery) loads its whole lines, and its cut last line comes back malformed, so it
goes to quarantine with its file and line.

Files are read in batches: Python only decodes each file; splitting it into
lines and the per-line work (field counts, CSV parsing, JSON parsing) run
once over all the batch's lines in polars/DuckDB, since fixed costs per file
would otherwise dominate (thousands of small daily files). A quoted CSV
field containing a newline reads as two malformed lines: quarantined, never
silently lost.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb
import polars as pl

from refill_assets.contract.extracts import Extract

# One CSV field, quoted (with "" escapes) or bare, after its comma; a line is read with a comma
# put in front, so an empty first field is still a field.
_CSV_FIELD = r',(?:"(?:[^"]|"")*"|[^,"]*)'


class FileRejected(Exception):
    """A file that cannot be loaded at all; nothing of it is loaded."""


@dataclass(frozen=True)
class FileRows:
    rows: pl.DataFrame  # _line + one String column per contract column
    malformed: pl.DataFrame  # _line, column_name, reason, record
    extra_columns: tuple[str, ...]  # schema drift: columns the contract does not know


@dataclass
class Batch:
    rows: pl.DataFrame  # _file, _line + one String column per contract column
    malformed: pl.DataFrame  # MALFORMED_SCHEMA
    extra_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # file → drift
    rejected: dict[str, str] = field(default_factory=dict)  # file → reason


MALFORMED_SCHEMA = {
    "_file": pl.String,
    "_line": pl.Int32,
    "column_name": pl.String,
    "reason": pl.String,
    "record": pl.String,
}


def read_file(
    extract: Extract, name: str, data: bytes, scratch: duckdb.DuckDBPyConnection | None = None
) -> FileRows:
    """One file; raises ``FileRejected`` when it cannot be loaded at all."""
    batch = read_batch(extract, [(name, data)], scratch)
    if name in batch.rejected:
        raise FileRejected(batch.rejected[name])
    return FileRows(
        batch.rows.drop("_file"), batch.malformed.drop("_file"), batch.extra_columns[name]
    )


def read_batch(
    extract: Extract,
    files: list[tuple[str, bytes]],
    scratch: duckdb.DuckDBPyConnection | None = None,
) -> Batch:
    """Files given as (file id, bytes). ``scratch``: an in-memory DuckDB to reuse (JSON Lines)."""
    batch = Batch(_empty(extract), pl.DataFrame(schema=MALFORMED_SCHEMA))
    readable = []
    for name, data in files:
        suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if suffix != extract.format:
            batch.rejected[name] = f"{name}: expected a .{extract.format} file for {extract.name}"
        else:
            readable.append((name, data))
    reader = {"csv": _csv_batch, "jsonl": _jsonl_batch, "parquet": _parquet_batch}
    reader[extract.format](extract, readable, batch, scratch)
    return batch


def _empty(extract: Extract) -> pl.DataFrame:
    return pl.DataFrame(
        schema={"_file": pl.String, "_line": pl.Int32}
        | dict.fromkeys(extract.column_names, pl.String)
    )


def _decoded(files: list, batch: Batch) -> Iterator[tuple[str, str]]:
    """(name, text) of each file that is valid UTF-8; the others are rejected in ``batch``."""
    for name, data in files:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            batch.rejected[name] = f"{name}: not valid UTF-8 ({e.reason} at byte {e.start})"
            continue
        yield name, text.removeprefix("\ufeff")


def _admit(extract: Extract, name: str, header: list[str], batch: Batch) -> bool:
    """Record a file's drift, or reject it for a missing required column."""
    missing = [c for c in extract.required if c not in header]
    if missing:
        batch.rejected[name] = f"{name}: missing required column(s) {', '.join(missing)}"
        return False
    batch.extra_columns[name] = tuple(c for c in header if c not in extract.column_names and c)
    return True


def _add(extract: Extract, batch: Batch, frame: pl.DataFrame, malformed: pl.DataFrame) -> None:
    absent = [pl.lit(None, pl.String).alias(c) for c in extract.column_names if c not in frame]
    rows = frame.with_columns(absent).select("_file", "_line", *extract.column_names)
    batch.rows = pl.concat([batch.rows, rows.cast({"_line": pl.Int32})], how="vertical_relaxed")
    batch.malformed = pl.concat([batch.malformed, malformed.cast(MALFORMED_SCHEMA)])


def _lines_frame(names: list[str], texts: list[str], first_line: int) -> pl.DataFrame:
    """The non-blank lines of some texts: _file, _line (numbered from ``first_line``), text."""
    # split on \n only: str.splitlines would also break on \x0b, \u2028 and friends
    lines = pl.col("text").str.split("\n")
    return (
        pl.DataFrame(
            {"_file": names, "text": texts}, schema={"_file": pl.String, "text": pl.String}
        )
        .select(
            "_file",
            pl.int_ranges(first_line, lines.list.len() + first_line, dtype=pl.Int32).alias("_line"),
            lines,
        )
        .explode("_line", "text")
        .filter(pl.col("text").str.strip_chars() != "")
    )


def _csv_batch(extract: Extract, files: list, batch: Batch, scratch) -> None:
    # files sharing a header line are parsed together
    groups: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for name, text in _decoded(files, batch):
        header_line, _, body = text.partition("\n")
        if not header_line.strip():
            batch.rejected[name] = f"{name}: empty file, no header row"
            continue
        header_line = header_line.rstrip("\r")
        if not _admit(extract, name, _csv_header(header_line), batch):
            continue
        names, bodies = groups[header_line]
        names.append(name)
        bodies.append(body)
    for header_line, (names, bodies) in groups.items():
        header = _csv_header(header_line)
        body = _lines_frame(names, bodies, first_line=2).with_columns(
            pl.col("text").str.strip_suffix("\r")
        )
        frame, malformed = _csv_rows(body, header)
        frame = frame.select("_file", "_line", *[h for h in header if h in extract.column_names])
        _add(extract, batch, frame, malformed)


def _csv_rows(body: pl.DataFrame, header: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lines → (fields of the well-formed ones, malformed ones), both in line order.

    A line without a quote is split at its commas; only the few quoted lines need a CSV
    parser. ``_i`` keeps the lines' order across the two kinds.
    """
    body = body.with_row_index("_i")
    quoted = pl.col("text").str.contains('"', literal=True)
    plain = body.filter(~quoted).with_columns(
        n=pl.col("text").str.count_matches(",", literal=True) + 1
    )
    rich = body.filter(quoted).with_columns(
        n=(pl.lit(",") + pl.col("text")).str.count_matches(_CSV_FIELD)
    )
    malformed = (
        pl.concat([plain, rich])
        .filter(pl.col("n") != len(header))
        .sort("_i")
        .select(
            "_file",
            "_line",
            column_name=pl.lit(None, pl.String),
            reason=pl.format("expected {} fields, found {}", pl.lit(len(header)), pl.col("n")),
            record=pl.col("text"),
        )
    )
    fields = _split_plain(plain.filter(pl.col("n") == len(header)), header).merge_sorted(
        _split_quoted(rich.filter(pl.col("n") == len(header)), header), key="_i"
    )
    return fields.drop("_i"), malformed


def _split_plain(good: pl.DataFrame, header: list[str]) -> pl.DataFrame:
    """Lines without quotes: fields are what lies between commas; empty ones null, as the
    CSV reader gives them."""
    fields = pl.col("text").str.split_exact(",", len(header) - 1).struct.rename_fields(header)
    return good.select("_i", "_file", "_line", fields.struct.unnest()).with_columns(
        pl.col(header).replace("", None)
    )


def _split_quoted(good: pl.DataFrame, header: list[str]) -> pl.DataFrame:
    frame = _parse_lines(header, good) if good.height else None
    if frame is None:
        frame = _split_fields(good, header)
    return frame.select("_i", "_file", "_line", *header)


def _csv_header(line: str) -> list[str]:
    return [h.strip() for h in next(csv.reader([line]))]


def _parse_lines(header: list[str], good: pl.DataFrame) -> pl.DataFrame | None:
    """The native CSV reader over well-formed lines; None if it does not see one row per line
    (a quoted field spanning lines), so the caller falls back to splitting line by line."""
    text = "\n".join(good["text"]) + "\n"
    try:
        parsed = pl.read_csv(
            io.BytesIO(text.encode()), has_header=False, new_columns=header, infer_schema=False
        )
    except pl.exceptions.PolarsError:
        return None
    if parsed.height != good.height:
        return None
    return parsed.with_columns(good["_i"], good["_file"], good["_line"])


def _split_fields(good: pl.DataFrame, header: list[str]) -> pl.DataFrame:
    fields = (pl.lit(",") + pl.col("text")).str.extract_all(_CSV_FIELD)
    return good.select(
        "_i",
        "_file",
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


def _jsonl_batch(extract: Extract, files: list, batch: Batch, scratch) -> None:
    decoded = list(_decoded(files, batch))
    body = _lines_frame([n for n, _ in decoded], [t for _, t in decoded], first_line=1)
    con = scratch or duckdb.connect()
    try:
        con.register("body", body)
        flagged = con.execute(
            "SELECT _file, _line, text, CASE WHEN json_valid(text) THEN json_type(text) = "
            "'OBJECT' ELSE false END AS ok FROM body"
        ).pl()
        con.register("flagged", flagged)
        keys = con.execute(
            "SELECT _file, list(DISTINCT k ORDER BY k) FROM (SELECT _file, unnest(json_keys(text))"
            " AS k FROM flagged WHERE ok) GROUP BY _file"
        ).fetchall()
        headers = dict(keys)
        # a file with no object at all has no header to judge: its lines are all malformed
        admitted = [
            n for n, _ in decoded if _admit(extract, n, headers.get(n, extract.column_names), batch)
        ]
        seen = {k for n in admitted for k in headers.get(n, ())}
        known = [c for c in extract.column_names if c in seen]
        shape = json.dumps(dict.fromkeys(known, "VARCHAR"))
        values = f", json_transform(text, '{shape}') AS v" if known else ""
        frame = con.execute(
            f"SELECT _file, _line{values} FROM flagged WHERE ok AND list_contains($files, _file)"
            " ORDER BY _file, _line",
            {"files": admitted},
        ).pl()
        con.unregister("body")
        con.unregister("flagged")
    finally:
        if scratch is None:
            con.close()
    frame = frame.unnest("v") if known else frame
    malformed = flagged.filter(~pl.col("ok") & pl.col("_file").is_in(admitted)).select(
        "_file",
        "_line",
        column_name=pl.lit(None, pl.String),
        reason=pl.lit("not a JSON object"),
        record=pl.col("text"),
    )
    _add(extract, batch, frame, malformed)


def _parquet_batch(extract: Extract, files: list, batch: Batch, scratch) -> None:
    frames = []
    for name, data in files:
        try:
            table = pl.read_parquet(io.BytesIO(data))
        except Exception as e:  # polars raises several error types for a broken file
            batch.rejected[name] = f"{name}: unreadable Parquet ({type(e).__name__}: {e})"
            continue
        if not _admit(extract, name, table.columns, batch):
            continue
        as_text = [_to_text(table[c]).alias(c) for c in table.columns if c in extract.column_names]
        frames.append(
            table.select(as_text).with_row_index("_line", offset=1).with_columns(_file=pl.lit(name))
        )
    if frames:
        frame = pl.concat(frames, how="diagonal_relaxed")
        _add(extract, batch, frame, pl.DataFrame(schema=MALFORMED_SCHEMA))


def _to_text(s: pl.Series) -> pl.Series:
    """Parquet values rendered as the contract's text forms, so one validator reads all."""
    if isinstance(s.dtype, pl.Datetime):
        aware = s if s.dtype.time_zone else s.dt.replace_time_zone("UTC")
        return aware.dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z")
    if s.dtype == pl.Date:
        return s.dt.to_string("%Y-%m-%d")
    return s.cast(pl.String)
