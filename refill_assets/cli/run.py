"""Run the graph for the delivery days up to a date, as Dagster runs.

History (no ``since``): job ``refill_all`` over every day in one single-run
backfill, then job ``score`` for the last day. A night (``since``): job
``nightly`` over ``since`` … ``as_of``. Without training, the warehouse only:
job ``curate`` over the history, or a night's ``nightly`` without its scores.
``retrain`` with a night: the night's warehouse, then job ``retrain`` (snapshot,
models, the gate) and the last day's scores from the champion it leaves. A night with
training follows the retrain sensor's rule (``monitoring.retraining``): when the champion's
performance or drift checks failed, ``retrain`` and the last day's scores follow by themselves.

The history starts at the first partition (``defs.partitions.START``: the landing zone's
first delivery day unless REFILL_PARTITIONS_START is set); a landing zone with deliveries
before it is refused and nothing runs. The summary reconciles the landing zone per extract
(the ingestion checks ``files_reconciled``).

The run goes into the Dagster instance at ``DAGSTER_HOME`` when it is set (so
``make ui`` shows it), else into a throwaway one for the command. Each run is followed as
it goes (``cli.follow``): its events fill the outcome and move the progress display.
"""

from __future__ import annotations

import io
import os
import time
from datetime import date

import dagster as dg

from refill_assets.cli.follow import execute
from refill_assets.cli.outcome import RunOutcome
from refill_assets.cli.progress import Progress
from refill_assets.contract.extracts import EXTRACTS
from refill_assets.definitions import defs
from refill_assets.defs.automation.jobs import SCORES
from refill_assets.defs.automation.retrain import retrain_decision
from refill_assets.defs.partitions import START
from refill_assets.defs.resources import SETTINGS, build_resources

# the Dagster instance on PostgreSQL (instance/postgres/dagster.yaml), and its URL's scheme
PG_URL, PG_SCHEME = "REFILL_DAGSTER_PG_URL", "postgresql+psycopg2://"


def delivery_window(as_of: date | None, since: date | None) -> tuple[date, date] | str:
    """``since`` or the first delivery day through ``as_of`` or the last delivery day; or why
    there is nothing to run. A landing zone with deliveries before the first partition is
    refused (``PartitionStart.left_behind``) rather than loaded in part."""
    landing = build_resources()["landing"].landing()
    days = landing.delivery_days(EXTRACTS)
    behind = START.left_behind(days[0] if days else None)
    if behind is not None:
        return f"refused, nothing was run: {behind}"
    days = [d for d in days if as_of is None or d <= as_of]
    if not days:
        return f"no deliveries found in {SETTINGS.landing_uri} on or after {START.day}"
    return max(since or days[0], START.day), as_of or days[-1]


def run_all(
    as_of: date | None = None,
    since: date | None = None,
    training: bool = True,
    retrain: bool = False,
    run_config: dict | None = None,
    progress: Progress | None = None,
) -> RunOutcome:
    """The command's runs (module doc) into one outcome; ``progress`` shows them as they go
    (a plain one on a stream to nowhere when not given)."""
    progress = progress or Progress(io.StringIO(), live=False)
    window = delivery_window(as_of, since)
    if isinstance(window, str):
        return RunOutcome(False, None, None, error=window)
    start, end = window
    url = os.environ.get(PG_URL, "")
    if url and not url.startswith(PG_SCHEME):
        # dagster-postgres speaks psycopg2; SQLAlchemy 2.1 hands a plain postgresql:// URL to
        # psycopg 3, which fails at the first run event (NOTIFY), far from the cause
        return RunOutcome(False, None, None, error=f"{PG_URL} must start with {PG_SCHEME}")
    # one throwaway instance for the command's runs when there is no DAGSTER_HOME
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    instance = instance or dg.DagsterInstance.ephemeral()
    if not training and since is None:  # the warehouse only: no features, models or scores
        runs = [("curate", start, end, None)]
    elif not training:  # a night of the warehouse only
        runs = [("nightly", start, end, SCORES)]
    elif since is None:  # history: everything over the range, then the last day's scores
        runs = [("refill_all", start, end, None), ("score", end, end, None)]
    elif retrain:  # a night, then the models trained again and the last day scored
        runs = [("nightly", start, end, SCORES), ("retrain", end, end, None)]
        runs.append(("score", end, end, None))
    else:  # one night (or a few): the nightly job, scores with the current champion
        runs = [("nightly", start, end, None)]
    outcome = RunOutcome(True, start, end)
    for job_name, first, last, without in runs:
        run_id = _execute(job_name, first, last, instance, outcome, progress, without, run_config)
        if not outcome.success:
            break
    if outcome.success and runs[-1][0] == "nightly" and training:
        _retrain_if_asked(instance, outcome, progress, run_id, end, run_config)
    return outcome


def _retrain_if_asked(
    instance, outcome: RunOutcome, progress: Progress, night_run_id: str, end: date, run_config
):
    """What the retrain sensor does after a night (no daemon here): when the champion's
    performance or drift checks failed and no retrain was requested in the cooldown, train
    again (the gate decides) and score the last day with the champion it leaves."""
    failed = [(a, c, d) for a, c, passed, _, d in outcome.checks if not passed]
    decision = outcome.retrain = retrain_decision(instance, failed)
    if decision.request:
        tags = decision.tags(night_run_id)
        _execute("retrain", end, end, instance, outcome, progress, None, run_config, tags)
        if outcome.success:
            _execute("score", end, end, instance, outcome, progress, None, run_config)


def _execute(
    job_name: str,
    start: date,
    end: date,
    instance: dg.DagsterInstance,
    outcome: RunOutcome,
    progress: Progress,
    without: dg.AssetSelection | None,
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """Run ``job_name`` over ``start``..``end`` into ``outcome``, followed event by event on
    ``progress``; returns the run's id."""
    job = defs.resolve_job_def(job_name)
    selected = None
    if without is not None:
        graph = defs.resolve_asset_graph()
        dropped = without.resolve(graph)
        selected = [key for key in job.asset_layer.selected_asset_keys if key not in dropped]
    tags = {
        **(tags or {}),
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }
    days = f"{start} … {end}" if start != end else f"{start}"
    started = time.perf_counter()
    result = execute(
        job,
        instance,
        f"{job_name} {days}",
        outcome,
        progress,
        _ops_of(job, run_config),
        tags=tags,
        asset_selection=selected,
    )
    outcome.success = outcome.success and result.success
    outcome.run_seconds[result.run_id] = time.perf_counter() - started
    return result.run_id


def _ops_of(job: dg.JobDefinition, run_config: dict | None) -> dict:
    """The part of a user's run config (``refill run --run-config``) that ``job`` has: one
    file configures every job a run starts, each taking the ops it runs."""
    ops = (run_config or {}).get("ops", {})
    mine = {name: c for name, c in ops.items() if job.graph.has_node_named(name)}
    return {"ops": mine} if mine else {}
