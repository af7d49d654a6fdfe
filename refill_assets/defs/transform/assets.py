"""dbt-duckdb models as assets, all partitioned by delivery day and built in one `dbt build`.

dbt tests become asset checks; those with severity ``error`` block downstream.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.resources import SETTINGS, WAREHOUSE_POOL
from refill_assets.defs.transform.project import dbt_project


class RefillDbtTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id, {})
        # one group per dbt folder (staging, marts, quarantine) reads like the flow
        group = node.get("fqn", ["", "models"])[1] if node.get("resource_type") == "model" else None
        return spec.replace_attributes(group_name=group) if group else spec


@contextmanager
def partition_window_env(start: date, end: date) -> Iterator[None]:
    """The window as dbt reads it (macros/partition_window.sql), while dbt is started.

    `dbt.cli` copies the environment when it starts the subprocess, so the
    variables need only live around that call.
    """
    names = {"REFILL_MIN_DATE": start.isoformat(), "REFILL_MAX_DATE": end.isoformat()}
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
        invocation = dbt.cli(["build"], context=context, target_path=SETTINGS.dbt_target)
    yield from invocation.stream()
