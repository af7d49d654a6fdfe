"""validate.extract: both suites of an extract run by GX on a small warehouse, end to end."""

from __future__ import annotations

from pathlib import Path

import great_expectations as gx
import great_expectations.expectations as gxe
import pytest

from refill_assets.contract.extracts import PII_COLUMNS
from refill_assets.quality import suites, validate, verdict
from refill_assets.quality.scorecard import TABLE
from tests.support.landing_builder import customer, deliver, rx_order, write_csv
from tests.unit.quality.conftest import Warehouse, missing

ROWS, DAYS = "raw.rx_orders.rows", "raw.rx_orders.days"


def _validate(
    wh: Warehouse, first: int, last: int, extract: str = "rx_orders", run: str = "r1"
) -> dict[str, verdict.Verdict]:
    with wh.connect(read_only=False) as con:
        found = validate.extract(con, wh.layout, extract, wh.day(first), wh.day(last), run)
    return {v.suite: v for v in found}


def _failed(verdicts: dict[str, verdict.Verdict], severity: str) -> dict[str, verdict.Failure]:
    return {f.rule: f for v in verdicts.values() for f in v.failed(severity)}


def _clean(wh: Warehouse, days: range) -> None:
    for n in days:
        wh.deliver_orders(n, 20)


def _bad_third_day(wh: Warehouse, last: int) -> None:
    """Days 1..last of 20 orders, day 3 with half of them missing their pet (quarantined)."""
    _clean(wh, range(1, 3))
    wh.deliver_orders(3, 20, missing("pet_id", 10))
    _clean(wh, range(4, last + 1))
    wh.load(wh.day(1), wh.day(last))


def test_a_clean_delivery_passes_every_expectation(wh):
    _clean(wh, range(1, 3))
    # optional fields left empty on one row in twenty: null in typed columns, under 5 %
    blank = ("clinic_id", "qty_prescribed", "refills_authorized", "refills_remaining", "autoship")
    wh.deliver_orders(3, 20, lambda j, r: r | dict.fromkeys(blank) if j == 0 else r)
    wh.load(wh.day(1), wh.day(3))
    verdicts = _validate(wh, 1, 3)
    assert set(verdicts) == {ROWS, DAYS}
    assert {s: v.failures for s, v in verdicts.items()} == {ROWS: (), DAYS: ()}


def test_many_invalid_rows_on_the_latest_day_fail_the_critical_expectation(wh):
    _bad_third_day(wh, last=3)
    verdicts = _validate(wh, 1, 3)
    critical = _failed(verdicts, "critical")
    assert list(critical) == ["required_fields_valid_latest_day"]
    assert critical["required_fields_valid_latest_day"].days == ("2024-03-03",)
    assert verdicts[ROWS].failures == ()  # the bad rows are in quarantine, not in raw
    warning = _failed(verdicts, "warning")
    assert warning["required_fields_valid"].days == ("2024-03-03",)


def test_the_same_bad_day_earlier_in_the_window_only_warns(wh):
    _bad_third_day(wh, last=5)
    verdicts = _validate(wh, 1, 5)
    assert _failed(verdicts, "critical") == {}
    warning = _failed(verdicts, "warning")
    assert warning["required_fields_valid"].days == ("2024-03-03",)
    assert warning["quarantine_rate"].days == ("2024-03-03",)


def test_a_rejected_file_trips_no_file_rejected_on_its_day(wh):
    wh.deliver_orders(1, 5)
    no_status = [c for c in rx_order(0) if c != "status"]
    write_csv(wh.landing, "rx_orders", wh.day(2), "a.csv", wh.orders(2, 5), no_status)
    wh.deliver_orders(3, 5)
    wh.load(wh.day(1), wh.day(3))
    verdicts = _validate(wh, 1, 3)
    assert _failed(verdicts, "critical") == {}
    rejected = _failed(verdicts, "warning")["no_file_rejected"]
    assert rejected.days == ("2024-03-02",)
    card = verdicts[DAYS].scorecard.filter(expectation="no_file_rejected").sort("day")
    assert card["success"].to_list() == [True, False, True]
    assert card["observed_value"].to_list() == [0.0, 1.0, 0.0]


def _scorecard(wh: Warehouse) -> list[tuple]:
    with wh.connect() as con:
        return con.execute(
            f"SELECT suite, expectation, day, success FROM {TABLE} ORDER BY ALL"
        ).fetchall()


def test_the_scorecard_holds_each_day_and_expectation_once_across_reruns(wh):
    _bad_third_day(wh, last=3)
    _validate(wh, 1, 3, run="first")
    first = _scorecard(wh)
    n_rows = len(suites.extract_rows("rx_orders").expectations)
    n_days = len(suites.extract_days("rx_orders").expectations)
    # rows: every day of the window; days: the row-count bounds are not judged in the first
    # weeks, the latest-day rule judges the latest day only, every other rule each day
    assert sum(s == ROWS for s, *_ in first) == 3 * n_rows
    assert sum(s == DAYS for s, *_ in first) == 3 * (n_days - 3) + 1
    assert len({(s, e, d) for s, e, d, _ in first}) == len(first)
    assert (DAYS, "required_fields_valid", wh.day(3), False) in first

    validate._project.cache_clear()  # the re-run of a partition, in a process of its own
    _validate(wh, 1, 3, run="again")
    assert _scorecard(wh) == first


def test_an_extract_can_be_validated_twice_in_one_process(wh):
    _clean(wh, range(1, 3))
    wh.load(wh.day(1), wh.day(2))
    _validate(wh, 1, 2, run="first")
    second = _validate(wh, 1, 2, run="again")
    assert {s: v.failures for s, v in second.items()} == {ROWS: (), DAYS: ()}


def test_the_verdicts_pages_are_rendered_once_the_run_publishes(wh):
    _clean(wh, range(1, 3))
    wh.load(wh.day(1), wh.day(2))
    verdicts = _validate(wh, 1, 2)
    pages = [Path(v.page) for v in verdicts.values()]
    assert all(p.suffix == ".html" and p.is_relative_to(wh.layout.quality_docs) for p in pages)
    assert not any(p.exists() for p in pages)  # GX renders once a run, not per step
    with wh.connect() as con:
        validate.publish(con, wh.layout)
    assert all(p.is_file() for p in pages)
    assert (wh.layout.quality_docs / validate.GX_DOCS / "index.html").is_file()
    assert (wh.layout.quality_docs / "index.html").is_file()  # the dashboard


def _customers(wh: Warehouse) -> list[dict]:
    """A day of customers, 8 in 20 without a zip (their zip3, a PII-derived column, is null)."""
    rows = [customer(i, day=wh.day(1)) for i in range(20)]
    rows = [r | {"zip5": None} if i < 8 else r for i, r in enumerate(rows)]
    deliver(wh.landing, "customers", wh.day(1), "a", rows)
    wh.load(wh.day(1), wh.day(1), "customers")
    return rows


def _private_values(wh: Warehouse, delivered: list[dict]) -> set[str]:
    """Every PII value delivered, and every hash and zip3 the warehouse holds."""
    clear = {str(r[c]) for r in delivered for c in PII_COLUMNS["customers"] if r[c]}
    with wh.connect() as con:
        held = con.execute("SELECT email_hash, phone_hash, zip3 FROM raw.customers").fetchall()
    return clear | {v for row in held for v in row if v}


def test_a_failing_expectation_on_a_pii_derived_column_shows_no_values(wh):
    delivered = _customers(wh)
    verdicts = _validate(wh, 1, 1, extract="customers")
    failures = _failed(verdicts, "warning")
    assert list(failures) == ["missing_under_5%:zip3"]
    private = _private_values(wh, delivered)
    assert len(private) > 20
    for f in failures.values():
        for shown in f.sample:
            assert not any(p in shown for p in private), shown


@pytest.mark.parametrize("column", ["email_hash", "phone_hash"])
def test_samples_leave_out_the_values_of_a_private_column(wh, column):
    """A suite with a rule every hash breaks: GX lists the hashes, the verdict does not."""
    _customers(wh)
    with wh.connect() as con:
        frame = con.execute("SELECT * FROM raw.customers").df()
    suite = gx.ExpectationSuite(
        name="raw.customers.probe",
        expectations=[
            gxe.ExpectColumnValuesToMatchRegex(
                column=c, regex="^$", severity="warning", meta={"rule": f"probe:{c}"}
            )
            for c in (column, "state")
        ],
    )
    result = validate.project(wh.layout).validate(suite, frame, "probe", ["_dt"])
    assert column in verdict.PRIVATE
    listed = {
        r.expectation_config.kwargs["column"]: r.result["partial_unexpected_list"]
        for r in result.results
    }
    assert set(listed[column]) <= set(frame[column]) and listed[column]
    sample = {
        f.rule: f.sample
        for f in verdict.read(result, frame, "raw.customers", "_dt", [wh.day(1)]).failures
    }
    assert sample == {f"probe:{column}": (), "probe:state": ("MA",) * 5}
