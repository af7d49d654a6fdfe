"""``relations_read``: the relations a SQL text reads, and what the features and the EDA
report read with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from refill_assets import features
from refill_assets.contract.raw_tables import RAW_TABLES
from refill_assets.reports import eda
from refill_assets.storage.relations import relations_read

MODELS = Path(__file__).resolve().parents[3] / "dbt_project" / "models"
# the schemas dbt builds (dbt_project.yml: each model folder is its schema)
DBT_SCHEMAS = {"staging", "intermediate", "marts"}


def test_cte_names_are_not_relations():
    sql = """
        with recent as (select * from marts.fills where fill_date > date '2025-01-01'),
        per_rx as (select rx_id, count(*) as n from recent group by rx_id)
        select * from per_rx join recent using (rx_id)
    """
    assert relations_read(sql) == {("marts", "fills")}


def test_a_cte_name_counts_only_where_its_with_is():
    # `recent` is a CTE inside the subquery only; the outer `recent` and the qualified
    # `marts.per_rx` are tables even though CTEs of those names exist
    sql = """
        with per_rx as (select 1 as rx_id)
        select * from recent, marts.per_rx
        where exists (with recent as (select 1) select * from recent)
    """
    assert relations_read(sql) == {("main", "recent"), ("marts", "per_rx")}


def test_joins_subqueries_and_set_operations_are_found():
    sql = """
        select f.order_id, (select max(_dt) from staging.stg_rx_orders) as through
        from marts.fills as f
        left join marts.pets as p on p.pet_id = f.pet_id
        inner join (select * from intermediate.int_shipments_latest) as s using (order_id)
        where f.rx_id in (select rx_id from marts.refill_intervals)
        union all
        select order_id, null from quarantine.orphan_orders
    """
    assert relations_read(sql) == {
        ("staging", "stg_rx_orders"),
        ("marts", "fills"),
        ("marts", "pets"),
        ("intermediate", "int_shipments_latest"),
        ("marts", "refill_intervals"),
        ("quarantine", "orphan_orders"),
    }


def test_duckdb_syntax_and_names():
    sql = """
        select k.*, h.holiday, w.x
        from _keys as k
        asof inner join warehouse.marts.holidays as h on h.day >= k.day
        semi join marts.fills using (rx_id)
        cross join range(3) as s(sample)
        cross join read_parquet('f.parquet') as w
        qualify row_number() over (partition by k.rx_id order by h.day) = 1
    """
    # no schema: DuckDB's main; a database before the schema is not part of the pair;
    # table functions are not relations
    assert relations_read(sql) == {("main", "_keys"), ("marts", "holidays"), ("marts", "fills")}


def test_written_tables_are_not_read():
    sql = """
        insert into marts.copy select * from marts.fills;
        create table scratch.t as select * from staging.stg_pets
    """
    assert relations_read(sql) == {("marts", "fills"), ("staging", "stg_pets")}


def _model_exists(schema: str, table: str) -> bool:
    return (MODELS / schema / f"{table}.sql").is_file()


@pytest.mark.parametrize("reader", [features, eda], ids=["features", "eda"])
def test_readers_read_only_dbt_models(reader):
    reads = reader.relations_read()
    assert reads
    assert {schema for schema, _ in reads} <= DBT_SCHEMAS, reads
    assert [pair for pair in reads if not _model_exists(*pair)] == []


def test_features_read_versions_marts_and_staging():
    assert features.relations_read() == {
        ("marts", "refill_intervals"),
        ("marts", "active_maintenance_rx_spans"),
        ("intermediate", "int_rx_order_versions"),
        ("intermediate", "int_pet_versions"),
        ("staging", "stg_customers"),
        ("staging", "stg_engagement"),
        ("staging", "stg_inventory"),
        ("staging", "stg_shipments"),
        ("staging", "stg_vet_reauth"),
    }
    assert not {schema for schema, _ in features.relations_read()} & {"raw", "main"}


def test_eda_reads_every_raw_table_through_staging():
    staging = {table for schema, table in eda.relations_read() if schema == "staging"}
    assert {"stg_files", "stg_quarantine_rows"} <= staging
    assert {f"stg_{extract}" for extract in RAW_TABLES} <= staging
