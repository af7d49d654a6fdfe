"""``scores.rx_refill_scores``: each day's active maintenance prescriptions, by the champion."""

from datetime import timedelta

import dagster as dg
import polars as pl

from refill_assets.defs.ml.validation import VALIDATION
from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.resources import WAREHOUSE_POOL, ModelStore, WarehouseResource
from refill_assets.features import registry
from refill_assets.features.examples import scoring_rows
from refill_assets.models import tracking
from refill_assets.reports.page import markdown_table
from refill_assets.scoring.scores import replace_days, score_day
from refill_assets.storage.warehouse import connect


@dg.asset(
    key=["scores", "rx_refill_scores"],
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
    start, end = window(context)
    champion = tracking.champion(models.tracking_uri, models.artifacts)
    if champion is None:
        raise RuntimeError("no champion model in MLflow: run the training assets first")
    model = tracking.load_model(models.tracking_uri, models.artifacts, champion.version)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    with connect(warehouse.path) as con:
        scored = []
        for day in days:
            rows = scoring_rows(con, day)
            features = tracking.as_model_input(rows.select(registry.feature_names()))
            predictions = pl.from_pandas(model.predict(features))
            scored.append(
                score_day(rows, predictions, champion.model_name, champion.version, champion.run_id)
            )
        scores = pl.concat(scored)
        replace_days(con, scores, start, end)
    return dg.MaterializeResult(
        metadata={
            "rows": scores.height,
            "days": len(days),
            "model": f"{champion.model_name} v{champion.version}",
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
