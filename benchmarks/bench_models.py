"""Training snapshot, the four models and one night's scoring on the large world.

    nice -n 10 .venv/bin/python benchmarks/bench_models.py [RUNS] [--demo]

The warehouse is built once into benchmarks/out/models-home (`refill run --skip-training`
over every delivery day of the large world that bench_ingest simulates) and kept between
invocations; delete that folder to rebuild it. ``--demo`` does the same on a demo-size world
(``DEMO_WORLD_PETS`` pets, as `make demo` simulates; in models-home-demo) instead.
Each repetition, in this process:

(a) snapshot: ``training_examples`` (features and labels) on a read-only connection, as
    the training_snapshot asset does, then its hash and parquet file;
(b) training: ``time_split`` of the snapshot, then ``models.train.train`` of each kind
    with the registry's features and the assets' defaults (seed 0, 8 tuning trials), the
    fit the holdout judges and the refit on the whole snapshot that serves, as the model
    assets do (their MLflow logging and ONNX export are not timed);
(c) nightly scoring of the last delivery day: ``scoring_rows`` (active prescriptions and
    their features), the best model's predictions (lowest validation MAE but the
    heuristic, the gate's challenger) through the pandas round trip of the served
    MLflow model, ``score_day`` and ``replace_days`` into the warehouse, as the
    rx_refill_scores asset does (loading the model from MLflow is not timed).

Prints one JSON line: medians, all runs, the snapshot's and the night's rows, the test
period's MAE in days, p10-p90 coverage and lapse AUC of every model and of the oracle
(first run; every model's validation MAE too), and the peak RSS of this process.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
from bench_ingest import refill_env, simulated_world  # noqa: E402

from refill_assets.features import registry  # noqa: E402
from refill_assets.features.examples import scoring_rows, training_examples  # noqa: E402
from refill_assets.features.snapshot import snapshot_hash  # noqa: E402
from refill_assets.models import tracking  # noqa: E402
from refill_assets.models.metrics import evaluate  # noqa: E402
from refill_assets.models.oracle import oracle_predictions, read_truth  # noqa: E402
from refill_assets.models.schema import KINDS  # noqa: E402
from refill_assets.models.split import time_split  # noqa: E402
from refill_assets.models.train import train  # noqa: E402
from refill_assets.outreach.export import export_problems, exported, write_export  # noqa: E402
from refill_assets.outreach.plan import candidates, plan_contacts  # noqa: E402
from refill_assets.scoring.scores import replace_days, score_day  # noqa: E402
from refill_simulator import DEMO_WORLD_PETS, LARGE_WORLD_PETS  # noqa: E402


def warehouse(world: Path, home: Path) -> Path:
    """The world's warehouse after every delivery day, built once into ``home``."""
    path = home / "warehouse.duckdb"
    if not path.exists():
        shutil.rmtree(home, ignore_errors=True)
        env = refill_env(home)
        cmd = [sys.executable, "-m", "refill_assets.cli", "run", "--skip-training"]
        cmd += ["--landing", str(world / "landing")]
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0 or not path.exists():
            raise SystemExit(f"building the warehouse failed:\n{done.stdout[-4000:]}")
    return path


def served_predictions(model, rows: pl.DataFrame) -> pl.DataFrame:
    """The model's predictions as the nightly asset gets them from the MLflow pyfunc."""
    features = tracking.as_model_input(rows.select(registry.feature_names()))
    return pl.from_pandas(tracking._pyfunc(model).predict(None, features))


def _headline(pred: pl.DataFrame, frame: pl.DataFrame) -> dict:
    out = evaluate(pred, frame)
    return {k: round(out[k], 3) for k in ("mae_days", "coverage_p10_p90", "lapse_roc_auc")}


def one_run(path: Path, night: date, truth: pl.DataFrame | None) -> dict:
    run: dict = {}
    t0 = time.perf_counter()
    with duckdb.connect(str(path), read_only=True) as con:
        frame = training_examples(con)
    run["snapshot_s"] = time.perf_counter() - t0
    run["snapshot_rows"] = frame.height
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        snapshot_hash(frame)
        frame.write_parquet(Path(scratch) / "snapshot.parquet")
    run["snapshot_hash_write_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    split = time_split(frame)
    run["split_s"] = time.perf_counter() - t0
    run["train_rows"] = split.train.height
    numeric = [n for n in registry.feature_names() if n not in registry.categorical_names()]
    trained = {}
    for kind in KINDS:
        t0 = time.perf_counter()
        trained[kind] = train(
            kind, split, numeric, registry.categorical_names(), seed=0, refit_on=frame
        )
        run[f"train_{kind}_s"] = time.perf_counter() - t0
    run["train_total_s"] = sum(run[f"train_{kind}_s"] for kind in KINDS)
    validation = {k: t.validation_metrics["mae_days"] for k, t in trained.items()}
    best = min((k for k in KINDS if k != "heuristic"), key=validation.__getitem__)
    run["best_model"] = best
    run["validation_mae_days"] = validation
    test = {k: _headline(trained[k].test_predictions, split.test) for k in KINDS}
    if truth is not None:
        oracle = oracle_predictions(split.test, truth)
        known = oracle["has_truth"]
        test["oracle"] = _headline(oracle.filter(known).drop("has_truth"), split.test.filter(known))
    run["test"] = test
    del frame, split

    model = trained[best].model
    t0 = time.perf_counter()
    with duckdb.connect(str(path)) as con:
        rows = scoring_rows(con, night)
        t1 = time.perf_counter()
        predictions = served_predictions(model, rows)
        t2 = time.perf_counter()
        scores = score_day(rows, predictions, best, "bench", "bench")
        replace_days(con, scores, night, night)
        t3 = time.perf_counter()
        contacts = exported(plan_contacts(candidates(con, night), night))
        problems = export_problems(contacts, con)
        with tempfile.TemporaryDirectory() as exports:
            write_export(contacts, exports, night)
    t4 = time.perf_counter()
    if problems:
        raise SystemExit(f"the export has problems: {problems}")
    run |= {
        "scoring_rows": rows.height,
        "scoring_s": t3 - t0,
        "scoring_features_s": t1 - t0,
        "scoring_predict_s": t2 - t1,
        "scoring_write_s": t3 - t2,
        "export_rows": contacts.height,
        "export_s": t4 - t3,
        "scoring_and_export_s": t4 - t0,
    }
    return run


def main(runs: int, demo: bool) -> None:
    import mlflow.pyfunc  # noqa: F401 - loaded once, as by the serving process, not timed

    pets = DEMO_WORLD_PETS if demo else LARGE_WORLD_PETS
    world = simulated_world(pets)
    path = warehouse(world, OUT / ("models-home-demo" if demo else "models-home"))
    with duckdb.connect(str(path), read_only=True) as con:
        (night,) = con.execute("select max(_dt) from raw.rx_orders").fetchone()
    truth = read_truth(world / "truth")
    results = []
    for i in range(runs):
        results.append(one_run(path, night, truth))
        print(json.dumps({"run": i, **results[-1]}, default=str), file=sys.stderr, flush=True)
    timings = [k for k, v in results[0].items() if k.endswith("_s")]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first = results[0]
    print(
        json.dumps(
            {
                "benchmark": "models_demo_world" if demo else "models_large_world",
                "pets": pets,
                "warehouse": str(path.relative_to(ROOT)),
                "night": str(night),
                "snapshot_rows": first["snapshot_rows"],
                "train_rows": first["train_rows"],
                "scoring_rows": first["scoring_rows"],
                "export_rows": first["export_rows"],
                "best_model": first["best_model"],
                **{
                    f"{k}_median": round(statistics.median(r[k] for r in results), 1)
                    for k in timings
                },
                "test": first["test"],
                "validation_mae_days": {
                    k: round(v, 3) for k, v in first["validation_mae_days"].items()
                },
                **{f"{k}_runs": [round(r[k], 1) for r in results] for k in timings},
                "peak_rss_mb": round(peak_mb),
            }
        )
    )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--demo"]
    main(int(args[0]) if args else 3, "--demo" in sys.argv[1:])
