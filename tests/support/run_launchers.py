"""What the run launchers of deploy/ecs and deploy/k8s find out only when a run starts,
checked offline: the ECS RegisterTaskDefinition and RunTask requests EcsRunLauncher would
send, against botocore's model of the ECS API and Fargate's task sizes; the Kubernetes Job
K8sRunLauncher would create (dagster-k8s's own construct_dagster_k8s_job), its labels'
syntax. Nothing calls AWS or a cluster."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Mapping

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.model import ServiceModel
from botocore.validate import ParamValidator
from dagster_aws.ecs.tasks import DagsterEcsTaskDefinitionConfig
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
)
from kubernetes.client import ApiClient

# Fargate's task sizes: memory (MiB) allowed with each cpu value (ECS developer guide,
# task-cpu-memory-error.html); anything else fails RegisterTaskDefinition.
FARGATE_MEMORY = {
    "256": {512, 1024, 2048},
    "512": set(range(1024, 4097, 1024)),
    "1024": set(range(2048, 8193, 1024)),
    "2048": set(range(4096, 16385, 1024)),
    "4096": set(range(8192, 30721, 1024)),
    "8192": set(range(16384, 61441, 4096)),
    "16384": set(range(32768, 122881, 8192)),
}
# a Kubernetes label's name and value: at most 63 characters, alphanumeric at both ends
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


@functools.cache
def ecs_api() -> ServiceModel:
    """botocore's model of the ECS API (shipped with botocore: no network)."""
    return botocore.session.get_session().get_service_model("ecs")


def check_ecs_request(operation: str, request: Mapping) -> None:
    report = ParamValidator().validate(request, ecs_api().operation_model(operation).input_shape)
    if report.has_errors():
        raise ParamValidationError(report=report.generate_report())


def register_task_definition_request(launcher: Mapping) -> dict:
    """The RegisterTaskDefinition request EcsRunLauncher sends for a run's task (its
    ``_run_task_kwargs``), with the image and family it learns at launch made up. Its volumes
    reach ECS as written, so this is where a misspelt EFS field shows."""
    definition = launcher["task_definition"]
    family = "run-refill-assets"
    environment = [
        dict(zip(("name", "value"), entry.split("=", 1), strict=True))
        if "=" in entry
        else {"name": entry, "value": "the daemon's value"}
        for entry in launcher["env_vars"]
    ]
    return DagsterEcsTaskDefinitionConfig(
        family=family,
        image="refill-platform:test",
        container_name=launcher["container_name"],
        command=None,
        log_configuration={
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": definition["log_group"],
                "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": family,
            },
        },
        secrets=launcher.get("secrets"),
        environment=environment,
        execution_role_arn=definition.get("execution_role_arn"),
        task_role_arn=definition.get("task_role_arn"),
        sidecars=definition.get("sidecar_containers"),
        requires_compatibilities=definition.get("requires_compatibilities"),
        cpu=launcher["run_resources"]["cpu"],
        memory=launcher["run_resources"]["memory"],
        runtime_platform=definition.get("runtime_platform"),
        mount_points=definition.get("mount_points"),
        volumes=definition.get("volumes"),
    ).task_definition_dict()


def run_task_request(launcher: Mapping) -> dict:
    """The RunTask request EcsRunLauncher sends, but for what it learns at launch (the task
    definition it registered, the daemon's network, the container overrides)."""
    kwargs = launcher.get("run_task_kwargs", {})
    tags = [
        *kwargs.get("tags", []),
        {"key": "dagster/run_id", "value": "a-run-id"},
        *launcher.get("run_ecs_tags", []),
    ]
    return {**kwargs, "taskDefinition": "run-refill-assets", "tags": tags}


def check_ecs_launcher(launcher: Mapping) -> None:
    kwargs = launcher.get("run_task_kwargs", {})
    if {"taskDefinition", "overrides"} & set(kwargs):
        raise ValueError("run_task_kwargs: the launcher sets taskDefinition and overrides itself")
    check_ecs_request("RegisterTaskDefinition", register_task_definition_request(launcher))
    check_ecs_request("RunTask", run_task_request(launcher))
    cpu, memory = launcher["run_resources"]["cpu"], int(launcher["run_resources"]["memory"])
    if memory not in FARGATE_MEMORY.get(cpu, set()):
        raise ValueError(f"Fargate has no task size of cpu {cpu} with memory {memory}")


def run_job(launcher: Mapping) -> dict:
    """The Job K8sRunLauncher submits for a run, built with dagster-k8s's own functions, minus
    the API call and the code location's container context (values.yaml switches it off)."""
    fields = inspect.signature(DagsterK8sJobConfig.__new__).parameters
    job_config = DagsterK8sJobConfig(
        job_image="refill-platform:test",
        **{key: value for key, value in launcher.items() if key in fields},
    )
    job = construct_dagster_k8s_job(
        job_config,
        args=["dagster", "api", "execute_run"],
        job_name="dagster-run-test",
        pod_name="dagster-run-test",
        component="run_worker",
        user_defined_k8s_config=UserDefinedDagsterK8sConfig.from_dict(
            launcher.get("run_k8s_config", {})
        ),
        labels={"dagster/job": "nightly"},
    )
    return ApiClient().sanitize_for_serialization(job)


def check_k8s_launcher(launcher: Mapping) -> None:
    labels = run_job(launcher)["spec"]["template"]["metadata"]["labels"]
    for key, value in labels.items():
        name = key.rsplit("/", 1)[-1]
        if not LABEL_NAME.match(name) or (value and not LABEL_NAME.match(value)):
            raise ValueError(f"not a Kubernetes label: {key}={value!r}")
