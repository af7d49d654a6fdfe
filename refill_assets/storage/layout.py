"""Where each zone lives under ``REFILL_HOME`` (the README's "Storage zones"), in one place.

Settings, the Dagster resources and the CLI all take their paths from a ``Layout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    home: Path

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        """The analysts' copy, replaced atomically after each successful run."""
        return self.home / "published" / "warehouse.duckdb"

    @property
    def raw_root(self) -> Path:
        return self.home / "raw"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def quality_docs(self) -> Path:
        """The data-quality dashboard (GX Data Docs): index.html, kept across runs."""
        return self.reports / "quality"

    @property
    def quality_store(self) -> Path:
        """GX's stores: the suites and every validation result the dashboard shows."""
        return self.home / "quality"

    @property
    def snapshot(self) -> Path:
        return self.home / "features" / "training_snapshot.parquet"

    @property
    def reference_population(self) -> Path:
        """The last nights' scoring rows of the snapshot's data (the models' drift reference)."""
        return self.home / "features" / "reference_population.parquet"

    @property
    def snapshot_digest(self) -> Path:
        """The snapshot's content hash, so each model logs it without rehashing."""
        return self.snapshot.with_suffix(".sha256")

    def model_dir(self, kind: str) -> Path:
        return self.home / "models" / kind

    @property
    def mlflow_db(self) -> Path:
        return self.home / "mlflow" / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.home / "mlflow" / "artifacts"

    @property
    def run_logs(self) -> Path:
        return self.home / "logs"

    @property
    def dbt_target(self) -> Path:
        """dbt's artifacts, kept per home: its partial-parse state stays valid from run to run
        (dbt re-parses the whole project when the profile, i.e. the warehouse path, changes)."""
        return self.home / "dbt" / "target"

    @property
    def dagster_storage(self) -> Path:
        return self.home / "dagster"
