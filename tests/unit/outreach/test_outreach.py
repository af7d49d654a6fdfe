"""The outreach export: who is contacted tomorrow, by which channel, and how the file is written."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from refill_assets.outreach.export import (
    EXPORT_COLUMNS,
    export_key,
    export_problems,
    exported,
    write_export,
)
from refill_assets.outreach.plan import OutreachPolicy, plan_contacts

DAY = date(2026, 1, 10)
TOMORROW = DAY + timedelta(days=1)


def _candidate(customer: str, rx: str, refill_in: int, lapse: float = 0.1, **over) -> dict:
    row = {
        "customer_id": customer,
        "pet_id": f"P-{customer}",
        "rx_id": rx,
        "drug_name": "Drug 10 mg",
        "predicted_refill_date": DAY + timedelta(days=refill_in),
        "lapse_probability": lapse,
        "model_version": "3",
        "opted_in": True,
        "pet_active": True,
        "email_ok": True,
        "sms_ok": True,
        "email_sent": 4,
        "email_engaged": 2,
        "email_bounced": 0,
        "owner_hash": "ffffffff",  # above every threshold: treated (outreach.arms)
    }
    return row | over


CANDIDATES = pl.DataFrame(
    [
        _candidate("A", "rx1", 8),  # refill in 8 days: contact 7 days before, tomorrow
        _candidate("A", "rx2", 15, lapse=0.7),  # likely to lapse: 14 days before, tomorrow
        _candidate("A", "rx3", 9),  # contact the day after tomorrow
        _candidate("B", "rx4", 8, opted_in=False),
        _candidate("C", "rx5", 8, pet_active=False),
        _candidate("D", "rx6", 8, email_sent=5, email_engaged=0),  # ignores email
        _candidate("E", "rx7", 8, email_ok=False, sms_ok=False),  # reachable by neither
        _candidate("F", "rx8", 8, email_ok=False),  # no email address: SMS
        _candidate("G", "rx9", 8, email_sent=5, email_engaged=0, sms_ok=False),  # email only
        _candidate("H", "rx10", 8, owner_hash="00000000"),  # the control arm: planned, held out
    ]
)


def test_contacts_of_tomorrow_only_for_opted_in_owners_of_active_pets():
    planned = plan_contacts(CANDIDATES, DAY)
    assert tuple(planned.columns) == (*EXPORT_COLUMNS, "arm")
    assert planned.filter(pl.col("arm") == "control")["rx_id"].to_list() == ["rx10"]
    out = exported(planned)
    assert tuple(out.columns) == EXPORT_COLUMNS
    assert out["rx_id"].to_list() == ["rx1", "rx2", "rx6", "rx8", "rx9"]
    assert (out["contact_on"] == TOMORROW).all()
    assert out.filter(pl.col("rx_id") == "rx2")["predicted_refill_date"].item() == DAY + timedelta(
        days=15
    )


def test_channel_follows_engagement_and_one_contact_per_owner():
    out = exported(plan_contacts(CANDIDATES, DAY))
    channel = dict(zip(out["rx_id"], out["channel"], strict=True))
    assert channel == {"rx1": "email", "rx2": "email", "rx6": "sms", "rx8": "sms", "rx9": "email"}
    owner_a = out.filter(pl.col("customer_id") == "A")
    assert owner_a["campaign_id"].n_unique() == 1
    assert owner_a["campaign_id"][0] == "refill-20260111-email"
    assert out.select("customer_id", "campaign_id").unique().height == out["customer_id"].n_unique()


def test_lead_days_are_configurable():
    policy = OutreachPolicy(lead_days=8, high_lapse_lead_days=8)
    out = plan_contacts(CANDIDATES, DAY, policy)
    assert out["rx_id"].to_list() == ["rx3"]  # the only refill 8 + 1 days out
    assert plan_contacts(CANDIDATES.clear(), DAY).height == 0


def test_local_file_is_replaced_whole_and_other_days_are_left_alone(tmp_path):
    out = plan_contacts(CANDIDATES, DAY)
    first = write_export(out, str(tmp_path), DAY)
    other = write_export(out.head(1), str(tmp_path), DAY + timedelta(days=1))
    assert first == str(tmp_path / export_key(DAY))
    assert first.endswith(f"outreach/dt={DAY}/outreach_20260110.csv")
    again = write_export(out.head(2), str(tmp_path), DAY)
    assert again == first
    assert pl.read_csv(first).height == 2
    assert pl.read_csv(other).height == 1
    assert pl.read_csv(first).columns == list(EXPORT_COLUMNS)
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]


def test_s3_export_is_the_same_file(s3, tmp_path):
    out = plan_contacts(CANDIDATES, DAY)
    s3.create_bucket(Bucket="crm")
    where = write_export(out, "s3://crm/exports/refill", DAY, s3)
    assert where == f"s3://crm/exports/refill/{export_key(DAY)}"
    body = s3.get_object(Bucket="crm", Key=f"exports/refill/{export_key(DAY)}")["Body"].read()
    local = write_export(out, str(tmp_path), DAY)
    assert body == (tmp_path / export_key(DAY)).read_bytes() and local
    with pytest.raises(ValueError, match="no S3 client"):
        write_export(out, "s3://crm/exports", DAY)


@pytest.fixture
def con():
    with duckdb.connect() as c:
        c.execute("create schema marts")
        c.execute(
            "create table marts.customers as select * from (values"
            " ('A', true), ('D', true), ('F', true), ('G', true), ('B', false))"
            " as t(customer_id, marketing_opt_in)"
        )
        c.execute(
            "create table marts.pets as select * from (values"
            " ('P-A', true, 'active'), ('P-D', true, 'active'), ('P-F', true, 'active'),"
            " ('P-G', true, 'active'), ('P-B', true, 'deceased'))"
            " as t(pet_id, is_in_scope, status)"
        )
        yield c


def test_a_clean_export_has_no_problems(con):
    assert export_problems(exported(plan_contacts(CANDIDATES, DAY)), con) == []


def test_problems_are_named(con):
    out = exported(plan_contacts(CANDIDATES, DAY))
    stray = out.head(1).with_columns(customer_id=pl.lit("B"), pet_id=pl.lit("P-B"))
    problems = export_problems(pl.concat([out, stray]), con)
    assert any("1 customers are not opted in" in p for p in problems)
    assert any("1 pets are not active" in p for p in problems)
    leaked = out.with_columns(drug_name=pl.lit("ann.lee42@example.com"))
    assert any("drug_name" in p and "email" in p for p in export_problems(leaked, con))
    phone = out.with_columns(drug_name=pl.lit("(555) 201-3344"))
    assert export_problems(phone, con)
    extra = out.with_columns(email_hash=pl.lit("x"))
    assert "not the contract's" in export_problems(extra, con)[0]
    twice = pl.concat([out, out.head(1).with_columns(campaign_id=pl.lit("refill-x-sms"))])
    assert any("more than one contact" in p for p in export_problems(twice, con))
    # with a seed that puts owner A in the control arm, the file must not contact A
    held_out = OutreachPolicy(arm_seed="seed-with-A-in-control", control_share=0.999)
    assert any(
        "1 customers are in the control arm" in p
        for p in export_problems(out.filter(pl.col("customer_id") == "A"), con, held_out)
    )
