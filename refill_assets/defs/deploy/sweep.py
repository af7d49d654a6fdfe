"""``deploy/untagged_resources``: the untagged sweep (``refill_assets.deploy.sweep``).

Job ``untagged_sweep`` (daily, 05:00 UTC): the platform's SageMaker models, endpoint configs,
endpoints and model objects, listed by the services' own list APIs (the tagging API never
returns what was never tagged); those missing a mandatory tag are reported, and a WARN check
reaches Slack. Untagged endpoints older than 24 h are deleted only when REFILL_SWEEP_DELETE=
true; otherwise the report says what would be. The schedule starts stopped without an AWS
account (``REFILL_SAGEMAKER_*``).
"""

from datetime import UTC, datetime

import dagster as dg

from refill_assets.defs.cost.meter import metered
from refill_assets.defs.deploy.assets import CONFIGURED
from refill_assets.defs.resources import SETTINGS, AwsResource
from refill_assets.deploy.sweep import SweepScope, report, sweep

UNTAGGED = dg.AssetKey(["deploy", "untagged_resources"])
TAGGED_CHECK = "all_resources_tagged"


@dg.asset(
    key=UNTAGGED,
    group_name="deploy",
    kinds={"sagemaker", "s3"},
    check_specs=[
        dg.AssetCheckSpec(
            TAGGED_CHECK,
            asset=UNTAGGED,
            description="Every SageMaker model, endpoint config, endpoint and model object of "
            "the platform carries the mandatory cost tags.",
        )
    ],
    description="The platform's resources missing a mandatory cost tag, from the services' own "
    "list APIs; old untagged endpoints deleted when REFILL_SWEEP_DELETE=true.",
)
@metered
def untagged_resources(context: dg.AssetExecutionContext, aws: AwsResource):
    scope = SweepScope.from_env(SETTINGS.deploy_env)
    found = sweep(aws.client("sagemaker"), aws.client("s3"), scope, datetime.now(UTC))
    table = report(found)
    context.log.info(table)
    actions = [f.action for f in found]
    yield dg.MaterializeResult(
        metadata={
            "untagged": len(found),
            "would_delete": actions.count("would delete"),
            "deleted": actions.count("deleted"),
            "delete_enabled": scope.delete,
            "report": dg.MetadataValue.md(table),
        }
    )
    yield dg.AssetCheckResult(
        check_name=TAGGED_CHECK,
        passed=not found,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(found)} resource(s) missing a mandatory tag"
        + ("" if scope.delete else " (deletion off: the report says what it would delete)"),
        metadata={"look_at": "the asset's report: kind, name, missing tags, action"},
    )


untagged_sweep = dg.define_asset_job(
    "untagged_sweep",
    selection=[UNTAGGED],
    description="The resources missing a mandatory cost tag; old untagged endpoints deleted "
    "when enabled.",
)
sweep_schedule = dg.ScheduleDefinition(
    job=untagged_sweep,
    cron_schedule="0 5 * * *",
    default_status=(
        dg.DefaultScheduleStatus.RUNNING if CONFIGURED else dg.DefaultScheduleStatus.STOPPED
    ),
    description="Daily."
    + ("" if CONFIGURED else " Stopped: no AWS account configured (REFILL_SAGEMAKER_*)."),
)
