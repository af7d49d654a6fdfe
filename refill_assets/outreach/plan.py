"""Who is reminded tomorrow, about what, and by which channel (the outreach plan).

For scoring day D the export lists the prescriptions whose ``contact_on`` (predicted refill
date minus the lead) is D + 1, as the contract's outreach file. The lead is
``OutreachPolicy.lead_days`` (7), or ``high_lapse_lead_days`` (14) for a prescription whose
lapse probability reaches ``high_lapse_probability``: owners likely to lapse hear from us
earlier. Only opted-in customers and active dogs and cats (status as currently known: an owner
who has opted out since is never contacted, not even by a backfilled day).

One contact per owner per day: all of an owner's rows share one ``channel`` and one
``campaign_id`` (``refill-<contact day>-<channel>``), so the CRM sends one message per
(campaign, customer) naming every prescription in it, and an engagement event (it carries the
customer and the campaign) matches that message.

Channel: email, unless the owner ignores email (``ignored_after_emails`` emails sent in the
last ``engagement_window_days`` without an open or click, or one bounced in that window) or
cannot get it (no address, or unsubscribed); then SMS where the owner has a phone and has not
unsubscribed from SMS. An owner reachable by neither is left out.

Arm: a seeded share of owners (``control_share``, 10 %) is the pilot's control group
(``outreach.arms``): their planned contacts are recorded with ``arm = control`` and never
exported, so the monitoring compares outcomes by arm.

What leaves, and the checks it passes first: ``outreach.export``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from refill_assets.outreach.arms import arm, owner_hash_sql


@dataclass(frozen=True)
class OutreachPolicy:
    lead_days: int = 7
    high_lapse_probability: float = 0.5
    high_lapse_lead_days: int = 14
    ignored_after_emails: int = 3
    engagement_window_days: int = 90
    control_share: float = 0.10  # owners held out of every contact (the pilot's control)
    arm_seed: str = "refill-pilot-1"  # a new seed draws a new control group


CANDIDATES_SQL = """
with engagement as (
    select customer_id,
        sum(email_sent) filter (event_date > $window_start) as email_sent,
        sum(email_open + email_click) filter (event_date > $window_start) as email_engaged,
        sum(email_bounce) filter (event_date > $window_start) as email_bounced,
        sum(email_unsubscribe) > 0 as email_unsubscribed,
        sum(sms_unsubscribe) > 0 as sms_unsubscribed
    from marts.engagement_daily
    where event_date <= $day
    group by customer_id
),

drug as (
    -- the drug of the fill the scores were made from
    select rx_id, fill_date, drug_name
    from marts.fills
    qualify row_number() over (partition by rx_id, fill_date order by order_ts desc) = 1
)

select
    s.customer_id, s.pet_id, s.rx_id, d.drug_name, s.predicted_refill_date,
    s.lapse_probability, s.model_version,
    {owner_hash} as owner_hash,
    coalesce(c.marketing_opt_in, false) as opted_in,
    coalesce(p.is_in_scope and p.status = 'active', false) as pet_active,
    c.email_hash is not null and not coalesce(e.email_unsubscribed, false) as email_ok,
    c.phone_hash is not null and not coalesce(e.sms_unsubscribed, false) as sms_ok,
    coalesce(e.email_sent, 0) as email_sent,
    coalesce(e.email_engaged, 0) as email_engaged,
    coalesce(e.email_bounced, 0) as email_bounced
from scores.rx_refill_scores as s
left join marts.customers as c on c.customer_id = s.customer_id
left join marts.pets as p on p.pet_id = s.pet_id
left join engagement as e on e.customer_id = s.customer_id
left join drug as d on d.rx_id = s.rx_id and d.fill_date = s.last_fill_date
where s.as_of_date = $day
""".format(owner_hash=owner_hash_sql("s.customer_id", "$arm_seed"))


def candidates(
    con: duckdb.DuckDBPyConnection, day: date, policy: OutreachPolicy = OutreachPolicy()
) -> pl.DataFrame:
    """The day's scores with what ``plan_contacts`` decides on (one row per prescription)."""
    window_start = day - timedelta(days=policy.engagement_window_days)
    params = {"day": day, "window_start": window_start, "arm_seed": policy.arm_seed}
    return con.execute(CANDIDATES_SQL, params).pl()


def plan_contacts(
    rows: pl.DataFrame, day: date, policy: OutreachPolicy = OutreachPolicy()
) -> pl.DataFrame:
    """The planned contacts of ``day`` + 1 from ``candidates`` of ``day``: the export's
    columns, then ``arm`` (only the treated rows are exported: ``export.exported``)."""
    contact_day = day + timedelta(days=1)
    lead = (
        pl.when(pl.col("lapse_probability") >= policy.high_lapse_probability)
        .then(policy.high_lapse_lead_days)
        .otherwise(policy.lead_days)
    )
    ignores_email = (
        (pl.col("email_sent") >= policy.ignored_after_emails) & (pl.col("email_engaged") == 0)
    ) | (pl.col("email_bounced") > 0)
    # every input is the owner's, so all their rows get one channel: one message per owner
    email_ok, sms_ok = pl.col("email_ok"), pl.col("sms_ok")
    channel = (
        pl.when(sms_ok & (ignores_email | ~email_ok))
        .then(pl.lit("sms"))
        .when(email_ok)
        .then(pl.lit("email"))
    )
    planned = (
        rows.with_columns(contact_on=pl.col("predicted_refill_date") - pl.duration(days=lead))
        .filter((pl.col("contact_on") == contact_day) & pl.col("opted_in") & pl.col("pet_active"))
        .with_columns(channel=channel)
        .filter(pl.col("channel").is_not_null())
    )
    return planned.select(
        campaign_id=pl.format("refill-{}-{}", pl.lit(contact_day.strftime("%Y%m%d")), "channel"),
        customer_id="customer_id",
        pet_id="pet_id",
        rx_id="rx_id",
        drug_name="drug_name",
        predicted_refill_date="predicted_refill_date",
        contact_on="contact_on",
        channel="channel",
        lapse_probability=pl.col("lapse_probability").round(4),
        model_version=pl.col("model_version").cast(pl.String),
        arm=arm(pl.col("owner_hash"), policy.control_share),
    ).sort("customer_id", "predicted_refill_date", "rx_id")
