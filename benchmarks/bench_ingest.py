"""Ingest + dbt of the large world's 18 months in one run, then a nightly one-day increment.

    .venv/bin/python benchmarks/bench_ingest.py [RUNS] [none|sqlite|postgres]

The large world is simulated once into benchmarks/out/ (kept between
invocations). Each repetition starts from an empty REFILL_HOME and runs `refill run` over
every delivery day but the last (the single-run backfill: ingestion, dbt
build with its tests, EDA report, published copy), then `refill run --since
D --as-of D` for the last day D, on top of it (what the nightly schedule does).
The runs go to a new Dagster instance each repetition: none (an in-memory one, the issue-2
figure's setting), the embedded SQLite one (`dagster.yaml`, what `make demo` records into) or
PostgreSQL (`instance/postgres`, a scratch database on REFILL_BENCH_PG, default the
machine's server). Prints one JSON line: medians, all runs, the first run's Dagster events
by type, and peak RSS of the largest process.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from refill_simulator import LARGE_WORLD_PETS, simulate  # noqa: E402

START, END = "2025-01-01", "2026-06-30"


def simulated_world(pets: int = LARGE_WORLD_PETS) -> Path:
    """The simulated world of ``pets`` pets (the large one unless told), built once."""
    world = OUT / f"world-{pets}"
    if not (world / "landing").is_dir():
        from datetime import date

        simulate(
            world,
            pets=pets,
            start=date.fromisoformat(START),
            end=date.fromisoformat(END),
            seed=11,
        )
    return world


def refill_env(home: Path) -> dict[str, str]:
    """The environment of a `refill run` into ``home`` (no Dagster instance recorded)."""
    env = {
        **os.environ,
        "REFILL_HOME": str(home),
        "REFILL_PARTITIONS_START": START,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("DAGSTER_HOME", None)
    return env


@contextmanager
def dagster_instance(kind: str, home: Path) -> Iterator[tuple[dict[str, str], Callable]]:
    """The variables that record runs into a new instance of ``kind`` (none, sqlite,
    postgres) for ``home``, and a function counting its events by type."""
    if kind == "none":
        yield {}, dict
    elif kind == "sqlite":
        storage = home / "dagster"

        def count() -> dict[str, int]:
            with sqlite3.connect(storage / "history" / "runs" / "index.db") as con:
                return dict(con.execute(_EVENTS).fetchall())

        yield {"DAGSTER_HOME": str(ROOT), "REFILL_DAGSTER_STORAGE": str(storage)}, count
    else:
        import psycopg2

        server = os.environ.get("REFILL_BENCH_PG", "root@127.0.0.1:5432")
        name = f"refill_bench_{uuid.uuid4().hex[:12]}"
        admin = psycopg2.connect(f"postgresql://{server}/postgres")
        admin.autocommit = True
        admin.cursor().execute(f"create database {name}")

        def count() -> dict[str, int]:
            with psycopg2.connect(f"postgresql://{server}/{name}") as con, con.cursor() as cur:
                cur.execute(_EVENTS)
                return dict(cur.fetchall())

        try:
            yield (
                {
                    "DAGSTER_HOME": str(ROOT / "instance" / "postgres"),
                    "REFILL_DAGSTER_STORAGE": str(home / "dagster"),
                    "REFILL_DAGSTER_PG_URL": f"postgresql+psycopg2://{server}/{name}",
                },
                count,
            )
        finally:
            admin.cursor().execute(f"drop database {name} with (force)")
            admin.close()


_EVENTS = (
    "select dagster_event_type, count(*) from event_logs where dagster_event_type is not null "
    "group by 1 order by 2 desc"
)


def timed(cmd: list[str], env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return seconds, done.stdout


def main(runs: int, instance: str) -> None:
    world = simulated_world()
    days = sorted(p.name[3:] for p in (world / "landing" / "rx_orders").iterdir())
    eve, last = days[-2], days[-1]
    # the warehouse only (--skip-training): the ML stages have their own benchmarks
    refill = [
        *[sys.executable, "-m", "refill_assets.cli", "run", "--skip-training"],
        *["--landing", str(world / "landing")],
    ]
    full, nightly, events = [], [], None
    for i in range(runs):
        home = OUT / f"home-{i}"
        shutil.rmtree(home, ignore_errors=True)
        with dagster_instance(instance, home) as (variables, count):
            env = refill_env(home) | variables
            seconds, out = timed([*refill, "--as-of", eve], env)
            full.append(seconds)
            nightly.append(timed([*refill, "--since", last, "--as-of", last], env)[0])
            events = events or count()
        print(
            "\n".join(
                line for line in out.splitlines() if line.startswith(("refill run", "  slowest"))
            ),
            file=sys.stderr,
        )
        shutil.rmtree(home, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "benchmark": "ingest_dbt_large_world",
                "dagster_instance": instance,
                "pets": LARGE_WORLD_PETS,
                "days": f"{START}..{END}",
                "full_backfill_s_median": round(statistics.median(full), 1),
                "nightly_increment_s_median": round(statistics.median(nightly), 1),
                "full_backfill_s_runs": [round(s, 1) for s in full],
                "nightly_increment_s_runs": [round(s, 1) for s in nightly],
                "dagster_events_first_run": events,
                "peak_rss_mb_largest_process": round(peak_mb),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, sys.argv[2] if len(sys.argv) > 2 else "none")
