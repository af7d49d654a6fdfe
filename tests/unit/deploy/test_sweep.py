"""The untagged sweep against moto in server mode (SageMaker and S3 on loopback).

moto stamps CreationTime with the real clock: the tests pass ``now`` as an offset from the
endpoint's own CreationTime (25 h: older than the 24 h limit; 1 h: younger). The server lives
for the module, so each test names its resources with a prefix (and a bucket) of its own.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from refill_assets.deploy.sagemaker import VARIANT, cost_tags
from refill_assets.deploy.sweep import MANDATORY_TAGS, Finding, SweepScope, report, sweep

ROLE = "arn:aws:iam::123456789012:role/refill-sagemaker"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/refill-serving:1"
# what the deploy puts on every resource it creates
DEPLOY_TAGS = {**cost_tags({}), "ModelVersion": "1"}


@pytest.fixture
def sagemaker(endpoint, s3):
    return boto3.client("sagemaker", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def scope(s3) -> SweepScope:
    unique = uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=f"models-{unique}")
    return SweepScope(name_prefix=f"refill-sweep-{unique}", bucket=f"models-{unique}")


def _with(scope: SweepScope, **over) -> SweepScope:
    return SweepScope(**{**scope.__dict__, **over})


def _tags(tags: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (tags or {}).items()]


def _model_and_config(sagemaker, name: str, tags: dict[str, str] | None) -> None:
    """A model and an endpoint config as the deploy creates them, with ``tags``."""
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://models/{name}/model.tar.gz"},
        Tags=_tags(tags),
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": name,
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
        Tags=_tags(tags),
    )


def _endpoint(sagemaker, name: str, config: str, tags: dict[str, str] | None):
    """Create the endpoint; its CreationTime as moto stamped it."""
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config, Tags=_tags(tags))
    return sagemaker.describe_endpoint(EndpointName=name)["CreationTime"]


def _endpoints(sagemaker) -> set[str]:
    return {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}


def _put(s3, bucket: str, key: str, tags: dict[str, str] | None) -> None:
    tagging = "&".join(f"{k}={v}" for k, v in (tags or {}).items())
    s3.put_object(Bucket=bucket, Key=key, Body=b"archive", Tagging=tagging)


def test_resources_tagged_as_the_deploy_tags_them_are_not_reported(sagemaker, s3, scope):
    name = f"{scope.name_prefix}-v1-20250101000000-abcd"
    _model_and_config(sagemaker, name, DEPLOY_TAGS)
    created = _endpoint(sagemaker, scope.name_prefix, name, DEPLOY_TAGS)
    _put(s3, scope.bucket, f"{scope.s3_prefix}/v1/20250101000000-abcd/model.tar.gz", DEPLOY_TAGS)
    found = sweep(sagemaker, s3, _with(scope, delete=True), created + timedelta(days=30))
    assert found == []
    assert report(found) == "no untagged resources"
    assert scope.name_prefix in _endpoints(sagemaker)


def test_an_untagged_endpoint_would_be_deleted_only_once_older_than_a_day(sagemaker, s3, scope):
    name = f"{scope.name_prefix}-v1-x"
    _model_and_config(sagemaker, name, DEPLOY_TAGS)
    created = _endpoint(sagemaker, scope.name_prefix, name, None)

    young = sweep(sagemaker, s3, scope, created + timedelta(hours=1))
    assert young == [
        Finding("endpoint", scope.name_prefix, created.astimezone(UTC), MANDATORY_TAGS, "")
    ]
    assert young[0].created_at.utcoffset() == timedelta(0)

    old = sweep(sagemaker, s3, scope, created + timedelta(hours=25))
    assert [(f.kind, f.name, f.action) for f in old] == [
        ("endpoint", scope.name_prefix, "would delete")
    ]
    assert scope.name_prefix in _endpoints(sagemaker)  # deletion is off by default


def test_an_old_untagged_endpoint_is_deleted_when_deletion_is_on(sagemaker, s3, scope):
    name = f"{scope.name_prefix}-v1-x"
    _model_and_config(sagemaker, name, DEPLOY_TAGS)
    created = _endpoint(sagemaker, scope.name_prefix, name, None)
    young = sweep(sagemaker, s3, _with(scope, delete=True), created + timedelta(hours=1))
    assert [(f.kind, f.action) for f in young] == [("endpoint", "")]
    assert scope.name_prefix in _endpoints(sagemaker)  # too young: kept even with deletion on

    found = sweep(sagemaker, s3, _with(scope, delete=True), created + timedelta(hours=25))
    assert [(f.kind, f.name, f.action) for f in found] == [
        ("endpoint", scope.name_prefix, "deleted")
    ]
    assert scope.name_prefix not in _endpoints(sagemaker)
    # the config and the model it used are tagged: neither reported nor touched
    configs = sagemaker.list_endpoint_configs(NameContains=scope.name_prefix)["EndpointConfigs"]
    assert [c["EndpointConfigName"] for c in configs] == [name]


def test_a_config_or_model_missing_one_tag_is_reported_but_never_deleted(sagemaker, s3, scope):
    name = f"{scope.name_prefix}-v2-x"
    without_owner = {k: v for k, v in DEPLOY_TAGS.items() if k != "Owner"}
    _model_and_config(sagemaker, name, without_owner)
    created = _endpoint(sagemaker, scope.name_prefix, name, DEPLOY_TAGS)
    found = sweep(sagemaker, s3, _with(scope, delete=True), created + timedelta(days=30))
    assert [(f.kind, f.name, f.missing, f.action) for f in found] == [
        ("endpoint_config", name, ("Owner",), ""),
        ("model", name, ("Owner",), ""),
    ]
    assert all(f.created_at is not None and f.created_at.tzinfo is not None for f in found)
    assert sagemaker.describe_endpoint_config(EndpointConfigName=name)["EndpointConfigName"]
    assert sagemaker.describe_model(ModelName=name)["ModelName"] == name


def test_a_tag_with_an_empty_value_counts_as_missing(sagemaker, s3, scope):
    name = f"{scope.name_prefix}-v3-x"
    _model_and_config(sagemaker, name, {**DEPLOY_TAGS, "CostCenter": ""})
    found = sweep(sagemaker, s3, scope, sagemaker.describe_model(ModelName=name)["CreationTime"])
    assert {(f.kind, f.missing) for f in found} == {
        ("endpoint_config", ("CostCenter",)),
        ("model", ("CostCenter",)),
    }


def test_an_s3_object_without_tagging_is_reported(sagemaker, s3, scope):
    bucket, prefix = scope.bucket, scope.s3_prefix
    _put(s3, bucket, f"{prefix}/v1/a/model.tar.gz", DEPLOY_TAGS)
    _put(s3, bucket, f"{prefix}/v1/b/model.tar.gz", None)
    _put(s3, bucket, f"{prefix}/v1/c/model.tar.gz", {"Env": "dev", "Model": "refill"})
    _put(s3, bucket, "elsewhere/model.tar.gz", None)  # outside the prefix
    _put(s3, bucket, f"{prefix}-old/model.tar.gz", None)  # a sibling prefix, not under it
    found = sweep(sagemaker, s3, scope, datetime.now(UTC))
    assert [(f.kind, f.name, f.missing, f.action) for f in found] == [
        ("s3_object", f"s3://{bucket}/{prefix}/v1/b/model.tar.gz", MANDATORY_TAGS, ""),
        ("s3_object", f"s3://{bucket}/{prefix}/v1/c/model.tar.gz", ("CostCenter", "Owner"), ""),
    ]
    assert all(f.created_at.utcoffset() == timedelta(0) for f in found)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 5  # reported, not deleted


def test_resources_outside_the_prefix_are_ignored(sagemaker, s3, scope):
    # "NameContains" matches these two as well; only names starting with the prefix count
    for name in (f"other-{scope.name_prefix}", f"x{scope.name_prefix}-v1"):
        _model_and_config(sagemaker, name, None)
        created = _endpoint(sagemaker, name, name, None)
    _model_and_config(sagemaker, "unrelated-model", None)
    found = sweep(sagemaker, s3, _with(scope, delete=True), created + timedelta(days=30))
    assert found == []
    assert f"other-{scope.name_prefix}" in _endpoints(sagemaker)


def test_a_listing_error_is_raised_not_taken_for_nothing_found(sagemaker, s3, scope):
    with pytest.raises(ClientError, match="NoSuchBucket"):
        sweep(sagemaker, s3, _with(scope, bucket="no-such-bucket-here"), datetime.now(UTC))


def test_now_must_be_timezone_aware(sagemaker, s3, scope):
    with pytest.raises(ValueError, match="timezone"):
        sweep(sagemaker, s3, scope, datetime(2025, 1, 1))


def test_scope_comes_from_the_environment():
    scope = SweepScope.from_env({})
    assert scope == SweepScope(name_prefix="refill-next-refill", bucket=None)
    assert scope.delete is False and scope.max_age_hours == 24.0
    assert scope.s3_prefix == "refill/models"
    scope = SweepScope.from_env(
        {
            "REFILL_SAGEMAKER_ENDPOINT": "refill-prod",
            "REFILL_SAGEMAKER_BUCKET": "prod-models",
            "REFILL_SWEEP_DELETE": "True",
        }
    )
    assert (scope.name_prefix, scope.bucket, scope.delete) == ("refill-prod", "prod-models", True)
    assert SweepScope.from_env({"REFILL_SWEEP_DELETE": "false"}).delete is False
    assert SweepScope.from_env({"REFILL_SWEEP_DELETE": "yes please"}).delete is False


def test_the_report_is_a_markdown_table_of_the_findings():
    found = [
        Finding(
            "endpoint",
            "refill-next-refill",
            datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
            MANDATORY_TAGS,
            "would delete",
        ),
        Finding("s3_object", "s3://models/refill/models/a|b.tar.gz", None, ("Owner",), ""),
    ]
    lines = report(found).splitlines()
    assert lines[0].startswith("| kind | name |") and lines[1].startswith("|---")
    assert lines[2] == (
        "| endpoint | refill-next-refill | 2025-01-02 03:04 "
        "| CostCenter, Env, Model, Owner | would delete |"
    )
    assert lines[3] == "| s3_object | s3://models/refill/models/a\\|b.tar.gz | ? | Owner | - |"
    assert len(lines) == 4
