"""The untagged sweep: the platform's AWS resources that miss a cost-allocation tag.

The deploy tags everything it creates (``sagemaker.cost_tags``); a resource without those
tags was made some other way (by hand, by a tool, by a deploy that failed half-way) and its
cost lands on nobody's budget. ``sweep`` lists the platform's SageMaker endpoints, endpoint
configs and models (names starting with ``SweepScope.name_prefix``) and its model archives in
S3, and returns those missing a mandatory tag. An untagged endpoint is the one that costs
money by merely existing: one older than ``max_age_hours`` is deleted when deletion is on
(``REFILL_SWEEP_DELETE=true``), otherwise marked "would delete". Models, configs and objects
are only reported: they cost little or nothing, and an endpoint may still use them.

Each service is listed with its own list API: the Resource Groups Tagging API returns only
resources that have, or once had, a tag, so the never-tagged ones, the point of the sweep,
would be missing. A listing error (AccessDenied, say) is raised, never taken for "nothing
found". Clients are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from refill_assets.deploy.listing import every

MANDATORY_TAGS = ("CostCenter", "Env", "Model", "Owner")
DEFAULT_NAME_PREFIX = "refill-next-refill"  # the deploy's default endpoint name


@dataclass(frozen=True)
class SweepScope:
    name_prefix: str  # the platform's SageMaker resources: names starting with it
    bucket: str | None  # the platform's S3 objects: this bucket ...
    s3_prefix: str = "refill/models"  # ... under this prefix
    max_age_hours: float = 24.0
    delete: bool = False  # delete old untagged endpoints; off unless asked for

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SweepScope:
        return cls(
            name_prefix=env.get("REFILL_SAGEMAKER_ENDPOINT") or DEFAULT_NAME_PREFIX,
            bucket=env.get("REFILL_SAGEMAKER_BUCKET") or None,
            delete=env.get("REFILL_SWEEP_DELETE", "").strip().lower() == "true",
        )


@dataclass(frozen=True)
class Finding:
    kind: str  # "endpoint" | "endpoint_config" | "model" | "s3_object"
    name: str  # name, or s3://bucket/key
    created_at: datetime | None  # tz-aware UTC
    missing: tuple[str, ...]  # mandatory tags it lacks
    action: str  # "" | "would delete" | "deleted" | "delete failed: <reason>"


# kind -> (list call, the answer's list key, the name key, the ARN key)
_SAGEMAKER = {
    "endpoint": ("list_endpoints", "Endpoints", "EndpointName", "EndpointArn"),
    "endpoint_config": (
        "list_endpoint_configs",
        "EndpointConfigs",
        "EndpointConfigName",
        "EndpointConfigArn",
    ),
    "model": ("list_models", "Models", "ModelName", "ModelArn"),
}


def sweep(sagemaker: Any, s3: Any, scope: SweepScope, now: datetime) -> list[Finding]:
    """Only resources missing a mandatory tag are returned."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware: CreationTime is compared with it")
    findings: list[Finding] = []
    for kind, (call, key, name_key, arn_key) in _SAGEMAKER.items():
        listed = every(sagemaker, call, key, NameContains=scope.name_prefix)
        # NameContains matches anywhere in the name; the platform's names start with the prefix
        ours = sorted(
            (r for r in listed if r[name_key].startswith(scope.name_prefix)),
            key=lambda r: r[name_key],
        )
        for resource in ours:
            tags = every(sagemaker, "list_tags", "Tags", ResourceArn=resource[arn_key])
            missing = _missing(tags)
            if not missing:
                continue
            name, created = resource[name_key], _utc(resource.get("CreationTime"))
            action = ""
            if kind == "endpoint" and _older(created, now, scope.max_age_hours):
                action = _delete_endpoint(sagemaker, name) if scope.delete else "would delete"
            findings.append(Finding(kind, name, created, missing, action))
    if scope.bucket:
        findings += _sweep_objects(s3, scope.bucket, scope.s3_prefix)
    return findings


def _sweep_objects(s3: Any, bucket: str, prefix: str) -> list[Finding]:
    findings = []
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    for item in every(s3, "list_objects_v2", "Contents", Bucket=bucket, Prefix=prefix):
        tags = s3.get_object_tagging(Bucket=bucket, Key=item["Key"])["TagSet"]
        missing = _missing(tags)
        if missing:
            # S3 keeps no creation time; LastModified is it for an object written once
            created = _utc(item.get("LastModified"))
            findings.append(
                Finding("s3_object", f"s3://{bucket}/{item['Key']}", created, missing, "")
            )
    return findings


def _delete_endpoint(sagemaker: Any, name: str) -> str:
    from botocore.exceptions import ClientError

    try:
        sagemaker.delete_endpoint(EndpointName=name)
    except ClientError as error:  # one endpoint that will not go must not stop the sweep
        return f"delete failed: {error.response.get('Error', {}).get('Message') or error}"
    return "deleted"


def _missing(tags: Any) -> tuple[str, ...]:
    # an empty value allocates the cost to nobody: as good as no tag
    present = {t["Key"] for t in tags if t.get("Value")}
    return tuple(k for k in MANDATORY_TAGS if k not in present)


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _older(created: datetime | None, now: datetime, hours: float) -> bool:
    # without a creation time the age is unknown: never old enough to delete
    return created is not None and now - created > timedelta(hours=hours)


def report(findings: list[Finding]) -> str:
    """A short markdown table for the UI / logs."""
    if not findings:
        return "no untagged resources"
    lines = [
        "| kind | name | created (UTC) | missing tags | action |",
        "|---|---|---|---|---|",
    ]
    for f in findings:
        created = f"{f.created_at:%Y-%m-%d %H:%M}" if f.created_at else "?"
        cells = (f.kind, f.name, created, ", ".join(f.missing), f.action or "-")
        # a "|" in an S3 key would split the cell
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
