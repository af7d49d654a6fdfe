"""Load the deliveries of one extract for a range of days, all or nothing.

Steps: list the range's files → skip exact duplicates (by content hash) →
read each (or reject it whole) → validate the whole batch → normalise and
hash PII → replace the range in the warehouse in one transaction → write
the raw-zone Parquet per day (each file replaced atomically). Re-running a
range gives the same tables; a crash before the commit leaves the previous
state in both places, and one after it is repaired by the next run.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from refill_assets.contract import EXTRACTS, PII_COLUMNS, Extract
from refill_assets.ingest.landing import DeliveredFile, Landing
from refill_assets.ingest.normalize import contact_keys, derive
from refill_assets.ingest.pii import keyed_hash
from refill_assets.ingest.reading import Batch, read_batch
from refill_assets.ingest.validate import split_valid
from refill_assets.raw_schema import (
    FILES_TABLE,
    QUARANTINE_TABLE,
    RAW_TABLES,
    SCHEMA_DRIFT_TABLE,
    create_table_sql,
    table_columns,
)
from refill_assets.warehouse import connect

_POLARS_TYPES = {
    "VARCHAR": pl.String,
    "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"),
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "DOUBLE": pl.Float64,
    "BOOLEAN": pl.Boolean,
}


@dataclass
class IngestReport:
    extract: str
    start: date
    end: date
    files_loaded: int = 0
    files_duplicate: list[str] = field(default_factory=list)
    files_rejected: dict[str, str] = field(default_factory=dict)  # file → reason
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    drift_columns: dict[str, list[str]] = field(default_factory=dict)  # column → files
    content_hashes: dict[str, str] = field(default_factory=dict)  # file → sha256


def polars_schema(columns: dict[str, str]) -> dict[str, pl.DataType]:
    return {name: _POLARS_TYPES[dtype] for name, dtype in columns.items()}


def ingest_days(
    extract_name: str,
    start: date,
    end: date,
    landing: Landing,
    warehouse: Path,
    raw_root: Path,
    pii_key: bytes,
) -> IngestReport:
    extract = EXTRACTS[extract_name]
    report = IngestReport(extract_name, start, end)
    files = [f for f in landing.files(extract_name) if start <= f.dt <= end]
    with connect(warehouse) as con:
        _ensure_tables(con, extract_name)
        seen = _hashes_loaded_before(con, extract_name, start)
    manifest, accepted_parts, held_parts = [], [], []
    with duckdb.connect() as scratch:  # one in-memory engine for every batch's JSON parsing
        for chunk in _chunks(files, FILES_PER_BATCH):
            accepted, held = _load_chunk(
                extract, chunk, landing, seen, report, manifest, scratch, pii_key
            )
            accepted_parts.append(accepted)
            held_parts.append(held)
    if not accepted_parts:  # no file in the range: empty tables, with their columns
        empty_accepted, empty_held = _judge(extract, read_batch(extract, []), {}, pii_key)
        accepted_parts, held_parts = [empty_accepted], [empty_held]
    accepted, quarantined = pl.concat(accepted_parts), pl.concat(held_parts)
    files_frame = _manifest_frame(extract_name, manifest, accepted, quarantined)
    dt_of = {_file_id(f): f.dt for f in files}
    drift_frame = pl.DataFrame(
        [
            (extract_name, dt_of[n], n, c)
            for c, names in report.drift_columns.items()
            for n in names
        ],
        schema=polars_schema(SCHEMA_DRIFT_TABLE),
        orient="row",
    )
    _replace_range(
        warehouse, extract_name, start, end, accepted, quarantined, files_frame, drift_frame
    )
    _write_raw_zone(raw_root / extract_name, accepted, start, end)  # after the warehouse commit

    report.files_loaded = sum(1 for m in manifest if m[2] == "loaded")
    report.rows_loaded, report.rows_quarantined = accepted.height, quarantined.height
    report.quarantine_reasons = dict(
        Counter(quarantined["reason"].str.replace(r" '.*$", "").to_list()).most_common()
    )
    return report


def _load_chunk(
    extract: Extract,
    chunk: list[DeliveredFile],
    landing: Landing,
    seen: set[str],
    report: IngestReport,
    manifest: list,
    scratch: duckdb.DuckDBPyConnection,
    pii_key: bytes,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fetch, deduplicate, read and judge some files; bookkeeping goes to report and manifest."""
    fresh = []
    for f in chunk:
        data = landing.read(f)
        digest = hashlib.sha256(data).hexdigest()
        report.content_hashes[_file_id(f)] = digest
        if digest in seen:
            report.files_duplicate.append(_file_id(f))
            manifest.append((f, digest, "duplicate", "same content as an earlier delivery"))
        else:
            seen.add(digest)
            fresh.append((f, digest, data))
    batch = read_batch(extract, [(_file_id(f), data) for f, _, data in fresh], scratch)
    for f, digest, _ in fresh:
        why = batch.rejected.get(_file_id(f))
        manifest.append((f, digest, "rejected" if why else "loaded", why))
        if why:
            report.files_rejected[_file_id(f)] = why
    for name, columns in batch.extra_columns.items():
        for c in columns:
            report.drift_columns.setdefault(c, []).append(name)
    return _judge(extract, batch, {_file_id(f): f.dt for f, _, _ in fresh}, pii_key)


# files read and judged together: enough to amortise per-batch costs, few enough to bound memory
FILES_PER_BATCH = 64


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _file_id(f: DeliveredFile) -> str:
    return f"{f.extract}/dt={f.dt.isoformat()}/{f.name}"


def _hashes_loaded_before(con: duckdb.DuckDBPyConnection, extract: str, start: date) -> set[str]:
    rows = con.execute(
        "SELECT content_hash FROM raw.files WHERE extract = ? AND _dt < ? AND status = 'loaded'",
        [extract, start],
    ).fetchall()
    return {h for (h,) in rows}


def _judge(
    extract: Extract, batch: Batch, day_of: dict[str, date], pii_key: bytes
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A batch's rows → (raw-zone rows, quarantine rows); ``day_of``: file → delivery day."""
    rows, malformed = batch.rows, batch.malformed
    delivered = pl.col("_file").replace_strict(day_of, default=None, return_dtype=pl.Date)
    rows = rows.with_columns(_dt=delivered)
    if extract.name in PII_COLUMNS:  # a broken line of these may hold PII in clear text
        malformed = malformed.with_columns(record=pl.lit(None, pl.String))
    malformed = malformed.with_columns(_dt=delivered)
    accepted, rejected = split_valid(extract, rows)
    accepted = accepted.with_columns(derive(extract))
    if extract.name == "customers":
        keys = accepted.select(**contact_keys())
        accepted = accepted.with_columns(
            keyed_hash(keys[c], pii_key).alias(c) for c in keys.columns
        )
    schema = polars_schema(table_columns(extract.name))
    accepted = accepted.select(pl.col(c).cast(t) for c, t in schema.items())
    quarantine = pl.concat([rejected, malformed.select(rejected.columns)], how="vertical_relaxed")
    quarantine = quarantine.with_columns(extract=pl.lit(extract.name)).select(
        pl.col(c).cast(t) for c, t in polars_schema(QUARANTINE_TABLE).items()
    )
    return accepted, quarantine.sort("_dt", "_file", "_line")


def _manifest_frame(
    extract: str, manifest: list, accepted: pl.DataFrame, quarantined: pl.DataFrame
) -> pl.DataFrame:
    loaded = dict(accepted.group_by("_file").len().iter_rows())
    held = dict(quarantined.group_by("_file").len().iter_rows())
    rows = [
        (
            extract,
            f.dt,
            _file_id(f),
            digest,
            status,
            loaded.get(_file_id(f), 0),
            held.get(_file_id(f), 0),
            reason,
        )
        for f, digest, status, reason in manifest
    ]
    return pl.DataFrame(rows, schema=polars_schema(FILES_TABLE), orient="row")


def _write_raw_zone(folder: Path, accepted: pl.DataFrame, start: date, end: date) -> None:
    """One Parquet file per delivery day, replaced atomically; stale days of the range removed."""
    by_day = {k[0]: part for k, part in accepted.partition_by("_dt", as_dict=True).items()}
    for day_dir in folder.glob("dt=*") if folder.is_dir() else []:
        day = date.fromisoformat(day_dir.name[3:])
        if start <= day <= end and day not in by_day:
            (day_dir / "part-0.parquet").unlink(missing_ok=True)
    for day, part in by_day.items():
        target = folder / f"dt={day.isoformat()}" / "part-0.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(".part-0.parquet.tmp")
        part.sort("_file", "_line").write_parquet(tmp)
        os.replace(tmp, target)


def _ensure_tables(con: duckdb.DuckDBPyConnection, extract: str) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS quarantine")
    con.execute(create_table_sql(f"raw.{extract}", table_columns(extract)))
    con.execute(create_table_sql("quarantine.rows", QUARANTINE_TABLE))
    con.execute(create_table_sql("raw.files", FILES_TABLE))
    con.execute(create_table_sql("raw.schema_drift", SCHEMA_DRIFT_TABLE))


def ensure_all_tables(warehouse: Path) -> None:
    """Create every raw table, so downstream models run even before a first delivery."""
    with connect(warehouse) as con:
        for extract in RAW_TABLES:
            _ensure_tables(con, extract)


def _replace_range(
    warehouse: Path,
    extract: str,
    start: date,
    end: date,
    accepted: pl.DataFrame,
    quarantined: pl.DataFrame,
    files: pl.DataFrame,
    drift: pl.DataFrame,
) -> None:
    targets = [
        (f"raw.{extract}", accepted, ""),
        ("quarantine.rows", quarantined, "extract = $extract AND "),
        ("raw.files", files, "extract = $extract AND "),
        ("raw.schema_drift", drift, "extract = $extract AND "),
    ]
    with connect(warehouse) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            for table, frame, scope in targets:
                params = {"start": start, "end": end}
                if scope:
                    params["extract"] = extract
                con.execute(f"DELETE FROM {table} WHERE {scope}_dt BETWEEN $start AND $end", params)
                con.register("incoming", frame)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
                con.unregister("incoming")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")  # a commit that fails (a deferred constraint) rolls back itself
