"""A content hash of a training snapshot, to record which data a model saw."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl


def snapshot_hash(frame: pl.DataFrame) -> str:
    """SHA-256 (hex) of the frame's columns (names and types) and the multiset of its rows:
    independent of row and column order, stable across runs of the same polars version."""
    columns = sorted(frame.columns)
    canonical = frame.select(columns)
    digest = hashlib.sha256()
    digest.update(repr([(c, str(canonical.schema[c])) for c in columns]).encode())
    # a fixed seed makes hash_rows deterministic; sorting the row hashes drops the row order
    rows = np.sort(canonical.hash_rows(seed=0).to_numpy())
    digest.update(rows.tobytes())
    return digest.hexdigest()
