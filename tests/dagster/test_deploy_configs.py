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
import importlib.util
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ParamValidationError
from dagster._config import process_config, resolve_to_config_type
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import ConcurrencyConfig, PoolGranularity
from dagster._core.instance.ref import InstanceRef
from dagster._serdes import class_from_code_pointer
from dagster_k8s.models import k8s_snake_case_dict
from kubernetes.client import V1ConfigMap, V1PersistentVolumeClaim

from refill_assets.deploy.sagemaker import cost_tags
from tests.support.helm_chart import chart_instance
from tests.support.run_launchers import (
    check_ecs_launcher,
    check_k8s_launcher,
    register_task_definition_request,
    run_job,
    run_task_request,
)

ROOT = Path(__file__).resolve().parents[2]
ECS = ROOT / "deploy" / "ecs" / "dagster.yaml"
K8S = ROOT / "deploy" / "k8s" / "dagster.yaml"
VALUES = ROOT / "deploy" / "k8s" / "values.yaml"
PLATFORM = ROOT / "deploy" / "k8s" / "platform.yaml"


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


def validate(kind: str, doc: Mapping, home: Path) -> Instance:
    """Everything this module checks of one file: "ecs", "k8s" (an instance) or "values"."""
    instance = load_instance(chart_instance(doc) if kind == "values" else doc, home)
    if kind == "ecs":
        check_ecs_launcher(instance.config("run_launcher"))
    else:
        check_k8s_launcher(instance.config("run_launcher"))
    return instance


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
