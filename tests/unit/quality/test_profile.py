"""profile.extract_days: each delivery day in numbers, with the bounds its history sets."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from refill_assets.quality import profile
from tests.unit.quality.conftest import Warehouse, missing


def steady(n: int) -> int:
    """About 40 rows a day, never the same two days running."""
    return 38 + n % 5


def _feed(wh: Warehouse, days: range, count: Callable[[int], int]) -> None:
    """rx_orders of ``count(n)`` rows on each day n of ``days`` (none when 0), loaded."""
    for n in days:
        if count(n):
            wh.deliver_orders(n, count(n))
    wh.load(wh.day(days.start), wh.day(days.stop - 1))


def _profile(wh: Warehouse, first: int, last: int) -> pd.DataFrame:
    """The days of [first, last], indexed by their date."""
    with wh.connect() as con:
        frame = profile.extract_days(con, "rx_orders", wh.day(first), wh.day(last))
    return frame.set_index(frame["day"].dt.date)


def _below(days: pd.DataFrame) -> list:
    return list(days.index[days["rows"] < days["rows_min"]])


def _above(days: pd.DataFrame) -> list:
    return list(days.index[days["rows"] > days["rows_max"]])


def test_an_outage_after_four_weeks_of_a_steady_feed_is_below_rows_min(wh):
    _feed(wh, range(1, 38), lambda n: 0 if n == 36 else steady(n))
    days = _profile(wh, 29, 37)
    outage = days.loc[wh.day(36)]
    assert outage["rows"] == 0
    assert outage["rows_min"] > 0
    assert _below(days) == [wh.day(36)]


def test_every_day_of_a_three_day_outage_is_below_rows_min(wh):
    _feed(wh, range(1, 42), lambda n: 0 if n in (36, 37, 38) else steady(n))
    assert _below(_profile(wh, 29, 41)) == [wh.day(36), wh.day(37), wh.day(38)]


def test_a_monday_outage_of_a_weekday_only_feed_is_below_rows_min(wh):
    # no deliveries on weekends; day 39 is a Monday
    _feed(wh, range(1, 43), lambda n: 0 if n == 39 or wh.day(n).weekday() >= 5 else steady(n))
    assert _below(_profile(wh, 29, 42)) == [wh.day(39)]


def test_a_steady_feed_has_no_day_outside_its_bounds(wh):
    _feed(wh, range(1, 50), steady)
    days = _profile(wh, 1, 49)
    assert len(days) == 49
    # judged, not just left without bounds: low from week 5, high from day 36 on
    assert days["rows_min"].notna().sum() == 49 - 28
    assert days["rows_max"].notna().sum() == 49 - 35
    assert _below(days) == [] and _above(days) == []


def test_a_weekly_rhythm_does_not_put_sundays_below_rows_min(wh):
    _feed(wh, range(1, 50), lambda n: 10 if wh.day(n).weekday() == 6 else 40)
    days = _profile(wh, 1, 49)
    sundays = days[[d.weekday() == 6 for d in days.index]]
    judged = sundays[sundays["rows_min"].notna()]
    assert len(judged) >= 2 and (judged["rows"] == 10).all()
    assert _below(days) == []


def test_a_monthly_spike_is_inside_rows_max_from_its_second_occurrence(wh):
    spikes = (10, 40, 70, 100)
    _feed(wh, range(1, 101), lambda n: 400 if n in spikes else steady(n))
    days = _profile(wh, 1, 100)
    assert pd.isna(days.loc[wh.day(10), "rows_max"])  # the first falls in the warm-up
    for n in spikes[1:]:
        spike = days.loc[wh.day(n)]
        assert spike["rows"] == 400 and spike["rows_max"] >= 400, n
    assert _above(days) == []


def test_a_single_spike_after_five_weeks_of_steady_volume_is_above_rows_max(wh):
    _feed(wh, range(1, 42), lambda n: 800 if n == 41 else steady(n))
    days = _profile(wh, 36, 41)
    assert days.loc[wh.day(41), "rows"] == 800
    assert _above(days) == [wh.day(41)]


def test_days_before_the_first_delivery_are_not_days_of_the_extract(wh):
    # first delivery on day 10; nothing on day 11 (an outage, so a day of the extract)
    _feed(wh, range(10, 13), lambda n: 0 if n == 11 else 5)
    days = _profile(wh, 1, 12)
    assert list(days.index) == [wh.day(10), wh.day(11), wh.day(12)]
    assert list(days["rows"]) == [5, 0, 5]


@pytest.mark.parametrize(("count", "bad", "within"), [(12, 1, True), (100, 10, False)])
def test_invalid_share_is_judged_against_the_room_chance_leaves(wh, count, bad, within):
    wh.deliver_orders(1, count, missing("pet_id", bad))
    wh.load(wh.day(1), wh.day(1))
    day = _profile(wh, 1, 1).loc[wh.day(1)]
    assert day["rows"] == count - bad  # the bad rows are quarantined, not loaded
    assert day["invalid_share"] == pytest.approx(bad / count)
    assert bool(day["invalid_share"] <= day["invalid_share_max"]) is within
