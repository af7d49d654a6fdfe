"""One night's monitoring, the call the Dagster asset makes: settle the outcomes, recompute
the days they changed in the daily performance, judge the served model, recompute the pilot
KPIs by arm, and write the monitoring report. (The night's drift is measured while the
scores are made: ``nightly_drift``.)

The model judged is the one that scored the latest day (the champion serving now), on its
own final days (``performance.pooled``), against its own test-period figures, which the
gate left on its MLflow version (``tracking.holdout_figures``). MLflow is asked only when
there is something to judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from refill_assets.models import tracking
from refill_assets.monitoring.economics import cost_by_period, unit_economics, write_economics
from refill_assets.monitoring.kpis import write_kpis
from refill_assets.monitoring.outcomes import Settled, settle
from refill_assets.monitoring.performance import (
    PERFORMANCE_TABLE,
    Finding,
    PerformancePolicy,
    findings,
    pooled,
    recompute_days,
)
from refill_assets.monitoring.report import Report, build_monitoring_report
from refill_assets.scoring.scores import SCORES_TABLE
from refill_assets.validation.champion import NIGHTLY_MAE


@dataclass(frozen=True)
class Monitored:
    settled: Settled
    recomputed: pl.DataFrame  # the performance rows of the days recomputed
    version: str | None  # the model version judged
    figures: dict | None  # its pooled final figures (None: not enough settled rows)
    findings: list[Finding]
    kpis: pl.DataFrame | None  # monitoring.pilot_kpis (None: no order delivered yet)
    response: pl.DataFrame | None  # monitoring.outreach_response
    economics: pl.DataFrame  # monitoring.unit_economics
    report: Report


def monitor(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    tracking_uri: str,
    artifacts: Path,
    policy: PerformancePolicy,
    report_path: Path,
    pending_costs: pl.DataFrame | None = None,
    margin_usd: float | None = None,
) -> Monitored:
    """``pending_costs``: the current run's estimates so far (``cost.estimates`` rows not
    recorded yet); ``margin_usd``: a refill's margin, for the benefit per cloud dollar."""
    settled = settle(con, start, end)
    recomputed = recompute_days(con, settled.days, settled.through, policy.maturity_days)
    latest = con.execute(
        f"SELECT model_version FROM {SCORES_TABLE} ORDER BY as_of_date DESC LIMIT 1"
    ).fetchone()
    version = latest[0] if latest else None
    figures = None
    if version is not None:
        performance = con.execute(
            f"SELECT * FROM {PERFORMANCE_TABLE} WHERE model_version = ?", [version]
        ).pl()
        figures = pooled(performance, version, policy)
    offline = None
    if figures is not None:
        held = tracking.holdout_figures(tracking_uri, artifacts, version)
        # the nights weigh long waits more than the snapshot's samples: compare like with like
        offline = held.get(NIGHTLY_MAE, held.get("mae_days"))
    kpis = response = None  # no order delivered yet: no outcome, no KPI
    costs = cost_by_period(con, pending_costs)
    if settled.through is not None:
        kpis, response = write_kpis(con, settled.through, costs)
    economics = unit_economics(costs, kpis, margin_usd)
    write_economics(con, economics)
    # the headline follows the latest version with settled refills (the report decides)
    report = build_monitoring_report(con, report_path, policy=policy)
    judged = findings(figures, offline, policy)
    return Monitored(
        settled, recomputed, version, figures, judged, kpis, response, economics, report
    )
