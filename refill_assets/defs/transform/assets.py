"""dbt-duckdb models as assets, built in one `dbt build` over the run's delivery days.

The models are not partitioned: they are keyed-incremental by themselves
(macros/keyed_incremental.sql), so a partitioned `@dbt_assets` bought per-day status in
the UI at the price of one materialization event per model and day (31 models × 546
days = 16,926 events written one at a time for an 18-month history, ~95 s of its run on
SQLite; docs/architecture.md, "Bookkeeping"). They still take the window of the run they are in:
the partitioned jobs (nightly, refill_all, a backfill of either) tag it on the run.

dbt tests become asset checks; those with severity ``error`` block downstream.
"""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from refill_assets.defs.cost.meter import metered
from refill_assets.defs.partitions import run_window
from refill_assets.defs.resources import SETTINGS, WAREHOUSE_POOL
from refill_assets.lib.dbt import RefillDbtTranslator, build_args, dbt_project, partition_window_env


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=RefillDbtTranslator(),
    pool=WAREHOUSE_POOL,
    name="dbt_models",
)
@metered(own_seconds="Execution Duration")
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Every dbt model in one `dbt build` over the run's window of delivery days.

    Daily marts rebuild the days of the window; whole-history models rebuild
    only the keys touched since their last build when the window is new days
    (the nightly run), else the whole table (macros/keyed_incremental.sql). Outside a
    partitioned run (the models alone, from the UI) the window is every day.
    """
    with partition_window_env(run_window(context)):
        invocation = dbt.cli(build_args(), context=context, target_path=SETTINGS.layout.dbt_target)
    yield from invocation.stream()
