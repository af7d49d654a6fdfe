"""``deploy/sagemaker_endpoint``: the champion on a SageMaker Serverless endpoint.

Each deploy first creates or updates the platform's AWS Budget (``deploy.budget``: limit
REFILL_BUDGET_USD, default $250 a month, ACTUAL and FORECASTED notifications). The sensor
notices a new champion (the validation gate's decision, an alias in MLflow) and
requests one run of ``deploy_champion`` per model version (run key ``deploy-v<version>``:
Dagster never launches a run key twice). The asset packages that version's serving bundle,
deploys it and records the deployment (``refill_assets.deploy.release``: rollback on any
failure), in its metadata and on the MLflow version. A failed deploy fails the run,
which the ops Slack sensor reports.

Without an account configured (``REFILL_SAGEMAKER_*``) the sensor is stopped, and its
description in the UI says which variables are missing.
"""

import dagster as dg

from refill_assets.defs.cost.meter import metered
from refill_assets.defs.resources import SETTINGS, AwsResource, ModelStore
from refill_assets.defs.validation.assets import VALIDATION
from refill_assets.deploy.budget import BudgetConfig, ensure_budget
from refill_assets.deploy.release import release, servable
from refill_assets.deploy.sagemaker import REQUIRED_ENV, DeployConfig
from refill_assets.models import tracking

DEPLOYED = dg.AssetKey(["deploy", "sagemaker_endpoint"])
CONFIGURED = DeployConfig.from_env(SETTINGS.deploy_env) is not None


class DeployRequest(dg.Config):
    model_version: str  # the registered version to deploy


@dg.asset(
    key=DEPLOYED,
    deps=[VALIDATION],
    group_name="deploy",
    kinds={"sagemaker", "s3"},
    description="The champion's ONNX bundle on the SageMaker Serverless endpoint, smoke-tested.",
)
@metered
def sagemaker_endpoint(
    context: dg.AssetExecutionContext,
    config: DeployRequest,
    models: ModelStore,
    aws: AwsResource,
) -> dg.MaterializeResult:
    account = DeployConfig.from_env(SETTINGS.deploy_env)
    if account is None:
        raise RuntimeError(f"no SageMaker account configured: set {', '.join(REQUIRED_ENV)}")
    # the guardrail before the spend: the platform's budget, created or brought up to date
    account_id = aws.client("sts").get_caller_identity()["Account"]
    budget = ensure_budget(
        aws.client("budgets"), account_id, BudgetConfig.from_env(SETTINGS.deploy_env)
    )
    if budget.warning:
        context.log.warning(f"budget {budget.name}: {budget.warning}")
    done = release(
        config.model_version,
        models.tracking_uri,
        models.layout.mlflow_artifacts,
        account,
        aws.client("sagemaker"),
        aws.client("s3"),
        aws.invoke,
        aws.wait_seconds,
    )
    context.log.info(
        f"deployed {done.model.model_name} v{done.model.version} to {done.deployment.endpoint}"
    )
    return dg.MaterializeResult(
        metadata={
            **done.record,
            "model_name": done.model.model_name,
            "serverless": dg.MetadataValue.json(
                {
                    "MemorySizeInMB": account.memory_mb,
                    "MaxConcurrency": account.max_concurrency,
                    "ProvisionedConcurrency": account.provisioned_concurrency,
                }
            ),
            "smoke_answer": dg.MetadataValue.json(done.deployment.smoke),
            "budget": budget.name,
            "budget_action": budget.action,
            "budget_notifications": ", ".join(budget.notifications) or "none",
        }
    )


deploy_champion = dg.define_asset_job(
    "deploy_champion",
    selection=[DEPLOYED],
    description="Deploy one registered model version to the SageMaker Serverless endpoint.",
)


@dg.sensor(
    job=deploy_champion,
    minimum_interval_seconds=300,
    default_status=(
        dg.DefaultSensorStatus.RUNNING if CONFIGURED else dg.DefaultSensorStatus.STOPPED
    ),
    description=(
        "Deploys each new champion once (run key deploy-v<version>)."
        if CONFIGURED
        else "Stopped: no SageMaker account configured. Set "
        + ", ".join(REQUIRED_ENV)
        + " (see deploy/README.md), then start it."
    ),
)
def champion_deploy_sensor(context: dg.SensorEvaluationContext, models: ModelStore):
    if DeployConfig.from_env(SETTINGS.deploy_env) is None:
        return dg.SkipReason(f"no SageMaker account configured: set {', '.join(REQUIRED_ENV)}")
    champion = tracking.champion(models.tracking_uri, models.layout.mlflow_artifacts)
    if champion is None:
        return dg.SkipReason("no champion yet")
    if not servable(champion):
        return dg.SkipReason(
            f"champion {champion.model_name} v{champion.version} has no ONNX export to serve"
        )
    request = {"model_version": champion.version}
    return dg.RunRequest(
        run_key=f"deploy-v{champion.version}",
        run_config={"ops": {"deploy__sagemaker_endpoint": {"config": request}}},
        tags={"model_version": champion.version, "model_name": champion.model_name},
    )
