"""The expectation suites of a dataset as two asset checks (``refill_assets.quality``).

``quality_blocking`` fails when a critical expectation fails, and nothing downstream of the
dataset runs; ``quality_warnings`` fails when a warning one does, for a person to look.
Their metadata names each failing expectation with its days and a sample of bad values
(never PII), and links the Data Docs pages of the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:  # the verdicts come from GX, which only the validating steps load
    from datetime import date

    import duckdb
    import pandas as pd

    from refill_assets.quality.verdict import Verdict
    from refill_assets.storage.layout import Layout

BLOCKING, WARNINGS = "quality_blocking", "quality_warnings"
_SEVERITY = {BLOCKING: "critical", WARNINGS: "warning"}


def specs(key: dg.AssetKey, promise: str, blocking: bool = True) -> list[dg.AssetCheckSpec]:
    """The checks of ``key``, whose suites check ``promise``; ``blocking`` False for suites
    without a critical expectation (only the warnings check)."""
    found = [
        dg.AssetCheckSpec(
            WARNINGS,
            asset=key,
            description=f"Warning expectations (GX): {promise}.",
        )
    ]
    if blocking:
        found.append(
            dg.AssetCheckSpec(
                BLOCKING,
                asset=key,
                blocking=True,
                description=f"Critical expectations (GX): {promise}. Blocks what depends on it.",
            )
        )
    return found


def validate_window(
    context: dg.AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    layout: Layout,
    dataset: str,
    start: date,
    end: date,
    frame: pd.DataFrame | None = None,
) -> list[Verdict]:
    """The suite of promised output ``dataset`` on the run's window [start, end]."""
    # GX takes a second and a half to import: only the steps that validate load it
    from refill_assets.quality import validate

    days = validate.days_between(start, end)
    name = run_name(context.run_id, f"{start}…{end}")
    return validate.output(con, layout, dataset, days, name, frame=frame)


def run_name(run_id: str, window: str) -> str:
    """How the Data Docs name a validation: the window judged and the Dagster run."""
    return f"{window} run {run_id[:8]}"


def results(
    key: dg.AssetKey, verdicts: list[Verdict], blocking: bool = True
) -> Iterator[dg.AssetCheckResult]:
    pages = {v.suite: v.page for v in verdicts if v.page}
    days = max((v.scorecard["day"].n_unique() for v in verdicts), default=0)
    for check, severity in _SEVERITY.items():
        if check == BLOCKING and not blocking:
            continue
        failed = [f for v in verdicts for f in v.failed(severity)]
        rules = ", ".join(f"{f.rule} ({len(f.days)} day(s))" for f in failed[:8])
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=check,
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR
            if check == BLOCKING
            else dg.AssetCheckSeverity.WARN,
            description=f"{len(failed)} {severity} expectation(s) failed: {rules}"
            if failed
            else f"every {severity} expectation holds on {days} day(s)",
            metadata={
                "failed": dg.MetadataValue.json([f.as_metadata() for f in failed]),
                "docs": dg.MetadataValue.json(pages),
                "look_at": next(iter(pages.values()), "") if failed else "",
            },
        )
