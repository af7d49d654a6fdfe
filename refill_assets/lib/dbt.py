"""dbt glue: the project, its resource, the translator, and how a run's window reaches dbt.

Every dbt invocation gets the business rules as vars (``contract.rules.dbt_vars``), so
the dbt project holds no copy of them, and the partition window as environment variables
(``macros/partition_window.sql``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject

from refill_assets import settings
from refill_assets.contract.rules import dbt_vars

settings.load()  # dbt's profile reads REFILL_WAREHOUSE_PATH, derived from REFILL_HOME

dbt_project = DbtProject(project_dir=Path(__file__).resolve().parents[2] / "dbt_project")


def build_args(command: str = "build") -> list[str]:
    """A dbt command line with the business rules as vars."""
    return [command, "--vars", json.dumps(dbt_vars(), sort_keys=True)]


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt resource, without its in-process dbt adapter.

    dagster-dbt builds that adapter before every `dbt` subprocess, only for the
    row-count and column-metadata features, which these assets do not use: it
    loads dbt's adapter stack in the step's process first, 1.7 s of every run
    (measured on the nightly). dagster-dbt runs without one whenever building
    it fails, so None is a state it handles.
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


class RefillDbtTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id, {})
        # one group per dbt folder (staging, marts, quarantine) reads like the flow
        group = node.get("fqn", ["", "models"])[1] if node.get("resource_type") == "model" else None
        return spec.replace_attributes(group_name=group) if group else spec


@contextmanager
def partition_window_env(window: tuple[date, date] | None) -> Iterator[None]:
    """The window as dbt reads it (macros/partition_window.sql), while dbt is started;
    None: unbounded (every day).

    `dbt.cli` copies the environment when it starts the subprocess, so the
    variables need only live around that call.
    """
    start, end = (d.isoformat() for d in window) if window else ("", "")
    names = {"REFILL_MIN_DATE": start, "REFILL_MAX_DATE": end}
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def relation_keys(relations: Iterable[tuple[str, str]]) -> list[dg.AssetKey]:
    """The asset keys of warehouse relations (dbt models are keyed ``[schema, name]``): the
    deps of a Python asset, from what its SQL reads (``storage.relations``)."""
    return [dg.AssetKey([schema, name]) for schema, name in sorted(relations)]
