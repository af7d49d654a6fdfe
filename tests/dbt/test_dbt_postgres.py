"""The dbt project builds the same tables on PostgreSQL as on DuckDB.

The hand-written raw zone of ``dbt_fixture.py`` is built on both engines (a first build
through 2024-03-10, then one keyed incremental night over the deliveries after it);
after each, every model of ``intermediate``, ``marts`` and ``quarantine`` must have the
same columns, of the same kind of type, and the same rows, and every data test the
same outcome. The PostgreSQL server is CI's (``tests/support/pg_engine.py``): when it
is not reachable the test fails, it does not skip.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from itertools import zip_longest
from pathlib import Path

import duckdb
import pytest

from tests.support import pg_engine
from tests.support.dbt_fixture import FIRST_DT, LAST_DT, make_raw_warehouse
from tests.support.dbt_runner import copy_warehouse, run_dbt

FOLDERS = ("intermediate", "marts", "quarantine")
FIRST_THROUGH, NIGHT = date(2024, 3, 10), date(2024, 3, 11)  # the night: 03-11 .. 05-31
# the kind of a column's type on each engine: a column must be of one kind on both
KINDS = {
    "string": {"VARCHAR", "text", "character varying"},
    "integer": {"INTEGER", "BIGINT", "HUGEINT", "integer", "bigint"},
    "float": {"DOUBLE", "double precision"},
    "boolean": {"BOOLEAN", "boolean"},
    "date": {"DATE", "date"},
    "timestamp": {"TIMESTAMP", "timestamp without time zone"},
}
KIND_OF = {name: kind for kind, names in KINDS.items() for name in names}


def deliver(warehouse: Path, everything: Path, through: date) -> None:
    """Make the raw zone of ``warehouse`` hold exactly the deliveries of ``everything`` up
    to ``through``."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{everything}' as everything (read_only)")
        for schema, name in pg_engine.raw_tables(everything):
            con.execute(f"delete from {schema}.{name}")
            con.execute(
                f"insert into {schema}.{name} select * from everything.{schema}.{name} "
                f"where _dt <= date '{through}'"
            )


def build_both(duck: Path, db: str, work: Path, window: dict[str, str]) -> None:
    """`dbt build` on DuckDB and on PostgreSQL at once (two processes, two cores)."""
    runs = [
        {"warehouse": duck, "work": work / "duckdb"},
        {
            "warehouse": duck,
            "work": work / "postgres",
            "target": "postgres",
            "env": pg_engine.dbt_env(db),
        },
    ]
    with ThreadPoolExecutor(len(runs)) as pool:
        for run in [pool.submit(run_dbt, "build", window=window, **kw) for kw in runs]:
            run.result()


def models(work: Path) -> list[tuple[str, str]]:
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return sorted(
        (node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] in FOLDERS
    )


def duckdb_table(warehouse: Path, schema: str, name: str) -> tuple[list, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
        return columns, con.execute(f"select * from {schema}.{name}").fetchall()


def postgres_table(db: str, schema: str, name: str) -> tuple[list, list]:
    with pg_engine.cursor(db) as cur:
        cur.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, name),
        )
        columns = cur.fetchall()
        cur.execute(f"select * from {schema}.{name}")
        return columns, cur.fetchall()


def sort_key(row: tuple) -> tuple:
    # floats rounded, so that two engines' last-bit differences cannot reorder rows
    return tuple(
        (value is None, round(value, 9) if isinstance(value, float) else value) for value in row
    )


def same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    # exact types: a date must not pass for a timestamp, nor a Decimal for an int
    return type(a) is type(b) and a == b


def differences(duck: Path, db: str, schema: str, name: str) -> list[str]:
    """What differs between the engines' copies of one model (nothing: [])."""
    duck_columns, duck_rows = duckdb_table(duck, schema, name)
    pg_columns, pg_rows = postgres_table(db, schema, name)
    duck_kinds = [(column, KIND_OF.get(kind, kind)) for column, kind in duck_columns]
    pg_kinds = [(column, KIND_OF.get(kind, kind)) for column, kind in pg_columns]
    if duck_kinds != pg_kinds:
        return [
            f"column (name, kind) DuckDB {d} != PostgreSQL {p}"
            for d, p in zip_longest(duck_kinds, pg_kinds)
            if d != p
        ]
    if len(duck_rows) != len(pg_rows):
        return [f"{len(duck_rows)} rows on DuckDB, {len(pg_rows)} on PostgreSQL"]
    return [
        f"DuckDB {d} != PostgreSQL {p}"
        for d, p in zip(sorted(duck_rows, key=sort_key), sorted(pg_rows, key=sort_key), strict=True)
        if not all(same_value(a, b) for a, b in zip(d, p, strict=True))
    ][:5]


def assert_same_models(duck: Path, db: str, work: Path) -> None:
    names = models(work / "postgres")
    assert names == models(work / "duckdb") and len(names) >= 20, names
    failures = {
        f"{schema}.{name}": found
        for schema, name in names
        if (found := differences(duck, db, schema, name))
    }
    assert not failures, json.dumps(failures, indent=1, default=str)


def data_test_outcomes(work: Path) -> dict[str, str]:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("test.")}


def keyed_models_read_their_changes(work: Path) -> list[str]:
    compiled = work / "target" / "compiled" / "refill" / "models"
    return sorted(p.stem for p in compiled.rglob("*.sql") if "__changed_keys" in p.read_text())


def test_postgres_builds_what_duckdb_builds(tmp_path):
    if reason := pg_engine.unreachable_reason():
        pytest.fail(
            f"{reason}. This test needs a PostgreSQL server (CI starts one); point "
            "REFILL_DBT_PG_HOST/_PORT/_USER/_PASSWORD at another to run it elsewhere."
        )
    everything = make_raw_warehouse(tmp_path / "everything.duckdb")
    duck = copy_warehouse(everything, tmp_path / "warehouse.duckdb")
    deliver(duck, everything, FIRST_THROUGH)
    with pg_engine.scratch_database() as db:
        assert pg_engine.load_raw_zone(duck, db)
        first = {"min_date": FIRST_DT.isoformat(), "max_date": FIRST_THROUGH.isoformat()}
        build_both(duck, db, tmp_path, first)
        assert_same_models(duck, db, tmp_path)

        deliver(duck, everything, LAST_DT)
        pg_engine.load_raw_zone(duck, db)
        night = {"min_date": NIGHT.isoformat(), "max_date": LAST_DT.isoformat()}
        build_both(duck, db, tmp_path, night)
        keyed = keyed_models_read_their_changes(tmp_path / "postgres")
        assert len(keyed) == 8 and keyed == keyed_models_read_their_changes(tmp_path / "duckdb")
        assert_same_models(duck, db, tmp_path)

        outcomes = data_test_outcomes(tmp_path / "postgres")
        assert outcomes == data_test_outcomes(tmp_path / "duckdb")
        assert len(outcomes) > 100 and set(outcomes.values()) <= {"pass", "warn"}
