"""Resources, configured from ``refill_assets.settings`` (the environment)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from refill_assets import settings as settings_module
from refill_assets.alerts.slack import post
from refill_assets.deploy.sagemaker import region
from refill_assets.ingest.landing import Landing
from refill_assets.lib.dbt import DbtCli, dbt_project
from refill_assets.storage.layout import Layout

SETTINGS = settings_module.load()
WAREHOUSE_POOL = "warehouse"  # every step that opens the DuckDB file; limit 1 in dagster.yaml


class WarehouseResource(dg.ConfigurableResource):
    """The zones under REFILL_HOME (``storage.layout``): warehouse, raw zone, copies, reports."""

    home: str

    @property
    def layout(self) -> Layout:
        return Layout(Path(self.home))


class LandingResource(dg.ConfigurableResource):
    """The landing zone (folder or s3://), and the key that hashes owner PII on the way in."""

    uri: str
    pii_key: str
    s3_endpoint_url: str | None = None  # an S3-compatible endpoint; None: AWS

    @property
    def pii_key_is_dev(self) -> bool:
        return self.pii_key == settings_module.DEV_PII_KEY

    def landing(self) -> Landing:
        return Landing(self.uri, s3_client=_s3_client(self.uri, self.s3_endpoint_url))


class ExportResource(dg.ConfigurableResource):
    """Where the CRM picks up the outreach export: a folder or s3://bucket/prefix."""

    uri: str
    s3_endpoint_url: str | None = None

    def s3_client(self):
        return _s3_client(self.uri, self.s3_endpoint_url)


def _s3_client(uri: str, endpoint_url: str | None):
    """An S3 client for an s3:// uri from dagster-aws's ``S3Resource`` (boto3's credential
    chain, five attempts in standard retry mode), else None."""
    if not uri.startswith("s3://"):
        return None
    # dagster-aws (and boto3 with it) loads only for S3: 0.7 s of every local run's start
    from dagster_aws.s3 import S3Resource

    return S3Resource(endpoint_url=endpoint_url).get_client()


class AwsResource(dg.ConfigurableResource):
    """boto3 clients of the AWS account: SageMaker and its runtime (the deploys), Cost
    Explorer, Budgets, CloudWatch Logs, STS (the cost telemetry), S3. ``endpoint_url``: a
    compatible server (moto) instead of AWS for all but S3, ``s3_endpoint_url`` for S3."""

    region: str = "us-east-1"
    endpoint_url: str | None = None
    s3_endpoint_url: str | None = None
    wait_seconds: int = 900  # until the endpoint is in service

    def client(self, service: str):
        import boto3

        url = self.s3_endpoint_url if service == "s3" else self.endpoint_url
        return boto3.client(service, region_name=self.region, endpoint_url=url)

    def invoke(self, endpoint: str, body: bytes) -> dict:
        """One JSON request to the endpoint, its answer checked (``checked_answer``)."""
        from refill_assets.deploy.sagemaker import checked_answer

        answer = self.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, ContentType="application/json", Body=body
        )
        return checked_answer(answer["Body"].read())


class SlackWebhook(dg.ConfigurableResource):
    """The ops channel's incoming webhook; None means alerts are off."""

    webhook_url: str | None = None

    def send(self, message: dict) -> None:
        if self.webhook_url:
            post(self.webhook_url, message)


class ModelStore(dg.ConfigurableResource):
    """Where training snapshots, model files and MLflow live; and the oracle's truth, if any."""

    home: str
    tracking_uri: str
    truth: str | None = None

    @property
    def layout(self) -> Layout:
        return Layout(Path(self.home))

    @property
    def truth_dir(self) -> Path | None:
        return Path(self.truth) if self.truth else None


def landing_resource() -> LandingResource:
    return LandingResource(
        uri=SETTINGS.landing_uri,
        pii_key=SETTINGS.pii_key,
        s3_endpoint_url=SETTINGS.s3_endpoint_url,
    )


def build_resources() -> dict:
    return {
        "dbt": DbtCli(project_dir=dbt_project, dbt_executable=settings_module.dbt_executable()),
        "warehouse": WarehouseResource(home=str(SETTINGS.home)),
        "landing": landing_resource(),
        "export": ExportResource(uri=SETTINGS.export_uri, s3_endpoint_url=SETTINGS.s3_endpoint_url),
        "aws": AwsResource(
            region=region(SETTINGS.deploy_env),
            endpoint_url=SETTINGS.deploy_env.get("REFILL_SAGEMAKER_ENDPOINT_URL"),
            s3_endpoint_url=SETTINGS.s3_endpoint_url,
        ),
        "slack": SlackWebhook(webhook_url=SETTINGS.slack_webhook_url),
        "models": ModelStore(
            home=str(SETTINGS.home),
            tracking_uri=SETTINGS.mlflow_tracking_uri,
            truth=str(SETTINGS.truth) if SETTINGS.truth else None,
        ),
    }
