"""The pilot's control arm: a seeded random share of owners who are never contacted.

Without a control group no uplift can be measured; the design copied is the Walgreens
late-refill trial (Taitel et al. 2017): randomised at the patient (here the owner, so all of
an owner's prescriptions share one arm and one message per owner still holds), outcomes
compared by arm.

The arm is a pure function of the seed and the customer id: the md5 of
``"<seed>:<customer_id>"``, its first 8 hex digits read as a number in [0, 16^8); the owner
is in the control arm when that number is below ``control_share`` x 16^8. So it is stable
across nights, re-runs and machines, and does not depend on who else is scored that night
(an owner first seen a year in gets the arm they would always have had). md5 rather than
the engine's ``hash()``: DuckDB's and polars' hashes may change between versions, md5 does
not, and Trino and Spark have it too. Comparing the 8 lowercase hex digits as strings is
comparing the numbers (same width, same alphabet order).
"""

from __future__ import annotations

import polars as pl

TREATED, CONTROL = "treated", "control"
HASH_DIGITS = 8


def owner_hash_sql(customer_column: str, seed_param: str) -> str:
    """SQL for the owner's hash digits (``seed_param``: a bound parameter, e.g. ``$seed``)."""
    return f"left(md5({seed_param} || ':' || {customer_column}), {HASH_DIGITS})"


def threshold(control_share: float) -> str:
    """The hash digits below which an owner is in the control arm."""
    if not 0.0 <= control_share < 1.0:
        raise ValueError(f"control_share must be in [0, 1), got {control_share}")
    return format(round(control_share * 16**HASH_DIGITS), f"0{HASH_DIGITS}x")


def arm(owner_hash: pl.Expr, control_share: float) -> pl.Expr:
    """``treated`` or ``control`` from the owner's hash digits (``owner_hash_sql``)."""
    return (
        pl.when(owner_hash < threshold(control_share))
        .then(pl.lit(CONTROL))
        .otherwise(pl.lit(TREATED))
    )
