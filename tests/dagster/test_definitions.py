"""The asset graph as the UI shows it: lineage, partitions, pools and checks."""

from datetime import date

import dagster as dg

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.definitions import defs
from refill_assets.defs.partitions import daily, run_window

GRAPH = defs.resolve_asset_graph()


def _node(*path: str):
    return GRAPH.get(dg.AssetKey(list(path)))


def test_one_partitioned_ingestion_asset_per_extract_with_four_checks():
    for extract in EXTRACTS:
        node = _node("raw", extract)
        assert node.partitions_def is not None
        checks = {k.name: k for k in GRAPH.get_check_keys_for_assets({node.key})}
        assert set(checks) == {
            "schema",
            "files_reconciled",
            "quality_blocking",
            "quality_warnings",
        }
    blocking = {
        c.name
        for c in GRAPH.asset_check_keys
        if GRAPH.get_check_spec(c).blocking and c.asset_key == dg.AssetKey(["raw", "rx_orders"])
    }
    assert blocking == {"schema", "files_reconciled", "quality_blocking"}


def test_every_partitioned_asset_backfills_in_a_single_run():
    partitioned = [n for n in GRAPH.asset_nodes if n.partitions_def is not None]
    assert len(partitioned) >= len(EXTRACTS) + 2
    for node in partitioned:
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), node.key


def test_dbt_models_are_unpartitioned_and_take_the_window_of_the_run_they_are_in():
    """One materialization per model and run, not per model and day (docs/architecture.md,
    "Bookkeeping"); in a partitioned run the window still reaches dbt, outside one every day
    does."""
    assert _node("marts", "fills").partitions_def is None
    seen = {}

    @dg.asset(partitions_def=daily)
    def delivered() -> None: ...

    @dg.asset(deps=[delivered])
    def curated(context: dg.AssetExecutionContext) -> None:
        seen[context.run.run_id] = run_window(context)

    job = dg.define_asset_job("both", [delivered, curated])
    resolved = dg.Definitions(assets=[delivered, curated], jobs=[job]).resolve_job_def("both")
    ranged = resolved.execute_in_process(
        tags={
            "dagster/asset_partition_range_start": "2025-01-01",
            "dagster/asset_partition_range_end": "2025-01-31",
        }
    )
    one_day = resolved.execute_in_process(partition_key="2025-02-03")
    alone = dg.materialize([curated], selection=[curated])
    assert seen[ranged.run_id] == (date(2025, 1, 1), date(2025, 1, 31))
    assert seen[one_day.run_id] == (date(2025, 2, 3), date(2025, 2, 3))
    assert seen[alone.run_id] is None


def test_everything_that_opens_the_warehouse_is_in_the_pool_of_one():
    for node in GRAPH.asset_nodes:
        # models read the training snapshot's Parquet file, deploys MLflow: never the warehouse
        if node.is_materializable and node.group_name not in ("models", "deploy"):
            assert node.pools == {"warehouse"}, node.key


def test_dbt_sources_are_the_ingestion_assets():
    assert dg.AssetKey(["raw", "rx_orders"]) in _node("staging", "stg_rx_orders").parent_keys
    assert dg.AssetKey(["marts", "fills"]) in _node("reports", "eda").parent_keys
    published = _node("published_warehouse")
    assert dg.AssetKey(["marts", "active_maintenance_rx_daily"]) in published.parent_keys


def test_dbt_error_tests_are_blocking_checks():
    fills_checks = [
        c for c in GRAPH.asset_check_keys if c.asset_key == dg.AssetKey(["marts", "fills"])
    ]
    assert any(GRAPH.get_check_spec(c).blocking for c in fills_checks)


def test_jobs_split_history_nights_and_training():
    nightly = defs.resolve_schedule_def("nightly_schedule")
    assert nightly.cron_schedule == "0 2 * * *"
    assert defs.resolve_schedule_def("retrain_schedule").cron_schedule == "0 4 * * 0"
    scores = dg.AssetKey(["scores", "rx_refill_scores"])
    lightgbm = dg.AssetKey(["models", "lightgbm"])
    ingest = dg.AssetKey(["raw", "rx_orders"])

    def keys(job: str) -> set:
        return set(defs.resolve_job_def(job).asset_layer.selected_asset_keys)

    assert ingest in keys("nightly") and scores in keys("nightly")
    assert lightgbm not in keys("nightly")  # a night scores with the champion, never trains
    eda = dg.AssetKey(["reports", "eda"])
    assert eda not in keys("nightly") and eda in keys("retrain") and eda in keys("refill_all")
    assert lightgbm in keys("refill_all") and scores not in keys("refill_all")
    assert keys("retrain") >= {lightgbm, dg.AssetKey(["models", "validation"])}
    outreach = dg.AssetKey(["outreach", "refill_outreach_export"])
    monitored = {
        dg.AssetKey(["monitoring", n])
        for n in (
            "score_outcomes",
            "performance_daily",
            "feature_drift",
            "pilot_kpis",
            "outreach_response",
            "unit_economics",
        )
    } | {dg.AssetKey(["reports", "monitoring"])}
    assert keys("score") == {scores, outreach, *monitored, dg.AssetKey(["published_warehouse"])}
    assert outreach in keys("nightly") and outreach not in keys("refill_all")
    assert monitored <= keys("nightly") and not monitored & keys("refill_all")
    # the bill and the sweep run in their own daily jobs, never in the pipeline's
    bill = {dg.AssetKey(["cost", n]) for n in ("actuals", "forecast", "endpoint_invocations")}
    assert keys("cost_daily") == bill | {dg.AssetKey(["published_warehouse"])}
    sweep = dg.AssetKey(["deploy", "untagged_resources"])
    assert keys("untagged_sweep") == {sweep}
    for job in ("refill_all", "curate", "score", "nightly", "retrain"):
        assert not (bill | {sweep}) & keys(job), job
    assert defs.resolve_schedule_def("cost_daily_schedule").cron_schedule == "0 6 * * *"
    deployed = dg.AssetKey(["deploy", "sagemaker_endpoint"])
    assert keys("deploy_champion") == {deployed}
    assert not any(deployed in keys(j) for j in ("refill_all", "curate", "nightly", "retrain"))


def test_the_outreach_export_is_checked_before_it_counts():
    spec = GRAPH.get_check_spec(
        dg.AssetCheckKey(dg.AssetKey(["outreach", "refill_outreach_export"]), "export_is_clean")
    )
    assert spec.blocking


def test_the_gate_is_a_blocking_check():
    spec = GRAPH.get_check_spec(
        dg.AssetCheckKey(dg.AssetKey(["models", "validation"]), "champion_gate")
    )
    assert spec.blocking


def test_python_assets_that_read_the_warehouse_depend_on_what_they_read():
    from refill_assets import features
    from refill_assets.reports import eda

    for node, reads in (
        (_node("features", "training_snapshot"), features.relations_read()),
        (_node("reports", "eda"), eda.relations_read()),
    ):
        assert node.parent_keys == {dg.AssetKey(list(r)) for r in reads}, node.key
        for parent in node.parent_keys:  # every one is built by the graph, none a stub
            assert GRAPH.get(parent).is_materializable, parent
