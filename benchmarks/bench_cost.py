"""The nightly overhead of cost telemetry on the large world (issue 17: at most 2 s).

    .venv/bin/python benchmarks/bench_cost.py [RUNS] [--base DIR] [--no-profile]

State, built once into benchmarks/out/cost-state (delete it to rebuild): `refill run --as-of
CUT` on the large world (bench_ingest's 160k pets), recorded in the embedded SQLite Dagster
instance as `make demo` records: the history, the models and the gate, CUT's scores.

Each repetition copies that state and runs the next night as the nightly job does (`refill
run --since NIGHT --as-of NIGHT`: ingestion, dbt, scores, export, monitoring, the published
copy) under cProfile, and reads from the profile what the telemetry took: the meter's own work
(timing each step, pricing each materialization, the run's costs read back for the cost per
1,000 predictions), the run's costs read and written to the ledger, the unit economics and the
monitoring report's cost section. ``--base DIR``: a checkout of the commit before (manifest
prepared), run on the same state without the profiler, before and after the new code in turn:
the A/B of the night's wall time. Prints one JSON line: medians and every run.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from bench_ingest import refill_env, simulated_world  # noqa: E402

STATE = OUT / "cost-state"
CUT = date(2026, 5, 31)
NIGHT = CUT + timedelta(days=1)
# (module file, function): the telemetry's entry points; their cumulative times do not nest,
# but for run_costs, called by _costed too (that share is in _costed's)
ENTRIES = [
    ("defs/cost/meter.py", "_costed"),
    ("defs/cost/meter.py", "run_costs"),
    ("defs/cost/meter.py", "ledger_rows"),
    ("cost/ledger.py", "record_run"),
    ("monitoring/economics.py", "cost_by_period"),
    ("monitoring/economics.py", "unit_economics"),
    ("monitoring/economics.py", "write_economics"),
    ("monitoring/report_cost.py", "spend"),
    ("monitoring/report_cost.py", "section"),
    ("monitoring/report_cost.py", "headline"),
]


def env(home: Path, code: Path) -> dict[str, str]:
    e = refill_env(home)
    e |= {"DAGSTER_HOME": str(code), "REFILL_DAGSTER_STORAGE": str(home / "dagster")}
    e |= {"PYTHONPATH": str(code)}
    return e


def refill(home: Path, code: Path, *args: str, profile: Path | None = None) -> float:
    prefix = ["-m", "cProfile", "-o", str(profile)] if profile else []
    cmd = [sys.executable, *prefix, "-m", "refill_assets.cli", "run", *args]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env(home, code), cwd=code, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def build() -> Path:
    if (STATE / "warehouse.duckdb").exists():
        return STATE
    shutil.rmtree(STATE, ignore_errors=True)
    landing = str(simulated_world() / "landing")
    refill(STATE, ROOT, "--landing", landing, "--as-of", CUT.isoformat())
    return STATE


def telemetry_seconds(profile: Path) -> float:
    stats = pstats.Stats(str(profile)).stats
    by_name = {
        (file, name): key
        for key in stats
        for file, name in ENTRIES
        if key[0].endswith(file) and key[2] == name
    }
    total = 0.0
    for entry, key in by_name.items():
        _, _, _, cumulative, callers = stats[key]
        if entry[1] == "run_costs":  # less what _costed's calls of it took (counted there)
            costed = by_name.get(("defs/cost/meter.py", "_costed"))
            cumulative -= callers.get(costed, (0, 0, 0, 0))[3] if costed else 0
        total += cumulative
    step = next((k for k in stats if k[0].endswith("defs/cost/meter.py") and k[2] == "step"), None)
    return total + (stats[step][2] if step else 0.0)  # the wrapper's own time


def night(code: Path, scratch: Path, profile: Path | None) -> float:
    home = scratch / "home"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(STATE, home)
    os.sync()  # the copy's writeback not inside the timed run
    landing = str(simulated_world() / "landing")
    return refill(
        home, code, "--landing", landing, "--since", NIGHT.isoformat(),
        "--as-of", NIGHT.isoformat(), profile=profile,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", type=int, nargs="?", default=3)
    parser.add_argument("--base", type=Path, help="a checkout of the commit before")
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="the A/B only")
    args = parser.parse_args()
    build()
    profiled, telemetry, new, base = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for i in range(args.runs):
            if args.profile:
                profile = scratch / f"night-{i}.prof"
                profiled.append(night(ROOT, scratch, profile))
                telemetry.append(telemetry_seconds(profile))
            if args.base:  # alternating which goes first: no order effect in the pairs
                for code in (args.base, ROOT) if i % 2 == 0 else (ROOT, args.base):
                    (base if code == args.base else new).append(night(code, scratch, None))
    result: dict = {"machine": f"{os.cpu_count()} cores", "night": NIGHT.isoformat()}
    if telemetry:
        result |= {
            "telemetry_s_median": round(statistics.median(telemetry), 3),
            "telemetry_s_runs": [round(s, 3) for s in telemetry],
            "night_profiled_s_runs": [round(s, 1) for s in profiled],
        }
    if base:
        result |= {
            "night_base_s_median": round(statistics.median(base), 1),
            "night_new_s_median": round(statistics.median(new), 1),
            "night_base_s_runs": [round(s, 1) for s in base],
            "night_new_s_runs": [round(s, 1) for s in new],
            "paired_differences_s": [round(n - b, 1) for n, b in zip(new, base, strict=True)],
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
