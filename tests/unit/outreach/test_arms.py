"""The control arm: a seeded, stable share of owners, the same in every engine."""

import hashlib

import duckdb
import polars as pl
import pytest

from refill_assets.outreach.arms import CONTROL, arm, owner_hash_sql, threshold

OWNERS = [f"C{i:06d}" for i in range(20_000)]


def _arms(seed: str, share: float, owners=OWNERS) -> pl.Series:
    with duckdb.connect() as con:
        hashed = con.execute(
            f"select {owner_hash_sql('customer_id', '$seed')} as h"
            " from unnest($ids) as t(customer_id)",
            {"seed": seed, "ids": owners},
        ).pl()
    return hashed.select(arm=arm(pl.col("h"), share))["arm"]


def test_the_sql_hash_is_plain_md5():
    with duckdb.connect() as con:
        (digits,) = con.execute(
            f"select {owner_hash_sql('$c', '$seed')}", {"c": "C1", "seed": "s"}
        ).fetchone()
    assert digits == hashlib.md5(b"s:C1").hexdigest()[:8]


def test_the_control_share_is_drawn_and_stable():
    arms = _arms("pilot-1", 0.10)
    share = (arms == CONTROL).mean()
    assert 0.09 < share < 0.11  # 20,000 owners: sd of the share 0.002
    # the same owner gets the same arm whoever else is scored that night
    assert _arms("pilot-1", 0.10, OWNERS[::7]).to_list() == arms[::7].to_list()
    other = _arms("pilot-2", 0.10)
    assert (other != arms).sum() > 1_000  # a new seed draws a new group
    # a larger share keeps every control owner of the smaller one (nested by the threshold)
    wider = _arms("pilot-1", 0.30)
    assert ((arms == CONTROL) & (wider != CONTROL)).sum() == 0


def test_no_control_share_means_everyone_is_treated_and_bad_shares_are_refused():
    assert (_arms("pilot-1", 0.0) != CONTROL).all()
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="control_share"):
            threshold(bad)
