"""``outreach.refill_outreach_export``: each night's contacts for the CRM, from the scores."""

from datetime import timedelta

import dagster as dg
import polars as pl

from refill_assets.defs.partitions import daily, single_run, window
from refill_assets.defs.resources import WAREHOUSE_POOL, ExportResource, WarehouseResource
from refill_assets.outreach.contacts import (
    OutreachPolicy,
    candidates,
    export_problems,
    plan_contacts,
    write_export,
)
from refill_assets.reports.page import markdown_table
from refill_assets.storage.warehouse import connect

OUTREACH = dg.AssetKey(["outreach", "refill_outreach_export"])
DEFAULTS = OutreachPolicy()


class OutreachConfig(dg.Config):
    lead_days: int = DEFAULTS.lead_days  # contact this many days before the predicted refill
    high_lapse_probability: float = DEFAULTS.high_lapse_probability
    high_lapse_lead_days: int = DEFAULTS.high_lapse_lead_days  # ... or this many, from there
    ignored_after_emails: int = DEFAULTS.ignored_after_emails
    engagement_window_days: int = DEFAULTS.engagement_window_days


@dg.asset(
    key=OUTREACH,
    deps=[dg.AssetKey(["scores", "rx_refill_scores"])],
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
            "that is not an active dog or cat, one contact per owner.",
        )
    ],
    description="The CRM's list of owners to remind the next day (the contract's outreach "
    "export), one file per scoring day under REFILL_EXPORT_URI.",
)
def refill_outreach_export(
    context: dg.AssetExecutionContext,
    config: OutreachConfig,
    warehouse: WarehouseResource,
    export: ExportResource,
):
    policy = OutreachPolicy(**config.model_dump())
    start, end = window(context)
    written, problems, frames = [], [], []
    with connect(warehouse.path) as con:
        for day in (start + timedelta(days=i) for i in range((end - start).days + 1)):
            contacts = plan_contacts(candidates(con, day, policy), day, policy)
            problems += [f"{day}: {p}" for p in export_problems(contacts, con)]
            if not problems:
                written.append(write_export(contacts, export.uri, day, export.s3_client()))
            frames.append(contacts)
    contacts = pl.concat(frames)
    yield dg.MaterializeResult(
        metadata={
            "rows": contacts.height,
            "owners": contacts.select("contact_on", "customer_id").n_unique(),
            # a row is one prescription whose refill the contact is meant to bring forward
            "expected_refills_covered": float(
                (1 - contacts["lapse_probability"]).sum() if contacts.height else 0.0
            ),
            "sms_share": float((contacts["channel"] == "sms").mean() or 0.0),
            "files": dg.MetadataValue.json(written[-10:]),
            "preview": dg.MetadataValue.md(markdown_table(contacts.head(5))),
        }
    )
    yield dg.AssetCheckResult(
        check_name="export_is_clean",
        passed=not problems,
        metadata={"problems": dg.MetadataValue.json(problems[:20])},
    )
