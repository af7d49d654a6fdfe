"""Validating a dataset: read its frames, run its suites, keep the results.

What the wiring calls. Each call runs the dataset's suites on the run's whole window at
once and records their days in ``quality.scorecard`` (the connection must be writable);
``publish`` (the publish step, once a run) renders the run's Data Docs pages and the
dashboard.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from refill_assets.quality import dashboard, frames, outputs, profile, scorecard, suites, verdict
from refill_assets.quality.datasets import DAY_COLUMN
from refill_assets.quality.gx_run import QualityProject
from refill_assets.storage.layout import Layout

GX_DOCS = "gx"  # GX's Data Docs site, under the dashboard's folder


@cache
def _project(store: Path, docs: Path) -> QualityProject:
    return QualityProject(store, docs)


def project(layout: Layout) -> QualityProject:
    """The home's GX project, built once per process."""
    return _project(layout.quality_store, layout.quality_docs / GX_DOCS)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def extract(
    con: duckdb.DuckDBPyConnection,
    layout: Layout,
    name: str,
    start: date,
    end: date,
    run_name: str,
) -> list[verdict.Verdict]:
    """The accepted rows and the delivery days of extract ``name`` over [start, end]."""
    gx = project(layout)
    by_rows = suites.extract_rows(name)
    rows = frames.read(
        con,
        f"raw.{name}",
        [*suites.columns_of(by_rows), "_dt"],
        "_dt BETWEEN $s AND $e",
        {"s": start, "e": end},
        suites.presence_only(name),
    )
    days = profile.extract_days(con, name, start, end)
    dataset = f"raw.{name}"
    runs = [
        (
            gx.validate(by_rows, rows, run_name, ["_dt"]),
            rows,
            "_dt",
            days_between(start, end),
        ),
        (gx.validate(suites.extract_days(name), days, run_name, ["day"]), days, "day", None),
    ]
    return _keep(con, layout, dataset, runs)


def output(
    con: duckdb.DuckDBPyConnection,
    layout: Layout,
    dataset: str,
    days: list[date] | None,
    run_name: str,
    frame: pd.DataFrame | None = None,
) -> list[verdict.Verdict]:
    """The rows of promised output ``dataset`` (``datasets.DAY_COLUMN``) on ``days`` (None: all
    of them): read from the warehouse, or ``frame`` for one that is not a table (the
    outreach export)."""
    gx = project(layout)
    day = DAY_COLUMN[dataset]
    suite = outputs.suite(dataset)
    if frame is None:
        frame = frames.read(
            con,
            dataset,
            list(dict.fromkeys([*suites.columns_of(suite), day])),
            f'$all OR "{day}" IN (SELECT unnest($days::DATE[]))',
            {"all": days is None, "days": days or []},
        )
    if days is None:
        days = sorted({verdict.as_date(v) for v in frame[day].dropna()})
    result = gx.validate(suite, frame, run_name, [day])
    return _keep(con, layout, dataset, [(result, frame, day, days)])


def _keep(con, layout: Layout, dataset: str, runs) -> list[verdict.Verdict]:
    """Scorecard rows of a dataset's validations. Their Data Docs pages and the dashboard are
    made once a run (``publish``), but for a critical failure: it stops the run before."""
    gx = project(layout)
    verdicts = [
        verdict.read(result, frame, dataset, index, days, str(gx.page(result)))
        for result, frame, index, days in runs
    ]
    scorecard.record(con, verdicts)
    if any(v.failed(suites.CRITICAL) for v in verdicts):  # the run stops here: show it now
        publish(con, layout)
    return verdicts


def write_dashboard(con: duckdb.DuckDBPyConnection, layout: Layout) -> Path | None:
    """The dashboard, once a run; None before any validation."""
    return dashboard.write(con, layout.quality_docs) if scorecard.exists(con) else None


def build_docs(layout: Layout) -> Path:
    """The Data Docs pages still missing (this run's, or those of a run a blocking check
    stopped) and GX's index, once a run."""
    return project(layout).build_docs()


def publish(con: duckdb.DuckDBPyConnection, layout: Layout) -> Path | None:
    """The run's quality pages: the GX Data Docs and the dashboard linking them."""
    build_docs(layout)
    return write_dashboard(con, layout)
