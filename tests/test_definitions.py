"""The asset graph as the UI shows it: lineage, partitions, pools and checks."""

import dagster as dg

from refill_assets.contract import EXTRACTS
from refill_assets.definitions import defs

GRAPH = defs.resolve_asset_graph()


def _node(*path: str):
    return GRAPH.get(dg.AssetKey(list(path)))


def test_one_partitioned_ingestion_asset_per_extract_with_five_checks():
    for extract in EXTRACTS:
        node = _node("raw", extract)
        assert node.partitions_def is not None
        checks = {k.name: k for k in GRAPH.get_check_keys_for_assets({node.key})}
        assert set(checks) == {
            "schema",
            "required_fields_valid",
            "row_count_vs_trailing_week",
            "null_spikes",
            "quarantine_rate",
        }
    blocking = {
        c.name
        for c in GRAPH.asset_check_keys
        if GRAPH.get_check_spec(c).blocking and c.asset_key == dg.AssetKey(["raw", "rx_orders"])
    }
    assert blocking == {"schema", "required_fields_valid"}


def test_every_partitioned_asset_backfills_in_a_single_run():
    partitioned = [n for n in GRAPH.asset_nodes if n.partitions_def is not None]
    assert len(partitioned) >= len(EXTRACTS) + 2
    for node in partitioned:
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), node.key


def test_everything_that_opens_the_warehouse_is_in_the_pool_of_one():
    for node in GRAPH.asset_nodes:
        if node.is_materializable:
            assert node.pools == {"warehouse"}, node.key


def test_dbt_sources_are_the_ingestion_assets():
    assert (
        dg.AssetKey(["raw", "rx_orders"]) in _node("staging", "stg_rx_order_versions").parent_keys
    )
    assert dg.AssetKey(["marts", "fills"]) in _node("reports", "eda").parent_keys
    published = _node("published_warehouse")
    assert dg.AssetKey(["marts", "active_maintenance_rx_daily"]) in published.parent_keys


def test_dbt_error_tests_are_blocking_checks():
    fills_checks = [
        c for c in GRAPH.asset_check_keys if c.asset_key == dg.AssetKey(["marts", "fills"])
    ]
    assert any(GRAPH.get_check_spec(c).blocking for c in fills_checks)


def test_nightly_schedule_targets_the_whole_graph():
    schedule = defs.resolve_schedule_def("refill_all_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert defs.resolve_job_def("refill_all") is not None
