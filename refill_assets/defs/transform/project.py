"""The dbt project, located for dagster-dbt (its manifest is prepared by `make manifest`)."""

from pathlib import Path

from dagster_dbt import DbtProject

from refill_assets import settings

settings.load()  # dbt's profile reads REFILL_WAREHOUSE_PATH, derived from REFILL_HOME

dbt_project = DbtProject(project_dir=Path(__file__).resolve().parents[3] / "dbt_project")
