"""The deploy sensor and asset: a new champion in a real MLflow store goes to moto's SageMaker.

moto's ``invoke_endpoint`` runs no container: it answers what its API was told to. It is
told the real service's answer to the bundle's example (the service started from the
bundle), so the smoke check reads a real answer through the production runtime client.
"""

from __future__ import annotations

import json
import tarfile
import urllib.request

import boto3
import dagster as dg
import polars as pl
import pytest

from refill_assets.definitions import defs
from refill_assets.defs.deploy.assets import champion_deploy_sensor, sagemaker_endpoint
from refill_assets.defs.resources import SETTINGS, AwsResource, ModelStore
from refill_assets.deploy.sagemaker import REQUIRED_ENV
from refill_assets.models import tracking
from refill_assets.models.bundle import package, write_bundle
from refill_assets.models.lgbm import LgbmModel
from refill_assets.models.onnx_export import export_onnx
from refill_assets.models.split import time_split
from tests.support.model_fixture import CATEGORICAL, NUMERIC, make_frame
from tests.support.moto_sagemaker import TAG_KEYS, update_endpoint
from tests.support.service_process import serving

KEY = "dagster-deploy-key"


def test_without_an_account_the_sensor_is_stopped_and_says_why(tmp_path):
    sensor = defs.resolve_sensor_def("champion_deploy_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert all(v in sensor.description for v in REQUIRED_ENV)
    models = ModelStore(home=str(tmp_path), tracking_uri=f"sqlite:///{tmp_path / 'm.db'}")
    result = champion_deploy_sensor(dg.build_sensor_context(resources={"models": models}))
    assert isinstance(result, dg.SkipReason) and "REFILL_SAGEMAKER_ROLE_ARN" in result.skip_message


@pytest.fixture
def account(monkeypatch, endpoint, s3):
    from moto.sagemaker.responses import SageMakerResponse

    monkeypatch.setattr(SageMakerResponse, "update_endpoint", update_endpoint, raising=False)
    s3.create_bucket(Bucket="refill-models")
    for name, value in {
        "REFILL_SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/refill",
        "REFILL_SAGEMAKER_IMAGE_URI": "123456789012.dkr.ecr.us-east-1.amazonaws.com/refill:1",
        "REFILL_SAGEMAKER_BUCKET": "refill-models",
        "REFILL_SAGEMAKER_ENDPOINT": "refill-dagster",
        "REFILL_ENV": "test",
    }.items():
        monkeypatch.setitem(SETTINGS.deploy_env, name, value)
    return AwsResource(endpoint_url=endpoint, s3_endpoint_url=endpoint, wait_seconds=5)


@pytest.fixture
def champion(tmp_path):
    """A LightGBM version with its serving bundle, champion of a real MLflow store."""
    split = time_split(make_frame(n_rx=400))
    model = LgbmModel(NUMERIC, CATEGORICAL, n_jobs=1, params={"n_estimators": 30})
    model.fit(split.train)
    features = split.test.select([*NUMERIC, *CATEGORICAL])
    bundle = write_bundle(export_onnx(model), tmp_path / "onnx", features.row(0, named=True))
    models = ModelStore(home=str(tmp_path), tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    logged = tracking.log_model_run(
        models.tracking_uri,
        models.layout.mlflow_artifacts,
        model_name="lightgbm",
        model=model,
        example=features.head(5),
        params={},
        metrics={},
        dataset_hash="test",
        files={"onnx": bundle},
    )
    tracking.promote(
        models.tracking_uri, models.layout.mlflow_artifacts, logged.version, {"promoted": True}
    )
    return {"models": models, "logged": logged, "bundle": bundle, "root": tmp_path}


def _teach_moto_the_services_answer(endpoint: str, champion: dict) -> dict:
    """Start the real service from the packaged champion, ask it the example, and make that
    moto's answer to invoke_endpoint."""
    root, version = champion["root"], champion["logged"].version
    archive = package(champion["bundle"], version, root / "model.tar.gz")
    model_dir = root / "opt-ml-model"
    with tarfile.open(archive) as tar:
        tar.extractall(model_dir, filter="data")
    example = (champion["bundle"] / "example.json").read_bytes()
    with serving(model_dir, root / "service.log", KEY) as (url, _):
        headers = {"content-type": "application/json", "x-api-key": KEY}
        request = urllib.request.Request(f"{url}/invocations", example, headers)
        answer = urllib.request.urlopen(request, timeout=10).read().decode()
    results = {"results": [{"Body": answer, "ContentType": "application/json"}]}
    urllib.request.urlopen(
        urllib.request.Request(
            f"{endpoint}/moto-api/static/sagemaker/endpoint-results",
            json.dumps(results).encode(),
            {"content-type": "application/json"},
        )
    )
    return json.loads(answer)


def test_a_new_champion_is_deployed_once_and_recorded(account, champion, endpoint):
    models, version = champion["models"], champion["logged"].version
    context = dg.build_sensor_context(resources={"models": models})
    request = champion_deploy_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key == f"deploy-v{version}"
    again = champion_deploy_sensor(dg.build_sensor_context(resources={"models": models}))
    assert again.run_key == request.run_key  # Dagster launches a run key once

    expected = _teach_moto_the_services_answer(endpoint, champion)
    result = dg.materialize(
        [sagemaker_endpoint],
        resources={"models": models, "aws": account},
        run_config=request.run_config,
    )
    assert result.success
    metadata = result.asset_materializations_for_node("deploy__sagemaker_endpoint")[0].metadata
    assert metadata["model_version"].value == version
    assert metadata["smoke_answer"].value == expected
    sagemaker = boto3.client("sagemaker", endpoint_url=endpoint, region_name="us-east-1")
    live = sagemaker.describe_endpoint(EndpointName="refill-dagster")
    assert live["EndpointConfigName"] == metadata["endpoint_config"].value
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=live["EndpointArn"])[
        "Tags"]}  # fmt: skip
    assert set(tags) >= TAG_KEYS and tags["Env"] == "test"
    client = tracking._client(models.tracking_uri, models.layout.mlflow_artifacts)[1]
    recorded = client.get_model_version(tracking.REGISTERED_MODEL, version).tags
    assert recorded["deploy.endpoint"] == "refill-dagster"
    assert pl.DataFrame(expected["predictions"]).height == 1
    # the deploy keeps the platform's budget: the plan's $250, on the deploy's tags
    assert metadata["budget_action"].value == "created"
    budgets = boto3.client("budgets", endpoint_url=endpoint, region_name="us-east-1")
    account_id = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    account_id = account_id.get_caller_identity()["Account"]
    budget = budgets.describe_budget(AccountId=account_id, BudgetName=metadata["budget"].value)
    assert float(budget["Budget"]["BudgetLimit"]["Amount"]) == 250.0
    assert "user:Env$test" in budget["Budget"]["CostFilters"]["TagKeyValue"]
