# Over 400 lines: every mart checked against the one fixture; split, they would share it all.
"""The dbt project on the hand-written raw zone of ``dbt_fixture.py``.

dbt runs in a subprocess (``--project-dir``/``--profiles-dir`` on
``dbt_project/``, target and logs in a temp folder) against a temporary
DuckDB file given by ``REFILL_WAREHOUSE_PATH``. Expected values are worked out
by hand from the fixture rows.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from refill_assets.contract.raw_tables import RAW_TABLES
from tests.support.dbt_fixture import make_raw_warehouse
from tests.support.dbt_runner import copy_warehouse, rows, run_dbt, table

DAILY_TABLES = ("inventory_daily", "engagement_daily")  # incremental over the window
# staging view -> the table ingestion writes that it reads 1:1
STAGED = {
    **{f"stg_{extract}": f"raw.{extract}" for extract in RAW_TABLES},
    "stg_files": "raw.files",
    "stg_landing_files": "raw.landing_files",
    "stg_quarantine_rows": "quarantine.rows",
}
D = date.fromisoformat


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The fixture warehouse after a full `dbt build` (no window vars)."""
    work = tmp_path_factory.mktemp("dbt_full")
    warehouse = make_raw_warehouse(work / "warehouse.duckdb")
    proc = run_dbt("build", warehouse=warehouse, work=work)
    # the orphan order is flagged by a warn test, and nothing errors
    assert "WARN 1 has_no_rows_orphan_orders" in proc.stdout
    assert "ERROR=0" in proc.stdout
    return warehouse


# --- fills -------------------------------------------------------------------


def test_schemas_are_exact(built):
    schemas = {r[0] for r in rows(built, "select table_schema from information_schema.tables")}
    assert {"staging", "intermediate", "marts", "quarantine", "raw"} <= schemas
    assert not {s for s in schemas if s.startswith("main_")}


# --- staging: the raw zone, 1:1 ---------------------------------------------------


def columns_of(warehouse: Path, schema: str, name: str) -> list[str]:
    return [
        r[0]
        for r in rows(
            warehouse,
            "select column_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{name}' order by ordinal_position",
        )
    ]


def test_staging_views_are_their_raw_tables_one_to_one(built):
    views = rows(
        built,
        "select table_name, table_type from information_schema.tables "
        "where table_schema = 'staging' and table_name like 'stg_%' order by all",
    )
    assert views == [(name, "VIEW") for name in sorted(STAGED)]
    for view, source in STAGED.items():
        assert columns_of(built, "staging", view) == columns_of(built, *source.split(".")), view
        # every row, every version and re-delivery, unchanged
        assert table(built, f"staging.{view}") == table(built, source), view
    assert len(table(built, "staging.stg_rx_orders")) > len(table(built, "marts.fills"))


def test_views_work_in_a_copy_of_the_warehouse_file(built, tmp_path):
    """Views name their tables without the database (the file's name): the published
    copy and any renamed copy read the same rows."""
    copy = copy_warehouse(built, tmp_path / "another-name.duckdb")
    for view in (*(f"staging.{name}" for name in STAGED), "marts.active_maintenance_rx_daily"):
        assert table(copy, view) == table(built, view), view


def test_fills_one_row_per_effective_fill(built):
    got = [r[0] for r in rows(built, "select order_id from marts.fills order by order_id")]
    # O5, O14 canceled (O14's stale re-send does not revive it), O12 orphan,
    # O13 still inside the pet grace window
    assert got == sorted(
        ["O1", "O2", "O3", "O4", "O6", "O7", "O8", "O9", "O10", "O11", "O15", "O16", "O17", "O18"]
    )


def test_fills_versions_and_derivations(built):
    fills = {
        r[0]: r[1:]
        for r in rows(
            built,
            "select order_id, status, is_partial, effective_days_supply, days_supply_source, "
            "known_from, ndc, channel, is_maintenance from marts.fills",
        )
    }
    # O1: pending on 01-05, filled version first delivered 01-06 (twice)
    assert fills["O1"] == (
        "filled",
        False,
        30,
        "sent",
        D("2024-01-06"),
        "00012345678",
        "mail",
        True,
    )
    # O2: ordered online
    assert fills["O2"][5:7] == ("00012345678", "ecommerce")
    # O3: partial, its own (dispensed) days' supply
    assert fills["O3"][:4] == ("partial", True, 15, "sent")
    assert fills["O3"][4] == D("2024-03-02")
    # O4: days_supply null -> floor(30 / 1.0)
    assert fills["O4"][2:4] == (30, "sig")
    # is_maintenance null: antibiotic acute, class other maintenance
    assert fills["O6"][7] is False
    assert fills["O11"][7] is True


def test_fills_shipments(built):
    ship = {
        r[0]: r[1:]
        for r in rows(
            built,
            "select order_id, has_shipment, ship_delay_days, delivered_date, "
            "days_fill_to_delivery, is_backordered, shipment_status from marts.fills",
        )
    }
    assert ship["O1"] == (True, 2, D("2024-01-12"), 7, True, "delivered")
    assert ship["O2"] == (True, 0, D("2024-02-06"), 3, False, "delivered")
    assert ship["O6"] == (False, None, None, None, False, None)


def test_orphan_orders_quarantined_after_grace(built):
    assert rows(
        built,
        "select extract, _dt, _file, _line, reason, order_id, pet_id from quarantine.orphan_orders"
        " where reason <> 'pet_within_grace'",
    ) == [
        (
            "rx_orders",
            D("2024-01-15"),
            "rx_0115.csv",
            2,
            "pet_never_delivered",
            "O12",
            "P404",
        )
    ]


# --- refill intervals ----------------------------------------------------------


def test_refill_intervals(built):
    got = {
        r[0]: r[1:]
        for r in rows(
            built,
            "select order_id, fill_seq, next_fill_date, days_to_next_fill, round(gap_ratio, 4), "
            "is_censored, duration_days, runout_date, is_lapse from marts.refill_intervals",
        )
    }
    # R1: 01-05 (30) -> 02-03 (30) -> 03-01 (partial, 15) -> 03-14 (30, derived)
    assert got["O1"] == (
        1,
        D("2024-02-03"),
        29,
        round(29 / 30, 4),
        False,
        29,
        D("2024-02-04"),
        False,
    )
    assert got["O2"] == (2, D("2024-03-01"), 27, 0.9, False, 27, D("2024-03-04"), False)
    assert got["O3"] == (
        3,
        D("2024-03-14"),
        13,
        round(13 / 15, 4),
        False,
        13,
        D("2024-03-16"),
        False,
    )
    # last fill: censored at the data end 05-31; run-out 04-13 + 30 = 05-13 passed -> lapse
    assert got["O4"] == (4, None, None, None, True, 78, D("2024-04-13"), True)
    # R9: refilled exactly at run-out; its last fill runs out 06-19: lapse not observable
    assert got["O15"] == (1, D("2024-05-20"), 30, 1.0, False, 30, D("2024-05-20"), False)
    assert got["O16"] == (2, None, None, None, True, 11, D("2024-06-19"), None)
    # R3's delivered-late fill still orders by fill date
    assert got["O7"][:3] == (1, D("2024-02-10"), 26)
    # R10: filled on the data end itself
    assert got["O17"] == (1, None, None, None, True, 0, D("2024-06-30"), None)


# --- active maintenance prescriptions, as known on D ----------------------------


ACTIVE_EXPECTED = {
    # R11 (90-day fill 01-03) only: O1 is still pending as known on 01-05
    "2024-01-05": {"R11": "2024-01-03"},
    "2024-01-06": {"R1": "2024-01-05", "R11": "2024-01-03"},
    # R5's order is known from 01-10, its pet only from 01-12
    "2024-01-10": {"R1": "2024-01-05", "R11": "2024-01-03"},
    "2024-01-12": {"R1": "2024-01-05", "R5": "2024-01-09", "R11": "2024-01-03"},
    # R3 (cat); R4 (rabbit), R2 (antibiotic), R6 (unknown pet) never
    "2024-01-20": {"R1": "2024-01-05", "R3": "2024-01-15", "R5": "2024-01-09", "R11": "2024-01-03"},
    # R8 filled on 02-01, canceled as known from 02-04 (stale re-send on 02-05)
    "2024-02-03": {
        "R1": "2024-02-03",
        "R3": "2024-01-15",
        "R5": "2024-01-09",
        "R8": "2024-02-01",
        "R11": "2024-01-03",
    },
    "2024-02-04": {"R1": "2024-02-03", "R3": "2024-01-15", "R5": "2024-01-09", "R11": "2024-01-03"},
    "2024-02-05": {"R1": "2024-02-03", "R3": "2024-01-15", "R5": "2024-01-09", "R11": "2024-01-03"},
    # R3's 02-10 fill is delivered on 02-12
    "2024-02-11": {"R1": "2024-02-03", "R3": "2024-01-15", "R5": "2024-01-09", "R11": "2024-01-03"},
    "2024-02-12": {"R1": "2024-02-03", "R3": "2024-02-10", "R5": "2024-01-09", "R11": "2024-01-03"},
    # O3 (partial, 03-01) is delivered on 03-02
    "2024-03-01": {"R1": "2024-02-03", "R3": "2024-02-10", "R5": "2024-01-09", "R11": "2024-01-03"},
    # the cat is reported deceased on 03-10, delivered 03-11
    "2024-03-10": {"R1": "2024-03-01", "R3": "2024-03-05", "R5": "2024-01-09", "R11": "2024-01-03"},
    "2024-03-11": {"R1": "2024-03-01", "R5": "2024-01-09", "R11": "2024-01-03"},
    "2024-05-31": {
        "R1": "2024-03-14",
        "R5": "2024-01-09",
        "R9": "2024-05-20",
        "R10": "2024-05-31",
        "R11": "2024-01-03",
    },
}


def active_on(warehouse: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for day, rx, last in rows(
        warehouse,
        "select as_of_date, rx_id, last_fill_date from marts.active_maintenance_rx_daily",
    ):
        out.setdefault(day.isoformat(), {})[rx] = last.isoformat()
    return out


def test_active_maintenance_rx_as_known_on_d(built):
    got = active_on(built)
    for day, expected in ACTIVE_EXPECTED.items():
        assert got.get(day, {}) == expected, day
    # default window: first to last rx_orders delivery day
    assert min(got) == "2024-01-03" and max(got) == "2024-05-31"
    supply = dict(
        rows(
            built,
            "select as_of_date, last_days_supply from marts.active_maintenance_rx_daily "
            "where rx_id = 'R1' and as_of_date in ('2024-03-02', '2024-03-14')",
        )
    )
    assert supply == {D("2024-03-02"): 15, D("2024-03-14"): 30}
    pet_customer = rows(
        built,
        "select distinct pet_id, customer_id, drug_class from marts.active_maintenance_rx_daily "
        "where rx_id = 'R5'",
    )
    assert pet_customer == [("P4", "C2", "other")]


# --- adherence -----------------------------------------------------------------


def test_pdc_and_on_time_by_hand(built):
    got = {
        (r[0], r[1].isoformat()[:7]): r[2:]
        for r in rows(
            built,
            "select rx_id, month_start, days_in_period, days_covered, round(pdc, 4), "
            "refills_due, refills_on_time, on_time_refill_rate from marts.adherence_monthly",
        )
    }
    # R1 coverage with overlaps shifted forward: 01-05..02-03, 02-04..03-04,
    # 03-05..03-19, 03-20..04-18; period 01-05 .. min(data end 05-31,
    # last run-out 04-13 + 30 = 05-13)
    assert got[("R1", "2024-01")] == (27, 27, 1.0, 0, 0, None)
    assert got[("R1", "2024-02")] == (29, 29, 1.0, 1, 1, 1.0)
    assert got[("R1", "2024-03")] == (31, 31, 1.0, 2, 2, 1.0)
    assert got[("R1", "2024-04")] == (30, 18, 0.6, 1, 0, 0.0)
    assert got[("R1", "2024-05")] == (13, 0, 0.0, 0, 0, None)
    assert ("R1", "2024-06") not in got
    # R2: 10 days from 01-10, then nothing until run-out 01-20 + 30 = 02-19
    assert got[("R2", "2024-01")][:3] == (22, 10, round(10 / 22, 4))
    assert got[("R2", "2024-02")][:3] == (19, 0, 0.0)
    # R3: measured until the cat was reported deceased (03-10)
    assert got[("R3", "2024-03")][:3] == (10, 10, 1.0)
    assert ("R3", "2024-04") not in got


# --- other marts ----------------------------------------------------------------


def test_pets_customers_drugs(built):
    pets = {
        r[0]: r[1:]
        for r in rows(
            built, "select pet_id, species, status, inactive_since, age_years from marts.pets"
        )
    }
    assert pets["P2"][:3] == ("cat", "deceased", D("2024-03-10"))
    assert pets["P3"][0] == "other"
    assert pets["P5"][3] == round((D("2024-05-31") - D("2014-01-01")).days / 365.25, 2)
    customer_columns = [
        r[0]
        for r in rows(
            built,
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'customers'",
        )
    ]
    assert not {"first_name", "last_name", "email", "phone", "address_line1", "zip5"} & set(
        customer_columns
    )
    assert rows(
        built, "select marketing_opt_in, state from marts.customers where customer_id = 'C2'"
    ) == [(True, "MA")]
    drugs = dict(rows(built, "select ndc, (is_maintenance, is_seasonal) from marts.drugs"))
    assert len(drugs) == 7
    assert drugs["00098765432"] == (False, False)  # antibiotic
    assert drugs["44444444444"] == (True, True)  # heartworm prevention


def test_inventory_and_engagement_daily(built):
    inventory = {
        (r[0].isoformat(), r[1]): r[2:]
        for r in rows(
            built,
            "select snapshot_date, ndc, warehouse_count, on_hand_units, any_backordered, "
            "expected_restock_date from marts.inventory_daily",
        )
    }
    assert inventory[("2024-01-05", "00012345678")] == (2, 100, True, D("2024-01-20"))
    # the 01-06 snapshot delivered twice counts once
    assert inventory[("2024-01-06", "00012345678")] == (2, 90, True, D("2024-01-18"))
    assert inventory[("2024-01-07", "00012345678")] == (1, 80, False, None)
    engagement = {
        (r[0], r[1].isoformat()): r[2:]
        for r in rows(
            built,
            "select customer_id, event_date, events_total, email_sent, email_open, sms_sent, "
            "email_click from marts.engagement_daily",
        )
    }
    # E1 delivered twice counts once
    assert engagement[("C1", "2024-01-05")] == (3, 1, 1, 1, 0)
    assert engagement[("C2", "2024-01-06")] == (1, 1, 0, 0, 0)
    assert engagement[("C2", "2024-01-07")] == (1, 0, 0, 0, 1)


def test_vet_reauths_latest_version_with_response_delay(built):
    # RA1: pending on 04-11, approved on 04-13: one row, the approved version
    assert rows(
        built,
        "select reauth_id, status, refills_granted, days_to_response, _dt from marts.vet_reauths",
    ) == [("RA1", "approved", 5, 2, D("2024-04-13"))]


def test_scores_are_a_source_nothing_reads(built):
    """scores.rx_refill_scores is declared (the Dagster asset of the scores) but no
    model reads it: the scores depend on the marts, so a reader would be a cycle."""
    manifest = json.loads((built.parent / "target" / "manifest.json").read_text())
    source = manifest["sources"]["source.refill.scores.rx_refill_scores"]
    assert (source["schema"], source["name"]) == ("scores", "rx_refill_scores")
    assert source["config"]["meta"]["dagster"]["asset_key"] == ["scores", "rx_refill_scores"]
    assert not [
        node for node, parents in manifest["parent_map"].items() if source["unique_id"] in parents
    ]
    # and the build above ran without the table
    assert not rows(built, "select * from information_schema.tables where table_schema = 'scores'")


# --- incremental daily models -----------------------------------------------------


def test_incremental_windows_match_full_build(built, tmp_path):
    """Overlapping partition windows, one re-run, give the full build's tables."""
    warehouse = make_raw_warehouse(tmp_path / "warehouse.duckdb")
    run_dbt(
        "run",
        warehouse=warehouse,
        work=tmp_path,
        window={"min_date": "2024-01-01", "max_date": "2024-03-31"},
    )
    window_b = {"min_date": "2024-03-15", "max_date": "2024-05-31"}
    run_dbt("run", "--select", "tag:daily", warehouse=warehouse, work=tmp_path, window=window_b)
    after_b = {name: table(warehouse, f"marts.{name}") for name in DAILY_TABLES}
    run_dbt("run", "--select", "tag:daily", warehouse=warehouse, work=tmp_path, window=window_b)
    for name in DAILY_TABLES:
        again = table(warehouse, f"marts.{name}")
        assert again == after_b[name], f"{name} changed when its window was re-run"
        assert again == table(built, f"marts.{name}"), f"{name} differs from the full build"


def test_late_rows_rebuild_the_day_they_belong_to(built, tmp_path):
    warehouse = copy_warehouse(built, tmp_path / "warehouse.duckdb")
    # late rows: event E4 of 01-06 was delivered on 01-08; inventory of 01-07 on 01-09.
    # Running the window of a delivery day rebuilds the day the rows belong to.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from marts.engagement_daily where event_date = '2024-01-06'")
        con.execute("delete from marts.inventory_daily where snapshot_date = '2024-01-07'")
    for day in ("2024-01-08", "2024-01-09"):
        run_dbt(
            "run",
            "--select",
            "engagement_daily",
            "inventory_daily",
            warehouse=warehouse,
            work=tmp_path,
            window={"min_date": day, "max_date": day},
        )
    for name in ("engagement_daily", "inventory_daily"):
        assert table(warehouse, f"marts.{name}") == table(built, f"marts.{name}")


# --- empty warehouse, bad window --------------------------------------------------------


def test_empty_raw_zone_builds(tmp_path):
    warehouse = make_raw_warehouse(tmp_path / "warehouse.duckdb", with_rows=False)
    run_dbt("build", warehouse=warehouse, work=tmp_path)
    counts = rows(
        warehouse,
        "select table_name, estimated_size from duckdb_tables() "
        "where schema_name in ('marts', 'quarantine') and table_name <> 'rows'",
    )
    assert len(counts) == 11
    for name, _ in counts:
        schema = "quarantine" if name == "orphan_orders" else "marts"
        assert rows(warehouse, f"select count(*) from {schema}.{name}") == [(0,)], name
    bad = run_dbt(
        "run",
        "--select",
        "engagement_daily",
        warehouse=warehouse,
        work=tmp_path,
        window={"min_date": "yesterday"},
        check=False,
    )
    assert bad.returncode != 0
    assert "must be a date YYYY-MM-DD" in bad.stdout
