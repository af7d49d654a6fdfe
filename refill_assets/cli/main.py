"""``refill``: simulate a pharmacy world, and build the whole asset graph in one run.

refill simulate --out DIR [--pets N] [--start DATE] [--end DATE] [--seed S] [--family]
    [--shift-from DATE [--shift-transit-days N] [--shift-lateness F]]
refill run [--landing URI] [--home DIR] [--as-of DATE] [--since DATE] [--skip-training]
    [--retrain] [--run-config YAML]
refill import-dispensing --history FILE [--drugs FILE] --out DIR [--columns K=NAME,...]
    [--drug-columns K=NAME,...] [--species dog|cat]
refill package-champion --out FILE [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

import yaml


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="refill", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(required=True)
    s = sub.add_parser("simulate", help="write a simulated landing zone and its ground truth")
    s.add_argument("--out", type=Path, required=True, help="writes OUT/landing and OUT/truth")
    s.add_argument("--pets", type=int, default=2000)
    s.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    s.add_argument("--end", type=date.fromisoformat, default=date(2025, 4, 30))
    s.add_argument("--seed", type=int, default=7)
    s.add_argument(
        "--family",
        action="store_true",
        help="draw the latent process from its documented ranges, per seed"
        " (refill_simulator/process.py; written to OUT/truth/process.json)",
    )
    s.add_argument(
        "--shift-from",
        type=date.fromisoformat,
        metavar="DATE",
        help="shift the latent process from this day on: carriers slower, late owners later"
        " (refill_simulator/shift.py; recorded in OUT/truth/process.json)",
    )
    # no defaults here: Shift's are the only ones (this module imports no simulator code)
    s.add_argument(
        "--shift-transit-days",
        type=int,
        metavar="N",
        help="with --shift-from: days carriers add to every shipment shipped from then on"
        " (default: refill_simulator/shift.py)",
    )
    s.add_argument(
        "--shift-lateness",
        type=float,
        metavar="F",
        help="with --shift-from: factor on a refill ratio's excess over 1 from then on"
        " (default: refill_simulator/shift.py)",
    )
    s.set_defaults(func=_simulate)
    r = sub.add_parser("run", help="materialize every asset for each delivery day up to --as-of")
    r.add_argument("--landing", help="landing zone folder or s3:// URI (REFILL_LANDING_URI)")
    r.add_argument("--home", type=Path, help="platform home (REFILL_HOME)")
    r.add_argument("--as-of", type=date.fromisoformat, help="last delivery day (default: latest)")
    r.add_argument(
        "--since",
        type=date.fromisoformat,
        help="first delivery day (default: the earliest); --since D --as-of D is one night",
    )
    r.add_argument(
        "--skip-training",
        action="store_true",
        help="the curated warehouse only: no features, models or scores",
    )
    r.add_argument(
        "--retrain",
        action="store_true",
        help="with --since: after the night, train every model again, run the gate and score"
        " the last day with the champion it leaves",
    )
    r.add_argument(
        "--run-config",
        type=Path,
        metavar="YAML",
        help="Dagster run config (ops: <op>: config: ...), e.g. the monitoring's thresholds;"
        " each job takes the ops it runs",
    )
    r.set_defaults(func=_run)
    i = sub.add_parser(
        "import-dispensing",
        help="turn a dispensing history (patient, drug, fill date, quantity, days' supply)"
        " into a landing zone",
    )
    i.add_argument("--history", type=Path, required=True, help="tab- or comma-separated fills")
    i.add_argument("--drugs", type=Path, help="drug table with the drugs' names (optional)")
    i.add_argument("--out", type=Path, required=True, help="writes OUT/landing only")
    i.add_argument(
        "--columns",
        type=_mapping,
        default={},
        help="history headers, e.g. patient=PID,drug=RXN,fill_date=DATE,quantity=Q,days_supply=DAYS"
        " (these are the defaults)",
    )
    i.add_argument(
        "--drug-columns",
        type=_mapping,
        default={},
        help="drug table headers, e.g. drug=RxNorm,name=Name (the defaults)",
    )
    i.add_argument(
        "--species",
        default="dog",
        help="the species written for every patient (dog or cat: the platform models only these)",
    )
    i.set_defaults(func=_import_dispensing)
    k = sub.add_parser(
        "package-champion",
        help="the champion's serving bundle as SageMaker's model.tar.gz (deploy/README.md)",
    )
    k.add_argument("--out", type=Path, required=True, help="the model.tar.gz to write")
    k.add_argument("--home", type=Path, help="platform home (REFILL_HOME)")
    k.set_defaults(func=_package_champion)
    return p


def _mapping(text: str) -> dict[str, str]:
    pairs = [part.split("=", 1) for part in text.split(",") if part.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise argparse.ArgumentTypeError(f"expected KEY=HEADER[,KEY=HEADER…], got {text!r}")
    return {key.strip(): header.strip() for key, header in pairs}


def _simulate(args: argparse.Namespace) -> int:
    from refill_assets.cli.progress import Progress
    from refill_simulator import Shift, simulate

    given = {"transit_extra_days": args.shift_transit_days, "lateness_factor": args.shift_lateness}
    given = {name: value for name, value in given.items() if value is not None}
    if given and args.shift_from is None:
        print(
            "refill simulate: --shift-transit-days and --shift-lateness need --shift-from",
            file=sys.stderr,
        )
        return 2
    shift = None if args.shift_from is None else Shift(args.shift_from, **given)
    # where it is on stderr (the first seconds of `make demo`); stdout is the summary's JSON
    with Progress(sys.stderr) as progress:
        progress.stage("refill simulate", 1)
        with progress.step(f"{args.pets} pets, {args.start} … {args.end}, into {args.out}"):
            summary = simulate(
                args.out,
                pets=args.pets,
                start=args.start,
                end=args.end,
                seed=args.seed,
                family=args.family,
                shift=shift,
            )
    print(json.dumps(summary.as_dict(), indent=2, default=str))
    return 0


def _import_dispensing(args: argparse.Namespace) -> int:
    from refill_assets.imports.dispensing import (
        DispensingHistoryError,
        DrugColumns,
        HistoryColumns,
        import_dispensing,
    )

    try:
        columns = HistoryColumns(**args.columns)
        drug_columns = DrugColumns(**args.drug_columns)
    except TypeError as e:  # a key that is not a field
        print(f"refill import-dispensing: unknown column key: {e}", file=sys.stderr)
        return 2
    try:
        summary = import_dispensing(
            args.history,
            args.out,
            args.drugs,
            columns=columns,
            drug_columns=drug_columns,
            species=args.species,
        )
    except DispensingHistoryError as e:
        print(f"refill import-dispensing: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary.as_dict(), indent=2, default=str))
    return 0


def _package_champion(args: argparse.Namespace) -> int:
    if args.home:
        os.environ["REFILL_HOME"] = str(args.home.resolve())
    import tempfile

    from refill_assets import settings
    from refill_assets.models import tracking
    from refill_assets.models.bundle import package_logged

    found = settings.load()
    uri, artifacts = found.mlflow_tracking_uri, found.layout.mlflow_artifacts
    champion = tracking.champion(uri, artifacts)
    if champion is None:
        print("no champion in MLflow yet: run `refill run` first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        bundle = package_logged(uri, artifacts, champion, Path(scratch), args.out)
    if bundle is None:
        print(
            f"champion {champion.model_name} v{champion.version} has no ONNX export: only"
            " the GBMs (lightgbm, xgboost_aft) are served",
            file=sys.stderr,
        )
        return 1
    print(f"{args.out}: {champion.model_name} v{champion.version}")
    return 0


def _run(args: argparse.Namespace) -> int:
    # settings are read when the definitions are imported: set the environment first
    if args.home:
        os.environ["REFILL_HOME"] = str(args.home.resolve())
    if args.landing:
        os.environ["REFILL_LANDING_URI"] = args.landing
    # the runs this process creates plan one event per asset, not one per partition, and
    # write a step's materializations of many days in one statement where the storage can
    # (PostgreSQL); the Makefile sets the same for the UI (docs/architecture.md, "Bookkeeping")
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")
    if args.retrain and (args.since is None or args.skip_training):
        print("refill run: --retrain needs --since (a history run trains anyway) and training")
        return 2
    run_config = yaml.safe_load(args.run_config.read_text()) if args.run_config else None
    # MLflow's artifact downloads draw a progress bar of their own
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from refill_assets import settings
    from refill_assets.cli.progress import Progress
    from refill_assets.cli.run import run_all
    from refill_assets.cli.terminal import steps_write_to

    # the terminal gets the progress and the summary; what the steps write (dbt's log,
    # MLflow's, the libraries') goes to a file
    logs = settings.load().layout.run_logs
    logs.mkdir(parents=True, exist_ok=True)
    # the pid keeps two runs started in the same second from truncating each other's log
    log = logs / f"run-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    started = time.monotonic()
    with steps_write_to(log) as screen, Progress(screen) as progress:
        outcome = run_all(
            as_of=args.as_of,
            since=args.since,
            training=not args.skip_training,
            retrain=args.retrain,
            run_config=run_config,
            progress=progress,
        )
    print(outcome.render(seconds=time.monotonic() - started))
    print(f"    step output:           {log}")
    return 0 if outcome.success else 1
