"""The simulator's own ways of delivering one extract's rows as files.

Layout, file names and serialisation are the contract's
(``refill_assets.contract.landing_writer``); the loop runs over files (days x
parts), each file serialised by polars in one go. What is the simulator's own:
a day's files are labelled by number, or for Parquet by warehouse; rows
flagged in ``_raw`` are broken as text after serialisation (a CSV line gets
one field too many, a JSON line is cut short); a planned file is truncated,
delivered again under a new name or again in the next day's folder, has its
CSV columns shuffled; drift columns join from their first day; the manual
re-export without a required column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from refill_assets.contract.extracts import Extract
from refill_assets.contract.landing_writer import file_name, part_label, serialize, write_file
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
    """The contract's bytes, with the rows flagged in ``_raw`` broken (CSV and JSON Lines)."""
    data = serialize(frame, columns, fmt)
    if fmt == "parquet":
        return data
    broken = np.flatnonzero(frame["_raw"].is_not_null().to_numpy())
    if not broken.size:
        return data
    lines = data.split(b"\n")
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


def _day(tl: Timeline, dt: int) -> date:
    return tl.start + timedelta(days=dt)


def _file_name(extract: Extract, tl: Timeline, dt: int, part: int, suffix: str = "") -> str:
    label = WAREHOUSES[part] if extract.format == "parquet" else part_label(part)
    return file_name(extract, _day(tl, dt), label, suffix)


def _write(root: Path, extract: Extract, tl: Timeline, dt: int, name: str, data: bytes) -> None:
    write_file(root, extract, _day(tl, dt), name, data)


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
        _write(root, extract, tl, dt, name, data)
        files, rows = files + 1, rows + len(frame)
        if (dt, part) in plan.renamed_copies:
            copy = _file_name(extract, tl, dt, part, RENAMED_SUFFIX)
            _write(root, extract, tl, dt, copy, data)
            files += 1
        later = days[days > dt]
        if (dt, part) in plan.next_day_copies and later.size:
            _write(root, extract, tl, int(later[0]), name, data)
            files += 1
    if plan.missing_column is not None:
        dt, frame = plan.missing_column
        columns = [c for c in _columns(extract, delivered, plan, dt) if c in frame.columns]
        name = _file_name(extract, tl, dt, 0, MISSING_COLUMN_SUFFIX)
        _write(root, extract, tl, dt, name, _serialize(frame, columns, "csv"))
        files += 1
    return Written(files, rows)
