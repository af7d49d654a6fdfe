"""The official Dagster Helm chart's rendering of the instance from a values file, for the
settings deploy/k8s/values.yaml uses (templates/configmap-instance.yaml and
helpers/instance/*.tpl of dagster-io/dagster's helm/dagster): the chart's JSON schema is not
installed here, so the sections that reach the instance are rendered as the templates do and
every key the chart's schema does not have is refused, not guessed."""

from __future__ import annotations

import re
from collections.abc import Mapping

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
