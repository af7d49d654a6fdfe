"""Load the deliveries of one extract for a range of days, all or nothing.

Steps: list the range's files → skip exact duplicates (by content hash) →
read each (or reject it whole) → validate → normalise and hash PII → replace
the range in the warehouse in one transaction → put the raw-zone Parquet of
each day in place (each file replaced atomically). Re-running a range gives
the same tables; a crash before the commit leaves the previous state in both
places, and one after it is repaired by the next run.

The files go through as a pipeline of chunks of whole days: worker threads
read and judge the next chunks while the current one is appended to the open
transaction and its days' Parquet is written to a staging folder, moved into
place once the transaction has committed. polars and DuckDB release the GIL,
so parsing and writing share both cores.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from refill_assets.contract.extracts import EXTRACTS, PII_COLUMNS, Extract
from refill_assets.contract.raw_tables import (
    FILES_TABLE,
    QUARANTINE_TABLE,
    SCHEMA_DRIFT_TABLE,
    create_table_sql,
    table_columns,
)
from refill_assets.ingest.landing import DeliveredFile, Landing
from refill_assets.ingest.normalize import contact_keys, derive
from refill_assets.ingest.pii import keyed_hash
from refill_assets.ingest.reading import Batch, read_batch
from refill_assets.ingest.validate import split_valid
from refill_assets.storage.warehouse import connect

_POLARS_TYPES = {
    "VARCHAR": pl.String,
    "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"),
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "DOUBLE": pl.Float64,
    "BOOLEAN": pl.Boolean,
}

# files read and judged together: enough to amortise per-batch costs, few enough to bound memory
FILES_PER_BATCH = 64
# chunks read and judged at once, while the previous one is written: one per core
WORKERS = 2


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


@dataclass
class _Judged:
    """One chunk: each file with its content hash (bytes None for a duplicate), and the verdict."""

    delivered: list[tuple[DeliveredFile, str, bytes | None]]
    rejected: dict[str, str]
    extra_columns: dict[str, tuple[str, ...]]
    accepted: pl.DataFrame
    quarantined: pl.DataFrame


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
    stage = _RawZoneStage(raw_root / extract_name)
    with connect(warehouse) as con:
        _ensure_tables(con, extract_name)
        seen = _hashes_loaded_before(con, extract_name, start)
        # the workers parse the next chunks meanwhile; and a parallel insert leaves small row
        # groups that closing the database then merges, at a cost
        con.execute("SET threads = 1")
        chunks = _judged_chunks(extract, files, landing, seen, pii_key)
        try:
            with closing(chunks):
                _replace_range(con, extract_name, start, end, chunks, report, stage)
        except BaseException:
            stage.discard()
            raise
    stage.publish(start, end)  # after the warehouse commit
    return report


def _replace_range(
    con: duckdb.DuckDBPyConnection,
    extract: str,
    start: date,
    end: date,
    chunks: Iterator[_Judged],
    report: IngestReport,
    stage: _RawZoneStage,
) -> None:
    """One transaction: the range's old rows out, every chunk's rows in."""
    con.execute("BEGIN TRANSACTION")
    try:
        _delete_range(con, extract, start, end)
        quarantined, manifest, loaded = _load_chunks(con, extract, chunks, report, stage)
        _insert(con, "quarantine.rows", quarantined)
        _insert(con, "raw.files", _manifest_frame(extract, manifest, loaded, quarantined))
        _insert(con, "raw.schema_drift", _drift_frame(extract, manifest, report))
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")  # a commit that fails (a deferred constraint) rolls back itself
    report.files_loaded = sum(1 for m in manifest if m[2] == "loaded")
    report.rows_loaded, report.rows_quarantined = loaded.total(), quarantined.height
    report.quarantine_reasons = dict(
        Counter(quarantined["reason"].str.replace(r" '.*$", "").to_list()).most_common()
    )


def _delete_range(con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date) -> None:
    params = {"start": start, "end": end}
    con.execute(f"DELETE FROM raw.{extract} WHERE _dt BETWEEN $start AND $end", params)
    for table in ("quarantine.rows", "raw.files", "raw.schema_drift"):
        con.execute(
            f"DELETE FROM {table} WHERE extract = $extract AND _dt BETWEEN $start AND $end",
            params | {"extract": extract},
        )


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("incoming", frame)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def _load_chunks(
    con: duckdb.DuckDBPyConnection,
    extract: str,
    chunks: Iterator[_Judged],
    report: IngestReport,
    stage: _RawZoneStage,
) -> tuple[pl.DataFrame, list, Counter]:
    """Accepted rows into raw.<extract> and the stage, chunk by chunk; bookkeeping to report.

    Returns the quarantined rows, the manifest (file, hash, status, reason) and rows loaded
    per file.
    """
    manifest, held, loaded = [], [], Counter()
    for chunk in chunks:
        _record(chunk, report, manifest)
        if chunk.accepted.height:
            _insert(con, f"raw.{extract}", chunk.accepted)
            stage.write(chunk.accepted)
            loaded.update(dict(chunk.accepted.group_by("_file").len().iter_rows()))
        held.append(chunk.quarantined)
    empty = pl.DataFrame(schema=polars_schema(QUARANTINE_TABLE))
    return pl.concat([empty, *held]), manifest, loaded


def _record(chunk: _Judged, report: IngestReport, manifest: list) -> None:
    for f, digest, data in chunk.delivered:
        report.content_hashes[_file_id(f)] = digest
        if data is None:
            report.files_duplicate.append(_file_id(f))
            manifest.append((f, digest, "duplicate", "same content as an earlier delivery"))
    for f, digest, data in chunk.delivered:
        if data is None:
            continue
        why = chunk.rejected.get(_file_id(f))
        manifest.append((f, digest, "rejected" if why else "loaded", why))
        if why:
            report.files_rejected[_file_id(f)] = why
    for name, columns in chunk.extra_columns.items():
        for c in columns:
            report.drift_columns.setdefault(c, []).append(name)


def _judged_chunks(
    extract: Extract, files: list[DeliveredFile], landing: Landing, seen: set[str], pii_key: bytes
) -> Iterator[_Judged]:
    """Each chunk judged, in order; the next ``WORKERS`` chunks are judged meanwhile.

    Fetching and deduplicating stay here, in file order, so that the first delivery of some
    content is the one loaded whatever the threads do.
    """
    # one in-memory engine for every batch's JSON parsing, a cursor per batch; one thread per
    # query, as the workers already keep the cores busy (more only spin, waiting for a core)
    with duckdb.connect(config={"threads": 1}) as scratch, ThreadPoolExecutor(WORKERS) as pool:
        pending = deque()
        try:
            for chunk in _day_chunks(files):
                delivered = _fetch(chunk, landing, seen)
                pending.append(pool.submit(_judge_chunk, extract, delivered, scratch, pii_key))
                if len(pending) > WORKERS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _day_chunks(files: list[DeliveredFile]) -> Iterator[list[DeliveredFile]]:
    """Whole days, at least FILES_PER_BATCH files a chunk: each day's Parquet from one chunk."""
    chunk: list[DeliveredFile] = []
    for f in files:
        if len(chunk) >= FILES_PER_BATCH and f.dt != chunk[-1].dt:
            yield chunk
            chunk = []
        chunk.append(f)
    if chunk:
        yield chunk


def _fetch(
    chunk: list[DeliveredFile], landing: Landing, seen: set[str]
) -> list[tuple[DeliveredFile, str, bytes | None]]:
    """Each file with its content hash, and its bytes unless an earlier file had them."""
    delivered = []
    for f in chunk:
        data = landing.read(f)
        digest = hashlib.sha256(data).hexdigest()
        delivered.append((f, digest, None if digest in seen else data))
        seen.add(digest)
    return delivered


def _judge_chunk(
    extract: Extract,
    delivered: list[tuple[DeliveredFile, str, bytes | None]],
    scratch: duckdb.DuckDBPyConnection,
    pii_key: bytes,
) -> _Judged:
    fresh = [(f, data) for f, _, data in delivered if data is not None]
    with scratch.cursor() as cursor:
        batch = read_batch(extract, [(_file_id(f), data) for f, data in fresh], cursor)
    accepted, quarantined = _judge(extract, batch, {_file_id(f): f.dt for f, _ in fresh}, pii_key)
    return _Judged(delivered, batch.rejected, batch.extra_columns, accepted, quarantined)


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
    extract: str, manifest: list, loaded: Counter, quarantined: pl.DataFrame
) -> pl.DataFrame:
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


def _drift_frame(extract: str, manifest: list, report: IngestReport) -> pl.DataFrame:
    dt_of = {_file_id(f): f.dt for f, *_ in manifest}
    return pl.DataFrame(
        [(extract, dt_of[n], n, c) for c, names in report.drift_columns.items() for n in names],
        schema=polars_schema(SCHEMA_DRIFT_TABLE),
        orient="row",
    )


class _RawZoneStage:
    """Raw-zone Parquet, one file per delivery day, written aside while the warehouse
    transaction is open and moved into place only once it has committed: the raw zone must
    not run ahead of the warehouse it feeds."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._staging: Path | None = None
        self._days: list[date] = []

    def write(self, accepted: pl.DataFrame) -> None:
        if self._staging is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.folder))
        for (day,), part in accepted.partition_by("_dt", as_dict=True).items():
            part.sort("_file", "_line").write_parquet(self._staged(day))
            self._days.append(day)

    def publish(self, start: date, end: date) -> None:
        """The range's days replaced by the staged ones, each atomically; stale days removed."""
        for day_dir in self.folder.glob("dt=*") if self.folder.is_dir() else []:
            day = date.fromisoformat(day_dir.name[3:])
            if start <= day <= end and day not in self._days:
                (day_dir / "part-0.parquet").unlink(missing_ok=True)
        for day in self._days:
            target = self.folder / f"dt={day.isoformat()}" / "part-0.parquet"
            target.parent.mkdir(exist_ok=True)
            os.replace(self._staged(day), target)
        self.discard()

    def discard(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
        self._staging, self._days = None, []

    def _staged(self, day: date) -> Path:
        return self._staging / f"{day.isoformat()}.parquet"


def _ensure_tables(con: duckdb.DuckDBPyConnection, extract: str) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS quarantine")
    con.execute(create_table_sql(f"raw.{extract}", table_columns(extract)))
    con.execute(create_table_sql("quarantine.rows", QUARANTINE_TABLE))
    con.execute(create_table_sql("raw.files", FILES_TABLE))
    con.execute(create_table_sql("raw.schema_drift", SCHEMA_DRIFT_TABLE))
