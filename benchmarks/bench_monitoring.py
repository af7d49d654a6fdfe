"""What the monitoring adds to a night and to the 18-month backfill, on the large world.

    nice -n 10 .venv/bin/python benchmarks/bench_monitoring.py [RUNS] [--nights N]

RUNS 0 builds the state only.

Built once into benchmarks/out/monitoring-home (delete it to rebuild), by `refill run` as a
user would, on the large world that bench_ingest simulates:
1. `refill run --as-of CUT`: the history up to CUT (ingestion, dbt, the models, the gate) and
   CUT's scores and monitoring; a copy of its warehouse is the backfill's state;
2. `refill run --since CUT+1 --as-of NIGHT-1`: N-1 nights as the nightly job runs them
   (scores, drift, export, outcomes, performance, KPIs, report);
3. `refill run --since NIGHT --as-of NIGHT --skip-training`: NIGHT's deliveries curated, not
   scored; a copy of this warehouse is the night's state.

Each repetition, in this process, on fresh copies of those warehouses:
(a) the night: NIGHT's scoring rows and the champion's predictions, its scores and outreach
    export are made untimed (the scoring's and the export's own work); then timed, what the
    monitoring adds: the drift watch (the champion's reference downloaded from MLflow, the
    night compared, ``monitoring.feature_drift`` written), the heuristic baseline's scores on
    the same rows (the live ratio's cost), and ``nightly.monitor`` over NIGHT (outcomes settled,
    days recomputed, the champion judged, KPIs, the report);
(b) the backfill: the same on the history's state, with ``monitor`` over every delivery day
    of the history (what the history run's monitoring step does: its window starts at or
    before the watermark, so the outcomes are rebuilt whole) and CUT's drift and baseline.
Dagster's bookkeeping of the one step is not in these figures (a step costs tenths of a
second; issue 15 measures it).

Prints one JSON line: medians and every run, the rows behind them, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
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

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
from bench_ingest import START, refill_env, simulated_world  # noqa: E402

from refill_assets.features import registry  # noqa: E402
from refill_assets.features.examples import scoring_rows  # noqa: E402
from refill_assets.models import tracking  # noqa: E402
from refill_assets.models.records import recorded_version  # noqa: E402
from refill_assets.monitoring.nightly import monitor  # noqa: E402
from refill_assets.monitoring.nightly_drift import DriftWatch, reference_of, write_drift  # noqa: E402
from refill_assets.monitoring.performance import PerformancePolicy  # noqa: E402
from refill_assets.outreach.export import export_window  # noqa: E402
from refill_assets.outreach.plan import OutreachPolicy  # noqa: E402
from refill_assets.scoring.scores import (  # noqa: E402
    BASELINE_COLUMNS,
    BASELINE_TABLE,
    replace_days,
    score_day,
)
from refill_assets.storage.layout import Layout  # noqa: E402
from refill_assets.storage.warehouse import replace_window  # noqa: E402
from refill_assets.validation.gate import BASELINE  # noqa: E402

HOME = OUT / "monitoring-home"
CUT = date(2026, 5, 31)


def _refill(*args: str) -> None:
    cmd = [sys.executable, "-m", "refill_assets.cli", "run", *args]
    done = subprocess.run(cmd, env=refill_env(HOME), cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}")


def build(night: date) -> tuple[Path, Path]:
    """The warehouses of the history's state and of the night's state (module doc)."""
    history, before = (
        HOME.parent / "monitoring-history.duckdb",
        HOME.parent / "monitoring-night.duckdb",
    )
    if history.exists() and before.exists():
        return history, before
    shutil.rmtree(HOME, ignore_errors=True)
    landing = ["--landing", str(simulated_world() / "landing")]
    _refill(*landing, "--as-of", CUT.isoformat())
    shutil.copyfile(Layout(HOME).warehouse, history)
    if night > CUT + timedelta(days=1):
        first, last = CUT + timedelta(days=1), night - timedelta(days=1)
        _refill(*landing, "--since", first.isoformat(), "--as-of", last.isoformat())
    _refill(*landing, "--since", night.isoformat(), "--as-of", night.isoformat(), "--skip-training")
    shutil.copyfile(Layout(HOME).warehouse, before)
    return history, before


def _served(uri: str, layout: Layout):
    champion = tracking.champion(uri, layout.mlflow_artifacts)
    baseline = recorded_version(layout.model_dir(BASELINE))
    return champion, tracking.model_version(uri, layout.mlflow_artifacts, baseline)


def one_run(state: Path, start: date, night: date, scratch: Path) -> dict:
    layout = Layout(HOME)
    uri = f"sqlite:///{layout.mlflow_db}"
    champion, baseline = _served(uri, layout)
    warehouse = scratch / "warehouse.duckdb"
    shutil.copyfile(state, warehouse)
    run: dict = {}
    with duckdb.connect(str(warehouse)) as con:
        # the scoring's own work, untimed
        rows = scoring_rows(con, night)
        features = tracking.as_model_input(rows.select(registry.feature_names()))
        model = tracking.load_model(uri, layout.mlflow_artifacts, champion.version)
        predictions = pl.from_pandas(model.predict(features))
        scores = score_day(rows, predictions, champion.model_name, champion.version, "bench")
        replace_days(con, scores, night, night)
        export_window(con, OutreachPolicy(), night, night, str(scratch / "exports"))
        run["rows_scored"] = scores.height

        t0 = time.perf_counter()
        watch = DriftWatch(reference_of(uri, layout.mlflow_artifacts, champion), champion.version)
        watch(night, rows, predictions)
        write_drift(con, watch.rows(), night, night)
        run["drift_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        heuristic = tracking.load_model(uri, layout.mlflow_artifacts, baseline.version)
        said = pl.from_pandas(heuristic.predict(features))
        base = score_day(rows, said, baseline.model_name, baseline.version, "bench")
        replace_window(
            con, BASELINE_TABLE, BASELINE_COLUMNS, "as_of_date", night, night,
            base.select(list(BASELINE_COLUMNS)),
        )  # fmt: skip
        run["baseline_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        done = monitor(
            con, start, night, uri, layout.mlflow_artifacts, PerformancePolicy(),
            scratch / "monitoring.html",
        )  # fmt: skip
        run["monitor_s"] = time.perf_counter() - t0
        run["outcome_rows"] = done.settled.rows
        run["full_rebuild"] = done.settled.full_rebuild
        (run["score_outcomes_total"],) = con.execute(
            "select count(*) from monitoring.score_outcomes"
        ).fetchone()
    run["added_s"] = run["drift_s"] + run["baseline_s"] + run["monitor_s"]
    return run


def main(runs: int, nights: int) -> None:
    night = CUT + timedelta(days=nights)
    history, before = build(night)
    if runs == 0:  # build only (the state is kept for later, timed invocations)
        return
    results: dict[str, list[dict]] = {"night": [], "backfill": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(dir=OUT) as scratch:
            results["night"].append(one_run(before, night, night, Path(scratch)))
        with tempfile.TemporaryDirectory(dir=OUT) as scratch:
            start = date.fromisoformat(START)
            results["backfill"].append(one_run(history, start, CUT, Path(scratch)))
    medians = {
        f"{case}_{k}": round(statistics.median(r[k] for r in rs), 2)
        for case, rs in results.items()
        for k in ("drift_s", "baseline_s", "monitor_s", "added_s")
    }
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        json.dumps(
            {
                "medians": medians,
                "targets": {"night_added_s": 15, "backfill_added_s": 60, "peak_rss_gb": 8},
                "nights_scored_before": nights,
                "peak_rss_gb": round(peak_gb, 2),
                "runs": results,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", type=int, nargs="?", default=3)
    parser.add_argument("--nights", type=int, default=30, help="nights scored before the night")
    args = parser.parse_args()
    main(args.runs, args.nights)
