"""The heuristic and the best model on the real SMART dispensing history.

    .venv/bin/python benchmarks/report_smart.py [--keep DIR]

Imports the SMART history (``tests/data/smart-refills``, a copy of
``../shared/data/smart-refills``: refills.txt, meds.txt) with the generic
dispensing-history import into a temp folder, runs ``refill run`` on it (REFILL_HOME in the
temp folder, REFILL_PARTITIONS_START = the history's first fill day, no DAGSTER_HOME), and
prints one JSON line: the history's size, how the run went, and the holdout metrics of the
heuristic and of the best model, as the validation asset wrote them:

- test-period metrics per model: ``reports/model_cards/<model>.md`` (the validation asset
  writes them from the same table as ``reports/validation.html``);
- the best model: the validation asset's challenger, the non-heuristic model with the lowest
  validation-period MAE, read from the models' runs in MLflow (``$REFILL_HOME/mlflow``),
  with the gate's decision and the champion alias from the same store.

33 patients and ~1,150 fills are far too few for the platform's targets: the numbers say
whether the pipeline runs on a real history and how the models compare on it, not more.
The run's summary goes to stderr. ``--keep DIR`` keeps the landing zone and home in DIR.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMART = ROOT / "tests" / "data" / "smart-refills"  # a copy of ../shared/data/smart-refills
sys.path.insert(0, str(ROOT))

from refill_assets.imports.dispensing import import_dispensing  # noqa: E402
from refill_assets.models.schema import KINDS  # noqa: E402
from refill_assets.models.tracking import CHAMPION, EXPERIMENT, REGISTERED_MODEL  # noqa: E402

SHOWN = (
    "mae_days",
    "median_ae_days",
    "within_7d",
    "coverage_p10_p90",
    "lapse_roc_auc",
    "lapse_brier",
    "rows",
    "rows_refill_observed",
    "rows_lapse_known",
)


def run_env(home: Path, first_day: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFILL_", "DAGSTER_"))}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env | {
        "REFILL_HOME": str(home),
        "REFILL_PARTITIONS_START": first_day,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }


def card_metrics(path: Path) -> dict:
    """The holdout metrics of a model card (``- name: value`` lines under their heading)."""
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    section = text.split("## Metrics on the temporal holdout", 1)[-1].split("\n## ", 1)[0]
    out = {}
    for name, value in re.findall(r"^- (\w+): (\S+)$", section, flags=re.M):
        try:
            number = float(value)
        except ValueError:
            continue
        out[name] = (
            None if math.isnan(number) else int(number) if name.startswith("rows") else number
        )
    return out


def test_window(report: Path) -> str | None:
    """The test period as the validation report states it."""
    if not report.is_file():
        return None
    found = re.search(r"Test period ([^<]*?)\. ", html.unescape(report.read_text(encoding="utf-8")))
    return found.group(1) if found else None


def mlflow_record(home: Path) -> dict:
    """Validation-period MAE per model, the challenger, the gate's decision, the champion."""
    if not (home / "mlflow" / "mlflow.db").is_file():
        return {}
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(f"sqlite:///{home / 'mlflow' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return {}
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time"])
    validation_mae, decision = {}, None
    for run in runs:  # the latest run per model wins
        kind = run.data.tags.get("model_name")
        if kind:
            validation_mae[kind] = run.data.metrics.get("validation_mae_days")
        if "gate.decision" in run.data.tags:
            path = client.download_artifacts(run.info.run_id, "gate_decision.json")
            decision = json.loads(Path(path).read_text())
    try:
        mv = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION)
        champion = f"{mv.tags.get('model_name', '')} v{mv.version}"
    except MlflowException:
        champion = None
    return {"validation_mae_days": validation_mae, "decision": decision, "champion": champion}


def model_entry(name: str, home: Path, validation_mae: dict) -> dict:
    metrics = card_metrics(home / "reports" / "model_cards" / f"{name}.md")
    return {
        "model": name,
        "validation_mae_days": validation_mae.get(name),
        **{f"test_{k}": metrics.get(k) for k in SHOWN},
    }


def report(work: Path) -> dict:
    summary = import_dispensing(SMART / "refills.txt", work / "world", SMART / "meds.txt")
    home = work / "home"
    cmd = [sys.executable, "-m", "refill_assets.cli", "run", "--landing", str(summary.landing)]
    began = time.perf_counter()
    done = subprocess.run(
        cmd,
        env=run_env(home, summary.first_fill.isoformat()),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - began
    print(done.stdout, done.stderr[-3000:] if done.returncode else "", sep="\n", file=sys.stderr)
    error = next(
        (
            line.strip()[len("error: ") :]
            for line in done.stdout.splitlines()
            if "  error: " in line
        ),
        None,
    )
    failed_checks = [
        line.strip()
        for line in done.stdout.splitlines()
        if line.startswith(("    WARN ", "    ERROR"))
    ]
    tracked = mlflow_record(home)
    validation_mae = tracked.get("validation_mae_days", {})
    trained = {k: v for k, v in validation_mae.items() if k != "heuristic" and v is not None}
    best = min(trained, key=trained.get) if trained else None
    decision = tracked.get("decision") or {}
    return {
        "report": "smart_refills",
        "history_rows": summary.history_rows,
        "fills": summary.fills,
        "same_day_rows_merged": summary.same_day_rows_merged,
        "prescriptions": summary.prescriptions,
        "patients": summary.patients,
        "drugs": summary.drugs,
        "history_days": f"{summary.first_fill}..{summary.last_fill}",
        "delivery_days": summary.delivery_days,
        "run": "succeeded" if done.returncode == 0 else "failed",
        "run_seconds": round(seconds, 1),
        "error": error,
        "checks_failed": failed_checks,
        "models_trained": sorted(validation_mae),
        "heuristic": model_entry("heuristic", home, validation_mae) if validation_mae else None,
        "best_model": model_entry(best, home, validation_mae) if best else None,
        "others": [
            model_entry(k, home, validation_mae) for k in KINDS if k not in ("heuristic", best)
        ]
        if trained
        else [],
        "gate_promoted": decision.get("promoted"),
        "gate_reasons": decision.get("reasons"),
        "champion": tracked.get("champion"),
        "test_window": test_window(home / "reports" / "validation.html"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    args = parser.parse_args()
    if not SMART.is_dir():
        raise SystemExit(f"{SMART} is absent: the SMART history comes with ../shared")
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        args.keep.mkdir(parents=True)
        print(json.dumps(report(args.keep.resolve()), default=str))
        return
    with tempfile.TemporaryDirectory(prefix="report-smart-") as tmp:
        print(json.dumps(report(Path(tmp)), default=str))


if __name__ == "__main__":
    main()
