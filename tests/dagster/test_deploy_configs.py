"""The production instances (deploy/ecs, deploy/k8s) and the Helm values, checked offline
against Dagster's own schemas: no cluster, no AWS, no network.

What is checked:

- Each dagster.yaml as Dagster loads it. ``InstanceRef.from_dir`` runs
  ``dagster_instance_config`` (the instance schema and its cross-field rules, e.g. run-queue
  limits beside ``concurrency``), then every pluggable class's block (storages, run launcher,
  run coordinator, compute logs, scheduler) goes through that class's own ``config_type()``
  with ``env:`` resolved, as ``ConfigurableClassData.rehydrate`` does, stopping short of the
  constructor: the launchers would reach AWS or load a kubeconfig.
- What the launchers find out only when a run starts: the ECS RegisterTaskDefinition and
  RunTask requests against botocore's model of the ECS API, Fargate's cpu/memory pairs; the
  Kubernetes Job that dagster-k8s's own ``construct_dagster_k8s_job`` builds (its checks of
  the volume and container fields) and the syntax of its labels.
- The Helm values, for the sections the chart turns into the instance (run launcher,
  PostgreSQL, compute logs, run coordinator, run monitoring, concurrency, telemetry): rendered
  here as the chart's templates (helm/dagster/templates/helpers/instance/*.tpl) render them,
  refusing keys the chart's schema (helm/dagster/schema) does not have for those sections, then
  loaded like the files and compared with deploy/k8s/dagster.yaml.

What is not: the chart's JSON schema itself (not installed here) and the values sections that
never reach the instance (webserver, service account, most of the user deployment); chart
defaults merged into the sections set here; whatever AWS or Kubernetes decides at run time
(IAM, the EFS and RDS ids, resource quantities, image pulls).
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml
from botocore.exceptions import ParamValidationError
from botocore.model import ServiceModel
from botocore.validate import ParamValidator
from dagster._config import process_config, resolve_to_config_type
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import ConcurrencyConfig, PoolGranularity
from dagster._core.instance.ref import InstanceRef
from dagster._serdes import class_from_code_pointer
from dagster_aws.ecs.tasks import DagsterEcsTaskDefinitionConfig
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
)
from dagster_k8s.models import k8s_snake_case_dict
from kubernetes.client import ApiClient, V1ConfigMap, V1PersistentVolumeClaim

from refill_assets.deploy.sagemaker import cost_tags

ROOT = Path(__file__).resolve().parents[2]
ECS = ROOT / "deploy" / "ecs" / "dagster.yaml"
K8S = ROOT / "deploy" / "k8s" / "dagster.yaml"
VALUES = ROOT / "deploy" / "k8s" / "values.yaml"
PLATFORM = ROOT / "deploy" / "k8s" / "platform.yaml"
# the release and namespace of the install command in values.yaml's header
RELEASE, NAMESPACE = "refill-dagster", "refill"
# the chart's default for global.dagsterHome, which values.yaml leaves alone
CHART_DAGSTER_HOME = "/opt/dagster/dagster_home"

# The chart's top-level sections (helm/dagster/schema/schema/charts/dagster/values.py, with
# `concurrency` of the 1.13 line): a misspelt section is otherwise ignored by Helm.
CHART_SECTIONS = {
    "global", "nameOverride", "fullnameOverride", "rbacEnabled", "dagsterWebserver",
    "dagster-user-deployments", "postgresql", "generatePostgresqlPasswordSecret",
    "generateCeleryConfigSecret", "rabbitmq", "redis", "flower", "ingress", "imagePullSecrets",
    "computeLogManager", "scheduler", "runLauncher", "pythonLogs", "dagsterDaemon", "busybox",
    "migrate", "telemetry", "serviceAccount", "retention", "additionalInstanceConfig",
    "concurrency",
}  # fmt: skip
# K8sRunLauncherConfig in the chart's schema (subschema/run_launcher.py, extra="forbid": a
# misspelt key fails `helm install`)
CHART_K8S_LAUNCHER_KEYS = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile",
    "envConfigMaps", "envSecrets", "envVars", "volumeMounts", "volumes", "labels",
    "failPodOnRunFailure", "resources", "schedulerName", "securityContext", "runK8sConfig",
}  # fmt: skip
# the ones chart_instance renders (the rest it refuses rather than guess)
RENDERED_K8S_LAUNCHER_KEYS = CHART_K8S_LAUNCHER_KEYS - {
    "image", "kubeconfigFile", "failPodOnRunFailure", "schedulerName",
}  # fmt: skip
# S3ComputeLogManager in the chart's schema (subschema/compute_log_manager.py; it allows other
# keys, and the template drops them without a word: refused here)
CHART_S3_LOGS_KEYS = {
    "bucket", "localDir", "prefix", "useSsl", "verify", "verifyCertPath", "endpointUrl",
    "skipEmptyFiles", "uploadInterval", "uploadExtraArgs", "showUrlOnly", "region",
}  # fmt: skip

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


def read(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def env_names(node: Any) -> Iterator[str]:
    """Every variable an `env:` value names, anywhere in a config."""
    if isinstance(node, dict):
        if set(node) == {"env"} and isinstance(node["env"], str):
            yield node["env"]
        else:
            for value in node.values():
                yield from env_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from env_names(value)


def platform_objects() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(PLATFORM.read_text()) if doc}


@pytest.fixture
def instance_env(monkeypatch) -> None:
    """A dummy value for every variable the instances and values read."""
    for path in (ECS, K8S, VALUES):
        for name in env_names(read(path)):
            monkeypatch.setenv(name, f"dummy-{name.lower()}")


# --- the instance as Dagster loads it -----------------------------------------------------


@dataclass(frozen=True)
class Instance:
    components: dict[str, tuple[type, dict]]  # "run_launcher" -> (class, its processed config)
    settings: Mapping[str, Any]  # concurrency, run_monitoring, telemetry, ...

    def config(self, component: str) -> dict:
        return self.components[component][1]


def load_instance(config: Mapping, home: Path) -> Instance:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(dict(config)))
    ref = InstanceRef.from_dir(str(home))
    components = {}
    for field in ref._fields:
        data = getattr(ref, field)
        if not field.endswith("_data") or field == "custom_instance_class_data" or data is None:
            continue
        klass = class_from_code_pointer(data.module_name, data.class_name)
        result = process_config(resolve_to_config_type(klass.config_type()), data.config_dict)
        if not result.success:
            raise DagsterInvalidConfigError(
                f"{data.module_name}.{data.class_name}", result.errors, data.config_dict
            )
        components[field.removesuffix("_data")] = (klass, result.value)
    return Instance(components, ref.settings)


# --- what the launchers check only when a run starts --------------------------------------


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


def validate(kind: str, doc: Mapping, home: Path) -> Instance:
    """Everything this module checks of one file: "ecs", "k8s" (an instance) or "values"."""
    instance = load_instance(chart_instance(doc) if kind == "values" else doc, home)
    if kind == "ecs":
        check_ecs_launcher(instance.config("run_launcher"))
    else:
        check_k8s_launcher(instance.config("run_launcher"))
    return instance


# --- the Helm chart's rendering of the instance -------------------------------------------


def snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def chart_instance(values: Mapping) -> dict:
    """The instance the chart renders from `values` (templates/configmap-instance.yaml and
    helpers/instance/*.tpl), for the settings values.yaml uses; others are refused, not
    guessed."""
    unknown = set(values) - CHART_SECTIONS
    if unknown:
        raise ValueError(f"the chart has no sections {sorted(unknown)}")
    fullname = RELEASE if "dagster" in RELEASE else f"{RELEASE}-dagster"
    pg = values["postgresql"]
    if pg["enabled"]:
        raise ValueError("rendered here for an external PostgreSQL only")
    postgres = {
        "postgres_db": {
            "username": pg["postgresqlUsername"],
            "password": {"env": "DAGSTER_PG_PASSWORD"},
            "hostname": pg["postgresqlHost"],
            "db_name": pg["postgresqlDatabase"],
            "port": pg["service"]["port"],
            "params": pg.get("postgresqlParams", {}),
            **({"scheme": pg["postgresqlScheme"]} if pg.get("postgresqlScheme") else {}),
        }
    }
    instance = {
        key: {"module": f"dagster_postgres.{module}", "class": cls, "config": postgres}
        for key, module, cls in (
            ("run_storage", "run_storage", "PostgresRunStorage"),
            ("event_log_storage", "event_log", "PostgresEventLogStorage"),
            ("schedule_storage", "schedule_storage", "PostgresScheduleStorage"),
        )
    }
    instance["run_launcher"] = _chart_k8s_launcher(values, fullname)
    daemon = values["dagsterDaemon"]
    if daemon["enabled"] and daemon["runCoordinator"]["enabled"]:
        instance["run_coordinator"] = _chart_run_coordinator(daemon["runCoordinator"])
    monitoring = daemon.get("runMonitoring", {})
    if daemon["enabled"] and monitoring.get("enabled"):
        instance["run_monitoring"] = {
            "enabled": True,
            "start_timeout_seconds": monitoring["startTimeoutSeconds"],
            "poll_interval_seconds": monitoring["pollIntervalSeconds"],
            "free_slots_after_run_end_seconds": monitoring["freeSlotsAfterRunEndSeconds"],
        }
    instance["compute_logs"] = _chart_compute_logs(values["computeLogManager"])
    if values.get("concurrency", {}).get("enabled"):
        instance["concurrency"] = _chart_concurrency(values["concurrency"])
    instance["telemetry"] = {"enabled": values["telemetry"]["enabled"]}
    return instance


def _chart_section(section: Mapping, kind: str, allowed: set[str]) -> Mapping:
    """The config of a chart section of type ``kind`` (its key: ``kind`` in lower camel
    case), refused when of another type or with a key the chart's schema does not have."""
    if section["type"] != kind:
        raise ValueError(f"rendered here for {kind} only, not {section['type']}")
    key = kind[0].lower() + kind[1:]
    config = section["config"][key]
    unknown = set(config) - allowed
    if unknown:
        raise ValueError(f"the chart's {key} has no keys {sorted(unknown)}")
    return config


def _chart_k8s_launcher(values: Mapping, fullname: str) -> dict:
    k8s = _chart_section(values["runLauncher"], "K8sRunLauncher", CHART_K8S_LAUNCHER_KEYS)
    if set(k8s) - RENDERED_K8S_LAUNCHER_KEYS:
        raise ValueError(f"not rendered here: {sorted(set(k8s) - RENDERED_K8S_LAUNCHER_KEYS)}")
    config = {
        "load_incluster_config": k8s["loadInclusterConfig"],
        "job_namespace": k8s.get("jobNamespace") or NAMESPACE,
        "image_pull_policy": k8s["imagePullPolicy"],
        "service_account_name": values["global"].get("serviceAccountName")
        or values["serviceAccount"].get("name")
        or fullname,
        "dagster_home": values["global"].get("dagsterHome", CHART_DAGSTER_HOME),
        "instance_config_map": f"{fullname}-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"],
    }
    for key in ("envConfigMaps", "envSecrets"):
        if k8s.get(key):
            config[snake(key)] = [source["name"] for source in k8s[key]]
    for key in ("envVars", "volumeMounts", "volumes", "labels", "resources", "securityContext"):
        if k8s.get(key):
            config[snake(key)] = k8s[key]
    if k8s.get("runK8sConfig"):
        config["run_k8s_config"] = {snake(k): v for k, v in k8s["runK8sConfig"].items() if v}
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": config}


def _chart_run_coordinator(coordinator: Mapping) -> dict:
    if coordinator["type"] != "CustomRunCoordinator":
        raise ValueError(f"rendered here for CustomRunCoordinator only, not {coordinator['type']}")
    custom = coordinator["config"]["customRunCoordinator"]
    return {"module": custom["module"], "class": custom["class"], "config": custom["config"]}


def _chart_compute_logs(manager: Mapping) -> dict:
    s3 = _chart_section(manager, "S3ComputeLogManager", CHART_S3_LOGS_KEYS)
    # the template writes `verify` always, every other key only when it is set and not false
    config = {"bucket": s3["bucket"], "verify": s3.get("verify") is not False}
    config |= {snake(k): v for k, v in s3.items() if k not in ("bucket", "verify") and v}
    return {
        "module": "dagster_aws.s3.compute_log_manager",
        "class": "S3ComputeLogManager",
        "config": config,
    }


def _chart_concurrency(concurrency: Mapping) -> dict:
    rendered = {}
    pools = {snake(k): v for k, v in concurrency.get("pools", {}).items() if v is not None}
    if pools:
        rendered["pools"] = pools
    runs = concurrency.get("runs", {})
    if runs.get("maxConcurrentRuns") is not None or runs.get("tagConcurrencyLimits"):
        rendered["runs"] = {}
        if runs.get("maxConcurrentRuns") is not None:
            rendered["runs"]["max_concurrent_runs"] = runs["maxConcurrentRuns"]
        if runs.get("tagConcurrencyLimits"):
            rendered["runs"]["tag_concurrency_limits"] = runs["tagConcurrencyLimits"]
    return rendered


# --- the files, loaded --------------------------------------------------------------------


@pytest.mark.parametrize("kind, path", [("ecs", ECS), ("k8s", K8S)])
def test_the_instance_loads_with_dagsters_schemas(kind, path, tmp_path, instance_env):
    instance = validate(kind, read(path), tmp_path)

    classes = {name: klass.__name__ for name, (klass, _) in instance.components.items()}
    assert classes["run_launcher"] == {"ecs": "EcsRunLauncher", "k8s": "K8sRunLauncher"}[kind]
    assert classes["run_coordinator"] == "QueuedRunCoordinator"
    assert classes["compute_logs"] == "S3ComputeLogManager"
    assert {classes[s] for s in ("run_storage", "event_storage", "schedule_storage")} == {
        "PostgresRunStorage",
        "PostgresEventLogStorage",
        "PostgresScheduleStorage",
    }
    # `env:` resolved from this environment, not passed on as a mapping
    assert instance.config("compute_logs")["bucket"] == "dummy-dagster_compute_logs_bucket"
    assert instance.settings["telemetry"] == {"enabled": False}


@pytest.mark.parametrize("path", [ECS, K8S])
def test_one_step_holds_the_warehouse_at_a_time(path, tmp_path, instance_env):
    """The effective settings the daemon and the run workers act on, not the file's text."""
    instance = load_instance(read(path), tmp_path)
    coordinator_class, coordinator_config = instance.components["run_coordinator"]
    effective = ConcurrencyConfig.from_concurrency_settings(
        instance.settings["concurrency"],
        coordinator_class(**coordinator_config).get_run_queue_config(),
    )
    pools, queue = effective.pool_config, effective.run_queue_config
    assert pools.default_pool_limit == 1
    # "run" granularity would stop limiting the steps inside one run
    assert pools.pool_granularity in (None, PoolGranularity.OP)
    assert queue.should_block_op_concurrency_limited_runs
    assert queue.max_concurrent_runs == 2
    schedules = next(t for t in queue.tag_concurrency_limits if t["key"] == "dagster/schedule_name")
    assert schedules == {
        "key": "dagster/schedule_name",
        "value": {"applyLimitPerUniqueValue": True},
        "limit": 1,
    }
    # a dead run's slot would block the warehouse for good
    assert instance.settings["run_monitoring"]["free_slots_after_run_end_seconds"] > 0


def test_the_ecs_run_task_gets_what_it_needs(tmp_path, instance_env):
    raw = read(ECS)
    launcher = raw["run_launcher"]["config"]
    handed_over = {entry.split("=", 1)[0] for entry in launcher["env_vars"]}
    handed_over |= {secret["name"] for secret in launcher["secrets"]}
    # the task loads this same instance: a variable it reads and lacks stops the run
    assert set(env_names(raw)) <= handed_over
    platform = {"REFILL_HOME", "REFILL_LANDING_URI", "REFILL_EXPORT_URI", "REFILL_PII_KEY"}
    assert platform <= handed_over
    fixed = dict(entry.split("=", 1) for entry in launcher["env_vars"] if "=" in entry)
    mounts = launcher["task_definition"]["mount_points"]
    assert [m["containerPath"] for m in mounts] == [fixed["REFILL_HOME"]]
    volumes = [v["name"] for v in launcher["task_definition"]["volumes"]]
    assert [m["sourceVolume"] for m in mounts] == volumes

    processed = validate("ecs", raw, tmp_path).config("run_launcher")
    (container,) = register_task_definition_request(processed)["containerDefinitions"]
    assert container["mountPoints"] == mounts
    assert {"name": "REFILL_HOME", "value": fixed["REFILL_HOME"]} in container["environment"]
    request = run_task_request(processed)
    assert request["enableECSManagedTags"] is True
    assert all(isinstance(tag["value"], str) for tag in request["tags"])


def test_the_k8s_run_pod_gets_what_it_needs(instance_env):
    launcher = read(K8S)["run_launcher"]["config"]
    pod = run_job(launcher)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = platform_objects()["ConfigMap"]["data"]
    claim = platform_objects()["PersistentVolumeClaim"]["metadata"]["name"]

    assert [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]] == [claim]
    assert [m["mountPath"] for m in container["volumeMounts"]] == [env["REFILL_HOME"]]
    sources = [s.get("configMapRef") or s.get("secretRef") for s in container["envFrom"]]
    assert [s["name"] for s in sources] == ["refill-platform-env", "refill-platform-secrets"]
    assert container["resources"] == launcher["run_k8s_config"]["container_config"]["resources"]
    assert pod["serviceAccountName"] == "refill-dagster"
    # every variable the instance reads is in the ConfigMap, but the password (its own Secret)
    assert set(env_names(read(K8S))) - {"DAGSTER_PG_PASSWORD"} <= set(env)
    assert launcher["postgres_password_secret"] == "refill-dagster-postgresql"


def test_the_platform_manifests_are_kubernetes_objects():
    objects = platform_objects()
    for kind, model in (
        ("ConfigMap", V1ConfigMap),
        ("PersistentVolumeClaim", V1PersistentVolumeClaim),
    ):
        k8s_snake_case_dict(model, objects[kind])
    assert objects["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteMany"]


# --- the Helm values ----------------------------------------------------------------------


def test_the_helm_values_render_the_k8s_instance(tmp_path, instance_env):
    values = read(VALUES)
    rendered = chart_instance(values)
    assert rendered == read(K8S)
    validate("values", values, tmp_path)


def test_the_helm_user_deployment_serves_this_repository():
    values = read(VALUES)
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module = args[args.index("-m") + 1]
    assert importlib.util.find_spec(module) is not None
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    # the code server runs the sensors with the environment the runs get
    assert deployment["envConfigMaps"] == launcher["envConfigMaps"]
    assert deployment["envSecrets"] == launcher["envSecrets"]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": False}
    for section in ("dagsterWebserver", "dagsterDaemon"):
        assert values[section]["envConfigMaps"] == launcher["envConfigMaps"]


# --- the cost tags ------------------------------------------------------------------------


def test_runs_carry_the_sagemaker_deploys_cost_tags(tmp_path, instance_env, monkeypatch):
    """The tag keys are built by ``cost_tags`` (not a constant); given the same environment,
    the ECS task and the K8s pod carry exactly the tags the SageMaker deploy would set."""
    env = {
        "REFILL_COST_CENTER": "cc-42",
        "REFILL_ENV": "prod",
        "REFILL_CLIENT": "a-pharmacy",
        "REFILL_OWNER": "ml-team",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    launcher = load_instance(read(ECS), tmp_path).config("run_launcher")
    assert {tag["key"]: tag["value"] for tag in launcher["run_ecs_tags"]} == cost_tags(env)

    k8s_env = platform_objects()["ConfigMap"]["data"]
    assert read(K8S)["run_launcher"]["config"]["labels"] == cost_tags(k8s_env)


# --- the checks fail on broken copies -----------------------------------------------------


def _ecs_launcher(doc: dict) -> dict:
    return doc["run_launcher"]["config"]


def _misspell_run_resources(doc, _):
    _ecs_launcher(doc)["run_resource"] = _ecs_launcher(doc).pop("run_resources")


def _drop_bucket(doc, _):
    del doc["compute_logs"]["config"]["bucket"]


def _run_limit_in_the_coordinator(doc, _):
    doc["run_coordinator"]["config"] = {"max_concurrent_runs": 2}


def _unset_pg_host(_, monkeypatch):
    monkeypatch.delenv("DAGSTER_PG_HOST")


def _cost_tags_as_run_task_kwargs(doc, _):
    tags = _ecs_launcher(doc).pop("run_ecs_tags")
    _ecs_launcher(doc)["run_task_kwargs"]["tags"] = tags


def _misspell_efs(doc, _):
    volume = _ecs_launcher(doc)["task_definition"]["volumes"][0]
    volume["efsVolumeConfig"] = volume.pop("efsVolumeConfiguration")


def _no_such_fargate_size(doc, _):
    _ecs_launcher(doc)["run_resources"]["memory"] = "4096"


def _drop_instance_config_map(doc, _):
    del doc["run_launcher"]["config"]["instance_config_map"]


def _misspell_claim(doc, _):
    volume = doc["run_launcher"]["config"]["volumes"][0]
    volume["persistentVolumeClam"] = volume.pop("persistentVolumeClaim")


def _space_in_a_label(doc, _):
    doc["run_launcher"]["config"]["labels"]["CostCenter"] = "data platform"


def _misspell_chart_key(doc, _):
    launcher = doc["runLauncher"]["config"]["k8sRunLauncher"]
    launcher["volumeMount"] = launcher.pop("volumeMounts")


def _words_for_a_timeout(doc, _):
    doc["dagsterDaemon"]["runMonitoring"]["startTimeoutSeconds"] = "ten minutes"


Break = Callable[[dict, pytest.MonkeyPatch], None]
BROKEN: list[tuple[str, Path, Break, type[Exception], str]] = [
    ("ecs", ECS, _misspell_run_resources, DagsterInvalidConfigError, "run_resource"),
    ("ecs", ECS, _drop_bucket, DagsterInvalidConfigError, "bucket"),
    ("ecs", ECS, _run_limit_in_the_coordinator, DagsterInvalidConfigError, "max_concurrent_runs"),
    ("ecs", ECS, _unset_pg_host, DagsterInvalidConfigError, "DAGSTER_PG_HOST"),
    ("ecs", ECS, _cost_tags_as_run_task_kwargs, ParamValidationError, r"tags\[\d\]\.value"),
    ("ecs", ECS, _misspell_efs, ParamValidationError, "efsVolumeConfig"),
    ("ecs", ECS, _no_such_fargate_size, ValueError, "Fargate"),
    ("k8s", K8S, _drop_instance_config_map, DagsterInvalidConfigError, "instance_config_map"),
    # dagster-k8s raises a bare Exception for a key the Kubernetes model does not have
    ("k8s", K8S, _misspell_claim, Exception, "persistentVolumeClam"),
    ("k8s", K8S, _space_in_a_label, ValueError, "CostCenter"),
    ("values", VALUES, _misspell_chart_key, ValueError, "volumeMount"),
    ("values", VALUES, _words_for_a_timeout, DagsterInvalidConfigError, "start_timeout_seconds"),
]


@pytest.mark.parametrize(
    "kind, path, breaking, error, message",
    BROKEN,
    ids=[f"{kind}-{breaking.__name__.strip('_')}" for kind, _, breaking, *_ in BROKEN],
)
def test_a_broken_copy_fails(
    kind, path, breaking, error, message, tmp_path, instance_env, monkeypatch
):
    doc = copy.deepcopy(read(path))
    validate(kind, doc, tmp_path / "intact")  # the same file passes before it is broken
    breaking(doc, monkeypatch)
    with pytest.raises(error, match=message):
        validate(kind, doc, tmp_path / "broken")
