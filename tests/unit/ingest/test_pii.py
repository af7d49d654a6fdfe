"""pii.keyed_hash: HMAC-SHA256 computed in DuckDB, equal to Python's hmac."""

from __future__ import annotations

import hashlib
import hmac

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refill_assets.ingest.pii import keyed_hash


def _reference(key: bytes, values: list[str | None]) -> list[str | None]:
    return [
        None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values
    ]


@settings(max_examples=60, deadline=None)
@given(
    key=st.binary(min_size=1, max_size=64),
    values=st.lists(st.one_of(st.none(), st.text(max_size=80)), min_size=1, max_size=40),
)
def test_equals_python_hmac_for_any_text_and_key(key, values):
    got = keyed_hash(pl.Series("email", values, dtype=pl.String), key)
    assert got.name == "email"
    assert got.to_list() == _reference(key, values)


def test_known_values():
    values = ["alice@example.com", "", "ünïcödé 🐶", "6175550123", "x\x00y"]
    assert keyed_hash(pl.Series(values), b"k").to_list() == _reference(b"k", values)


def test_null_stays_null():
    got = keyed_hash(pl.Series("phone", [None, "1", None], dtype=pl.String), b"key")
    assert got.to_list()[0] is None and got.to_list()[2] is None
    assert got.to_list()[1] is not None


def test_different_keys_give_different_hashes():
    values = pl.Series(["alice@example.com", "bob@example.com"])
    a, b = keyed_hash(values, b"key-one"), keyed_hash(values, b"key-two")
    assert all(x != y for x, y in zip(a, b, strict=True))
    # and it is not the plain (unkeyed) digest either
    plain = [hashlib.sha256(v.encode()).hexdigest() for v in values]
    assert a.to_list() != plain


def test_same_value_same_hash_within_and_across_calls():
    got = keyed_hash(pl.Series(["a@x.org", "b@x.org", "a@x.org"]), b"key").to_list()
    assert got[0] == got[2] != got[1]
    assert keyed_hash(pl.Series(["a@x.org"]), b"key").to_list() == [got[0]]


def test_order_kept_for_a_large_batch():
    values = [f"customer{i}@example.com" for i in range(150_000)]
    got = keyed_hash(pl.Series(values), b"key")
    for i in (0, 1, 77_777, 122_880, 149_999):
        assert got[i] == _reference(b"key", [values[i]])[0]


def test_empty_key_refused():
    with pytest.raises(ValueError, match="empty"):
        keyed_hash(pl.Series(["a"]), b"")


def test_key_of_one_block_works_and_longer_refused():
    key = bytes(range(64))
    assert keyed_hash(pl.Series(["v"]), key).to_list() == _reference(key, ["v"])
    with pytest.raises(ValueError):
        keyed_hash(pl.Series(["v"]), bytes(65))
