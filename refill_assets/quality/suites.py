"""The expectation suites (GX Core): what each dataset promises, built from the contract.

Two suites per extract. ``extract_rows`` holds over the accepted rows of the run's window:
required fields present, allowed values, non-negative numbers, NDCs of 11 digits, each
delivered line loaded once. Types are the raw table's: ingestion parses each value to its
contract type or quarantines the row, and creates the table with the contract's types
(``contract.raw_tables``); GX's dtype expectations would restate them (and know nothing of
pandas 3's text dtype). ``extract_days``
holds over the window's days (``profile.extract_days``): row counts within the bounds of
their history, required fields valid on 99 % of the latest day's rows, quarantined,
rejected-file and new-column days, missing values under 5 % where the business accepts
some.

Each expectation carries its ``severity``: ``critical`` ones block what depends on the
dataset (bad data must not flow on), ``warning`` ones ask a person to look. ``meta.rule``
names it in checks, the scorecard and Slack; ``meta.observed`` is the frame column a
day's observed value comes from.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.contract.raw_tables import RAW_TABLES
from refill_assets.quality.completeness import DUE_WHEN, MAX_MISSING_SHARE
from refill_assets.quality.profile import missing_column

CRITICAL, WARNING = "critical", "warning"
NDC_PATTERN = r"^\d{11}$"


def meta(rule: str, observed: str | None = None) -> dict:
    return {"rule": rule, "observed": observed}


# a column the rows frame computes: one number per delivered line (file, line), so that
# "each line loaded once" compares integers, not millions of file paths
LINE_KEY = "_line_key"
COMPUTED = {LINE_KEY: 'hash("_file", "_line")'}
_COLUMN_ARGS = ("column", "column_A", "column_B")


def columns_of(suite: gx.ExpectationSuite) -> list[str]:
    """The columns ``suite``'s expectations read, in order: what a frame must hold."""
    found: dict[str, None] = {}
    for e in suite.expectations:
        kwargs = e.configuration.kwargs
        for c in [
            *(kwargs[k] for k in _COLUMN_ARGS if k in kwargs),
            *kwargs.get("column_list", []),
        ]:
            found[c] = None
    return list(found)


def presence_only(extract: str) -> set[str]:
    """Text columns of ``extract`` whose only expectation is to be present (ids, names)."""
    spec, table = EXTRACTS[extract], RAW_TABLES[extract]
    return {
        c.name
        for c in spec.columns
        if c.required and not c.allowed and table.get(c.name) == "VARCHAR" and c.name != "ndc"
    }


def extract_rows(extract: str) -> gx.ExpectationSuite:
    spec, table = EXTRACTS[extract], RAW_TABLES[extract]
    found = [
        gxe.ExpectColumnValuesToBeUnique(
            column=LINE_KEY, severity=CRITICAL, meta=meta("line_loaded_once")
        )
    ]
    for column in spec.columns:
        if column.name not in table:  # PII hashed or dropped on the way in
            continue
        c = column.name
        if column.required:
            found.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=c, severity=CRITICAL, meta=meta(f"required:{c}")
                )
            )
        if column.allowed:
            found.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=c,
                    value_set=list(column.allowed),
                    severity=CRITICAL,
                    meta=meta(f"allowed:{c}"),
                )
            )
        if column.non_negative:
            found.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=c, min_value=0, severity=CRITICAL, meta=meta(f"non_negative:{c}")
                )
            )
    if "ndc" in table:
        found.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column="ndc", regex=NDC_PATTERN, severity=WARNING, meta=meta("ndc_11_digits")
            )
        )
    return gx.ExpectationSuite(name=f"raw.{extract}.rows", expectations=found)


def at_most(a: str, b: str, rule: str, severity: str, equal: bool = True) -> gxe.Expectation:
    """Each row's ``a`` ≤ its ``b`` (< unless ``equal``); a row without both is left out
    (for a day: not judged)."""
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=b,
        column_B=a,
        or_equal=equal,
        ignore_row_if="either_value_is_missing",
        severity=severity,
        meta=meta(rule, a),
    )


def extract_days(extract: str) -> gx.ExpectationSuite:
    found = [
        at_most("rows_min", "rows", "rows_not_far_below_usual", WARNING),
        at_most("rows", "rows_max", "rows_not_far_above_busiest", WARNING),
        # blocking on the state now: a bad day in the history is in quarantine and reported
        at_most(
            "latest_invalid_share",
            "invalid_share_max",
            "required_fields_valid_latest_day",
            CRITICAL,
        ),
        at_most("invalid_share", "invalid_share_max", "required_fields_valid", WARNING),
        at_most("quarantine_share", "quarantine_share_max", "quarantine_rate", WARNING),
        gxe.ExpectColumnValuesToBeBetween(
            column="missed_delivery",
            max_value=0,
            severity=WARNING,
            meta=meta("no_missed_delivery", "missed_delivery"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="files_rejected",
            max_value=0,
            severity=WARNING,
            meta=meta("no_file_rejected", "files_rejected"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="new_columns",
            max_value=0,
            severity=WARNING,
            meta=meta("no_new_column", "new_columns"),
        ),
    ]
    for c in DUE_WHEN[extract]:
        m = missing_column(c)
        found.append(at_most(m, f"{m}_max", f"missing_under_{MAX_MISSING_SHARE:.0%}:{c}", WARNING))
    return gx.ExpectationSuite(name=f"raw.{extract}.days", expectations=found)
