"""``scores/rx_refill_scores``: each day's active maintenance prescriptions, by the champion;
and ``monitoring/feature_drift``: those nights' features and predictions against the
champion's reference sample, from the same rows in memory (``monitoring.nightly_drift``)."""

import dagster as dg

from refill_assets.cost.estimate import PREDICTIONS
from refill_assets.defs.cost.meter import metered
from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.quality import checks as quality
from refill_assets.defs.resources import WAREHOUSE_POOL, ModelStore, WarehouseResource
from refill_assets.defs.validation.assets import VALIDATION
from refill_assets.models import tracking
from refill_assets.models.records import recorded_version
from refill_assets.monitoring.drift import DriftPolicy
from refill_assets.monitoring.nightly_drift import (
    DRIFT_TABLE,
    DriftWatch,
    reference_of,
    write_drift,
)
from refill_assets.reports.page import markdown_table
from refill_assets.scoring.nightly import score_window
from refill_assets.scoring.scores import SCORES_TABLE
from refill_assets.storage.warehouse import connect
from refill_assets.validation.gate import BASELINE

SCORES = dg.AssetKey(["scores", "rx_refill_scores"])
PROMISE = (
    "the contract's columns present, one score per prescription and run, lapse probability "
    "in [0, 1], p10 ≤ predicted ≤ p90, predictions after the last fill"
)
DRIFT = dg.AssetKey(["monitoring", "feature_drift"])
DRIFT_CHECK = "drift"
_DRIFT = DriftPolicy()


class DriftConfig(dg.Config):
    psi_threshold: float = _DRIFT.psi_threshold
    wasserstein_threshold: float = _DRIFT.wasserstein_threshold  # reference std units
    js_threshold: float = _DRIFT.js_threshold
    prediction_psi_threshold: float = _DRIFT.prediction_psi_threshold
    drifted_share_threshold: float = _DRIFT.drifted_share_threshold  # the night warns above
    min_values: int = _DRIFT.min_values  # fewer non-missing values a side: PSI judges alone

    def policy(self) -> DriftPolicy:
        return DriftPolicy(**self.model_dump())


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SCORES,
            deps=[VALIDATION, dg.AssetKey(["marts", "active_maintenance_rx_spans"])],
            group_name="scores",
            kinds={"duckdb"},
            description="One row per active maintenance prescription per day: predicted "
            "refill date, 80% interval and lapse probability from the champion (the "
            "contract's columns).",
        ),
        dg.AssetSpec(
            DRIFT,
            deps=[SCORES],
            group_name="monitoring",
            kinds={"duckdb"},
            description="Per night and feature (and prediction column): PSI, normalised "
            "Wasserstein or Jensen-Shannon against the champion's reference sample, drifted "
            "or not.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            DRIFT_CHECK,
            asset=DRIFT,
            description="The last night's share of drifted features and the champion's "
            "predictions within the configured thresholds.",
        ),
        *quality.specs(SCORES, PROMISE),
    ],
    partitions_def=daily,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
)
@metered
def rx_refill_scores(
    context: dg.AssetExecutionContext,
    config: DriftConfig,
    warehouse: WarehouseResource,
    models: ModelStore,
):
    uri, artifacts = models.tracking_uri, models.layout.mlflow_artifacts
    champion = tracking.champion(uri, artifacts)
    reference = None if champion is None else reference_of(uri, artifacts, champion)
    watch = None if reference is None else DriftWatch(reference, champion.version, config.policy())
    start, end = window(context)
    with connect(warehouse.layout.warehouse) as con:
        scored = score_window(
            con,
            uri,
            artifacts,
            start,
            end,
            baseline_version=recorded_version(models.layout.model_dir(BASELINE)),
            observe=watch,
        )
        if watch is not None:
            write_drift(con, watch.rows(), start, end)
        verdicts = quality.validate_window(context, con, warehouse.layout, SCORES_TABLE, start, end)
    scores = scored.scores
    yield dg.MaterializeResult(
        asset_key=SCORES,
        metadata={
            "rows": scores.height,
            PREDICTIONS: scores.height,  # the meter adds the run's cost per 1,000 of them
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
        },
    )
    yield from _drift_results(watch, scored.champion)
    yield from quality.results(SCORES, verdicts)


def _drift_results(watch: DriftWatch | None, champion: tracking.LoggedModel):
    verdicts = [] if watch is None else watch.verdicts()
    if not verdicts:
        why = (
            f"champion v{champion.version} has no reference sample (trained before drift "
            "monitoring): retrain to get one; drift is not measured until then"
        )
        yield dg.MaterializeResult(asset_key=DRIFT, metadata={"measured": False, "why": why})
        yield dg.AssetCheckResult(
            asset_key=DRIFT,
            check_name=DRIFT_CHECK,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=why,
        )
        return
    night, summary = verdicts[-1]  # the check judges the latest night: the state now
    rows = watch.rows()
    yield dg.MaterializeResult(
        asset_key=DRIFT,
        metadata={
            "measured": True,
            "nights": len(verdicts),
            "rows": rows.height,
            "last_night": str(night),
            "drifted_share": summary.drifted_share,
            "drifted_features": len(summary.drifted_features),
            "prediction_drifted": len(summary.prediction_drifted),
            "nights_warned": sum(s.warn for _, s in verdicts),
        },
    )
    yield dg.AssetCheckResult(
        asset_key=DRIFT,
        check_name=DRIFT_CHECK,
        passed=not summary.warn,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{night}: {summary.reason}",
        metadata={
            "drifted": ", ".join(summary.drifted_features[:12]) or "none",
            "look_at": f"{DRIFT_TABLE} (this night's rows, drifted first) and the "
            "monitoring report's drift heat map",
        },
    )
