"""What users get, on a family of worlds: the last night's scores against truth and oracle.

    nice -n 10 .venv/bin/python benchmarks/bench_quality.py [--worlds 5] [--pets 12000]
        [--months 18] [--first-seed 101] [--seeds 101,102] [--full] [--json FILE]

For each world of the simulator's family (``refill simulate --family``: the latent process
drawn per seed, see ``refill_simulator.process``), in ``benchmarks/out/family/``:

1. the world: ``--pets`` pets, history from a first day that moves with the seed (the
   first of a month of 2024) for ``--months`` months up to the night, and 150 days past the
   night so that every score's outcome is known; built once and kept;
2. the user's runs into the world's own home: the curated warehouse of every delivery day
   up to the night (``refill run --skip-training --as-of NIGHT``, built once and kept), then
   the night with the models trained again (``refill run --since NIGHT --as-of NIGHT
   --retrain``, from no models and an empty MLflow store: the four models, the gate, the
   night's scores). Model and feature changes are measured by the second run alone, on the
   same warehouse. ``--full`` instead runs ``refill run --as-of NIGHT`` into an empty home,
   the single run of a new user (the same jobs, in one go; slower);
3. the night's rows of ``scores.rx_refill_scores`` held against the world's truth
   (``refill_assets.validation.against_truth``): MAE over the days'-supply rule and over
   the oracle, p10–p90 coverage, lapse AUC and its gap to the oracle's.

Prints a table per world with the median and the worst against the targets of issue 13,
and one JSON line (``--json FILE`` writes it too). Run it alone: one world's run uses both
cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "family"
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
from bench_ingest import refill_env  # noqa: E402

from refill_assets.cli.progress import Progress  # noqa: E402
from refill_assets.scoring.scores import SCORES_TABLE  # noqa: E402
from refill_assets.storage.layout import Layout  # noqa: E402
from refill_assets.validation.against_truth import held_against_truth  # noqa: E402
from refill_simulator import simulate  # noqa: E402

FOLLOW_DAYS = 150  # past the night: the 120-day horizon and most lapse deadlines decided
# (figure, target for the median, target for the worst world, higher is better)
TARGETS = (
    ("mae_vs_rule", 0.75, 0.80, False),
    ("mae_vs_oracle", 1.10, 1.20, False),
    ("lapse_auc_gap", 0.03, 0.05, False),
)
COVERAGE = ((0.75, 0.85), (0.75, 0.87))  # p10-p90 coverage: median, worst
SHOWN = (
    "seed", "model", "rows_scored", "mae_days", "rule_mae_days", "oracle_mae_days",
    "mae_vs_rule", "oracle_vs_rule", "mae_vs_oracle", "coverage_p10_p90", "lapse_roc_auc",
    "oracle_lapse_roc_auc", "lapse_auc_gap", "run_s",
)  # fmt: skip


def _first_day(seed: int) -> date:
    return date(2024, 1 + seed % 12, 1)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def world(seed: int, pets: int, months: int) -> tuple[Path, date, date, date]:
    """The family world of ``seed``, built once: (folder, first day, night, world end)."""
    first = _first_day(seed)
    night = _add_months(first, months)
    end = night + timedelta(days=FOLLOW_DAYS)
    folder = OUT / f"seed-{seed}-pets-{pets}-months-{months}"
    if not (folder / "truth" / "next_fill.parquet").exists():
        simulate(folder, pets=pets, start=first, end=end, seed=seed, family=True)
    return folder, first, night, end


def run(folder: Path, first: date, night: date, full: bool, progress: Progress, step: str) -> float:
    """The user's runs into the world's home (module doc); returns the seconds of the
    measured one."""
    layout = Layout(folder / "home")
    env = refill_env(layout.home) | {
        "REFILL_PARTITIONS_START": str(first),
        "REFILL_TRUTH": str(folder / "truth"),
        "REFILL_LANDING_URI": str(folder / "landing"),
    }
    if full:
        shutil.rmtree(layout.home, ignore_errors=True)
        return _refill(progress, step, env, "--as-of", str(night))
    if not layout.warehouse.exists():
        _refill(progress, step, env, "--skip-training", "--as-of", str(night))
    for kept in (layout.mlflow_db.parent, layout.model_dir("any").parent):
        shutil.rmtree(kept, ignore_errors=True)
    return _refill(progress, step, env, "--since", str(night), "--as-of", str(night), "--retrain")


def _refill(progress: Progress, step: str, env: dict, *args: str) -> float:
    cmd = [sys.executable, "-m", "refill_assets.cli", "run", *args]
    began = time.perf_counter()
    done = progress.command(step, cmd, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-6000:]}")
    # the run's summary (steps, checks, slowest steps) beside its home
    (Path(env["REFILL_HOME"]).parent / "last_run.txt").write_text(done.stdout)
    return time.perf_counter() - began


def night_scores(folder: Path, night: date) -> pl.DataFrame:
    with duckdb.connect(str(Layout(folder / "home").warehouse), read_only=True) as con:
        return con.execute(f"SELECT * FROM {SCORES_TABLE} WHERE as_of_date = ?", [night]).pl()


def summary(rows: list[dict]) -> dict:
    out = {}
    for name, median_target, worst_target, _ in TARGETS:
        values = [r[name] for r in rows]
        out[name] = {
            "median": statistics.median(values),
            "worst": max(values),
            "target_median": median_target,
            "target_worst": worst_target,
        }
    coverage = [r["coverage_p10_p90"] for r in rows]
    out["coverage_p10_p90"] = {
        "median": statistics.median(coverage),
        "worst": max(coverage, key=lambda c: abs(c - 0.80)),
        "target_median": COVERAGE[0],
        "target_worst": COVERAGE[1],
    }
    return out


def _table(rows: list[dict], figures: dict) -> str:
    def cell(value) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(SHOWN) + " |", "|" + "---|" * len(SHOWN)]
    lines += ["| " + " | ".join(cell(r[k]) for k in SHOWN) + " |" for r in rows]
    lines.append("")
    for name, f in figures.items():
        lines.append(
            f"{name}: median {f['median']:.3f} (target {f['target_median']}), "
            f"worst {f['worst']:.3f} (target {f['target_worst']})"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--worlds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=101)
    p.add_argument("--seeds", help="comma-separated seeds (instead of --worlds/--first-seed)")
    p.add_argument("--pets", type=int, default=12_000)
    p.add_argument("--months", type=int, default=18)
    p.add_argument("--full", action="store_true", help="one `refill run` from an empty home")
    p.add_argument("--json", type=Path, help="also write the JSON line to this file")
    args = p.parse_args()
    seeds = (
        [int(s) for s in args.seeds.split(",")]
        if args.seeds
        else list(range(args.first_seed, args.first_seed + args.worlds))
    )
    rows = []
    # the worlds' progress on stderr (a live display on a terminal); the results on stdout
    with Progress(sys.stderr) as progress:
        progress.stage(f"{len(seeds)} world(s) of the family, {args.pets} pets", 2 * len(seeds))
        for seed in seeds:
            with progress.step(f"seed {seed}: the world"):
                folder, first, night, end = world(seed, args.pets, args.months)
            with progress.step(f"seed {seed}: refill run") as step:
                seconds = run(folder, first, night, args.full, progress, step)
            scores = night_scores(folder, night)
            figures = held_against_truth(scores, folder / "truth", night, end)
            process = json.loads((folder / "truth" / "process.json").read_text())
            rows.append({"seed": seed, "first_day": str(first), **figures, "run_s": seconds})
            progress.note(json.dumps(rows[-1]))
            rows[-1]["process"] = process
    figures = summary(rows)
    print(_table(rows, figures))
    line = json.dumps(
        {
            "benchmark": "quality_family",
            "pets": args.pets,
            "months": args.months,
            "full": args.full,
            "worlds": rows,
            "summary": figures,
        }
    )
    print(line)
    if args.json:
        args.json.write_text(line + "\n")


if __name__ == "__main__":
    main()
