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
``make ui`` shows it), else into a throwaway one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.cost.estimate import COST, ITEM, PREDICTIONS, money, unattributed
from refill_assets.definitions import defs
from refill_assets.defs.automation.jobs import SCORES
from refill_assets.defs.automation.retrain import retrain_decision
from refill_assets.defs.cost.meter import RATE
from refill_assets.defs.ingest.assets import RECONCILIATION_CHECK
from refill_assets.defs.partitions import START
from refill_assets.defs.resources import SETTINGS, build_resources
from refill_assets.monitoring.retraining import RetrainDecision

# the Dagster instance on PostgreSQL (instance/postgres/dagster.yaml), and its URL's scheme
PG_URL, PG_SCHEME = "REFILL_DAGSTER_PG_URL", "postgresql+psycopg2://"


@dataclass
class RunOutcome:
    success: bool
    start: date | None
    end: date | None
    materialized: dict[str, dict] = field(default_factory=dict)  # asset → metadata
    checks: list[tuple[str, str, bool, str, str]] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    # the landing zone's reconciliation per extract (files_reconciled checks' metadata)
    files: dict[str, dict] = field(default_factory=dict)
    retrain: RetrainDecision | None = None  # after a night: did the monitoring ask for one
    # estimated cost per (run, asset): a backfill repeats its figure on every partition
    costs: dict[tuple[str, str], float] = field(default_factory=dict)
    compute_usd: dict[tuple[str, str], float] = field(default_factory=dict)
    run_seconds: dict[str, float] = field(default_factory=dict)  # each run's wall time
    predictions: dict[tuple[str, str], int] = field(default_factory=dict)

    def render(self, seconds: float) -> str:
        lines = [f"refill run: {'succeeded' if self.success else 'FAILED'} in {seconds:.1f} s"]
        if self.error:
            lines.append(f"  error: {self.error}")
        if self.start is None:  # refused, or nothing to run: nothing else to say
            return "\n".join(lines)
        lines.append(f"  delivery days {self.start} … {self.end}")
        lines.append(f"  assets materialized: {len(self.materialized)}")
        groups: dict[str, int] = {}
        for key, meta in self.materialized.items():
            shown = {k: meta[k] for k in _SUMMARY_FIELDS if k in meta}
            if shown:
                lines.append(f"    {key:<32} {_fmt(shown)}")
            else:
                groups[key.split("/")[0]] = groups.get(key.split("/")[0], 0) + 1
        if groups:
            lines.append(f"    dbt models: {_fmt(groups)}")
        if self.files:
            lines.append("  landing zone files: seen = loaded + duplicate + rejected + skipped")
            lines += [f"    {name:<32} {_files(c)}" for name, c in sorted(self.files.items())]
        failed = [c for c in self.checks if not c[2]]
        lines.append(f"  checks: {len(self.checks) - len(failed)} passed, {len(failed)} failed")
        # one line per failure; the same failure of several assets (a file of no extract
        # fails every extract's files_reconciled) on one line
        same: dict[tuple[str, str, str], list[str]] = {}
        for asset, name, _, severity, desc in failed:
            same.setdefault((name, severity, desc), []).append(asset)
        for (name, severity, desc), assets in same.items():
            also = f" (also {', '.join(assets[1:])})" if len(assets) > 1 else ""
            lines.append(f"    {severity:<5} {assets[0]}:{name}{also} — {desc}")
        if self.retrain is not None:
            asked = "requested by the monitoring" if self.retrain.request else "not requested"
            lines.append(f"  retrain: {asked} — {self.retrain.reason}")
        lines += self._cost_lines()
        slowest = sorted(self.step_seconds.items(), key=lambda kv: -kv[1])[:5]
        lines.append("  slowest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
        lines += [
            "  where to look:",
            f"    warehouse (pipeline):  {SETTINGS.layout.warehouse}",
            f"    published (analysts):  {SETTINGS.layout.published}",
            f"    reports:               {SETTINGS.layout.reports}",
            f"    quality dashboard:     {SETTINGS.layout.quality_docs / 'index.html'}",
            f"    outreach export (CRM): {SETTINGS.export_uri}",
            "    UI:                    make ui  (then http://127.0.0.1:3000)",
        ]
        return "\n".join(lines)

    def _cost_lines(self) -> list[str]:
        if not self.costs:
            return []
        assets = sum(self.costs.values())
        rest = 0.0  # each run's time no step accounts for: its task is billed for all of it
        for run, seconds in self.run_seconds.items():
            attributed = sum(usd for (r, _), usd in self.compute_usd.items() if r == run)
            rest += unattributed(seconds, attributed, RATE)
        total, wall = assets + rest, sum(self.run_seconds.values())
        by_asset: dict[str, float] = {}
        for (_, asset), usd in self.costs.items():
            by_asset[asset] = by_asset.get(asset, 0.0) + usd
        top = sorted(by_asset.items(), key=lambda kv: -kv[1])[:3]
        lines = [
            f"  estimated cost: ${money(total)} for {len(self.run_seconds)} run(s), "
            f"{wall:.0f} s at "
            f"${money(RATE.usd_per_hour)}/h ({RATE.basis}): assets ${money(assets)}, the rest of "
            f"the runs' time (Dagster's bookkeeping, dbt's start-up) ${money(rest)}",
            "    most: " + ", ".join(f"{asset} ${money(usd, 2)}" for asset, usd in top),
        ]
        if predictions := sum(self.predictions.values()):
            lines.append(
                f"  cost per 1,000 predictions: ${money(total / predictions * 1000)} "
                f"({predictions} predictions; the command's whole estimate)"
            )
        return lines


# the metadata worth a line in the terminal; the UI shows the rest
_SUMMARY_FIELDS = (
    "rows_loaded",
    "rows_quarantined",
    "files_duplicate",
    "size_mb",
    "fills",
    "gap_ratio_median",
    "report",
    "path",
    "rows",
    "owners",
    "validation_mae_days",
    "champion",
    "promoted",
    "model",
    "control_rows",
    "through",
    "final_days",
    "live_mae_days",
    "live_heuristic_mae_days",
    # the monitoring report's headline: the served version's live figures
    "nights_monitored",
    "final_nights",
    "mae_days_settled",
    "mae_ratio_settled",
    "mae_ratio_final",
    "coverage_settled",
    "late_share_settled",
    "drifted_share",
    "capture_in_window_difference",
)


def _fmt(meta: dict) -> str:
    return ", ".join(f"{k}={round(v, 3) if isinstance(v, float) else v}" for k, v in meta.items())


def _files(c: dict) -> str:
    line = f"{c['seen']} = {c['loaded']} + {c['duplicate']} + {c['rejected']} + {c['skipped']}"
    if c.get("skipped_reasons"):
        line += f"  (skipped: {_fmt(c['skipped_reasons'])})"
    return line


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
) -> RunOutcome:
    window = delivery_window(as_of, since)
    if isinstance(window, str):
        return RunOutcome(False, None, None, error=window)
    start, end = window
    url = os.environ.get(PG_URL, "")
    if url and not url.startswith(PG_SCHEME):
        # dagster-postgres speaks psycopg2; SQLAlchemy 2.1 hands a plain postgresql:// URL to
        # psycopg 3, which fails at the first run event (NOTIFY), far from the cause
        return RunOutcome(False, None, None, error=f"{PG_URL} must start with {PG_SCHEME}")
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
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
        run_id = _execute(job_name, first, last, instance, outcome, without, run_config)
        if not outcome.success:
            break
    if outcome.success and runs[-1][0] == "nightly" and training:
        _retrain_if_asked(instance, outcome, run_id, end, run_config)
    return outcome


def _retrain_if_asked(instance, outcome: RunOutcome, night_run_id: str, end: date, run_config):
    """What the retrain sensor does after a night (no daemon here): when the champion's
    performance or drift checks failed and no retrain was requested in the cooldown, train
    again (the gate decides) and score the last day with the champion it leaves."""
    failed = [(a, c, d) for a, c, passed, _, d in outcome.checks if not passed]
    decision = outcome.retrain = retrain_decision(instance, failed)
    if decision.request:
        tags = decision.tags(night_run_id)
        _execute("retrain", end, end, instance, outcome, None, run_config, tags)
        if outcome.success:
            _execute("score", end, end, instance, outcome, None, run_config)


def _execute(
    job_name: str,
    start: date,
    end: date,
    instance,
    outcome: RunOutcome,
    without: dg.AssetSelection | None,
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """Run ``job_name`` over ``start``..``end`` into ``outcome``; returns the run's id."""
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
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    started = time.perf_counter()
    result = job.execute_in_process(
        run_config=quiet | _ops_of(job, run_config),
        instance=instance,
        tags=tags,
        raise_on_error=False,
        asset_selection=selected,
    )
    outcome.success = outcome.success and result.success
    outcome.run_seconds[result.run_id] = time.perf_counter() - started
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            asset = mat.asset_key.to_user_string()
            meta = outcome.materialized[asset] = {k: v.value for k, v in mat.metadata.items()}
            if COST in meta:  # keyed by (run, asset): a backfill repeats it on each partition
                key = (result.run_id, asset)
                outcome.costs[key] = meta[COST]
                outcome.compute_usd[key] = meta.get(f"{ITEM}compute", 0.0)
                outcome.predictions[key] = int(meta.get(PREDICTIONS, 0))
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            ev = event.event_specific_data
            if ev.check_name == RECONCILIATION_CHECK and "reconciliation" in ev.metadata:
                outcome.files.update(ev.metadata["reconciliation"].value)
            outcome.checks.append(
                (
                    ev.asset_key.to_user_string(),
                    ev.check_name,
                    ev.passed,
                    ev.severity.value,
                    ev.description or "",
                )
            )
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            outcome.step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            while error.cause is not None:  # the step's own exception, not Dagster's wrapper
                error = error.cause
            message = error.message.strip().splitlines()[0]
            outcome.error = f"step {event.step_key} failed: {message}"
    return result.run_id


def _ops_of(job: dg.JobDefinition, run_config: dict | None) -> dict:
    """The part of a user's run config (``refill run --run-config``) that ``job`` has: one
    file configures every job a run starts, each taking the ops it runs."""
    ops = (run_config or {}).get("ops", {})
    mine = {name: c for name, c in ops.items() if job.graph.has_node_named(name)}
    return {"ops": mine} if mine else {}
