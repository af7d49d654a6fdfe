"""quarantine.orphan_orders says why each order's pet is missing: still within the grace,
never delivered, or (likely) in a pets delivery from before the first partition that the
landing zone's reconciliation recorded as skipped."""

from __future__ import annotations

from datetime import date

import duckdb

from tests.support.dbt_fixture import make_raw_warehouse
from tests.support.dbt_runner import rows, run_dbt

ORPHANS = "select order_id, pet_id, reason from quarantine.orphan_orders order by order_id"


def test_each_orphan_order_says_why_its_pet_is_missing(tmp_path):
    warehouse = make_raw_warehouse(tmp_path / "warehouse.duckdb")
    run_dbt("build", warehouse=warehouse, work=tmp_path)
    # O12's pet P404 never came (grace over); O13 came on the last day, its pet may still come;
    # O11's pet came two days after it, inside the grace: not an orphan
    assert rows(warehouse, ORPHANS) == [
        ("O12", "P404", "pet_never_delivered"),
        ("O13", "PNEW", "pet_within_grace"),
    ]

    # the landing zone holds a pets delivery from before the first partition, never loaded
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into raw.landing_files values"
            " ('pets', ?, 'pets/dt=2023-12-20/pets.csv', 'skipped', 'before_partitions', false),"
            " ('rx_orders', ?, 'rx_orders/dt=2024-06-02/o.csv', 'skipped', 'after_window', true)",
            [date(2023, 12, 20), date(2024, 6, 2)],
        )
    run_dbt(
        "run", "--select", "stg_landing_files", "orphan_orders", warehouse=warehouse, work=tmp_path
    )
    assert rows(warehouse, ORPHANS) == [
        ("O12", "P404", "pet_before_partitions"),
        ("O13", "PNEW", "pet_within_grace"),
    ]
    # every reason is one of the three, and the warn test counts only those past the grace
    test = run_dbt("test", "--select", "orphan_orders", warehouse=warehouse, work=tmp_path)
    assert "WARN 1 has_no_rows_orphan_orders" in test.stdout
