"""Are the data-quality warnings worth reading? Their days against the simulator's faults.

    nice -n 10 .venv/bin/python benchmarks/bench_alerts.py [--worlds 3] [--pets 26000]
        [--months 18] [--first-seed 201] [--standard] [--json FILE]

For each world (``refill simulate --family`` per seed; ``--standard`` adds the standard
world), in ``benchmarks/out/alerts/``: simulate ``--pets`` pets over ``--months`` months
(kept), then ``refill run --skip-training`` into an empty home (the 18-month single-run
backfill a new user starts with), then hold ``quality.scorecard`` (every expectation of
every extract's suites, by day) against ``truth/faults.csv`` (``refill_simulator.faults``:
the days the simulator broke a feed):

- an *alert* is an (extract, day) with at least one failed expectation, warning or critical;
- a *standing breach*: an alert whose only rules are ``missing_under_5%`` of columns missing
  on more than 5 % of their due rows over the whole history: the business threshold is
  crossed by the feed itself (a world drawn with 5.8 % of days' supply empty), not by a
  fault on a day; counted apart, and printed;
- precision: the share of the other alerts on an (extract, day) of the ledger (target ≥ 0.8);
- recall: the share of the ledger's faults with an alert on their (extract, day) (target 1.0);
- the output suites' failed (dataset, day) pairs are listed too: none is expected.

Prints one table per world and the alerts that matched no fault, with the rules that fired.
Run it alone: one world's run uses both cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "alerts"
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
from bench_ingest import refill_env  # noqa: E402

from refill_assets.cli.progress import Progress  # noqa: E402
from refill_assets.quality.completeness import MAX_MISSING_SHARE  # noqa: E402
from refill_assets.storage.layout import Layout  # noqa: E402
from refill_simulator import simulate  # noqa: E402
from refill_simulator.faults import FAULTS_FILE  # noqa: E402

FIRST = date(2024, 1, 1)
TARGETS = {"precision": 0.8, "recall": 1.0}


def _end(months: int) -> date:
    month = FIRST.month - 1 + months
    return date(FIRST.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def world(seed: int | None, pets: int, months: int) -> Path:
    name = "standard" if seed is None else f"seed-{seed}"
    folder = OUT / f"{name}-pets-{pets}-months-{months}"
    if not (folder / "truth" / FAULTS_FILE).exists():
        simulate(
            folder,
            pets=pets,
            start=FIRST,
            end=_end(months),
            seed=seed or 7,
            family=seed is not None,
        )
    return folder


def backfill(folder: Path, progress: Progress, step: str) -> float:
    home = folder / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = refill_env(home) | {
        "REFILL_PARTITIONS_START": str(FIRST),
        "REFILL_LANDING_URI": str(folder / "landing"),
    }
    cmd = [sys.executable, "-m", "refill_assets.cli", "run", "--skip-training"]
    began = time.perf_counter()
    done = progress.command(step, cmd, env=env, cwd=ROOT)
    (folder / "last_run.txt").write_text(done.stdout)
    if done.returncode != 0:  # a blocking check stopped the run: its scorecard still counts
        progress.note(f"  refill run exited {done.returncode} (see {folder / 'last_run.txt'})")
    return time.perf_counter() - began


def alerts(folder: Path) -> pl.DataFrame:
    """(dataset, day, rules) of each day with a failed expectation."""
    with duckdb.connect(str(Layout(folder / "home").warehouse), read_only=True) as con:
        return con.execute(
            "SELECT dataset, day, list(DISTINCT expectation ORDER BY expectation) AS rules"
            " FROM quality.scorecard WHERE NOT success GROUP BY ALL ORDER BY day, dataset"
        ).pl()


def standing(folder: Path) -> set[str]:
    """``missing_under_5%`` rules of columns missing on more than 5 % of due rows overall."""
    with duckdb.connect(str(Layout(folder / "home").warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT dataset, expectation FROM quality.scorecard"
            " WHERE expectation LIKE 'missing_under_%' GROUP BY ALL"
            " HAVING avg(observed_value) > ?",
            [MAX_MISSING_SHARE],
        ).fetchall()
    return {f"{d}|{e}" for d, e in rows}


def score(folder: Path) -> dict:
    faults = pl.read_csv(folder / "truth" / FAULTS_FILE, try_parse_dates=True).with_columns(
        dataset="raw." + pl.col("extract")
    )
    found = alerts(folder)
    level = standing(folder)
    is_standing = pl.Series(
        [
            all(f"{d}|{r}" in level for r in rules)
            for d, rules in found.select("dataset", "rules").rows()
        ],
        dtype=pl.Boolean,
    )
    breaches = found.filter(is_standing)
    found = found.filter(~is_standing)
    raw = found.filter(pl.col("dataset").str.starts_with("raw."))
    hit = raw.join(faults, on=["dataset", "day"], how="left").with_columns(
        fault=pl.col("kind").is_not_null()
    )
    caught = faults.join(raw, on=["dataset", "day"], how="semi")
    return {
        "world": folder.name,
        "faults": faults.height,
        "alerts": raw.height,
        "true_alerts": int(hit["fault"].sum()),
        "precision": round(hit["fault"].mean(), 3) if raw.height else 1.0,
        "recall": round(caught.height / faults.height, 3) if faults.height else 1.0,
        "missed": faults.join(raw, on=["dataset", "day"], how="anti")
        .select("extract", pl.col("day").cast(pl.Utf8), "kind")
        .rows(),
        "false_alerts": hit.filter(~pl.col("fault"))
        .select("dataset", pl.col("day").cast(pl.Utf8), "rules")
        .rows(),
        "standing_breaches": breaches.select(
            "dataset", pl.col("day").cast(pl.Utf8), "rules"
        ).rows(),
        "output_alerts": found.filter(~pl.col("dataset").str.starts_with("raw."))
        .select("dataset", pl.col("day").cast(pl.Utf8), "rules")
        .rows(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=3)
    ap.add_argument("--pets", type=int, default=26000)
    ap.add_argument("--months", type=int, default=18)
    ap.add_argument("--first-seed", type=int, default=201)
    ap.add_argument("--standard", action="store_true", help="also the standard world")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    seeds: list[int | None] = [args.first_seed + i for i in range(args.worlds)]
    if args.standard:
        seeds.append(None)
    rows = []
    # the worlds' progress on stderr (a live display on a terminal); the results on stdout
    with Progress(sys.stderr) as progress:
        progress.stage(f"{len(seeds)} world(s), {args.pets} pets", 2 * len(seeds))
        for seed in seeds:
            name = "standard" if seed is None else f"seed {seed}"
            with progress.step(f"{name}: the world"):
                folder = world(seed, args.pets, args.months)
            with progress.step(f"{name}: refill run --skip-training") as step:
                seconds = backfill(folder, progress, step)
            row = score(folder) | {"run_s": round(seconds, 1)}
            rows.append(row)
            progress.note(
                f"{row['world']}: faults {row['faults']}, alerts {row['alerts']} "
                f"({row['true_alerts']} on a fault), precision {row['precision']:.3f}, "
                f"recall {row['recall']:.3f}, run {row['run_s']} s"
            )
            for label in ("missed", "false_alerts", "standing_breaches", "output_alerts"):
                for item in row[label]:
                    progress.note(f"    {label}: {item}")
    total = {k: sum(r[k] for r in rows) for k in ("faults", "alerts", "true_alerts")}
    result = {
        "worlds": rows,
        "min_precision": min(r["precision"] for r in rows),
        "min_recall": min(r["recall"] for r in rows),
        "pooled_precision": round(total["true_alerts"] / max(total["alerts"], 1), 3),
        "targets": TARGETS,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "worlds"}))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
