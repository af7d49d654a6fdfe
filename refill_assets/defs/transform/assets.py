"""dbt-duckdb models as assets, all partitioned by delivery day and built in one `dbt build`.

dbt tests become asset checks; those with severity ``error`` block downstream.
"""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.resources import SETTINGS, WAREHOUSE_POOL
from refill_assets.lib.dbt import RefillDbtTranslator, build_args, dbt_project, partition_window_env


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=RefillDbtTranslator(),
    partitions_def=daily,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    name="dbt_models",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Every dbt model in one `dbt build` over the run's window of delivery days.

    Daily marts rebuild the days of the window; whole-history models rebuild
    only the keys touched since their last build when the window is new days
    (the nightly run), else the whole table (macros/keyed_incremental.sql).
    """
    with partition_window_env(*window(context)):
        invocation = dbt.cli(build_args(), context=context, target_path=SETTINGS.layout.dbt_target)
    yield from invocation.stream()
