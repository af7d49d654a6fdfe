"""``reports/eda``: the data profile of the curated warehouse (``refill_assets.reports.eda``)."""

import dagster as dg

from refill_assets.defs.cost.meter import metered
from refill_assets.defs.resources import SETTINGS, WAREHOUSE_POOL, WarehouseResource
from refill_assets.lib.dbt import relation_keys
from refill_assets.reports import eda
from refill_assets.reports.realism import reference_gap_ratios
from refill_assets.storage.warehouse import connect


@dg.asset(
    key=["reports", "eda"],
    # lineage from what the report's SQL reads, never a hand-kept list
    deps=relation_keys(eda.relations_read()),
    pool=WAREHOUSE_POOL,
    group_name="reports",
    kinds={"html", "plotly"},
    description="Data profile: supply vs intervals, realism vs real refills, cohorts, "
    "seasonality, reauth delays vs lapses, completeness. HTML under REFILL_HOME/reports.",
)
@metered
def eda_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    reference = reference_gap_ratios(SETTINGS.reference_data)
    if reference is None:
        context.log.warning(
            "no reference refill history (REFILL_REFERENCE_DATA): realism "
            "section shows this warehouse only"
        )
    with connect(warehouse.layout.warehouse, read_only=True) as con:
        result = eda.build_eda_report(con, warehouse.layout.reports / "eda.html", reference)
    return dg.MaterializeResult(
        metadata={"report": dg.MetadataValue.path(str(result.path)), **result.summary}
    )
