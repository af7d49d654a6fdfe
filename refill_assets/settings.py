"""Where everything lives, from the environment with local defaults.

The only module that reads ``os.environ``: the same code runs on a laptop,
in CI and against S3 by changing variables, never code.

| variable | default | meaning |
|---|---|---|
| REFILL_HOME | ./.refill | root of the raw zone, warehouse, reports, published copy |
| REFILL_LANDING_URI | $REFILL_HOME/world/landing | landing zone: a folder or s3://bucket/prefix |
| REFILL_PII_KEY | a development key (logged as such) | secret for the keyed hash of owner PII |
| REFILL_PARTITIONS_START | the landing zone's first delivery day | first daily partition (below) |
| REFILL_EXPORT_URI | $REFILL_HOME/exports | outreach export root: a folder or s3://bucket/prefix |
| REFILL_S3_ENDPOINT_URL | unset (AWS) | S3-compatible endpoint, e.g. moto on loopback |
| REFILL_SLACK_WEBHOOK_URL | unset (alert sensors stopped) | Slack incoming webhook for ops |
| REFILL_REFERENCE_DATA | ../shared/data/smart-refills if present | real refill history |
| MLFLOW_TRACKING_URI | sqlite under $REFILL_HOME/mlflow | MLflow tracking server or store |
| REFILL_GATE_MARGIN | 0.10 | a challenger's MAE must be this share below the heuristic's |
| REFILL_GATE_TOLERANCE | 0.05 | allowed MAE regression of a large segment vs the champion |
| REFILL_SAGEMAKER_* | unset: deploy sensor stopped | the account and endpoint to deploy |
| REFILL_COST_CENTER, _ENV, _CLIENT, _OWNER | see deploy/sagemaker.py | AWS cost tags |
| REFILL_COMPUTE_* | the ECS run task | VCPU, MEMORY_GB or USD_PER_HOUR: compute price |
| REFILL_BUDGET_* | USD 250 | the deploy's AWS Budget: USD, NAME, EMAILS, SNS_TOPIC_ARN |
| REFILL_SWEEP_DELETE | false | the untagged sweep deletes old untagged endpoints |
| REFILL_MARGIN_PER_REFILL_USD | unset | a refill's margin: $ benefit / $ cloud (monitoring) |
| REFILL_TRUTH | `truth/` beside a local landing, if there | a simulator's truth (oracle) |

REFILL_PARTITIONS_START unset (the usual case), the partitions start at the landing zone's
first delivery day, found when the definitions load; 2024-01-01 while the landing zone is
empty or absent (``DEFAULT_PARTITIONS_START``). Set, it is the first partition, and a landing
zone with deliveries before it is refused (``ingest.partition_start``): nothing is left
behind silently.

The SageMaker variables (``refill_assets.deploy.sagemaker.DeployConfig``): ROLE_ARN,
IMAGE_URI and BUCKET are required; ENDPOINT, MEMORY_MB, MAX_CONCURRENCY,
PROVISIONED_CONCURRENCY optional; ENDPOINT_URL points the clients at a compatible server.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from refill_assets.storage.layout import Layout

DEV_PII_KEY = "refill-dev-key-not-for-production"
# the first partition while REFILL_PARTITIONS_START is unset and the landing zone is empty or
# absent (``ingest.partition_start`` decides; the reconciliation check catches what comes later)
DEFAULT_PARTITIONS_START = "2024-01-01"
_DEPLOY_PREFIXES = (
    "REFILL_SAGEMAKER_",
    "REFILL_COMPUTE_",
    "REFILL_BUDGET_",
    "REFILL_SWEEP_",
    "REFILL_MARGIN_PER_REFILL_USD",
    "REFILL_COST_CENTER",
    "REFILL_ENV",
    "REFILL_CLIENT",
    "REFILL_OWNER",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)


@dataclass(frozen=True)
class Settings:
    home: Path
    landing_uri: str
    export_uri: str
    pii_key: str
    partitions_start: str | None  # REFILL_PARTITIONS_START; None: follow the landing zone
    s3_endpoint_url: str | None
    reference_data: Path | None
    slack_webhook_url: str | None
    mlflow_tracking_uri: str
    truth: Path | None
    gate_margin: float
    gate_tolerance: float
    deploy_env: dict[str, str]  # the AWS account's: SageMaker, cost tags, compute price, budget

    @property
    def layout(self) -> Layout:
        return Layout(self.home)


def load() -> Settings:
    home = Path(os.environ.get("REFILL_HOME", ".refill")).resolve()
    default_ref = Path(__file__).resolve().parents[2] / "shared" / "data" / "smart-refills"
    ref = os.environ.get("REFILL_REFERENCE_DATA") or (
        str(default_ref) if default_ref.is_dir() else ""
    )
    landing_uri = os.environ.get("REFILL_LANDING_URI", str(home / "world" / "landing"))
    settings = Settings(
        home=home,
        landing_uri=landing_uri,
        export_uri=os.environ.get("REFILL_EXPORT_URI", str(home / "exports")),
        pii_key=os.environ.get("REFILL_PII_KEY", DEV_PII_KEY),
        partitions_start=os.environ.get("REFILL_PARTITIONS_START") or None,
        s3_endpoint_url=os.environ.get("REFILL_S3_ENDPOINT_URL") or None,
        reference_data=Path(ref) if ref else None,
        slack_webhook_url=os.environ.get("REFILL_SLACK_WEBHOOK_URL") or None,
        mlflow_tracking_uri=os.environ.get("MLFLOW_TRACKING_URI")
        or f"sqlite:///{Layout(home).mlflow_db}",
        truth=_truth(landing_uri),
        gate_margin=float(os.environ.get("REFILL_GATE_MARGIN", "0.10")),
        gate_tolerance=float(os.environ.get("REFILL_GATE_TOLERANCE", "0.05")),
        deploy_env={k: v for k, v in os.environ.items() if k.startswith(_DEPLOY_PREFIXES)},
    )
    # dbt's profile and Dagster's instance read these; derive them here so one variable rules
    os.environ.setdefault("REFILL_WAREHOUSE_PATH", str(settings.layout.warehouse))
    os.environ.setdefault("REFILL_DAGSTER_STORAGE", str(settings.layout.dagster_storage))
    return settings


def _truth(landing_uri: str) -> Path | None:
    """A simulated world writes its ground truth beside (never inside) the landing zone."""
    given = os.environ.get("REFILL_TRUTH")
    if given:
        return Path(given)
    beside = Path(landing_uri).parent / "truth"
    return beside if "://" not in landing_uri and beside.is_dir() else None


def dbt_executable() -> str:
    """dbt beside this interpreter (a venv that is not activated), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")
