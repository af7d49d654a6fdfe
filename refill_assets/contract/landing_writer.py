"""Writing rows into the landing layout (``../shared/contracts/raw-extracts.md``, Layout).

The one home of the layout for every producer in this repository (the generic import,
the simulator):

    <landing>/<extract>/dt=YYYY-MM-DD/<extract>_YYYYMMDD_<label><suffix>.<ext>

``dt`` and ``YYYYMMDD`` are the delivery day; ``<label>`` tells a day's files apart
(``01``, ``02``, ... unless the producer names them otherwise); ``<suffix>`` marks a
re-delivery (empty for a file's first delivery); ``<ext>`` is the extract's format
(``csv``, ``jsonl``, ``parquet``). The contract itself accepts any file name.

Serialisation is polars's own writer for each format, as the contract states it:
CSV is UTF-8, comma separated, a header row, ``"`` quoting, an empty field for null;
JSON Lines one object per line; Parquet as typed. Only the columns asked for are
written, in that order; hidden columns (``_``-prefixed: delivery days, flags of the
producer) never reach a file. Everything is vectorised; the only loop is over files.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from refill_assets.contract.extracts import Extract

HIDDEN_PREFIX = "_"
FORMATS = ("csv", "jsonl", "parquet")


def part_label(part: int) -> str:
    """The label of a day's ``part``-th file (from 0): ``01``, ``02``, ..."""
    return f"{part + 1:02d}"


FIRST_LABEL = part_label(0)


def file_name(extract: Extract, day: date, label: str = FIRST_LABEL, suffix: str = "") -> str:
    """``<extract>_YYYYMMDD_<label><suffix>.<ext>``."""
    return f"{extract.name}_{day:%Y%m%d}_{label}{suffix}.{extract.format}"


def day_folder(landing: Path, extract: Extract, day: date) -> Path:
    """``<landing>/<extract>/dt=YYYY-MM-DD``, created if missing."""
    folder = Path(landing) / extract.name / f"dt={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def serialize(frame: pl.DataFrame, columns: Sequence[str], fmt: str) -> bytes:
    """``columns`` of ``frame``, in that order, as the bytes of a ``fmt`` file."""
    hidden = [c for c in columns if c.startswith(HIDDEN_PREFIX)]
    if hidden:
        raise ValueError(f"hidden column(s) {hidden} never reach a file")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; the contract's are {FORMATS}")
    buffer = io.BytesIO()
    data = frame.select(columns)
    if fmt == "parquet":
        data.write_parquet(buffer)
    elif fmt == "csv":
        data.write_csv(buffer)
    else:
        data.write_ndjson(buffer)
    return buffer.getvalue()


def write_file(landing: Path, extract: Extract, day: date, name: str, data: bytes) -> Path:
    """``data`` as the file ``name`` of ``day``'s delivery of ``extract``."""
    path = day_folder(landing, extract, day) / name
    path.write_bytes(data)
    return path


def write_day(
    landing: Path,
    extract: Extract,
    day: date,
    frame: pl.DataFrame,
    label: str = FIRST_LABEL,
    columns: Sequence[str] | None = None,
) -> Path:
    """One file of ``day``'s delivery: ``frame``'s ``columns`` (default: the extract's
    contract columns) in the extract's format."""
    cols = extract.column_names if columns is None else columns
    data = serialize(frame, cols, extract.format)
    return write_file(landing, extract, day, file_name(extract, day, label), data)


def write_days(landing: Path, extract: Extract, rows: pl.DataFrame, day: str) -> list[Path]:
    """One file per delivery day: the rows whose (``Date``) column ``day`` holds that day,
    in their order in ``rows``, their contract columns only. Returns the files, by day."""
    parts = rows.partition_by(day, maintain_order=True, as_dict=True)
    return [write_day(landing, extract, key[0], frame) for key, frame in parts.items()]
