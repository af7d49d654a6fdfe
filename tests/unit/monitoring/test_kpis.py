"""The pilot KPIs: each one by hand on a tiny warehouse, the clustered CI against a bootstrap,
an A/A check over 20 arm seeds, an injected effect found, and empty / missing inputs."""

from __future__ import annotations

import hashlib
from datetime import date

import duckdb
import numpy as np
import polars as pl
import pytest

from refill_assets.monitoring.kpis import (
    KPI_COLUMNS,
    KPI_TABLE,
    KPIS,
    RESPONSE_COLUMNS,
    RESPONSE_TABLE,
    Z95,
    bootstrap_difference,
    compute_kpis,
    compute_response,
    ratio_difference,
    write_kpis,
)
from refill_assets.monitoring.outcomes import OUTCOME_COLUMNS, OUTCOMES_TABLE
from refill_assets.outreach.arms import threshold
from refill_assets.outreach.export import ASSIGNMENT_COLUMNS, ASSIGNMENT_TABLE
from refill_assets.storage.warehouse import ensure_table

THROUGH = date(2024, 8, 15)
D = date.fromisoformat


def _tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_table(con, ASSIGNMENT_TABLE, ASSIGNMENT_COLUMNS)
    ensure_table(con, OUTCOMES_TABLE, OUTCOME_COLUMNS)
    ensure_table(
        con, "marts.adherence_monthly",
        {"rx_id": "VARCHAR", "month_start": "DATE", "pet_id": "VARCHAR",
         "customer_id": "VARCHAR", "is_maintenance": "BOOLEAN", "pdc": "DOUBLE"},
    )  # fmt: skip
    ensure_table(
        con, "marts.fills",
        {"order_id": "VARCHAR", "rx_id": "VARCHAR", "customer_id": "VARCHAR", "fill_date": "DATE"},
    )  # fmt: skip
    ensure_table(
        con, "intermediate.int_engagement_deduped",
        {"event_id": "VARCHAR", "customer_id": "VARCHAR", "channel": "VARCHAR",
         "event_type": "VARCHAR", "campaign_id": "VARCHAR", "event_ts": "TIMESTAMP"},
    )  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame) -> None:
    con.register("rows_in", rows)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows_in")
    con.unregister("rows_in")


# (as_of, owner, arm, rx, channel, actual_refill_date, lapsed, run_out_date, settled)
UNITS = [
    ("2024-03-10", "T1", "treated", "rx1", "email", "2024-03-15", False, "2024-03-20", True),
    ("2024-03-10", "T1", "treated", "rx2", "email", None, True, "2024-02-01", False),
    ("2024-03-10", "T2", "treated", "rx3", "sms", "2024-03-11", False, "2024-03-12", True),
    ("2024-03-10", "T2", "treated", "rx4", "sms", None, None, "2024-04-20", False),  # open
    ("2024-03-10", "C1", "control", "rx5", "email", "2024-03-30", False, "2024-03-25", True),
    ("2024-03-10", "C1", "control", "rx6", "email", "2024-03-20", False, "2024-03-25", True),
    ("2024-03-10", "C2", "control", "rx7", "email", None, None, None, True),  # settled, no run-out
    ("2024-03-10", "C2", "control", "rx8", "email", "2024-03-12", False, "2024-03-10", True),
    ("2024-03-10", "C3", "control", "rx9", "sms", None, None, "2024-06-01", False),
    ("2024-04-10", "T1", "treated", "rx1", "email", "2024-04-25", False, "2024-04-20", True),
    ("2024-04-10", "T3", "treated", "rx10", "email", None, None, "2024-06-01", False),
    ("2024-04-10", "C1", "control", "rx5", "email", "2024-04-26", False, "2024-04-28", True),
    ("2024-05-10", "T2", "treated", "rx3", "email", None, None, "2024-06-01", False),
]
# (rx, owner, fill date)
FILLS = [
    ("rx1", "T1", "2024-02-01"), ("rx1", "T1", "2024-03-15"), ("rx1", "T1", "2024-04-25"),
    ("rx3", "T2", "2023-12-01"), ("rx3", "T2", "2024-03-01"),  # 91 days before; the 1st
    ("rx3", "T2", "2024-03-11"),
    ("rx5", "C1", "2024-01-15"), ("rx6", "C1", "2024-03-20"), ("rx5", "C1", "2024-03-30"),
    ("rx5", "C1", "2024-04-26"), ("rx8", "C2", "2024-02-20"), ("rx8", "C2", "2024-03-12"),
    ("rx9", "C3", "2024-01-10"), ("rx9", "C3", "2024-07-15"),  # after March's horizon 06-29
    ("rx10", "T3", "2024-03-05"), ("rx10", "T3", "2024-07-30"),  # after April's horizon 07-29
]  # fmt: skip
# (pet, rx, month, maintenance, pdc)
ADHERENCE = [
    ("p-T1", "rx1", "2024-02-01", True, 0.9),  # before the first contact's month
    ("p-T1", "rx1", "2024-03-01", True, 0.85), ("p-T1", "rx1", "2024-04-01", True, 0.5),
    ("p-T1", "acute", "2024-03-01", False, 0.1),  # an acute course: left out
    ("p-T2", "rx3", "2024-03-01", True, 0.8),
    ("p-C1", "rx5", "2024-03-01", True, 0.79), ("p-C1", "rx5", "2024-04-01", True, 0.95),
    ("p-C2", "rx8", "2024-03-01", True, 1.0),
    ("p-X", "rxX", "2024-03-01", True, 0.2),  # a pet never planned
]  # fmt: skip
# (customer, campaign, event type)
EVENTS = [
    ("T1", "refill-20240311-email", "open"), ("T1", "refill-20240311-email", "open"),
    ("T1", "refill-20240311-email", "click"), ("T1", "newsletter-3", "click"),
    ("T2", "refill-20240311-sms", "delivered"), ("T2", "refill-20240311-email", "open"),
    ("T3", "refill-20240411-email", "Open"),
]  # fmt: skip


def _world(con: duckdb.DuckDBPyConnection) -> None:
    _tables(con)
    rows = [
        dict(zip(("as_of_date", "customer_id", "arm", "rx_id", "channel", "actual_refill_date",
                  "lapsed", "run_out_date", "settled"), u, strict=True))
        for u in UNITS
    ]  # fmt: skip
    units = pl.DataFrame(rows).with_columns(
        pl.col("as_of_date", "actual_refill_date", "run_out_date").str.to_date(),
        pet_id="p-" + pl.col("customer_id"),
    )
    units = units.with_columns(contact_on=pl.col("as_of_date") + pl.duration(days=1))
    units = units.with_columns(
        campaign_id=pl.format("refill-{}-{}", pl.col("contact_on").dt.strftime("%Y%m%d"),
                              "channel"),
        model_version=pl.lit("3"),
    )  # fmt: skip
    _insert(con, ASSIGNMENT_TABLE, units.select(list(ASSIGNMENT_COLUMNS)))
    _insert(
        con, OUTCOMES_TABLE,
        units.select("as_of_date", "rx_id", "pet_id", "customer_id", "actual_refill_date",
                     "lapsed", "run_out_date", "settled", "arm"),
    )  # fmt: skip
    fills = pl.DataFrame(FILLS, schema=["rx_id", "customer_id", "fill_date"], orient="row")
    _insert(con, "marts.fills", fills.with_columns(pl.col("fill_date").str.to_date()))
    adherence = pl.DataFrame(
        ADHERENCE, schema=["pet_id", "rx_id", "month_start", "is_maintenance", "pdc"], orient="row"
    )
    _insert(
        con, "marts.adherence_monthly", adherence.with_columns(pl.col("month_start").str.to_date())
    )
    events = pl.DataFrame(EVENTS, schema=["customer_id", "campaign_id", "event_type"], orient="row")
    _insert(con, "intermediate.int_engagement_deduped", events)


@pytest.fixture
def con():
    with duckdb.connect() as c:
        yield c


def _by_key(frame: pl.DataFrame, *keys: str) -> dict:
    return {tuple(r[k] for k in keys): r for r in frame.iter_rows(named=True)}


# (kpi, period): (treated, control, treated units, control units, treated owners, control owners)
EXPECTED = {
    ("capture_in_window", "2024-03"): (1 / 3, 2 / 4, 3, 4, 2, 2),
    ("capture_in_window", "2024-04"): (1.0, 0.0, 1, 1, 1, 1),  # 14 days: in; 15: out
    ("capture_in_window", "all"): (2 / 4, 2 / 5, 4, 5, 2, 2),
    ("wasted_contact", "2024-03"): (2 / 3, 0.0, 3, 4, 2, 2),  # refill on the day; a lapse
    ("wasted_contact", "all"): (2 / 4, 0.0, 4, 5, 2, 2),
    ("on_time_refill", "2024-03"): (2 / 3, 1 / 3, 3, 3, 2, 2),
    ("on_time_refill", "2024-04"): (0.0, 1.0, 1, 1, 1, 1),
    ("on_time_refill", "all"): (2 / 4, 2 / 4, 4, 4, 2, 2),
    ("lapse_rate", "2024-03"): (1 / 3, 0.0, 3, 3, 2, 2),
    ("lapse_rate", "all"): (1 / 4, 0.0, 4, 4, 2, 2),
    ("pdc_at_least_80", "2024-03"): (1.0, 1 / 2, 2, 2, 2, 2),  # 0.8 counts, 0.79 does not
    ("pdc_at_least_80", "2024-04"): (0.0, 1.0, 1, 1, 1, 1),
    ("pdc_at_least_80", "all"): (2 / 3, 2 / 3, 3, 3, 2, 2),
    ("churn_proxy", "2024-03"): (0.0, 1 / 3, 1, 3, 1, 3),  # T2: not active in the 90 days
    ("churn_proxy", "2024-04"): (1 / 2, 0.0, 2, 1, 2, 1),
    ("churn_proxy", "all"): (1 / 3, 1 / 4, 3, 4, 2, 3),
}


def test_each_kpi_by_hand(con):
    _world(con)
    got = compute_kpis(con, THROUGH)
    assert got.columns == list(KPI_COLUMNS)
    rows = _by_key(got, "kpi", "period")
    for key, (t, c, tu, cu, to, co) in EXPECTED.items():
        r = rows[key]
        assert r["treated"] == pytest.approx(t) and r["control"] == pytest.approx(c), key
        assert r["difference"] == pytest.approx(t - c), key
        assert (r["treated_units"], r["control_units"]) == (tu, cu), key
        assert (r["treated_owners"], r["control_owners"]) == (to, co), key
        assert r["through"] == THROUGH and r["cost_per_prediction"] is None
    # May: its outcomes are open, and its churn horizon (Aug 29) is after `through`
    assert not [k for k in rows if k[1] == "2024-05"]
    assert set(got["kpi"]) == set(KPIS)
    # one owner in an arm: no interval
    assert rows[("capture_in_window", "2024-04")]["ci_low"] is None
    # March capture by hand: treated owners (y, x) = (1, 2), (0, 1): R = 1/3, residuals +-1/3,
    # clustered Var = (2/9) / 9 * 2 = 4/81, under the floor (1+1)/(3+2) = 0.4: 0.4 * 0.6 / 3 =
    # 0.08; control (1, 2), (1, 2): residuals 0, the floor 3/6 = 0.5: 0.25 / 4 = 0.0625
    march = rows[("capture_in_window", "2024-03")]
    sd = (0.08 + 0.0625) ** 0.5
    assert march["ci_low"] == pytest.approx(-1 / 6 - Z95 * sd)
    assert march["ci_high"] == pytest.approx(-1 / 6 + Z95 * sd)


def test_response_by_period_and_channel(con):
    _world(con)
    got = _by_key(compute_response(con, THROUGH), "period", "channel")
    cols = ("contacts", "opened", "clicked", "contacts_due", "ordered_14d", "control_contacts_due")
    expected = {
        ("2024-03", "email"): (1, 1, 1, 1, 1, 2),  # two opens, one message
        ("2024-03", "sms"): (1, 0, 0, 1, 0, 1),  # refill on the contact day: no response
        ("2024-04", "email"): (2, 1, 0, 2, 1, 1),
        ("2024-05", "email"): (1, 0, 0, 1, 0, 0),
        ("all", "email"): (4, 2, 1, 4, 2, 3),
        ("all", "sms"): (1, 0, 0, 1, 0, 1),
    }
    assert set(got) == set(expected)
    for key, values in expected.items():
        assert tuple(got[key][c] for c in cols) == values, key
    assert got[("2024-03", "email")]["control_order_rate"] == 1.0  # both control owners
    assert got[("2024-04", "email")]["order_rate"] == 0.5
    assert got[("2024-04", "email")]["open_rate"] == 0.5
    assert got[("all", "email")]["control_order_rate"] == pytest.approx(2 / 3)
    assert got[("2024-05", "email")]["control_order_rate"] is None
    early = _by_key(compute_response(con, D("2024-05-20")), "period", "channel")
    assert early[("2024-05", "email")]["contacts_due"] == 0  # its 14 days have not passed
    assert early[("2024-05", "email")]["order_rate"] is None


def test_write_replaces_both_tables_whole(con):
    _world(con)
    kpis, response = write_kpis(con, THROUGH)
    write_kpis(con, THROUGH)  # idempotent
    stored = con.execute(f"select * from {KPI_TABLE}").pl()
    assert stored.height == kpis.height and stored.columns == list(KPI_COLUMNS)
    assert con.execute(f"select count(*) from {RESPONSE_TABLE}").fetchone() == (response.height,)
    types = dict(
        con.execute(f"select column_name, column_type from (describe {KPI_TABLE})").fetchall()
    )
    assert types == KPI_COLUMNS


def _owners(rng: np.random.Generator, n: int, a: float, b: float, arm: str) -> pl.DataFrame:
    units = rng.integers(1, 7, n)
    p = rng.beta(a, b, n)  # owners differ: their units are correlated
    return pl.DataFrame(
        {"arm": arm, "owner": [f"{arm}{i}" for i in range(n)],
         "y": rng.binomial(units, p).astype(float), "x": units.astype(float)}
    )  # fmt: skip


def test_delta_ci_agrees_with_the_bootstrap():
    rng = np.random.default_rng(3)
    owners = pl.concat([_owners(rng, 400, 3, 5, "treated"), _owners(rng, 300, 2, 6, "control")])
    truth = 3 / 8 - 2 / 8
    delta = ratio_difference(owners.with_columns(kpi=pl.lit("k"), period=pl.lit("p"))).row(
        0, named=True
    )
    diff, low, high = bootstrap_difference(owners, b=2000, seed=1)
    assert delta["difference"] == pytest.approx(diff)
    width, boot_width = delta["ci_high"] - delta["ci_low"], high - low
    assert abs(width / boot_width - 1) < 0.15
    assert delta["ci_low"] < truth < delta["ci_high"] and low < truth < high
    # each unit its own cluster: too narrow, as owners' units are alike (design effect ~1.4)
    units = (
        owners.with_columns(unit=pl.int_ranges(0, pl.col("x").cast(pl.Int64)))
        .explode("unit")
        .select("arm", owner=pl.format("{}-{}", "owner", "unit"),
                y=(pl.col("unit") < pl.col("y")).cast(pl.Float64), x=pl.lit(1.0))
    )  # fmt: skip
    naive = ratio_difference(units.with_columns(kpi=pl.lit("k"), period=pl.lit("p"))).row(
        0, named=True
    )
    assert naive["difference"] == pytest.approx(delta["difference"])
    assert width > 1.1 * (naive["ci_high"] - naive["ci_low"])


def _population(con: duckdb.DuckDBPyConnection, n: int = 3000, uplift: float = 0.0) -> None:
    """``n`` owners, 1-6 planned contacts each over three months, outcomes from the owner's
    own propensities, independent of the arm (but for ``uplift`` on the treated capture)."""
    _tables(con)
    rng = np.random.default_rng(11)
    units = rng.integers(1, 7, n)
    owner = np.repeat(np.arange(n), units)
    arm = np.where(rng.uniform(size=n) < 0.1, "control", "treated")[owner]
    p_capture = np.clip(rng.beta(2, 3, n)[owner] + uplift * (arm == "treated"), 0, 1)
    lapsed = rng.uniform(size=owner.size) < rng.beta(1, 6, n)[owner]
    captured = rng.uniform(size=owner.size) < p_capture
    as_of = np.datetime64("2024-03-01") + rng.integers(0, 90, owner.size).astype("timedelta64[D]")
    wait = np.where(captured, rng.integers(1, 15, owner.size), rng.integers(15, 30, owner.size))
    frame = pl.DataFrame(
        {"as_of_date": as_of, "customer_id": [f"c{i}" for i in owner], "arm": arm,
         "rx_id": [f"rx{i}" for i in range(owner.size)], "lapsed": lapsed, "wait": wait}
    ).with_columns(
        contact_on=pl.col("as_of_date") + pl.duration(days=1),
        pet_id="p" + pl.col("customer_id"), settled=pl.lit(True), channel=pl.lit("email"),
    ).with_columns(
        actual_refill_date=pl.when(~pl.col("lapsed"))
        .then(pl.col("contact_on") + pl.duration(days=pl.col("wait"))),
        run_out_date=pl.col("contact_on") + pl.duration(days=20),
    )  # fmt: skip
    _insert(con, ASSIGNMENT_TABLE, frame.select("as_of_date", "contact_on", "customer_id",
                                                "pet_id", "rx_id", "arm", "channel"))  # fmt: skip
    _insert(con, OUTCOMES_TABLE, frame.select("as_of_date", "rx_id", "customer_id", "arm",
                                              "actual_refill_date", "lapsed", "run_out_date",
                                              "settled"))  # fmt: skip


def test_aa_intervals_contain_zero_and_an_effect_is_found(con):
    _population(con)
    covered = {"capture_in_window": 0, "lapse_rate": 0}
    for seed in range(20):
        got = compute_kpis(con, THROUGH, arm_seed=f"aa-{seed}", control_share=0.1)
        rows = _by_key(got.filter(pl.col("period") == "all"), "kpi")
        for kpi in covered:
            r = rows[(kpi,)]
            assert 200 < r["control_owners"] < 400  # the redrawn arms, not the recorded ones
            covered[kpi] += r["ci_low"] <= 0 <= r["ci_high"]
    assert all(n >= 17 for n in covered.values()), covered
    # the redrawn arms are outreach.arms' (md5 of "seed:customer"), every owner has a unit
    cut = threshold(0.1)
    control = sum(hashlib.md5(f"aa-19:c{i}".encode()).hexdigest()[:8] < cut for i in range(3000))
    assert rows[("capture_in_window",)]["control_owners"] == control
    with duckdb.connect() as other:
        _population(other, uplift=0.15)
        rows = _by_key(compute_kpis(other, THROUGH).filter(pl.col("period") == "all"), "kpi")
        capture = rows[("capture_in_window",)]
        assert capture["ci_low"] > 0.05 and capture["difference"] == pytest.approx(0.15, abs=0.05)
        lapse = rows[("lapse_rate",)]
        assert lapse["ci_low"] <= 0 <= lapse["ci_high"]


def test_no_contacts_gives_empty_tables_with_the_schema(con):
    _tables(con)
    kpis, response = write_kpis(con, THROUGH)
    assert kpis.is_empty() and kpis.columns == list(KPI_COLUMNS)
    assert response.is_empty() and response.columns == list(RESPONSE_COLUMNS)
    assert con.execute(f"select count(*) from {KPI_TABLE}").fetchone() == (0,)


def test_an_arm_without_units_has_no_value_nor_interval(con):
    _world(con)
    con.execute(f"delete from {ASSIGNMENT_TABLE} where arm = 'control'")
    rows = _by_key(compute_kpis(con, THROUGH), "kpi", "period")
    r = rows[("capture_in_window", "all")]
    assert r["treated"] == pytest.approx(0.5) and r["control"] is None
    assert r["difference"] is None and r["ci_low"] is None and r["ci_high"] is None
    assert (r["control_units"], r["control_owners"]) == (0, 0)


@pytest.mark.parametrize(
    ("dropped", "reader"),
    [
        ("marts.fills", compute_kpis),
        (OUTCOMES_TABLE, compute_kpis),
        ("marts.adherence_monthly", compute_kpis),
        ("intermediate.int_engagement_deduped", compute_response),
        (ASSIGNMENT_TABLE, compute_response),
    ],
)
def test_a_missing_input_table_is_named(con, dropped, reader):
    _tables(con)
    con.execute(f"drop table {dropped}")
    with pytest.raises(ValueError, match=dropped.replace(".", r"\.")):
        reader(con, THROUGH)


def test_no_through_date_is_an_error(con):
    _tables(con)
    with pytest.raises(ValueError, match="through"):
        write_kpis(con, None)
