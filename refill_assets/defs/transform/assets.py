"""dbt-duckdb models as assets, all partitioned by delivery day and built in one `dbt build`.

dbt tests become asset checks; those with severity ``error`` block downstream.
"""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.resources import WAREHOUSE_POOL
from refill_assets.defs.transform.project import dbt_project


class RefillDbtTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id, {})
        # one group per dbt folder (staging, marts, quarantine) reads like the flow
        group = node.get("fqn", ["", "models"])[1] if node.get("resource_type") == "model" else None
        return spec.replace_attributes(group_name=group) if group else spec


def dbt_vars(start, end) -> list[str]:
    return ["--vars", json.dumps({"min_date": start.isoformat(), "max_date": end.isoformat()})]


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
    start, end = window(context)
    yield from dbt.cli(["build", *dbt_vars(start, end)], context=context).stream()
