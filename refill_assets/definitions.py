"""The one Definitions object: the pipeline's table of contents, in flow order.

Each stage's wiring is ``refill_assets/defs/<stage>/``; what it runs is a plain module
of the same name under ``refill_assets/`` (the README's layout section maps them).
"""

import dagster as dg

from refill_assets.defs.automation.alerts import slack_on_failed_checks, slack_on_run_failure
from refill_assets.defs.automation.jobs import (
    curate,
    nightly,
    nightly_job,
    refill_all,
    retrain,
    score,
    weekly_retrain,
)
from refill_assets.defs.automation.retrain import retrain_when_the_model_slips
from refill_assets.defs.cost.assets import (
    COST_KEYS,
    cost_daily_job,
    cost_schedule,
    daily_spend,
)
from refill_assets.defs.deploy.assets import (
    champion_deploy_sensor,
    deploy_champion,
    sagemaker_endpoint,
)
from refill_assets.defs.deploy.sweep import sweep_schedule, untagged_resources, untagged_sweep
from refill_assets.defs.features.assets import training_snapshot
from refill_assets.defs.ingest.assets import ingest_assets
from refill_assets.defs.monitoring.assets import monitoring
from refill_assets.defs.outreach.assets import refill_outreach_export
from refill_assets.defs.publish.assets import build_publish_asset
from refill_assets.defs.reports.assets import eda_report
from refill_assets.defs.resources import build_resources
from refill_assets.defs.scoring.assets import rx_refill_scores
from refill_assets.defs.training.assets import model_assets
from refill_assets.defs.transform.assets import dbt_models
from refill_assets.defs.transform.checks import marts_expectations
from refill_assets.defs.validation.assets import validation

_pipeline = [
    *ingest_assets,  # landing zone -> raw zone and raw.* tables, quarantine, checks
    dbt_models,  # raw -> staging -> intermediate -> marts (dbt), dbt tests as checks
    eda_report,  # the data profile of the marts
    training_snapshot,  # point-in-time training examples
    *model_assets,  # the four candidate models, in MLflow
    validation,  # holdout metrics, report, model cards, the champion gate
    rx_refill_scores,  # each day's scores by the champion
    refill_outreach_export,  # each day's contacts for the CRM, the control arm held out
    monitoring,  # what happened after each score; live performance and its checks
]

defs = dg.Definitions(
    assets=[
        *_pipeline,
        daily_spend,  # the AWS bill by day, the forecast, the endpoint's usage, the 2x guard
        # the analysts' copy, after whichever of these its run has
        build_publish_asset([*(k for a in _pipeline for k in a.keys), *COST_KEYS]),
        sagemaker_endpoint,  # the champion, deployed by its sensor (and the budget with it)
        untagged_resources,  # what escapes the cost tags
    ],
    asset_checks=[marts_expectations],  # the marts' suites, after dbt
    jobs=[refill_all, curate, score, nightly_job, retrain, deploy_champion, cost_daily_job]
    + [untagged_sweep],
    schedules=[nightly, weekly_retrain, cost_schedule, sweep_schedule],
    sensors=[
        slack_on_failed_checks,
        slack_on_run_failure,
        champion_deploy_sensor,
        retrain_when_the_model_slips,  # the monitoring asks for new models
    ],
    resources=build_resources(),
)
