"""``marts/fills`` and ``marts/refill_intervals``: their expectation suites, after dbt.

One step for both (``refill_assets.quality.outputs``: what dbt's tests do not hold), on
the rows of the run's window, or every row outside a partitioned run. Warnings only: dbt's
own tests guard the keys.
"""

import dagster as dg

from refill_assets.defs.partitions import run_window
from refill_assets.defs.quality import checks as quality
from refill_assets.defs.resources import WAREHOUSE_POOL, WarehouseResource
from refill_assets.quality.datasets import FILLS, INTERVALS
from refill_assets.storage.warehouse import connect

MARTS = {
    FILLS: dg.AssetKey(["marts", "fills"]),
    INTERVALS: dg.AssetKey(["marts", "refill_intervals"]),
}
PROMISE = (
    "days' supply known on 95 % of fills and within 1-365, allowed statuses and classes, "
    "NDCs of 11 digits, dates in order"
)


@dg.multi_asset_check(
    name="marts_expectations",
    specs=[s for key in MARTS.values() for s in quality.specs(key, PROMISE, blocking=False)],
    pool=WAREHOUSE_POOL,
    description="The marts' expectation suites on the run's new rows.",
)
def marts_expectations(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    # GX takes a second and a half to import: only the steps that validate load it
    from refill_assets.quality import validate

    span = run_window(context.op_execution_context)
    days = None if span is None else validate.days_between(*span)
    name = quality.run_name(context.run.run_id, "all" if span is None else f"{span[0]}…{span[1]}")
    with connect(warehouse.layout.warehouse) as con:
        for dataset, key in MARTS.items():
            verdicts = validate.output(con, warehouse.layout, dataset, days, name)
            yield from quality.results(key, verdicts, blocking=False)
