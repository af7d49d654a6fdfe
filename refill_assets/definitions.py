"""The one Definitions object: the pipeline's table of contents, in flow order."""

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
from refill_assets.defs.deploy.assets import (
    champion_deploy_sensor,
    deploy_champion,
    sagemaker_endpoint,
)
from refill_assets.defs.ingest.assets import ingest_assets
from refill_assets.defs.ml.assets import model_assets, training_snapshot
from refill_assets.defs.ml.outreach import refill_outreach_export
from refill_assets.defs.ml.scores import rx_refill_scores
from refill_assets.defs.ml.validation import validation
from refill_assets.defs.publish.assets import build_publish_asset
from refill_assets.defs.quality.eda import eda_report
from refill_assets.defs.resources import build_resources
from refill_assets.defs.transform.assets import dbt_models

_pipeline = [
    *ingest_assets,
    dbt_models,
    eda_report,
    training_snapshot,
    *model_assets,
    validation,
    rx_refill_scores,
    refill_outreach_export,
]

defs = dg.Definitions(
    assets=[
        *_pipeline,
        build_publish_asset([k for a in _pipeline for k in a.keys]),
        sagemaker_endpoint,
    ],
    jobs=[refill_all, curate, score, nightly_job, retrain, deploy_champion],
    schedules=[nightly, weekly_retrain],
    sensors=[slack_on_failed_checks, slack_on_run_failure, champion_deploy_sensor],
    resources=build_resources(),
)
