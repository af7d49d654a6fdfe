"""The analysts' copy of the warehouse, replaced atomically after a successful run."""

from collections.abc import Sequence

import dagster as dg

from refill_assets.defs.resources import WAREHOUSE_POOL, WarehouseResource
from refill_assets.storage.warehouse import publish


def build_publish_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=["published_warehouse"],
        deps=list(upstream),
        pool=WAREHOUSE_POOL,
        group_name="publish",
        kinds={"duckdb"},
        description="Read-only copy for analysts and BI: open it while the pipeline writes "
        "the live warehouse (DuckDB lets one process write, and no one read meanwhile).",
    )
    def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        path = publish(warehouse.layout.warehouse, warehouse.layout.published)
        size_mb = path.stat().st_size / 2**20
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(path)), "size_mb": round(size_mb, 1)}
        )

    return published_warehouse
