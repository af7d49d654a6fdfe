"""A throwaway PostgreSQL database holding a copy of a DuckDB warehouse's raw zone.

The server is the one the dbt project's ``postgres`` output points at
(``dbt_project/profiles.yml``: ``REFILL_DBT_PG_HOST``, ``_PORT``, ``_USER``,
``_PASSWORD``; defaults 127.0.0.1:5432, user ``root``, trust auth); the database name
reaches dbt as ``REFILL_DBT_PG_DBNAME`` (``dbt_env``).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg2

# DuckDB type -> PostgreSQL type, for the types the raw zone's contract uses
# (refill_assets/contract/raw_tables.py); any other type fails the copy (pg_type).
PG_TYPES = {
    "VARCHAR": "text",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}
RAW_SCHEMAS = ("raw", "quarantine")


def server() -> dict[str, str]:
    return {
        "host": os.environ.get("REFILL_DBT_PG_HOST", "127.0.0.1"),
        "port": os.environ.get("REFILL_DBT_PG_PORT", "5432"),
        "user": os.environ.get("REFILL_DBT_PG_USER", "root"),
        "password": os.environ.get("REFILL_DBT_PG_PASSWORD", ""),
    }


def connect(dbname: str = "postgres"):
    return psycopg2.connect(dbname=dbname, connect_timeout=5, **server())


@contextmanager
def cursor(dbname: str) -> Iterator:
    """A cursor on ``dbname``, committed and closed on exit."""
    con = connect(dbname)
    try:
        with con, con.cursor() as cur:
            yield cur
    finally:
        con.close()


def unreachable_reason() -> str | None:
    """Why the server cannot be used (None when it can)."""
    try:
        connect().close()
    except psycopg2.OperationalError as error:
        where = "{user}@{host}:{port}".format(**server())
        return f"PostgreSQL at {where} is not reachable: {str(error).strip()}"
    return None


def url(dbname: str) -> str:
    """A postgresql:// URL of ``dbname`` (the Dagster instance's REFILL_DAGSTER_PG_URL)."""
    s = server()
    login = s["user"] + (f":{s['password']}" if s["password"] else "")
    return f"postgresql+psycopg2://{login}@{s['host']}:{s['port']}/{dbname}"


def dbt_env(dbname: str) -> dict[str, str]:
    """The environment that points dbt's ``postgres`` output at ``dbname``."""
    connection = {f"REFILL_DBT_PG_{key.upper()}": value for key, value in server().items()}
    return connection | {"REFILL_DBT_PG_DBNAME": dbname}


@contextmanager
def scratch_database(prefix: str = "refill_test") -> Iterator[str]:
    """A new, uniquely named database, dropped on exit. Byte-order collation ("C"), as
    DuckDB, Trino and Spark compare strings: a locale collation would reorder the
    `_file` tie-breaks of "latest version wins"."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = connect()
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(
                f"create database {name} template template0 encoding 'UTF8' "
                "lc_collate 'C' lc_ctype 'C'"
            )
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
        admin.close()


def pg_type(table: str, column: str, duckdb_type: str) -> str:
    if duckdb_type not in PG_TYPES:
        raise ValueError(f"{table}.{column}: no PostgreSQL type for DuckDB's {duckdb_type}")
    return PG_TYPES[duckdb_type]


def raw_tables(warehouse: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {RAW_SCHEMAS} and table_type = 'BASE TABLE' order by all"
        ).fetchall()


def load_raw_zone(warehouse: Path, dbname: str) -> list[tuple[str, str]]:
    """Make the database's raw and quarantine tables hold exactly the warehouse's rows
    (created on the first call, emptied and reloaded on the next), column types mapped
    from DuckDB's. DuckDB writes CSV as PostgreSQL reads it: a null unquoted and
    empty, an empty string quoted. Returns the tables."""
    tables = raw_tables(warehouse)
    with (
        tempfile.TemporaryDirectory() as tmp,
        duckdb.connect(str(warehouse), read_only=True) as duck,
        cursor(dbname) as cur,
    ):
        for schema, name in tables:
            columns = duck.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            cur.execute(f"create schema if not exists {schema}")
            definition = ", ".join(
                f'"{column}" {pg_type(name, column, kind)}' for column, kind in columns
            )
            cur.execute(f"create table if not exists {schema}.{name} ({definition})")
            cur.execute(f"truncate {schema}.{name}")
            csv = Path(tmp) / f"{schema}.{name}.csv"
            duck.execute(f"copy {schema}.{name} to '{csv}' (header false)")
            with csv.open() as rows:
                cur.copy_expert(f"copy {schema}.{name} from stdin with (format csv)", rows)
    return tables
