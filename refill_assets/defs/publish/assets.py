"""The analysts' copy of the warehouse, replaced atomically after a successful run; before
it, the run's estimated cost (``cost.estimates``: every step before this one), its
data-quality pages (GX Data Docs, rendered once a run) and the dashboard."""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from refill_assets.cost import ledger
from refill_assets.defs.cost.meter import ledger_rows, metered, run_costs
from refill_assets.defs.resources import WAREHOUSE_POOL, WarehouseResource
from refill_assets.storage.warehouse import connect, publish


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
    @metered
    def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        # GX takes a second and a half to import: only the steps that use it load it
        from refill_assets.quality import validate

        # the run's estimated cost (each step's metadata) into cost.estimates, then the copy
        costs = ledger_rows(context, run_costs(context.instance, context.run_id))
        with connect(warehouse.layout.warehouse) as con:
            ledger.record_run(con, context.run_id, costs)
            dashboard = validate.write_dashboard(con, warehouse.layout)
        # GX renders the run's pages (CPU) while the warehouse is copied (I/O)
        with ThreadPoolExecutor(max_workers=1) as pool:
            docs = pool.submit(validate.build_docs, warehouse.layout)
            path = publish(warehouse.layout.warehouse, warehouse.layout.published)
            docs.result()
        size_mb = path.stat().st_size / 2**20
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "size_mb": round(size_mb, 1),
                "quality_dashboard": dg.MetadataValue.path(str(dashboard)) if dashboard else "",
            }
        )

    return published_warehouse
