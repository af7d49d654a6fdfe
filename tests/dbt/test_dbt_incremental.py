"""Nightly increments of the whole-history models give the full build's tables.

The fixture's deliveries are fed to a warehouse a few days at a time, each
step followed by a `dbt run` over just those days, as the nightly run does;
the keyed incremental models (macros/keyed_incremental.sql) then rebuild only
the keys those days touched. At the end every staging view and every
intermediate, mart and quarantine table must equal a single full build over all
deliveries.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb

from refill_assets.contract.raw_tables import RAW_TABLES
from tests.support.dbt_fixture import FIRST_DT, make_raw_warehouse
from tests.support.dbt_runner import copy_warehouse, rows, run_dbt, table

KEYED_MODELS = {
    "intermediate": (
        "int_rx_order_versions",
        "int_rx_orders_latest",
        "int_shipments_latest",
        "int_engagement_deduped",
    ),
    "marts": ("fills", "refill_intervals", "adherence_monthly", "active_maintenance_rx_spans"),
}
# the first build takes deliveries through 01-04; each later step the days after the previous
STEPS = [
    "2024-01-04",
    "2024-01-05",
    "2024-01-06",
    "2024-01-09",
    "2024-01-12",
    "2024-02-05",
    "2024-02-12",
    "2024-03-11",
    "2024-04-20",
    "2024-05-31",
]
RAW = [f"raw.{name}" for name in RAW_TABLES] + ["raw.files", "quarantine.rows"]


def curated_tables(warehouse: Path) -> list[str]:
    return [
        f"{schema}.{name}"
        for schema, name in rows(
            warehouse,
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts', 'quarantine') "
            "and table_name not in ('rows', 'dbt_watermarks') order by all",
        )
    ]


def deliver(warehouse: Path, everything: Path, after: str | None, through: str) -> None:
    """Make the raw zone hold exactly the deliveries up to ``through``."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{everything}' as everything (read_only)")
        for name in RAW:
            if after is None:
                con.execute(f"delete from {name} where _dt > date '{through}'")
            else:
                con.execute(
                    f"insert into {name} select * from everything.{name} "
                    f"where _dt > date '{after}' and _dt <= date '{through}'"
                )


def keyed_run_was_used(work: Path) -> list[str]:
    """Keyed models whose compiled SQL of the last run read their changed keys."""
    compiled = work / "target" / "compiled" / "refill" / "models"
    return [
        model
        for folder, models in KEYED_MODELS.items()
        for model in models
        if "__changed_keys" in (compiled / folder / f"{model}.sql").read_text()
    ]


def add_refill_due_across_a_month(everything: Path) -> None:
    """R99, cat P2's second rx: one fill on 02-01 running out 02-29, so its on-time
    outcome (run-out + 7 = 03-07) becomes observable between the data ends of the
    03-11 and 04-20 steps (03-05 and 04-09): a February row changes in April."""
    with duckdb.connect(str(everything)) as con:
        con.execute(
            "insert into raw.rx_orders select * replace ("
            "'O99' as order_id, 'R99' as rx_id, date '2024-02-01' as fill_date, "
            "timestamp '2024-02-01 15:00:00' as order_ts, "
            "timestamp '2024-02-01 16:00:00' as updated_at, 28 as days_supply, "
            "date '2024-02-01' as _dt, 'rx_0201.csv' as _file, 1 as _line) "
            "from raw.rx_orders where order_id = 'O7'"
        )
        con.execute(
            "insert into raw.files select * replace ("
            "date '2024-02-01' as _dt, 'rx_0201.csv' as _file, md5('rx_0201.csv') as content_hash) "
            "from raw.files where _file = 'rx_0115.csv'"
        )


def test_nightly_increments_match_full_build(tmp_path):
    everything = make_raw_warehouse(tmp_path / "everything.duckdb")
    add_refill_due_across_a_month(everything)
    full_work = tmp_path / "full"
    full = copy_warehouse(everything, tmp_path / "full.duckdb")
    run_dbt("run", warehouse=full, work=full_work)

    work = tmp_path / "nightly"
    warehouse = copy_warehouse(everything, tmp_path / "nightly.duckdb")
    deliver(warehouse, everything, None, STEPS[0])
    first = {"min_date": FIRST_DT.isoformat(), "max_date": STEPS[0]}
    run_dbt("run", warehouse=warehouse, work=work, window=first)
    assert keyed_run_was_used(work) == []  # a first build is a whole build
    for after, through in pairwise(STEPS):
        deliver(warehouse, everything, after, through)
        start = (date.fromisoformat(after) + timedelta(days=1)).isoformat()
        run_dbt(
            "run", warehouse=warehouse, work=work, window={"min_date": start, "max_date": through}
        )
        assert len(keyed_run_was_used(work)) == 8, through

    assert curated_tables(warehouse) == curated_tables(full)
    for name in curated_tables(full):
        assert table(warehouse, name) == table(full, name), name

    # re-running a day already taken in rebuilds whole tables, with the same result
    run_dbt(
        "run",
        warehouse=warehouse,
        work=work,
        window={"min_date": STEPS[-1], "max_date": STEPS[-1]},
    )
    assert keyed_run_was_used(work) == []
    for name in curated_tables(full):
        assert table(warehouse, name) == table(full, name), name
