"""Time ``simulate`` on the large world (>= 1,000,000 fills over 18 months).

Usage: ``python benchmarks/bench_simulate.py [runs]`` (default 3). Prints one
JSON line: the median wall time of the runs, each run's time, the peak
resident memory of the process (``resource.getrusage``), the fill count and
rows per extract. Each run writes into a temporary folder removed afterwards
(the removal is not timed).
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from refill_simulator import LARGE_WORLD_PETS, simulate

START, END = date(2025, 1, 1), date(2026, 6, 30)
SEED = 7


def main(runs: int) -> dict:
    seconds, summary = [], None
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench_simulate_") as out:
            began = time.perf_counter()
            summary = simulate(Path(out), pets=LARGE_WORLD_PETS, start=START, end=END, seed=SEED)
            seconds.append(round(time.perf_counter() - began, 2))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "benchmark": "simulate_large_world",
        "pets": LARGE_WORLD_PETS,
        "days": (END - START).days + 1,
        "runs": runs,
        "median_seconds": statistics.median(seconds),
        "seconds": seconds,
        "peak_rss_mib": round(peak_kib / 1024),
        "fills": summary.fills,
        "files": summary.files,
        "rows": summary.rows,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
