"""`make demo` as a newcomer runs it (the venv already built), and what Dagster recorded.

    .venv/bin/python benchmarks/bench_demo.py [RUNS] [sqlite|postgres]

Each repetition starts from an empty REFILL_HOME (benchmarks/out/demo-home) and a new Dagster
instance: the embedded SQLite one (the default) or PostgreSQL (`instance/postgres`, a scratch
database: bench_ingest.dagster_instance). The time is the whole `make demo`: the manifest
check, the simulation, the history run and the nights. Prints one JSON line: the median and
every run's seconds, and the first run's Dagster events by type, from the instance's database.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ingest import OUT, dagster_instance  # noqa: E402


def main(runs: int, instance: str) -> None:
    home = OUT / "demo-home"
    seconds, events = [], None
    for _ in range(runs):
        shutil.rmtree(home, ignore_errors=True)
        with dagster_instance(instance, home) as (variables, count):
            env = {k: v for k, v in os.environ.items() if not k.startswith(("REFILL_", "DAGSTER"))}
            env |= {"REFILL_HOME": str(home), **variables}
            # the Makefile picks the instance itself: DAGSTER_HOME from REFILL_DAGSTER_PG_URL
            env.pop("DAGSTER_HOME", None)
            t0 = time.perf_counter()
            done = subprocess.run(["make", "demo"], cwd=ROOT, env=env, capture_output=True)
            seconds.append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise SystemExit(f"make demo failed:\n{done.stdout.decode()[-4000:]}")
            events = events or count()
    shutil.rmtree(home, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "make_demo",
                "dagster_instance": instance,
                "make_demo_s_median": round(statistics.median(seconds), 1),
                "make_demo_s_runs": [round(s, 1) for s in seconds],
                "dagster_events_first_run": events,
            }
        )
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 3, sys.argv[2] if len(sys.argv) > 2 else "sqlite"
    )
