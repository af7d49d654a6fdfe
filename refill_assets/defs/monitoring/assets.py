"""The monitoring, one step after the night's scores and export (``refill_assets.monitoring``):
what happened after each score (``monitoring/score_outcomes``), how the served model does live
(``monitoring/performance_daily`` and its checks), the pilot's KPIs by arm
(``monitoring/pilot_kpis``, ``monitoring/outreach_response``) and the report of it all
(``reports/monitoring``). One step, not five: they read each other's tables within the night,
and each step costs Dagster bookkeeping."""

import dagster as dg

from refill_assets.defs.cost.meter import ledger_rows, metered, run_costs
from refill_assets.defs.outreach.assets import OUTREACH
from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.quality import checks as quality
from refill_assets.defs.resources import SETTINGS, WAREHOUSE_POOL, ModelStore, WarehouseResource
from refill_assets.defs.scoring.assets import DRIFT, SCORES
from refill_assets.monitoring.economics import margin_per_refill
from refill_assets.monitoring.nightly import monitor
from refill_assets.monitoring.outcomes import OUTCOMES_TABLE
from refill_assets.monitoring.performance import PERFORMANCE_TABLE, PerformancePolicy
from refill_assets.storage.warehouse import connect

OUTCOMES = dg.AssetKey(["monitoring", "score_outcomes"])
PERFORMANCE = dg.AssetKey(["monitoring", "performance_daily"])
KPIS = dg.AssetKey(["monitoring", "pilot_kpis"])
RESPONSE = dg.AssetKey(["monitoring", "outreach_response"])
ECONOMICS = dg.AssetKey(["monitoring", "unit_economics"])
REPORT = dg.AssetKey(["reports", "monitoring"])
DEFAULTS = PerformancePolicy()
REPORT_FILE = "monitoring.html"
CHECKS = {
    "live_mae": "Live MAE of the served model within the tolerance of its test-period MAE.",
    "beats_heuristic": "Live model/heuristic MAE on the same refills at most 1 - the gate's "
    "margin.",
    "interval_coverage": "Share of refills inside the p10-p90 interval within 0.70-0.90.",
    "late_share": "Share of refills later than predicted within 0.40-0.60 (a shift shows here "
    "first).",
    "lapse_calibration": "Expected calibration error of the lapse probability below the limit.",
}

# what ops should open first when a check fails (Slack shows it under the failure)
_DAILY = "monitoring.performance_daily (published warehouse), final days of the served version"
LOOK_AT = {
    "live_mae": f"{_DAILY}: mae_days by as_of_date; then monitoring.feature_drift for what moved",
    "beats_heuristic": f"{_DAILY}: mae_days vs heuristic_mae_days; the gate's report for the "
    "offline ratio",
    "interval_coverage": f"{_DAILY}: coverage_p10_p90 and bias_days (a shift moves both)",
    "late_share": f"{_DAILY}: late_share and bias_days by day (owners or carriers slower "
    "than the model learnt show here first)",
    "lapse_calibration": f"{_DAILY}: lapse_calibration_error and lapse_rate by day",
}


OUTCOMES_PROMISE = (
    "one row per score, arms and channels known, refills after the scoring day, errors "
    "within the horizon"
)
PERFORMANCE_PROMISE = "statuses known, errors non-negative, shares in [0, 1], settled ≤ scored"


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
        dg.AssetSpec(
            KPIS,
            deps=[OUTCOMES, dg.AssetKey(["marts", "adherence_monthly"])],
            group_name="monitoring",
            kinds={"duckdb"},
            description="The pilot KPIs by arm and month (capture in the outreach window, "
            "wasted contacts, on-time refills, lapse, PDC >= 0.8, churn proxy): treated, "
            "control, the difference and its 95% CI clustered by owner.",
        ),
        dg.AssetSpec(
            RESPONSE,
            deps=[OUTREACH],
            group_name="monitoring",
            kinds={"duckdb"},
            description="Outreach response by month and channel: the treated arm's messages "
            "opened, clicked and followed by an order within 14 days; the control arm's "
            "order rate beside it.",
        ),
        dg.AssetSpec(
            ECONOMICS,
            deps=[KPIS, SCORES],
            group_name="monitoring",
            kinds={"duckdb"},
            description="Per month and over the pilot: estimated cost, per 1,000 predictions, "
            "per refill captured in the outreach window, and $ benefit / $ cloud when a margin "
            "per refill is configured.",
        ),
        dg.AssetSpec(
            REPORT,
            deps=[PERFORMANCE, DRIFT, KPIS, RESPONSE, ECONOMICS],
            group_name="monitoring",
            kinds={"html"},
            description="The monitoring report: daily MAE model vs heuristic (final and "
            "provisional), coverage and late share in their bands, the drift heat map, the "
            "KPIs by arm with intervals, response by channel.",
        ),
    ],
    check_specs=[
        *(
            dg.AssetCheckSpec(name, asset=PERFORMANCE, description=text)
            for name, text in CHECKS.items()
        ),
        *quality.specs(OUTCOMES, OUTCOMES_PROMISE, blocking=False),
        *quality.specs(PERFORMANCE, PERFORMANCE_PROMISE, blocking=False),
    ],
    partitions_def=daily,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
)
@metered
def monitoring(
    context: dg.AssetExecutionContext,
    config: MonitoringConfig,
    warehouse: WarehouseResource,
    models: ModelStore,
):
    start, end = window(context)
    # GX takes a second and a half to import: only the steps that validate load it
    from refill_assets.quality import validate

    with connect(warehouse.layout.warehouse) as con:
        done = monitor(
            con,
            start,
            end,
            models.tracking_uri,
            models.layout.mlflow_artifacts,
            config.policy(),
            warehouse.layout.reports / REPORT_FILE,
            # this run's estimates so far: the ledger gets them when the run ends
            pending_costs=ledger_rows(context, run_costs(context.instance, context.run_id)),
            margin_usd=margin_per_refill(SETTINGS.deploy_env),
        )
        name = quality.run_name(context.run_id, f"{start}…{end}")
        performance_days = done.recomputed["as_of_date"].to_list()
        checked = {
            OUTCOMES: validate.output(
                con, warehouse.layout, OUTCOMES_TABLE, done.settled.days, name
            ),
            PERFORMANCE: validate.output(
                con, warehouse.layout, PERFORMANCE_TABLE, performance_days, name
            ),
        }
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
    yield dg.MaterializeResult(asset_key=KPIS, metadata=_kpi_metadata(done.kpis))
    response = done.response
    yield dg.MaterializeResult(
        asset_key=RESPONSE, metadata={"rows": 0 if response is None else response.height}
    )
    economics = done.economics.filter(period="all")
    yield dg.MaterializeResult(
        asset_key=ECONOMICS,
        metadata={
            "rows": done.economics.height,
            **{
                f"{k}_all": float(v)
                for k, v in (economics.row(0, named=True) if economics.height else {}).items()
                if isinstance(v, int | float)
            },
        },
    )
    headline = done.report.headline
    yield dg.MaterializeResult(
        asset_key=REPORT,
        metadata={
            "path": dg.MetadataValue.path(str(done.report.path)),
            # numbers only: the UI plots each over the runs
            **{k: float(v) for k, v in headline.items() if isinstance(v, int | float)},
        },
    )
    for key, verdicts in checked.items():
        yield from quality.results(key, verdicts, blocking=False)
    for finding in done.findings:
        yield dg.AssetCheckResult(
            asset_key=PERFORMANCE,
            check_name=finding.name,
            passed=finding.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=finding.message,
            metadata={"look_at": LOOK_AT[finding.name]},
        )


def _kpi_metadata(kpis) -> dict:
    """The whole pilot's treated - control difference of each KPI and its interval."""
    if kpis is None or kpis.is_empty():
        return {"rows": 0}
    pooled = kpis.filter(kpis["period"] == "all")
    meta: dict = {"rows": kpis.height}
    for row in pooled.iter_rows(named=True):  # one row per KPI: six
        for field in ("treated", "control", "difference", "ci_low", "ci_high"):
            if row[field] is not None:
                meta[f"{row['kpi']}_{field}"] = float(row[field])
    return meta
