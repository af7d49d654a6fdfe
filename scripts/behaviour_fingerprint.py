"""Fingerprint the platform's behaviour on one fixed small world, and compare two fingerprints.

A refactoring that moves code must not change what the code does. This script
simulates a fixed world, runs `refill run` over it in a fresh home, and hashes
what came out: every warehouse table (rows in a canonical order), the training
snapshot, each model's test predictions and the nightly scores. Two runs of
the same behaviour give the same JSON; ``--compare`` names every difference.

    .venv/bin/python scripts/behaviour_fingerprint.py --out before.json
    ... change the code ...
    .venv/bin/python scripts/behaviour_fingerprint.py --out after.json --compare before.json

Columns that record when or by which run something happened (load timestamps,
MLflow run ids, model versions) differ between any two runs and are left out. A table
that moved (same rows under a new name) is reported as moved, not as a difference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
# a small world long enough for the time split (see tests/e2e: eight months)
WORLD = ["--pets", "600", "--start", "2025-01-01", "--end", "2025-08-31", "--seed", "11"]
# run-specific columns: when a row was loaded, which MLflow run or version made it
VOLATILE = {"loaded_at", "run_id", "model_version", "ingested_at", "_loaded_at"}
# dbt's bookkeeping names the models it remembers: a renamed model keeps its watermark
BY_MODEL_NAME = {"staging.dbt_watermarks": "model"}


def frame_hash(frame: pl.DataFrame, skip: str | None = None) -> str:
    keep = [c for c in frame.columns if c not in VOLATILE and c != skip]
    frame = frame.select(sorted(keep))
    frame = frame.sort(pl.all(), nulls_last=True) if frame.columns else frame
    digest = hashlib.sha256()
    for column in frame.columns:
        digest.update(column.encode())
        digest.update(frame[column].cast(pl.String).fill_null("∅").str.join("\x1f").item().encode())
    return f"{frame.height}:{digest.hexdigest()[:16]}"


def fingerprint(home: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_type = 'BASE TABLE' ORDER BY ALL"
        ).fetchall()
        for schema, table in tables:
            out[f"table {schema}.{table}"] = frame_hash(
                con.execute(f'SELECT * FROM "{schema}"."{table}"').pl(),
                skip=BY_MODEL_NAME.get(f"{schema}.{table}"),
            )
    out["training_snapshot"] = frame_hash(
        pl.read_parquet(home / "features" / "training_snapshot.parquet")
    )
    for predictions in sorted((home / "models").glob("*/test_predictions.parquet")):
        out[f"test_predictions {predictions.parent.name}"] = frame_hash(
            pl.read_parquet(predictions)
        )
    for export in sorted((home / "exports").rglob("*.csv")):
        out[f"export {export.name}"] = hashlib.sha256(export.read_bytes()).hexdigest()[:16]
    return out


def run_world(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFILL_", "DAGSTER_"))}
    env |= {
        "REFILL_HOME": str(home),
        "REFILL_PII_KEY": "fingerprint-key",
        "REFILL_PARTITIONS_START": "2024-12-01",
        "REFILL_GATE_MARGIN": "-1",
        "DAGSTER_HOME": str(ROOT),
        "REFILL_DAGSTER_STORAGE": str(home / "dagster"),
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    }
    refill = [sys.executable, "-m", "refill_assets.cli"]
    for args in (["simulate", "--out", str(home / "world"), *WORLD], ["run"]):
        done = subprocess.run([*refill, *args], env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"refill {args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="write the fingerprint here (JSON)")
    p.add_argument("--compare", type=Path, help="a fingerprint to compare against")
    p.add_argument("--home", type=Path, help="keep the run's home here (default: a temp dir)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = (args.home or Path(scratch) / "home").resolve()
        run_world(home)
        found = fingerprint(home)
    args.out.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    print(f"{len(found)} fingerprints in {args.out}")
    if args.compare is None:
        return 0
    before = json.loads(args.compare.read_text())
    differ = sorted(k for k in before.keys() | found.keys() if before.get(k) != found.get(k))
    # a table renamed or moved to another schema: gone under one name, the same rows under
    # a new one (only then; a new table with new contents is a difference)
    gone = {before[k]: k for k in differ if k not in found}
    moved = {k: gone[found[k]] for k in differ if k not in before and found[k] in gone}
    for new, old in sorted(moved.items()):
        print(f"moved   {old} -> {new} (same rows)")
    differ = [k for k in differ if k not in moved and k not in moved.values()]
    for key in differ:
        print(f"DIFFERS {key}: {before.get(key)} -> {found.get(key)}")
    print("identical" if not differ else f"{len(differ)} of {len(found)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
