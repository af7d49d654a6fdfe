"""What a ``refill run`` did, gathered from its runs' events as they happen, and its summary.

The summary is what the terminal shows at the end: the delivery days, each asset's headline
figures, the landing zone reconciled, the expected data faults with their reasons, what the
steps warned of, the checks that failed, the retrain decision, the estimated cost, the
slowest steps and where to look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from refill_assets.cost.estimate import COST, ITEM, PREDICTIONS, money, unattributed
from refill_assets.defs.cost.meter import RATE
from refill_assets.defs.ingest.assets import QUARANTINED, RECONCILIATION_CHECK, REJECTED
from refill_assets.defs.resources import SETTINGS
from refill_assets.monitoring.retraining import RetrainDecision


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
    # the expected data faults per (run, asset): the files an ingestion step rejected
    # (file → why) and the rows it quarantined (reason → rows)
    rejected: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    quarantined: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    # what the steps logged at WARNING or above: (level, message) → the steps, in order
    messages: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    not_run: list[str] = field(default_factory=list)  # steps skipped: an upstream one failed

    def record(self, run_id: str, event: dg.DagsterEvent) -> None:
        """One event of run ``run_id``, as the instance stores it."""
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            asset = mat.asset_key.to_user_string()
            meta = self.materialized[asset] = {k: v.value for k, v in mat.metadata.items()}
            # keyed by (run, asset): a backfill repeats its figures on each partition
            if COST in meta:
                key = (run_id, asset)
                self.costs[key] = meta[COST]
                self.compute_usd[key] = meta.get(f"{ITEM}compute", 0.0)
                self.predictions[key] = int(meta.get(PREDICTIONS, 0))
            if REJECTED in meta:
                self.rejected[(run_id, asset)] = meta[REJECTED]
                self.quarantined[(run_id, asset)] = meta[QUARANTINED]
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            ev = event.event_specific_data
            if ev.check_name == RECONCILIATION_CHECK and "reconciliation" in ev.metadata:
                self.files.update(ev.metadata["reconciliation"].value)
            self.checks.append(
                (
                    ev.asset_key.to_user_string(),
                    ev.check_name,
                    ev.passed,
                    ev.severity.value,
                    ev.description or "",
                )
            )
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            self.step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            while error.cause is not None:  # the step's own exception, not Dagster's wrapper
                error = error.cause
            # one line (a blocking check's names are on the message's second), kept short
            message = " ".join(error.message.split())
            message = message if len(message) <= 240 else f"{message[:240]}…"
            self.error = f"step {event.step_key} failed: {message}"

    def record_message(self, step: str | None, level: str, message: str) -> None:
        steps = self.messages.setdefault((level, message), [])
        if step and step not in steps:
            steps.append(step)

    def faults(
        self, run_id: str | None = None, step_assets: set[str] | None = None
    ) -> tuple[int, int]:
        """(files rejected, rows quarantined) of the command, or of one run's assets."""
        keys = [
            key
            for key in self.rejected
            if (run_id is None or key[0] == run_id)
            and (step_assets is None or key[1] in step_assets)
        ]
        files = sum(len(self.rejected[key]) for key in keys)
        return files, sum(sum(self.quarantined[key].values()) for key in keys)

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
        if self.not_run:
            lines.append(f"  steps not run (an upstream step failed): {', '.join(self.not_run)}")
        lines += self._fault_lines() + self._message_lines()
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

    def _fault_lines(self) -> list[str]:
        files, rows = self.faults()
        if not files and not rows:
            return []
        lines = [
            f"  data faults: {files} file(s) rejected, {rows} row(s) quarantined — the run went"
            " on without them (raw.files, quarantine.rows)"
        ]
        for rejected in self.rejected.values():
            for name, why in rejected.items():
                lines.append(f"    rejected {name}: {why.removeprefix(f'{name}: ')}")
        for (_, asset), reasons in self.quarantined.items():
            if reasons:
                each = "; ".join(f"{reason} ×{n}" for reason, n in reasons.items())
                lines.append(f"    quarantined {asset} {sum(reasons.values())}: {each}")
        return lines

    def _message_lines(self) -> list[str]:
        if not self.messages:
            return []
        lines = ["  warnings and errors the steps logged:"]
        for (level, message), steps in self.messages.items():
            lines.append(f"    {level} {message}" + (f" ({', '.join(steps)})" if steps else ""))
        return lines

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
