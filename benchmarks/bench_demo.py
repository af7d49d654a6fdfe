"""`make demo` as a newcomer runs it (the venv already built), a night after it, and what
Dagster recorded.

    .venv/bin/python benchmarks/bench_demo.py [RUNS] [sqlite|postgres]

Each repetition starts from an empty REFILL_HOME (benchmarks/out/demo-home) and a new Dagster
instance: the embedded SQLite one (the default) or PostgreSQL (`instance/postgres`, a scratch
database: bench_ingest.dagster_instance). The time is the whole `make demo`: the manifest
check, the simulation, the history run and the nights. Then one more night, the first after
the demo's (`refill run --since D --as-of D`: ingestion, dbt, the champion's scores, the export,
the monitoring, the published copy; what the nightly schedule runs). Prints one JSON line: the
medians and every run's seconds, and the first demo's Dagster events by type, from the
instance's database.
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

NIGHT = "2026-05-01"  # the first night after make demo's (DEMO_NIGHTS_TO in the Makefile)
RUN_CONFIG = ROOT / "scripts" / "demo-run-config.yaml"


def main(runs: int, instance: str) -> None:
    home = OUT / "demo-home"
    seconds, nights, events, retrained = [], [], None, 0
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
            night = [".venv/bin/refill", "run", "--landing", str(home / "world" / "landing")]
            night += ["--since", NIGHT, "--as-of", NIGHT, "--run-config", str(RUN_CONFIG)]
            env["DAGSTER_HOME"] = variables["DAGSTER_HOME"]  # the Makefile's choice
            t0 = time.perf_counter()
            done = subprocess.run(night, cwd=ROOT, env=env, capture_output=True, text=True)
            nights.append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise SystemExit(f"the night failed:\n{done.stdout[-4000:]}")
            # a retrain the monitoring asks for is part of a night, and worth knowing of
            retrained += "retrain: requested" in done.stdout
    shutil.rmtree(home, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "make_demo",
                "dagster_instance": instance,
                "make_demo_s_median": round(statistics.median(seconds), 1),
                "make_demo_s_runs": [round(s, 1) for s in seconds],
                "night_after_s_median": round(statistics.median(nights), 1),
                "night_after_s_runs": [round(s, 1) for s in nights],
                "nights_with_a_retrain": retrained,
                "dagster_events_first_run": events,
            }
        )
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 3, sys.argv[2] if len(sys.argv) > 2 else "sqlite"
    )
