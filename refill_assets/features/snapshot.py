"""The training snapshot: written once per retrain, with a content hash that records which
data a model saw."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import polars as pl

from refill_assets.features.examples import reference_population, training_examples
from refill_assets.storage.files import write_parquet_atomic
from refill_assets.storage.layout import Layout

# the drift reference: a week of nights (weekday rhythms), 50 000 rows (the drift statistics'
# sampling noise stays far under their thresholds, and a file of a few MB per model version)
REFERENCE_NIGHTS, REFERENCE_ROWS = 7, 50_000


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


@dataclass(frozen=True)
class Snapshot:
    rows: int
    digest: str
    first_as_of: date
    last_as_of: date


def write_snapshot(
    con: duckdb.DuckDBPyConnection, layout: Layout, *, samples_per_fill: int, seed: int
) -> Snapshot:
    """Build the training examples, write them (atomically) with their content hash beside
    them, so each model logs the hash without rehashing; and the reference population of the
    last nights (``examples.reference_population``) for the models' drift references."""
    frame = training_examples(con, samples_per_fill=samples_per_fill, seed=seed)
    digest = snapshot_hash(frame)
    write_parquet_atomic(frame, layout.snapshot)
    layout.snapshot_digest.write_text(digest)
    # the nights up to the data end, which every model of this snapshot is held against
    (last,) = con.execute("SELECT max(data_end_date) FROM marts.refill_intervals").fetchone()
    population = reference_population(con, last, REFERENCE_NIGHTS, REFERENCE_ROWS, seed)
    write_parquet_atomic(population, layout.reference_population)
    return Snapshot(frame.height, digest, frame["as_of_date"].min(), frame["as_of_date"].max())
