"""What the progress display of `refill run` costs: following a run's events, redrawing it.

    nice -n 10 .venv/bin/python benchmarks/bench_progress.py [RUNS] [--pets 20000]

The world of `make demo` (``--pets`` pets from 2025-01-01, simulated once into
benchmarks/out/progress-world-<pets>) is run through 2026-03-31 as `refill run --as-of
2026-03-31 --skip-training` does (``run_all``: the warehouse only — ingestion's 455 days of
seven extracts and dbt's models, the part of the history with the most events), in this
process, under cProfile, into a fresh home each time. The figure is the cumulative time in
``Follow.__call__``: every event the instance stores, into the command's outcome and the
display (the outcome used to be read from ``result.all_events`` after the run, so part of
this replaces work done before). Then 1,000 redraws of a mid-run frame of the live display
on a terminal (it redraws 4 times a second).

Prints one JSON line: the medians, every run, the events followed per run, the run's wall
time under the profiler.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

START, AS_OF, END = date(2025, 1, 1), date(2026, 3, 31), date(2026, 6, 30)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _world(pets: int) -> Path:
    from refill_simulator import simulate

    folder = OUT / f"progress-world-{pets}"
    if not (folder / "truth").exists():
        simulate(folder, pets=pets, start=START, end=END, seed=7)
    return folder / "landing"


def _follow_seconds(home: Path) -> tuple[float, int, float, bool]:
    from refill_assets.cli.progress import Progress
    from refill_assets.cli.run import run_all
    from refill_assets.cli.terminal import steps_write_to

    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    profile = cProfile.Profile()
    began = time.perf_counter()
    # as `refill run`: what the steps write goes to a log (this prints one JSON line)
    log = home.parent / f"{home.name}.log"
    with steps_write_to(log), Progress(io.StringIO()) as progress:
        profile.enable()
        outcome = run_all(as_of=AS_OF, training=False, progress=progress)
        profile.disable()
    wall = time.perf_counter() - began
    stats = pstats.Stats(profile).stats
    calls = [v for k, v in stats.items() if k[2] == "__call__" and k[0].endswith("follow.py")]
    return sum(v[3] for v in calls), sum(v[1] for v in calls), wall, outcome.success


def _redraw_ms() -> float:
    from refill_assets.cli.progress import Progress

    with Progress(_Terminal()) as progress:
        progress.stage(f"refill_all {START} … {AS_OF}", 17)
        progress.started("dbt_models")
        progress.detail("dbt_models", "12 asset(s) materialized")
        progress.tally("row(s) quarantined", 2001)
        progress.tally("warning(s)", 2)
        began = time.perf_counter()
        for _ in range(1000):
            progress._live.refresh()  # what the display's thread does 4 times a second
        return time.perf_counter() - began


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3
    pets = int(sys.argv[sys.argv.index("--pets") + 1]) if "--pets" in sys.argv else 20_000
    landing = _world(pets)
    home = OUT / f"progress-home-{pets}"
    # settings are read when the definitions are imported: the environment first
    os.environ |= {
        "REFILL_HOME": str(home),
        "REFILL_LANDING_URI": str(landing),
        "REFILL_PARTITIONS_START": str(START),
        "REFILL_PII_KEY": "bench",
    }
    os.environ.pop("DAGSTER_HOME", None)
    measured = [_follow_seconds(home) for _ in range(runs)]
    assert all(ok for *_, ok in measured), "a run failed"
    redraws = [_redraw_ms() for _ in range(runs)]
    print(
        json.dumps(
            {
                "benchmark": "progress",
                "pets": pets,
                "follow_s_median": round(statistics.median(m[0] for m in measured), 3),
                "follow_s": [round(m[0], 3) for m in measured],
                "events": [m[1] for m in measured],
                "run_s_profiled": [round(m[2], 1) for m in measured],
                "redraw_ms_median": round(statistics.median(redraws), 3),
                "redraw_ms": [round(r, 3) for r in redraws],
            }
        )
    )


if __name__ == "__main__":
    main()
