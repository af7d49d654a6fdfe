"""storage.layout: every zone under REFILL_HOME, and settings deriving the rest from it."""

from __future__ import annotations

import os
from pathlib import Path

from refill_assets import settings
from refill_assets.storage.layout import Layout


def test_every_zone_has_its_own_place_under_home(tmp_path):
    layout = Layout(tmp_path)
    paths = [
        layout.warehouse,
        layout.published,
        layout.raw_root,
        layout.reports,
        layout.snapshot,
        layout.snapshot_digest,
        layout.model_dir("lightgbm"),
        layout.mlflow_db,
        layout.mlflow_artifacts,
        layout.run_logs,
        layout.dbt_target,
        layout.dagster_storage,
    ]
    assert len(set(paths)) == len(paths)
    assert all(p.is_relative_to(tmp_path) for p in paths)
    # the analysts' copy is never the live file the pipeline writes
    assert layout.published != layout.warehouse


def test_settings_point_dbt_dagster_and_mlflow_at_the_layout(tmp_path, monkeypatch):
    for name in ("REFILL_WAREHOUSE_PATH", "REFILL_DAGSTER_STORAGE", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REFILL_HOME", str(tmp_path))
    loaded = settings.load()
    assert loaded.layout == Layout(tmp_path)
    assert Path(os.environ["REFILL_WAREHOUSE_PATH"]) == loaded.layout.warehouse
    assert Path(os.environ["REFILL_DAGSTER_STORAGE"]) == loaded.layout.dagster_storage
    assert loaded.mlflow_tracking_uri == f"sqlite:///{loaded.layout.mlflow_db}"
