"""``scores/rx_refill_scores``: each day's active maintenance prescriptions, by the champion."""

import dagster as dg

from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.resources import WAREHOUSE_POOL, ModelStore, WarehouseResource
from refill_assets.defs.validation.assets import VALIDATION
from refill_assets.models.records import recorded_version
from refill_assets.reports.page import markdown_table
from refill_assets.scoring.nightly import score_window
from refill_assets.storage.warehouse import connect
from refill_assets.validation.gate import BASELINE

SCORES = dg.AssetKey(["scores", "rx_refill_scores"])


@dg.asset(
    key=SCORES,
    deps=[VALIDATION, dg.AssetKey(["marts", "active_maintenance_rx_spans"])],
    partitions_def=daily,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    group_name="scores",
    kinds={"duckdb"},
    description="One row per active maintenance prescription per day: predicted refill "
    "date, 80% interval and lapse probability from the champion (the contract's columns).",
)
def rx_refill_scores(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, models: ModelStore
):
    with connect(warehouse.layout.warehouse) as con:
        scored = score_window(
            con,
            models.tracking_uri,
            models.layout.mlflow_artifacts,
            *window(context),
            baseline_version=recorded_version(models.layout.model_dir(BASELINE)),
        )
    scores = scored.scores
    return dg.MaterializeResult(
        metadata={
            "rows": scores.height,
            "days": scored.days,
            "model": f"{scored.champion.model_name} v{scored.champion.version}",
            "baseline": f"heuristic v{scored.baseline.version}" if scored.baseline else "none",
            "mean_lapse_probability": float(scores["lapse_probability"].mean() or 0.0),
            "preview": dg.MetadataValue.md(
                markdown_table(
                    scores.head(5).select(
                        "as_of_date", "rx_id", "predicted_refill_date", "lapse_probability"
                    )
                )
            ),
        }
    )
