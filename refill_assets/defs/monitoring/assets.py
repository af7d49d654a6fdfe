"""``monitoring/score_outcomes`` and ``monitoring/performance_daily``: what happened after each
score, and how the served model does live (``refill_assets.monitoring``)."""

import dagster as dg

from refill_assets.defs.outreach.assets import OUTREACH
from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.resources import WAREHOUSE_POOL, ModelStore, WarehouseResource
from refill_assets.defs.scoring.assets import SCORES
from refill_assets.monitoring.nightly import monitor
from refill_assets.monitoring.performance import PerformancePolicy
from refill_assets.storage.warehouse import connect

OUTCOMES = dg.AssetKey(["monitoring", "score_outcomes"])
PERFORMANCE = dg.AssetKey(["monitoring", "performance_daily"])
DEFAULTS = PerformancePolicy()
CHECKS = {
    "live_mae": "Live MAE of the served model within the tolerance of its test-period MAE.",
    "beats_heuristic": "Live model/heuristic MAE on the same refills at most 1 - the gate's "
    "margin.",
    "interval_coverage": "Share of refills inside the p10-p90 interval within 0.70-0.90.",
    "late_share": "Share of refills later than predicted within 0.40-0.60 (a shift shows here "
    "first).",
    "lapse_calibration": "Expected calibration error of the lapse probability below the limit.",
}


class MonitoringConfig(dg.Config):
    maturity_days: int = DEFAULTS.maturity_days  # a scoring day's figures are final this old
    window_days: int = DEFAULTS.window_days  # the checks pool the last this many final days
    min_rows: int = DEFAULTS.min_rows
    mae_tolerance: float = DEFAULTS.mae_tolerance
    heuristic_ratio_max: float = DEFAULTS.heuristic_ratio_max
    coverage_low: float = DEFAULTS.coverage_band[0]
    coverage_high: float = DEFAULTS.coverage_band[1]
    late_share_low: float = DEFAULTS.late_share_band[0]
    late_share_high: float = DEFAULTS.late_share_band[1]
    calibration_error_max: float = DEFAULTS.calibration_error_max

    def policy(self) -> PerformancePolicy:
        c = self.model_dump()
        coverage = (c.pop("coverage_low"), c.pop("coverage_high"))
        late = (c.pop("late_share_low"), c.pop("late_share_high"))
        return PerformancePolicy(**c, coverage_band=coverage, late_share_band=late)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            OUTCOMES,
            deps=[SCORES, OUTREACH, dg.AssetKey(["marts", "fills"])],
            group_name="monitoring",
            kinds={"duckdb"},
            description="One row per score: the actual refill, the lapse, the error and "
            "interval hit, the arm and the contact (the contract's monitoring output).",
        ),
        dg.AssetSpec(
            PERFORMANCE,
            deps=[OUTCOMES],
            group_name="monitoring",
            kinds={"duckdb"},
            description="Per scoring day and model version, on settled rows: MAE, bias, "
            "coverage, late share, lapse AUC/Brier/calibration, the heuristic's MAE; final "
            "or provisional.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(name, asset=PERFORMANCE, description=text)
        for name, text in CHECKS.items()
    ],
    partitions_def=daily,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
)
def monitoring(
    context: dg.AssetExecutionContext,
    config: MonitoringConfig,
    warehouse: WarehouseResource,
    models: ModelStore,
):
    with connect(warehouse.layout.warehouse) as con:
        done = monitor(
            con,
            *window(context),
            models.tracking_uri,
            models.layout.mlflow_artifacts,
            config.policy(),
        )
    settled, figures = done.settled, done.figures or {}
    yield dg.MaterializeResult(
        asset_key=OUTCOMES,
        metadata={
            "rows": settled.rows,  # score rows (re)computed
            "through": str(settled.through),
            "full_rebuild": settled.full_rebuild,
            "scoring_days": len(settled.days),
        },
    )
    final = done.recomputed.filter(done.recomputed["status"] == "final")
    numbers = {k: v for k, v in figures.items() if isinstance(v, int | float)}
    yield dg.MaterializeResult(
        asset_key=PERFORMANCE,
        metadata={
            "days": done.recomputed.height,
            "final_days": final.height,
            "model_version": str(done.version),
            **{f"live_{k}": float(v) for k, v in numbers.items()},
        },
    )
    for finding in done.findings:
        yield dg.AssetCheckResult(
            asset_key=PERFORMANCE,
            check_name=finding.name,
            passed=finding.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=finding.message,
            metadata={"look_at": "monitoring.performance_daily in the published warehouse"},
        )
