"""The suites of the outputs the platform promises (the contract's "Outputs" sections).

Each output is validated on the rows its run wrote: those whose ``day`` column falls in the
run's window (or its list of days). The relational rules dbt already tests on the marts
(keys unique and not null, relationships) stay in dbt; these suites hold what dbt does not:
ranges, allowed values, dates in order, the shares the business accepts. The outreach
export's PII, opt-out, control-arm and one-contact rules are its pre-write gate
(``outreach.export.export_problems``: a check after the write would be too late to keep
PII off the CRM's disk); its suite holds the file's formats.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from refill_assets.contract.rules import DRUG_CLASSES, HORIZON_DAYS
from refill_assets.monitoring.outcomes import OUTCOMES_TABLE
from refill_assets.monitoring.performance import PERFORMANCE_TABLE
from refill_assets.outreach.arms import CONTROL, TREATED
from refill_assets.outreach.export import EXPORT_COLUMNS
from refill_assets.quality.completeness import MAX_MISSING_SHARE
from refill_assets.quality.datasets import EXPORT, FILLS, INTERVALS
from refill_assets.quality.suites import CRITICAL, WARNING, at_most, meta
from refill_assets.scoring.scores import SCORES_TABLE

CONTACT_CHANNELS = ["email", "sms"]


def _required(columns: list[str]) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column=c, severity=CRITICAL, meta=meta(f"required:{c}"))
        for c in columns
    ]


def _between(column: str, low, high, severity: str, rule: str | None = None):
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=low,
        max_value=high,
        severity=severity,
        meta=meta(rule or f"range:{column}"),
    )


def _in_set(column: str, values, severity: str):
    return gxe.ExpectColumnValuesToBeInSet(
        column=column, value_set=list(values), severity=severity, meta=meta(f"allowed:{column}")
    )


def _fills() -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column="effective_days_supply",
            mostly=1 - MAX_MISSING_SHARE,
            severity=WARNING,
            meta=meta("days_supply_known"),
        ),
        _between("effective_days_supply", 1, 365, WARNING),
        _between("qty_dispensed", 0, None, WARNING),
        _in_set("status", ["filled", "partial"], WARNING),
        _in_set("drug_class", DRUG_CLASSES, WARNING),
        gxe.ExpectColumnValuesToMatchRegex(
            column="ndc", regex=r"^\d{11}$", severity=WARNING, meta=meta("ndc_11_digits")
        ),
        at_most("fill_date", "known_from", "known_after_filled", WARNING),
    ]


def _intervals() -> list[gxe.Expectation]:
    return [
        _between("fill_seq", 1, None, WARNING),
        _between("effective_days_supply", 1, 365, WARNING),
        _between("days_to_next_fill", 1, None, WARNING),
        at_most("fill_date", "next_fill_date", "next_fill_after_fill", WARNING, equal=False),
        at_most("fill_date", "runout_date", "runout_after_fill", WARNING),
    ]


def _scores() -> list[gxe.Expectation]:
    found = _required(
        [
            "as_of_date",
            "rx_id",
            "pet_id",
            "customer_id",
            "last_fill_date",
            "predicted_refill_date",
            "refill_date_p10",
            "refill_date_p90",
            "lapse_probability",
            "model_name",
            "model_version",
            "run_id",
        ]
    )
    return [
        *found,
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["as_of_date", "rx_id", "run_id"],
            severity=CRITICAL,
            meta=meta("one_score_per_rx_and_run"),
        ),
        _between("lapse_probability", 0, 1, CRITICAL),
        at_most("refill_date_p10", "predicted_refill_date", "p10_not_after_prediction", CRITICAL),
        at_most("predicted_refill_date", "refill_date_p90", "p90_not_before_prediction", CRITICAL),
        at_most("last_fill_date", "predicted_refill_date", "prediction_after_last_fill", WARNING),
        _between("predicted_days_to_refill", 0, None, WARNING),
        _in_set("drug_class", DRUG_CLASSES, WARNING),
    ]


def _export() -> list[gxe.Expectation]:
    return [
        gxe.ExpectTableColumnsToMatchOrderedList(
            column_list=list(EXPORT_COLUMNS), severity=CRITICAL, meta=meta("contract_columns")
        ),
        *_required(["campaign_id", "customer_id", "pet_id", "rx_id", "contact_on", "channel"]),
        _in_set("channel", CONTACT_CHANNELS, CRITICAL),
        _between("lapse_probability", 0, 1, CRITICAL),
        at_most("contact_on", "predicted_refill_date", "contact_before_refill", WARNING),
    ]


def _outcomes() -> list[gxe.Expectation]:
    return [
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["as_of_date", "rx_id"], severity=WARNING, meta=meta("one_row_per_score")
        ),
        _in_set("arm", [TREATED, CONTROL], WARNING),
        _in_set("channel", CONTACT_CHANNELS, WARNING),
        at_most("as_of_date", "actual_refill_date", "refill_after_scoring", WARNING, equal=False),
        _between("error_days", -HORIZON_DAYS, HORIZON_DAYS, WARNING),
    ]


def _performance() -> list[gxe.Expectation]:
    shares = ["within_7d", "coverage_p10_p90", "late_share", "lapse_rate", "lapse_roc_auc"]
    return [
        _in_set("status", ["final", "provisional"], WARNING),
        _between("mae_days", 0, None, WARNING),
        *(_between(c, 0, 1, WARNING) for c in shares),
        at_most("rows_settled", "rows_scored", "settled_within_scored", WARNING),
    ]


EXPECTATIONS = {
    FILLS: _fills,
    INTERVALS: _intervals,
    SCORES_TABLE: _scores,
    EXPORT: _export,
    OUTCOMES_TABLE: _outcomes,
    PERFORMANCE_TABLE: _performance,
}


def suite(dataset: str) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(name=dataset, expectations=EXPECTATIONS[dataset]())
