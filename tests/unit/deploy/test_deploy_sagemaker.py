"""SageMaker Serverless deploys against moto in server mode, smoke-tested on the real service.

moto 5.2.5 has no ``update_endpoint`` (ARCHITECTURE.md): a test-only patch of its response
class adds it (``moto_sagemaker.update_endpoint``). moto's
``invoke_endpoint`` runs no container, so the smoke invocation goes to the real service,
started from the very archive that was uploaded.
"""

from __future__ import annotations

import json
import tarfile
import urllib.request

import boto3
import pytest
from moto.sagemaker.responses import SageMakerResponse

from refill_assets.deploy.sagemaker import (
    REQUIRED_ENV,
    DeployConfig,
    DeployError,
    cost_tags,
    deploy,
)
from refill_assets.models.bundle import package, write_bundle
from refill_assets.models.lgbm import LgbmModel
from refill_assets.models.onnx_export import export_onnx
from refill_assets.models.split import time_split
from tests.support.model_fixture import CATEGORICAL, NUMERIC, make_frame
from tests.support.moto_sagemaker import TAG_KEYS, update_endpoint
from tests.support.service_process import serving

KEY = "deploy-smoke-key"


@pytest.fixture(scope="module")
def aws(endpoint):
    SageMakerResponse.update_endpoint = update_endpoint  # the server runs in this process
    yield endpoint
    del SageMakerResponse.update_endpoint


@pytest.fixture
def clients(aws, s3):
    sagemaker = boto3.client("sagemaker", endpoint_url=aws, region_name="us-east-1")
    s3.create_bucket(Bucket="models")
    return sagemaker, s3


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    split = time_split(make_frame(n_rx=400))
    model = LgbmModel(NUMERIC, CATEGORICAL, n_jobs=1, params={"n_estimators": 30})
    model.fit(split.train)
    root = tmp_path_factory.mktemp("package")
    bundle = write_bundle(export_onnx(model), root / "bundle")
    row = split.test.select([*NUMERIC, *CATEGORICAL]).head(1).to_dicts()[0]
    return {"path": package(bundle, "1", root / "model.tar.gz"), "row": row, "root": root}


@pytest.fixture
def smoke(archive):
    """Invoke the real service started from the uploaded archive, as SageMaker would."""
    model_dir = archive["root"] / "opt-ml-model"
    with tarfile.open(archive["path"]) as tar:
        tar.extractall(model_dir, filter="data")
    with serving(model_dir, archive["root"] / "service.log", KEY) as (url, _):

        def invoke(endpoint_name: str) -> dict:
            body = json.dumps({"instances": [archive["row"]]}).encode()
            headers = {"content-type": "application/json", "x-api-key": KEY}
            request = urllib.request.Request(f"{url}/invocations", body, headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = json.loads(response.read())
            assert len(answer["predictions"]) == 1
            return answer

        yield invoke


def _config(**over) -> DeployConfig:
    base = DeployConfig(
        role_arn="arn:aws:iam::123456789012:role/refill-sagemaker",
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/refill-serving:1",
        bucket="models",
        endpoint_name="refill-test",
        memory_mb=2048,
        max_concurrency=4,
        tags=cost_tags({}),
    )
    return DeployConfig(**{**base.__dict__, **over})


def _failing_smoke(endpoint_name: str) -> dict:
    raise RuntimeError("smoke invocation answered 500")


def _untagged(sagemaker, s3) -> list[str]:
    """Every resource the deploys left, whose tags miss a cost-allocation key."""
    arns = [m["ModelArn"] for m in sagemaker.list_models()["Models"]]
    arns += [c["EndpointConfigArn"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]]
    arns += [e["EndpointArn"] for e in sagemaker.list_endpoints()["Endpoints"]]
    tags = {a: sagemaker.list_tags(ResourceArn=a)["Tags"] for a in arns}
    for item in s3.list_objects_v2(Bucket="models").get("Contents", []):
        key = item["Key"]
        tags[f"s3://models/{key}"] = s3.get_object_tagging(Bucket="models", Key=key)["TagSet"]
    return [name for name, tagset in tags.items() if not {t["Key"] for t in tagset} >= TAG_KEYS]


def test_first_deploy_creates_a_tagged_serverless_endpoint(clients, archive, smoke):
    sagemaker, s3 = clients
    config = _config(provisioned_concurrency=2)
    done = deploy(sagemaker, s3, config, archive["path"], "1", smoke, wait_seconds=5)
    endpoint = sagemaker.describe_endpoint(EndpointName="refill-test")
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == done.endpoint_config
    variant = sagemaker.describe_endpoint_config(EndpointConfigName=done.endpoint_config)[
        "ProductionVariants"
    ][0]
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 4,
        "ProvisionedConcurrency": 2,
    }
    assert variant["ModelName"] == done.model
    model = sagemaker.describe_model(ModelName=done.model)
    assert model["PrimaryContainer"]["ModelDataUrl"] == done.model_data
    key = done.model_data.removeprefix("s3://models/")
    assert s3.get_object(Bucket="models", Key=key)["Body"].read() == archive["path"].read_bytes()
    assert done.smoke["model_version"] == "1" and done.replaced_config is None
    assert _untagged(sagemaker, s3) == []


def test_a_new_version_replaces_the_old_config_and_model(clients, archive, smoke):
    sagemaker, s3 = clients
    first = deploy(sagemaker, s3, _config(), archive["path"], "1", smoke, wait_seconds=5)
    second = deploy(sagemaker, s3, _config(), archive["path"], "2", smoke, wait_seconds=5)
    assert second.replaced_config == first.endpoint_config
    endpoint = sagemaker.describe_endpoint(EndpointName="refill-test")
    assert endpoint["EndpointConfigName"] == second.endpoint_config
    listed = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    configs = {c["EndpointConfigName"] for c in listed}
    models = {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    assert first.endpoint_config not in configs and second.endpoint_config in configs
    assert first.model not in models and second.model in models
    assert _untagged(sagemaker, s3) == []


def test_redeploying_the_same_version_at_once_keeps_the_endpoint_serving(clients, archive, smoke):
    sagemaker, s3 = clients
    first = deploy(sagemaker, s3, _config(), archive["path"], "5", smoke, wait_seconds=5)
    again = deploy(sagemaker, s3, _config(), archive["path"], "5", smoke, wait_seconds=5)
    assert again.endpoint_config != first.endpoint_config
    assert again.model_data != first.model_data
    endpoint = sagemaker.describe_endpoint(EndpointName="refill-test")
    assert endpoint["EndpointConfigName"] == again.endpoint_config
    listed = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    configs = {c["EndpointConfigName"] for c in listed}
    assert again.endpoint_config in configs and first.endpoint_config not in configs


def test_a_failed_smoke_test_rolls_the_endpoint_back(clients, archive, smoke):
    sagemaker, s3 = clients
    good = deploy(sagemaker, s3, _config(), archive["path"], "3", smoke, wait_seconds=5)
    models_before = {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    with pytest.raises(DeployError, match="smoke_invocation") as failed:
        deploy(sagemaker, s3, _config(), archive["path"], "4", _failing_smoke, wait_seconds=5)
    assert failed.value.rolled_back_to == good.endpoint_config
    endpoint = sagemaker.describe_endpoint(EndpointName="refill-test")
    assert endpoint["EndpointConfigName"] == good.endpoint_config
    assert {m["ModelName"] for m in sagemaker.list_models()["Models"]} == models_before
    assert not any("-v4-" in c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()[
        "EndpointConfigs"])  # fmt: skip
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="models").get("Contents", [])]
    assert not any("/v4/" in k for k in keys)


def test_a_failed_first_deploy_leaves_nothing_behind(clients, archive):
    sagemaker, s3 = clients
    config = _config(endpoint_name="refill-fresh")
    with pytest.raises(DeployError, match="smoke_invocation"):
        deploy(sagemaker, s3, config, archive["path"], "1", _failing_smoke, wait_seconds=5)
    names = [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]
    assert "refill-fresh" not in names
    assert not any(
        m["ModelName"].startswith("refill-fresh") for m in sagemaker.list_models()["Models"]
    )


def test_configuration_comes_from_the_environment():
    assert DeployConfig.from_env({}) is None
    env = {v: f"value-of-{v}" for v in REQUIRED_ENV} | {
        "REFILL_SAGEMAKER_MEMORY_MB": "3072",
        "REFILL_SAGEMAKER_PROVISIONED_CONCURRENCY": "1",
        "REFILL_ENV": "prod",
    }
    config = DeployConfig.from_env(env)
    assert config is not None and config.memory_mb == 3072 and config.provisioned_concurrency == 1
    assert config.tags["Env"] == "prod" and set(config.tags) == TAG_KEYS
