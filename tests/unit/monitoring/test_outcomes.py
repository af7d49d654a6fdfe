"""The outcome of every score: the contract's definitions, and nightly settling = full rebuild."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from refill_assets.monitoring.outcomes import OUTCOMES_TABLE, settle
from refill_assets.outreach.export import ASSIGNMENT_COLUMNS, ASSIGNMENT_TABLE
from refill_assets.scoring.scores import replace_days
from refill_assets.storage.warehouse import replace_window

D0 = date(2024, 3, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def _warehouse(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema raw; create schema marts")
    con.execute("create table raw.rx_orders (order_id varchar, rx_id varchar, _dt date)")
    con.execute(
        "create table marts.fills (order_id varchar, rx_id varchar, fill_date date,"
        " effective_days_supply integer, order_ts timestamp)"
    )


def deliver(con, delivered: int, order: str, rx: str, fill_day: int | None, supply=30):
    """An order version delivered on day ``delivered``: a fill on ``fill_day`` (None: the
    order is cancelled, so it is no fill any more, as marts.fills would say)."""
    con.execute("insert into raw.rx_orders values (?, ?, ?)", [order, rx, day(delivered)])
    con.execute("delete from marts.fills where order_id = ?", [order])
    if fill_day is not None:
        con.execute(
            "insert into marts.fills values (?, ?, ?, ?, ?)",
            [order, rx, day(fill_day), supply, day(fill_day)],
        )


def score(con, on: int, rx: str, last_fill: int, predicted: int, p10: int, p90: int, lapse=0.1):
    row = {
        "as_of_date": day(on), "rx_id": rx, "pet_id": f"p-{rx}", "customer_id": f"c-{rx}",
        "drug_class": "x", "last_fill_date": day(last_fill),
        "predicted_refill_date": day(predicted), "predicted_days_to_refill": float(predicted - on),
        "refill_date_p10": day(p10), "refill_date_p90": day(p90), "lapse_probability": lapse,
        "model_name": "lightgbm", "model_version": "3", "run_id": "r1",
    }  # fmt: skip
    return row


def write_scores(con, on: int, rows: list[dict]) -> None:
    replace_days(con, pl.DataFrame(rows), day(on), day(on))


@pytest.fixture
def con():
    with duckdb.connect() as c:
        _warehouse(c)
        yield c


def outcomes(con) -> dict[str, dict]:
    frame = con.execute(f"select * from {OUTCOMES_TABLE} order by as_of_date, rx_id").pl()
    return {f"{r['rx_id']}@{(r['as_of_date'] - D0).days}": r for r in frame.iter_rows(named=True)}


def test_the_contracts_definitions(con):
    deliver(con, 0, "o1", "refills", 0)
    deliver(con, 0, "o2", "lapses", 0)
    deliver(con, 0, "o3", "waits", 0)
    write_scores(
        con,
        5,
        [
            score(con, 5, "refills", 0, 28, 25, 33),
            score(con, 5, "lapses", 0, 30, 26, 35, lapse=0.8),
            score(con, 5, "waits", 0, 30, 26, 35),
        ],
    )
    replace_window(
        con, ASSIGNMENT_TABLE, ASSIGNMENT_COLUMNS, "as_of_date", day(5), day(5),
        pl.DataFrame({
            "as_of_date": [day(5), day(5)], "contact_on": [day(6), day(6)],
            "customer_id": ["c-refills", "c-lapses"], "pet_id": ["p-refills", "p-lapses"],
            "rx_id": ["refills", "lapses"], "campaign_id": ["k", "k"],
            "channel": ["email", "sms"], "arm": ["treated", "control"], "model_version": ["3", "3"],
        }),
    )  # fmt: skip
    deliver(con, 31, "o4", "refills", 31)  # refilled 3 days after the prediction
    deliver(con, 80, "o5", "waits", 80)  # after run-out (30) + 30: a lapse, then back
    first = settle(con, day(0), day(80))
    assert first.full_rebuild and first.rows == 3 and first.days == [day(5)]
    got = outcomes(con)
    r = got["refills@5"]
    assert r["actual_refill_date"] == day(31) and r["run_out_date"] == day(30)
    assert r["error_days"] == -3 and r["in_interval"] is True and r["lapsed"] is False
    assert r["settled"] is True
    assert (r["arm"], r["contacted_on"], r["channel"]) == ("treated", day(6), "email")
    lapsed = got["lapses@5"]
    assert lapsed["actual_refill_date"] is None and lapsed["lapsed"] is True
    assert lapsed["error_days"] is None and lapsed["settled"] is False  # a refill may still come
    assert (lapsed["arm"], lapsed["contacted_on"], lapsed["channel"]) == ("control", None, None)
    waited = got["waits@5"]
    assert waited["lapsed"] is True and waited["error_days"] == -50
    assert waited["in_interval"] is False and waited["settled"] is True and waited["arm"] is None


def test_undecided_until_the_day_passes_and_settled_at_the_horizon(con):
    deliver(con, 0, "o1", "rx", 0)
    write_scores(con, 10, [score(con, 10, "rx", 0, 30, 27, 34)])
    deliver(con, 40, "o-other", "other", 40)  # the data reach day 40: run-out + 30 is day 60
    settle(con, day(0), day(40))
    r = outcomes(con)["rx@10"]
    assert r["lapsed"] is None and r["settled"] is False and r["actual_refill_date"] is None
    deliver(con, 130, "o-other2", "other", 130)  # 120 days after the scoring day
    settle(con, day(41), day(130))
    r = outcomes(con)["rx@10"]
    assert r["lapsed"] is True and r["settled"] is True and r["error_days"] is None


def _nights(con, plan: dict[int, list], scores_on: dict[int, list]) -> list:
    """Deliver and score night by night, settling each night as the nightly run does."""
    runs = []
    for night in sorted(set(plan) | set(scores_on)):
        for args in plan.get(night, []):
            deliver(con, night, *args)
        if night in scores_on:
            write_scores(con, night, [score(con, night, *a) for a in scores_on[night]])
        runs.append(settle(con, day(night), day(night)))
    return runs


PLAN = {
    0: [("a1", "A", 0), ("b1", "B", 0), ("c1", "C", 0, 60)],
    20: [("x", "X", 20)],
    29: [("a2", "A", 29)],
    # delivered late: the fill of day 33 arrives on day 40, after the row was scored again
    40: [("b2", "B", 33)],
    45: [("a2", "A", None)],  # A's refill of day 29 is cancelled after the fact
    47: [("a3", "A", 47)],
    70: [("x2", "X", 70)],
    95: [("x3", "X", 95)],
    150: [("x4", "X", 150)],
}
SCORES = {
    5: [("A", 0, 30, 26, 34), ("B", 0, 31, 27, 35), ("C", 0, 60, 50, 70)],
    35: [("B", 0, 36, 34, 40), ("A", 29, 59, 55, 63), ("C", 0, 60, 52, 66)],
    48: [("A", 47, 77, 73, 81), ("C", 0, 61, 58, 65)],
}


def test_nightly_settling_equals_a_full_rebuild(con):
    runs = _nights(con, PLAN, SCORES)
    assert runs[0].full_rebuild and not any(r.full_rebuild for r in runs[1:])
    # the quiet nights recompute only unsettled rows and the news, never settled history
    assert runs[-1].rows < sum(len(v) for v in SCORES.values())
    nightly = outcomes(con)
    assert nightly["A@35"]["actual_refill_date"] == day(47)  # the cancelled fill is gone
    assert nightly["B@5"]["actual_refill_date"] == day(33)  # the late fill counted
    with duckdb.connect() as fresh:
        _warehouse(fresh)
        for night in sorted(set(PLAN) | set(SCORES)):
            for args in PLAN.get(night, []):
                deliver(fresh, night, *args)
            if night in SCORES:
                write_scores(fresh, night, [score(fresh, night, *a) for a in SCORES[night]])
        full = settle(fresh, day(0), day(150))
        assert full.full_rebuild
        assert outcomes(fresh) == nightly


def test_rerunning_a_night_changes_nothing_and_history_reruns_rebuild(con):
    _nights(con, PLAN, SCORES)
    before = outcomes(con)
    again = settle(con, day(150), day(150))  # the last night again: its window is not new
    assert again.full_rebuild and outcomes(con) == before
    quiet = settle(con, day(151), day(151))  # a night with no delivery
    assert not quiet.full_rebuild and outcomes(con) == before
