"""Deploy a packaged model to a SageMaker Serverless endpoint, with rollback; boto3 only.

The flow (``deploy``): upload ``model.tar.gz`` to S3 → ``create_model`` →
``create_endpoint_config`` (one ``ServerlessConfig`` variant) → ``create_endpoint`` or
``update_endpoint`` → wait until in service → smoke invocation → remove the superseded
config and model. Every resource it creates carries the cost-allocation tags
(``DeployConfig.tags``). A failure after the endpoint was touched puts the endpoint back on
its previous config (or deletes an endpoint this deploy created), then removes what this
deploy created: the endpoint never stays on a model that did not pass the smoke test. (On
AWS a failed ``update_endpoint`` also rolls itself back; the explicit rollback covers the
smoke test, which SageMaker knows nothing of.)

Configuration for a real account comes from the environment (``DeployConfig.from_env``);
with none, there is nothing to deploy to and the caller says so.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

VARIANT = "champion"
# the environment variables a real account needs (the rest have defaults; settings.py lists
# them all)
REQUIRED_ENV = (
    "REFILL_SAGEMAKER_ROLE_ARN",
    "REFILL_SAGEMAKER_IMAGE_URI",
    "REFILL_SAGEMAKER_BUCKET",
)


@dataclass(frozen=True)
class DeployConfig:
    role_arn: str
    image_uri: str
    bucket: str
    region: str = "us-east-1"
    prefix: str = "refill/models"
    endpoint_name: str = "refill-next-refill"
    memory_mb: int = 2048  # 1024-6144 in 1 GB steps
    max_concurrency: int = 5  # 1-200
    provisioned_concurrency: int | None = None  # <= max_concurrency
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DeployConfig | None:
        """The account's configuration, or None when any required variable is unset."""
        if not all(env.get(v) for v in REQUIRED_ENV):
            return None
        provisioned = env.get("REFILL_SAGEMAKER_PROVISIONED_CONCURRENCY")
        return cls(
            role_arn=env["REFILL_SAGEMAKER_ROLE_ARN"],
            image_uri=env["REFILL_SAGEMAKER_IMAGE_URI"],
            bucket=env["REFILL_SAGEMAKER_BUCKET"],
            region=region(env),
            endpoint_name=env.get("REFILL_SAGEMAKER_ENDPOINT", "refill-next-refill"),
            memory_mb=int(env.get("REFILL_SAGEMAKER_MEMORY_MB", "2048")),
            max_concurrency=int(env.get("REFILL_SAGEMAKER_MAX_CONCURRENCY", "5")),
            provisioned_concurrency=int(provisioned) if provisioned else None,
            tags=cost_tags(env),
        )


def region(env: Mapping[str, str]) -> str:
    return env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1"))


def cost_tags(env: Mapping[str, str]) -> dict[str, str]:
    """The cost-allocation tags every created resource carries (``Model`` is set per deploy)."""
    return {
        "CostCenter": env.get("REFILL_COST_CENTER", "data-platform"),
        "Env": env.get("REFILL_ENV", "dev"),
        "Model": "refill_next_refill",
        "Client": env.get("REFILL_CLIENT", "vet-pharmacy"),
        "Owner": env.get("REFILL_OWNER", "refill-platform"),
    }


@dataclass(frozen=True)
class Deployment:
    endpoint: str
    endpoint_config: str
    model: str
    model_version: str
    model_data: str
    deployed_at: str
    replaced_config: str | None
    smoke: dict


class DeployError(RuntimeError):
    """A deploy that failed; the endpoint was rolled back (``rolled_back_to``)."""

    def __init__(self, step: str, cause: Exception, rolled_back_to: str | None):
        where = f"back on {rolled_back_to}" if rolled_back_to else "left as it was"
        super().__init__(f"deploy failed at {step}: {cause}; endpoint {where}")
        self.step = step
        self.rolled_back_to = rolled_back_to


def deploy(
    sagemaker: Any,
    s3: Any,
    config: DeployConfig,
    archive: Path,
    version: str,
    smoke: Callable[[str], dict],
    wait_seconds: int = 900,
) -> Deployment:
    """Deploy ``archive`` (model.tar.gz) as model ``version``; ``smoke(endpoint)`` invokes
    the endpoint once and returns its answer or raises."""
    # a redeploy within the same second must not reuse the live config's name: removing the
    # "superseded" config would then delete the one just deployed
    stamp = f"{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
    name = f"{config.endpoint_name}-v{version}-{stamp}"
    tags = [{"Key": k, "Value": v} for k, v in {**config.tags, "ModelVersion": version}.items()]
    key = f"{config.prefix.strip('/')}/v{version}/{stamp}/model.tar.gz"
    model_data = f"s3://{config.bucket}/{key}"
    previous = _current_config(sagemaker, config.endpoint_name)
    created: list[tuple[str, str]] = []  # (kind, name), to remove on failure
    step = "upload"
    try:
        with archive.open("rb") as body:
            s3.put_object(
                Bucket=config.bucket,
                Key=key,
                Body=body,
                Tagging="&".join(f"{t['Key']}={t['Value']}" for t in tags),
            )
        step = "create_model"
        sagemaker.create_model(
            ModelName=name,
            ExecutionRoleArn=config.role_arn,
            PrimaryContainer={
                "Image": config.image_uri,
                "ModelDataUrl": model_data,
                "Environment": {"MODEL_SERVER_WORKERS": "1"},
            },
            Tags=tags,
        )
        created.append(("model", name))
        step = "create_endpoint_config"
        serverless = {"MemorySizeInMB": config.memory_mb, "MaxConcurrency": config.max_concurrency}
        if config.provisioned_concurrency:
            serverless["ProvisionedConcurrency"] = config.provisioned_concurrency
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {"VariantName": VARIANT, "ModelName": name, "ServerlessConfig": serverless}
            ],
            Tags=tags,
        )
        created.append(("endpoint_config", name))
        step = "create_or_update_endpoint"
        if previous is None:
            sagemaker.create_endpoint(
                EndpointName=config.endpoint_name, EndpointConfigName=name, Tags=tags
            )
            created.append(("endpoint", config.endpoint_name))
        else:
            sagemaker.update_endpoint(EndpointName=config.endpoint_name, EndpointConfigName=name)
        step = "wait_in_service"
        _wait(sagemaker, config.endpoint_name, wait_seconds)
        step = "smoke_invocation"
        answer = smoke(config.endpoint_name)
    except Exception as error:
        _roll_back(sagemaker, s3, config, previous, created, key, wait_seconds)
        raise DeployError(step, error, previous) from error
    if previous is not None:
        _remove_config_and_model(sagemaker, previous)
    return Deployment(
        endpoint=config.endpoint_name,
        endpoint_config=name,
        model=name,
        model_version=version,
        model_data=model_data,
        deployed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        replaced_config=previous,
        smoke=answer,
    )


def _current_config(sagemaker: Any, endpoint: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        return sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    except ClientError as error:  # SageMaker answers a missing endpoint with a validation error
        if error.response["Error"]["Code"] == "ValidationException":
            return None
        raise


def _wait(sagemaker: Any, endpoint: str, seconds: int) -> None:
    delay = 15 if seconds >= 60 else 1
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint,
        WaiterConfig={"Delay": delay, "MaxAttempts": max(1, seconds // delay)},
    )


def _roll_back(
    sagemaker: Any,
    s3: Any,
    config: DeployConfig,
    previous: str | None,
    created: list[tuple[str, str]],
    key: str,
    wait_seconds: int,
) -> None:
    """Back to the previous config (or no endpoint, if this deploy made it), then remove
    everything this deploy created. Best effort: each step runs whatever the last did."""
    endpoint = config.endpoint_name
    if previous is not None and _current_config(sagemaker, endpoint) != previous:
        sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=previous)
        _wait(sagemaker, endpoint, wait_seconds)
    for kind, name in reversed(created):
        if kind == "endpoint":
            sagemaker.delete_endpoint(EndpointName=name)
        elif kind == "endpoint_config":
            sagemaker.delete_endpoint_config(EndpointConfigName=name)
        else:
            sagemaker.delete_model(ModelName=name)
    s3.delete_object(Bucket=config.bucket, Key=key)


def _remove_config_and_model(sagemaker: Any, config_name: str) -> None:
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    models = [v["ModelName"] for v in variants["ProductionVariants"]]
    sagemaker.delete_endpoint_config(EndpointConfigName=config_name)
    for model in models:
        sagemaker.delete_model(ModelName=model)


def checked_answer(body: bytes) -> dict:
    """The service's answer to the one-row example, or an error: a smoke test that passes
    on anything else (an error page, a canned body) would prove nothing."""
    answer = json.loads(body)
    if len(answer.get("predictions", [])) != 1 or "model_version" not in answer:
        raise RuntimeError(f"unexpected answer to the smoke request: {body[:200]!r}")
    return answer
