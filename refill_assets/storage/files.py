"""Files replaced atomically: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)
    return path


def write_bytes_atomic(body: bytes, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(body)
    os.replace(tmp, path)
    return path
