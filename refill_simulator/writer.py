"""Writing one extract's delivered rows as files in the landing layout.

``<landing>/<extract>/dt=YYYY-MM-DD/<extract>_YYYYMMDD_<part>.<ext>``; the
loop runs over files (days x parts), each file written by polars in one go.
Hidden columns (``_``-prefixed) never reach a file. Rows flagged in ``_raw``
are broken as text after serialisation: a CSV line gets one field too many,
a JSON line is cut short.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from refill_assets.contract.extracts import Extract
from refill_simulator.catalog import WAREHOUSES
from refill_simulator.delivery import TRUNCATED_KEEP, FilePlan
from refill_simulator.timeline import Timeline

EXTRA_FIELD = b',"unexpected"'
RENAMED_SUFFIX = "_resent"
MISSING_COLUMN_SUFFIX = "_manual"


@dataclass(frozen=True)
class Written:
    files: int
    rows: int  # rows of the primary files (copies and the broken re-export not counted)


def _serialize(frame: pl.DataFrame, columns: list[str], fmt: str) -> bytes:
    buffer = io.BytesIO()
    data = frame.select(columns)
    if fmt == "parquet":
        data.write_parquet(buffer)
        return buffer.getvalue()
    if fmt == "csv":
        data.write_csv(buffer)
    else:
        data.write_ndjson(buffer)
    broken = np.flatnonzero(frame["_raw"].is_not_null().to_numpy())
    if not broken.size:
        return buffer.getvalue()
    lines = buffer.getvalue().split(b"\n")
    header = 1 if fmt == "csv" else 0
    for i in broken:  # a handful of rows per file
        line = lines[i + header]
        lines[i + header] = line + EXTRA_FIELD if fmt == "csv" else line[: len(line) // 2]
    return b"\n".join(lines)


def _files(delivered: pl.DataFrame):
    """(dt, part, rows) of each file, from rows sorted by day and part."""
    key = (delivered["_dt"] * 64 + delivered["_part"]).to_numpy()
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    for start, end in zip(starts, ends, strict=True):
        yield int(key[start] // 64), int(key[start] % 64), delivered.slice(start, end - start)


def _file_name(extract: Extract, tl: Timeline, dt: int, part: int, suffix: str = "") -> str:
    stamp = (tl.start + timedelta(days=dt)).strftime("%Y%m%d")
    label = WAREHOUSES[part] if extract.format == "parquet" else f"{part + 1:02d}"
    return f"{extract.name}_{stamp}_{label}{suffix}.{extract.format}"


def _folder(root: Path, extract: Extract, tl: Timeline, dt: int) -> Path:
    folder = root / extract.name / f"dt={(tl.start + timedelta(days=dt)).isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _columns(extract: Extract, delivered: pl.DataFrame, plan: FilePlan, dt: int) -> list[str]:
    columns = list(extract.column_names)
    for column, first_dt in plan.extra_columns_from:
        if column in delivered.columns and dt >= first_dt:
            columns.append(column)
    return columns


def write_extract(
    root: Path, extract: Extract, delivered: pl.DataFrame, plan: FilePlan, tl: Timeline, rng
) -> Written:
    days = np.unique(delivered["_dt"].to_numpy())
    files = rows = 0
    for dt, part, frame in _files(delivered):
        columns = _columns(extract, delivered, plan, dt)
        if (dt, part) in plan.shuffled:
            columns = list(rng.permutation(columns))
        data = _serialize(frame, columns, extract.format)
        name = _file_name(extract, tl, dt, part)
        if (dt, part) in plan.truncated:
            data = data[: int(len(data) * TRUNCATED_KEEP)]
        (_folder(root, extract, tl, dt) / name).write_bytes(data)
        files, rows = files + 1, rows + len(frame)
        if (dt, part) in plan.renamed_copies:
            copy = _file_name(extract, tl, dt, part, RENAMED_SUFFIX)
            (_folder(root, extract, tl, dt) / copy).write_bytes(data)
            files += 1
        later = days[days > dt]
        if (dt, part) in plan.next_day_copies and later.size:
            (_folder(root, extract, tl, int(later[0])) / name).write_bytes(data)
            files += 1
    if plan.missing_column is not None:
        dt, frame = plan.missing_column
        columns = [c for c in _columns(extract, delivered, plan, dt) if c in frame.columns]
        name = _file_name(extract, tl, dt, 0, MISSING_COLUMN_SUFFIX)
        (_folder(root, extract, tl, dt) / name).write_bytes(_serialize(frame, columns, "csv"))
        files += 1
    return Written(files, rows)
