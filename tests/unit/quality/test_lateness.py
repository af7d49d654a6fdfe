"""Late rows and missed deliveries: a day without a file whose rows came in a later one.

A feed of a few rows a day cannot show an outage by its row count (a quiet day has no rows
to miss), but the outage day's rows all come in a later delivery (``missed_delivery``,
``suites.extract_days``' warning ``no_missed_delivery``); a feed's usual late rows do not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pandas as pd
import pytest

from refill_assets.quality import profile, validate
from refill_assets.quality.scorecard import TABLE
from tests.support.landing_builder import deliver
from tests.unit.quality.conftest import Warehouse

ROWS_A_DAY = 6
OUTAGE = 38  # after five weeks and more of history


def _late(n: int, j: int) -> bool:
    """Row j of day n comes the day after: the first row on three days in five (10 %)."""
    return j == 0 and n % 5 < 3


def _feed(
    wh: Warehouse,
    last: int,
    outages: tuple[int, ...] = (),
    open_on: Callable[[int], bool] = lambda n: True,
    load: bool = True,
) -> None:
    """Days 1..last of ``ROWS_A_DAY`` rx_orders dated their day, on the days ``open_on`` (none
    on the others: a quiet day), about 10 % of them delivered the next open day. Nothing is
    delivered on ``outages``: what was due comes the first open day after. Rows due after
    ``last`` are not delivered yet."""
    due = defaultdict(list)
    for n in filter(open_on, range(1, last + 1)):
        for j, row in enumerate(wh.orders(n, ROWS_A_DAY)):
            on = n + 1 if _late(n, j) else n
            while on in outages or not open_on(on):
                on += 1
            due[on].append(row)
    for m, rows in sorted(due.items()):
        if m <= last:
            deliver(wh.landing, "rx_orders", wh.day(m), "a", rows)
    if load:
        wh.load(wh.day(1), wh.day(last))


def _profile(wh: Warehouse, first: int, last: int) -> pd.DataFrame:
    with wh.connect() as con:
        frame = profile.extract_days(con, "rx_orders", wh.day(first), wh.day(last))
    return frame.set_index(frame["day"].dt.date)


def _missed(days: pd.DataFrame) -> list:
    return list(days.index[days["missed_delivery"] > 0])


def _below(days: pd.DataFrame) -> list:
    return list(days.index[days["rows"] < days["rows_min"]])


def _late_rows(wh: Warehouse) -> int:
    with wh.connect() as con:
        return con.execute(
            "SELECT count(*) FROM raw.rx_orders WHERE _dt > CAST(updated_at AS DATE)"
        ).fetchone()[0]


def test_an_outage_of_a_low_volume_feed_is_a_missed_delivery_not_a_low_count(wh):
    _feed(wh, OUTAGE + 4, outages=(OUTAGE,))
    days = _profile(wh, 29, OUTAGE + 4)
    outage = days.loc[wh.day(OUTAGE)]
    assert outage["rows"] == 0
    # judged by its count, and within its bound: a few rows a day can be none by chance
    assert outage["rows_min"] == 0
    assert _below(days) == []
    assert _missed(days) == [wh.day(OUTAGE)]


def test_a_steady_feed_with_its_usual_late_rows_misses_no_delivery(wh):
    _feed(wh, 49)
    assert _late_rows(wh) / (48 * ROWS_A_DAY) == pytest.approx(0.1, abs=0.005)
    days = _profile(wh, 1, 49)
    assert len(days) == 49
    assert (days["missed_delivery"] == 0).all()  # judged every day, none missed


def test_a_quiet_day_without_a_delivery_is_not_a_missed_one(wh):
    # no orders nor deliveries on weekends; Friday's late rows come on Monday
    weekday = lambda n: wh.day(n).weekday() < 5  # noqa: E731
    _feed(wh, 42, open_on=weekday)
    days = _profile(wh, 1, 42)
    assert (days.loc[[wh.day(n) for n in range(1, 43) if not weekday(n)], "rows"] == 0).all()
    assert _late_rows(wh) > 0
    assert _missed(days) == []


def test_an_outage_in_the_first_weeks_is_missed_before_the_row_count_is_judged(wh):
    _feed(wh, 35, outages=(10,))
    days = _profile(wh, 1, 35)
    assert pd.isna(days.loc[wh.day(10), "rows_min"])  # no four weeks of history yet
    assert _missed(days) == [wh.day(10)]


def test_the_days_before_the_window_are_judged_on_their_missed_delivery_alone(wh):
    _feed(wh, OUTAGE + 1, outages=(OUTAGE,))
    days = _profile(wh, OUTAGE + 1, OUTAGE + 1)
    assert list(days.index) == [wh.day(OUTAGE - 1), wh.day(OUTAGE), wh.day(OUTAGE + 1)]
    for n, missed in ((OUTAGE - 1, 0), (OUTAGE, 1)):
        before = days.loc[wh.day(n)]
        others = before.drop(["day", "missed_delivery"])
        assert others.isna().all(), others[others.notna()].to_dict()
        assert before["missed_delivery"] == missed
    assert days.loc[wh.day(OUTAGE + 1)].notna().all()  # the window's day: every column set
    assert _missed(days) == [wh.day(OUTAGE)]


def test_a_nightly_run_warns_no_missed_delivery_on_the_outage_day(wh):
    _feed(wh, OUTAGE + 1, outages=(OUTAGE,))
    night = wh.day(OUTAGE + 1)
    with wh.connect(read_only=False) as con:
        found = validate.extract(con, wh.layout, "rx_orders", night, night, "night")
        card = con.execute(
            f"SELECT day, expectation, success, observed_value FROM {TABLE}"
            " WHERE day = ? ORDER BY ALL",
            [wh.day(OUTAGE)],
        ).fetchall()
    failed = {(f.severity, f.rule): f.days for v in found for f in v.failures}
    assert failed == {("warning", "no_missed_delivery"): (str(wh.day(OUTAGE)),)}
    # the day before the window is judged on its missed delivery only
    assert card == [(wh.day(OUTAGE), "no_missed_delivery", False, 1.0)]


def test_nightly_runs_find_both_days_of_a_two_day_outage(wh):
    first, last = OUTAGE, OUTAGE + 2  # nothing on OUTAGE and OUTAGE + 1: all comes on last
    _feed(wh, last, outages=(first, first + 1), load=False)
    missed = set()
    wh.load(wh.day(1), wh.day(first - 1))
    for night in range(first, last + 1):
        wh.load(wh.day(night), wh.day(night))
        missed |= set(_missed(_profile(wh, night, night)))
    assert missed == {wh.day(first), wh.day(first + 1)}
