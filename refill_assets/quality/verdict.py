"""A suite's validation result, read for people: what failed, on which days, with what.

``Verdict`` holds the failing expectations by severity (the asset checks' pass or fail and
their metadata) and one scorecard row per day of the window and expectation (the
``quality.scorecard`` table). Sample values never come from a PII column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import pandas as pd
import polars as pl
from great_expectations.core import ExpectationSuiteValidationResult

from refill_assets.contract.extracts import PII_COLUMNS
from refill_assets.contract.raw_tables import RAW_TABLES

SAMPLE_SIZE = 5
PRIVATE = {c for cols in PII_COLUMNS.values() for c in cols} | {
    c for table in RAW_TABLES.values() for c in table if c.endswith("_hash")
}
SCORECARD_SCHEMA = {
    "day": pl.Date,
    "dataset": pl.Utf8,
    "suite": pl.Utf8,
    "expectation": pl.Utf8,
    "severity": pl.Utf8,
    "success": pl.Boolean,
    "observed_value": pl.Float64,
    "page": pl.Utf8,  # the validation's GX Data Docs page
}

CARD_COLUMNS = ("day", "expectation", "severity", "success", "observed_value")


@dataclass(frozen=True)
class Failure:
    rule: str
    severity: str  # critical | warning
    days: tuple[str, ...]
    unexpected: int
    sample: tuple[str, ...]

    def as_metadata(self) -> dict:
        return {
            "rule": self.rule,
            "days": list(self.days[:20]) + (["…"] if len(self.days) > 20 else []),
            "days_failed": len(self.days),
            "unexpected": self.unexpected,
            "sample": list(self.sample),
        }


@dataclass(frozen=True)
class Verdict:
    dataset: str
    suite: str
    failures: tuple[Failure, ...]
    scorecard: pl.DataFrame
    page: str | None = None

    def failed(self, severity: str) -> list[Failure]:
        return [f for f in self.failures if f.severity == severity]


def read(
    result: ExpectationSuiteValidationResult,
    frame: pd.DataFrame,
    dataset: str,
    index: str,
    days: list[date] | None = None,
    page: str | None = None,
) -> Verdict:
    """``frame`` was validated with failing rows named by its ``index`` column (a day).

    A frame of rows comes with the window's ``days``: each day's observed value is its count
    of failing rows. A frame of one row per day (``days`` None) gives each day the value of
    the column an expectation names as ``meta.observed``.
    """
    per_day = days is None
    failures, cards = [], []
    for r in result.results:
        cfg = r.expectation_config
        rule, severity = cfg.meta["rule"], cfg.severity.value
        judged = _judged_days(frame, index, cfg.kwargs) if per_day else days
        bad = Counter(as_date(row[index]) for row in r.result.get("unexpected_index_list") or [])
        if not r.success and not bad:  # a table-level expectation, or GX raised
            bad = Counter(dict.fromkeys(judged, 1))
        if not r.success:
            failures.append(
                Failure(rule, severity, tuple(str(d) for d in sorted(bad)), _count(r), _sample(r))
            )
        observed = (
            dict(zip(map(as_date, frame[index]), frame[cfg.meta["observed"]], strict=True))
            if per_day and cfg.meta.get("observed")
            else None
        )
        cards.append(
            pl.DataFrame(
                {
                    "day": judged,
                    "expectation": [rule] * len(judged),
                    "severity": [severity] * len(judged),
                    "success": [d not in bad for d in judged],
                    "observed_value": [
                        float(observed[d]) if observed is not None else float(bad.get(d, 0))
                        for d in judged
                    ],
                },
                schema={k: SCORECARD_SCHEMA[k] for k in CARD_COLUMNS},
            )
        )
    scorecard = (
        pl.concat(cards)
        .with_columns(dataset=pl.lit(dataset), suite=pl.lit(result.suite_name), page=pl.lit(page))
        .select(list(SCORECARD_SCHEMA))
        .cast(SCORECARD_SCHEMA)
        if cards
        else pl.DataFrame(schema=SCORECARD_SCHEMA)
    )
    return Verdict(dataset, result.suite_name, tuple(failures), scorecard, page)


def _judged_days(frame: pd.DataFrame, index: str, kwargs: dict) -> list[date]:
    """The days an expectation judged: those with a value in each column it compares."""
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return [as_date(v) for v in frame.dropna(subset=columns)[index]]


def as_date(value) -> date:
    return pd.Timestamp(value).date()


def _count(r) -> int:
    return int(r.result.get("unexpected_count") or 0)


def _sample(r) -> tuple[str, ...]:
    if r.exception_info and r.exception_info.get("raised_exception"):
        return (str(r.exception_info.get("exception_message")),)
    if r.expectation_config.kwargs.get("column") in PRIVATE:
        return ()
    values = r.result.get("partial_unexpected_list") or []
    if not values and "observed_value" in r.result:
        values = [r.result["observed_value"]]
    return tuple(_plain(v) for v in values[:SAMPLE_SIZE])


def _plain(value) -> str:
    """A value as a person reads it: 0.15, not np.float64(0.15); a pair as (a, b)."""
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_plain(v) for v in value) + ")"
    value = value.item() if hasattr(value, "item") else value
    return f"{value:.4g}" if isinstance(value, float) else str(value)
