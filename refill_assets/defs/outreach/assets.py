"""``outreach/refill_outreach_export``: each night's contacts for the CRM, from the scores.

Who is contacted and by which channel: ``refill_assets.outreach.plan``; the file and its
blocking checks: ``refill_assets.outreach.export``.
"""

import dagster as dg
import polars as pl

from refill_assets.defs.cost.meter import metered
from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.quality import checks as quality
from refill_assets.defs.resources import WAREHOUSE_POOL, ExportResource, WarehouseResource
from refill_assets.defs.scoring.assets import SCORES
from refill_assets.outreach.arms import TREATED
from refill_assets.outreach.export import export_window, exported
from refill_assets.outreach.plan import OutreachPolicy
from refill_assets.quality.datasets import EXPORT
from refill_assets.reports.page import markdown_table
from refill_assets.storage.warehouse import connect

OUTREACH = dg.AssetKey(["outreach", "refill_outreach_export"])
PROMISE = (
    "the contract's columns in order, ids, day and channel present, channel email or sms, "
    "lapse probability in [0, 1], contact before the predicted refill"
)
DEFAULTS = OutreachPolicy()


class OutreachConfig(dg.Config):
    lead_days: int = DEFAULTS.lead_days  # contact this many days before the predicted refill
    high_lapse_probability: float = DEFAULTS.high_lapse_probability
    high_lapse_lead_days: int = DEFAULTS.high_lapse_lead_days  # ... or this many, from there
    ignored_after_emails: int = DEFAULTS.ignored_after_emails
    engagement_window_days: int = DEFAULTS.engagement_window_days
    control_share: float = DEFAULTS.control_share  # owners held out of every contact
    arm_seed: str = DEFAULTS.arm_seed


@dg.asset(
    key=OUTREACH,
    deps=[SCORES],
    partitions_def=daily,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    group_name="scores",
    kinds={"csv"},
    check_specs=[
        dg.AssetCheckSpec(
            "export_is_clean",
            asset=OUTREACH,
            blocking=True,
            description="Only the contract's columns, no PII, no opted-out customer, no pet "
            "that is not an active dog or cat, one contact per owner: a day's file is written "
            "only when this holds.",
        ),
        *quality.specs(OUTREACH, PROMISE),
    ],
    description="The CRM's list of owners to remind the next day (the contract's outreach "
    "export), one file per scoring day under REFILL_EXPORT_URI; every planned contact, the "
    "control arm's held out, in monitoring.outreach_assignment.",
)
@metered
def refill_outreach_export(
    context: dg.AssetExecutionContext,
    config: OutreachConfig,
    warehouse: WarehouseResource,
    export: ExportResource,
):
    policy = OutreachPolicy(**config.model_dump())
    start, end = window(context)
    with connect(warehouse.layout.warehouse) as con:
        done = export_window(con, policy, start, end, export.uri, export.s3_client())
        rows = exported(done.contacts).to_pandas()
        verdicts = quality.validate_window(
            context, con, warehouse.layout, EXPORT, start, end, frame=rows
        )
    planned = done.contacts
    contacts = planned.filter(pl.col("arm") == TREATED)
    yield dg.MaterializeResult(
        metadata={
            "rows": contacts.height,
            "control_rows": planned.height - contacts.height,  # planned, held out (the pilot)
            "owners": contacts.select("contact_on", "customer_id").n_unique(),
            # a row is one prescription whose refill the contact is meant to bring forward
            "expected_refills_covered": float(
                (1 - contacts["lapse_probability"]).sum() if contacts.height else 0.0
            ),
            "sms_share": float((contacts["channel"] == "sms").mean() or 0.0),
            "files": dg.MetadataValue.json(done.written[-10:]),
            "preview": dg.MetadataValue.md(markdown_table(contacts.drop("arm").head(5))),
        }
    )
    yield dg.AssetCheckResult(
        check_name="export_is_clean",
        passed=not done.problems,
        metadata={"problems": dg.MetadataValue.json(done.problems[:20])},
    )
    yield from quality.results(OUTREACH, verdicts)
