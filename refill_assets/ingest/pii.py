"""Keyed hashing of owner PII (HMAC-SHA256), computed set-based in DuckDB.

The key comes from ``REFILL_PII_KEY`` (read in the Dagster resources layer).
A keyed hash keeps a value joinable (same email → same token) without
letting anyone who lacks the key confirm a guess by hashing it themselves.
"""

from __future__ import annotations

import duckdb
import polars as pl

_BLOCK = 64  # SHA-256 block size in bytes


def keyed_hash(values: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA256(key, value) as lower-case hex; null stays null.

    Equal to ``hmac.new(key, value.encode(), hashlib.sha256).hexdigest()``.
    """
    if not key:
        raise ValueError("an empty PII key would make the hash unkeyed")
    k = key.ljust(_BLOCK, b"\0") if len(key) <= _BLOCK else None
    if k is None:
        raise ValueError(f"PII key longer than {_BLOCK} bytes")
    inner, outer = bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)
    con = duckdb.connect()
    try:
        con.register("frame", pl.DataFrame({"v": values.cast(pl.String)}))
        out = con.execute(
            "SELECT sha256($outer || unhex(sha256($inner || encode(v)))) AS h FROM frame",
            {"outer": outer, "inner": inner},
        ).pl()
    finally:
        con.close()
    return out["h"].alias(values.name)
