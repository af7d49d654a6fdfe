"""The DuckDB warehouse file and its published copy for analysts.

DuckDB admits one writing process per file, and while it writes no other
process may even read. So the pipeline opens the warehouse only inside
steps (one at a time, in the ``warehouse`` pool), and analysts read the
*published* copy, which each successful run replaces atomically.

Pipeline steps leave their commits in the write-ahead log (durable at
commit) instead of checkpointing the file when they close: a checkpoint
rewrites table metadata (~1 s on the large warehouse however small the
change), and every run ends with one anyway, in dbt and in ``publish``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import polars as pl


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
    try:
        yield con
    finally:
        con.close()


def publish(warehouse: Path, published: Path) -> Path:
    """Copy the warehouse to ``published`` atomically (readers see old or new, never half)."""
    with connect(warehouse) as con:
        con.execute("CHECKPOINT")  # fold the WAL in, so the file alone is the whole database
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.tmp")
    shutil.copyfile(warehouse, tmp)
    os.replace(tmp, published)
    return published


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    where: str,
    params: list | dict,
    rows: pl.DataFrame | None,
) -> None:
    """Delete ``table``'s rows matching ``where`` (with ``params``) and insert ``rows`` (None:
    none) by column name, in one transaction: a re-run replaces exactly, a crash leaves the
    old rows."""
    replace_together(con, [(table, where, params, rows)])


def replace_together(
    con: duckdb.DuckDBPyConnection,
    replacements: list[tuple[str, str, list | dict, pl.DataFrame | None]],
) -> None:
    """``replace_rows`` of several tables (table, where, params, rows) in one transaction:
    tables that are read together change together."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table, where, params, rows in replacements:
            con.execute(f"DELETE FROM {table} WHERE {where}", params)
            if rows is not None and rows.height:
                con.register("incoming", rows)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
                con.unregister("incoming")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def replace_window(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: dict[str, str],
    day_column: str,
    start: date,
    end: date,
    rows: pl.DataFrame | None,
) -> None:
    """Replace the days ``start``..``end`` of a day-keyed ``table`` (created with ``columns``
    when missing: ``ensure_table``) with ``rows``, all or nothing."""
    ensure_table(con, table, columns)
    replace_rows(con, table, f"{day_column} BETWEEN ? AND ?", [start, end], rows)


def ensure_table(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    """Create ``table`` (``schema.name``) and its schema when missing; ``columns``: name ->
    SQL type (and constraints)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
    declared = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({declared})")
