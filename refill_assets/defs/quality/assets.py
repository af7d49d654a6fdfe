"""The EDA / data-profiling report over the curated marts."""

import dagster as dg

from refill_assets.defs.resources import SETTINGS, WAREHOUSE_POOL, WarehouseResource
from refill_assets.reports.eda import build_eda_report
from refill_assets.reports.realism import gap_ratios, read_smart_refills
from refill_assets.storage.warehouse import connect

_MARTS = ("fills", "refill_intervals", "pets", "vet_reauths")


@dg.asset(
    key=["reports", "eda"],
    deps=[dg.AssetKey(["marts", m]) for m in _MARTS],
    pool=WAREHOUSE_POOL,
    group_name="reports",
    kinds={"html", "plotly"},
    description="Data profile: supply vs intervals, realism vs real refills, cohorts, "
    "seasonality, reauth delays vs lapses, completeness. HTML under REFILL_HOME/reports.",
)
def eda_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    reference = None
    if SETTINGS.reference_data is not None:
        reference = gap_ratios(read_smart_refills(SETTINGS.reference_data))
    else:
        context.log.warning(
            "no reference refill history (REFILL_REFERENCE_DATA): realism "
            "section shows this warehouse only"
        )
    with connect(warehouse.layout.warehouse, read_only=True) as con:
        result = build_eda_report(con, warehouse.layout.reports / "eda.html", reference)
    return dg.MaterializeResult(
        metadata={"report": dg.MetadataValue.path(str(result.path)), **result.summary}
    )
