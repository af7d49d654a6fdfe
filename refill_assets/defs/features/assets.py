"""``features/training_snapshot``: point-in-time examples for training (``features.snapshot``)."""

import dagster as dg

from refill_assets import features
from refill_assets.defs.cost.meter import metered
from refill_assets.defs.resources import WAREHOUSE_POOL, ModelStore, WarehouseResource
from refill_assets.features import registry
from refill_assets.features.snapshot import write_snapshot
from refill_assets.lib.dbt import relation_keys
from refill_assets.storage.warehouse import connect

SNAPSHOT = dg.AssetKey(["features", "training_snapshot"])


class TrainingConfig(dg.Config):
    seed: int = 0
    n_trials: int = 8  # the bounded hyper-parameter search, per GBM
    samples_per_fill: int = 2


@dg.asset(
    key=SNAPSHOT,
    # lineage from what the feature SQL reads, never a hand-kept list
    deps=relation_keys(features.relations_read()),
    pool=WAREHOUSE_POOL,
    group_name="features",
    kinds={"polars", "parquet"},
    description="Point-in-time (prescription, as-of day) examples with labels and every "
    "registry feature; its content hash goes with every model trained on it.",
)
@metered
def training_snapshot(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    warehouse: WarehouseResource,
    models: ModelStore,
):
    with connect(warehouse.layout.warehouse, read_only=True) as con:
        snapshot = write_snapshot(
            con, models.layout, samples_per_fill=config.samples_per_fill, seed=config.seed
        )
    return dg.MaterializeResult(
        metadata={
            "rows": snapshot.rows,
            "snapshot_hash": snapshot.digest,
            "as_of_range": f"{snapshot.first_as_of} … {snapshot.last_as_of}",
            "features": len(registry.FEATURES),
            "path": dg.MetadataValue.path(str(models.layout.snapshot)),
        }
    )
