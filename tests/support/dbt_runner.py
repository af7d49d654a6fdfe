"""Run the dbt project in a subprocess against a DuckDB file, and read tables back.

dbt runs with ``--project-dir``/``--profiles-dir`` on ``dbt_project/``, target
and logs in a temp folder, and the warehouse given by ``REFILL_WAREHOUSE_PATH``
(the ``dev`` target; ``--target postgres`` builds in PostgreSQL instead).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import duckdb

from refill_assets.lib.dbt import build_args
from refill_assets.settings import dbt_executable

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def run_dbt(
    *args: str,
    warehouse: Path,
    work: Path,
    window: dict | None = None,
    check: bool = True,
    target: str = "dev",
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """``env`` adds to the environment: the connection of a target other than the
    DuckDB file (``tests/support/pg_engine.py``)."""
    cmd = [
        dbt_executable(),
        *build_args(args[0]),  # the business rules as vars, as the dbt asset passes them
        *args[1:],
        "--target",
        target,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    environ = {
        **os.environ,
        "REFILL_WAREHOUSE_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # the partition window, as the dbt asset passes it (macros/partition_window.sql)
        **{f"REFILL_{bound.upper()}": day for bound, day in (window or {}).items()},
        **(env or {}),
    }
    proc = subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}"
    return proc


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def table(warehouse: Path, name: str) -> list[tuple]:
    return rows(warehouse, f"select * from {name} order by all")


def copy_warehouse(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    wal = Path(str(src) + ".wal")
    if wal.exists():
        shutil.copy(wal, Path(str(dst) + ".wal"))
    return dst
