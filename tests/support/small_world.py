"""A small simulated world built by the two user-facing commands, as processes.

`refill simulate`, then `refill run` into its own home, as a user would; the
feature tests read the warehouse it leaves behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFILL = [sys.executable, "-m", "refill_assets.cli"]
# a world large enough that the few malformed rows of each extract stay under the
# blocking 1 % of the ingestion checks (400 pets trips raw/customers)
PETS, START, END = 1200, date(2025, 1, 1), date(2025, 3, 31)
AS_OF = END


def refill_env(home: Path, partitions_start: date = START, **extra: str) -> dict[str, str]:
    """A user's environment for `refill` into ``home``: none of the caller's REFILL_,
    DAGSTER_ or MLFLOW_ variables, the runs recorded in a Dagster instance of the home's own.
    (``mlflow.set_tracking_uri`` exports MLFLOW_TRACKING_URI: a test that used MLflow in this
    worker would otherwise send the process to that test's store and its champion.)"""
    mine = ("REFILL_", "DAGSTER_", "MLFLOW_", "_MLFLOW_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(mine)}
    env |= {
        "REFILL_HOME": str(home),
        "REFILL_PII_KEY": "test-key",
        "REFILL_PARTITIONS_START": partitions_start.isoformat(),
        "DAGSTER_HOME": str(ROOT),
        "REFILL_DAGSTER_STORAGE": str(home / "dagster"),
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    }
    return env | extra


def run_refill(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`refill <args>` as a process, as a user would run it; not checked."""
    return subprocess.run(
        [*REFILL, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900
    )


def refill(home: Path, *args: str) -> subprocess.CompletedProcess:
    done = run_refill(home, *args, env=refill_env(home))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def simulate(root: Path) -> Path:
    world = root / "world"
    refill(root, "simulate", "--out", str(world), "--pets", str(PETS), "--start",
           START.isoformat(), "--end", END.isoformat(), "--seed", "3")  # fmt: skip
    return world / "landing"


def run_through(home: Path, landing: Path, as_of: date, since: date | None = None) -> Path:
    """Run the pipeline through delivery day ``as_of``; returns a checkpointed copy of
    the warehouse (the published one) that later runs leave alone."""
    extra = ["--since", since.isoformat()] if since else []
    refill(
        home,
        "run",
        "--landing",
        str(landing),
        "--as-of",
        as_of.isoformat(),
        "--skip-training",
        *extra,
    )
    frozen = home.parent / f"warehouse-{as_of.isoformat()}.duckdb"
    shutil.copyfile(home / "published" / "warehouse.duckdb", frozen)
    return frozen
