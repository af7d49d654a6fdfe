"""The outreach export file for the CRM: its columns, its checks, and writing it whole.

Only the contract's columns leave: ids, the drug's name, dates, the channel, the lapse
probability and the model version; never a name, address, email or phone; and only the
treated arm's contacts. A day's file is written only when ``export_problems`` finds nothing
wrong with it (the blocking check). Every planned contact of the days written, both arms, is
recorded in ``monitoring.outreach_assignment`` (``ASSIGNMENT_TABLE``), which the monitoring
joins to the scores' outcomes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from refill_assets.outreach.arms import TREATED, owner_hash_sql, threshold
from refill_assets.outreach.plan import OutreachPolicy, candidates, plan_contacts
from refill_assets.storage.files import write_bytes_atomic
from refill_assets.storage.warehouse import replace_window

EXPORT_COLUMNS = (
    "campaign_id",
    "customer_id",
    "pet_id",
    "rx_id",
    "drug_name",
    "predicted_refill_date",
    "contact_on",
    "channel",
    "lapse_probability",
    "model_version",
)

ASSIGNMENT_TABLE = "monitoring.outreach_assignment"
ASSIGNMENT_COLUMNS = {
    "as_of_date": "DATE",  # the scoring day the contact was planned on
    "contact_on": "DATE",
    "customer_id": "VARCHAR",
    "pet_id": "VARCHAR",
    "rx_id": "VARCHAR",
    "campaign_id": "VARCHAR",
    "channel": "VARCHAR",
    "arm": "VARCHAR",  # treated: in the export; control: held out, never contacted
    "model_version": "VARCHAR",
}


def exported(planned: pl.DataFrame) -> pl.DataFrame:
    """The export file's rows of ``plan_contacts``' planned contacts: the treated arm's."""
    return planned.filter(pl.col("arm") == TREATED).select(EXPORT_COLUMNS)


def export_key(day: date) -> str:
    """The file's path under the export root (the contract's layout)."""
    return f"outreach/dt={day.isoformat()}/outreach_{day.strftime('%Y%m%d')}.csv"


def write_export(frame: pl.DataFrame, root: str, day: date, s3_client: Any | None = None) -> str:
    """Write the day's file whole or not at all; returns where. ``root``: a folder or
    s3://bucket/prefix (one PUT: S3 shows an object only once it is complete)."""
    body = frame.select(EXPORT_COLUMNS).write_csv().encode()
    key = export_key(day)
    if root.startswith("s3://"):
        bucket, _, prefix = root.removeprefix("s3://").partition("/")
        full_key = f"{prefix.rstrip('/')}/{key}" if prefix else key
        if s3_client is None:
            raise ValueError(f"export root {root} is on S3 but no S3 client was given")
        s3_client.put_object(Bucket=bucket, Key=full_key, Body=body, ContentType="text/csv")
        return f"s3://{bucket}/{full_key}"
    return str(write_bytes_atomic(body, Path(root) / key))


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)
_PHONE = re.compile(r"\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}")


def export_problems(
    frame: pl.DataFrame,
    con: duckdb.DuckDBPyConnection,
    policy: OutreachPolicy | None = None,
) -> list[str]:
    """What is wrong with an export, checked against the warehouse on its own (not through
    ``plan_contacts``): columns beyond the contract's, values that look like an email or
    phone, opted-out or unknown customers, pets not active, owners of the control arm, more
    than one contact an owner (``policy``: the one the contacts were planned with)."""
    policy = policy or OutreachPolicy()
    problems = []
    if tuple(frame.columns) != EXPORT_COLUMNS:
        problems.append(f"columns {frame.columns} are not the contract's {list(EXPORT_COLUMNS)}")
        return problems
    text = frame.select(pl.col(c).cast(pl.String) for c in frame.columns)
    for column in text.columns:
        values = text[column].drop_nulls()
        if values.str.contains(_EMAIL.pattern).any() or values.str.contains(_PHONE.pattern).any():
            problems.append(f"column {column} holds a value that looks like an email or phone")
    con.register("_export", frame.select("customer_id", "pet_id"))
    try:
        (opted_out,) = con.execute(
            """select count(distinct e.customer_id) from _export as e
            left join marts.customers as c using (customer_id)
            where not coalesce(c.marketing_opt_in, false)"""
        ).fetchone()
        (inactive,) = con.execute(
            """select count(distinct e.pet_id) from _export as e
            left join marts.pets as p using (pet_id)
            where not coalesce(p.is_in_scope and p.status = 'active', false)"""
        ).fetchone()
        (control,) = con.execute(
            f"""select count(distinct customer_id) from _export
            where {owner_hash_sql("customer_id", "$seed")} < $threshold""",
            {"seed": policy.arm_seed, "threshold": threshold(policy.control_share)},
        ).fetchone()
    finally:
        con.unregister("_export")
    if opted_out:
        problems.append(f"{opted_out} customers are not opted in to marketing (or unknown)")
    if inactive:
        problems.append(f"{inactive} pets are not active dogs or cats (or unknown)")
    if control:
        problems.append(f"{control} customers are in the control arm and must not be contacted")
    contacts = frame.select("customer_id", "campaign_id", "contact_on").unique()
    if contacts["customer_id"].n_unique() != contacts.height:
        problems.append("an owner gets more than one contact (campaign or day) in the file")
    return problems


@dataclass(frozen=True)
class ExportedWindow:
    contacts: pl.DataFrame  # every day's planned contacts, both arms, written or not
    problems: list[str]  # "<day>: <problem>"; from the first one on, nothing more is written
    written: list[str]  # where each day's file went


def export_window(
    con: duckdb.DuckDBPyConnection,
    policy: OutreachPolicy,
    start: date,
    end: date,
    root: str,
    s3_client: Any | None = None,
) -> ExportedWindow:
    """Plan, check and write the contacts of each scoring day from ``start`` to ``end``, and
    replace the window's rows of the assignment table with those of the days written."""
    written, problems, frames, recorded = [], [], [], []
    for day in (start + timedelta(days=i) for i in range((end - start).days + 1)):
        planned = plan_contacts(candidates(con, day, policy), day, policy)
        contacts = exported(planned)
        problems += [f"{day}: {p}" for p in export_problems(contacts, con, policy)]
        if not problems:
            written.append(write_export(contacts, root, day, s3_client))
            recorded.append(planned.with_columns(as_of_date=pl.lit(day)))
        frames.append(planned)
    assignment = pl.concat(recorded).select(list(ASSIGNMENT_COLUMNS)) if recorded else None
    replace_window(con, ASSIGNMENT_TABLE, ASSIGNMENT_COLUMNS, "as_of_date", start, end, assignment)
    return ExportedWindow(pl.concat(frames), problems, written)
