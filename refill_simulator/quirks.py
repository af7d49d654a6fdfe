"""Row-level bad data: what real source extracts do to a clean world.

Every quirk of the contract's "Bad data" section that lives inside rows is
made here, at the rates below and the ``Process``'s (shares of an extract's
rows; the family of worlds varies the latter). Rare quirks
that ingestion tests look for are guaranteed at least once: malformed rows
cycle through every kind of their extract, and there is exactly one orphan
order. File-level quirks (late rows, outages, several or duplicated files,
column order, schema drift, a file missing a column, a truncated Parquet
file) live in ``delivery``.

Malformed rows are *extra*, corrupted copies of real rows: ingestion must
quarantine them, and loses nothing of the world by doing so.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from refill_assets.contract.extracts import EXTRACTS
from refill_simulator.formats import event_day, utc_text
from refill_simulator.names import CHANNEL_VARIANTS, SPECIES_VARIANTS
from refill_simulator.process import Process
from refill_simulator.timeline import Timeline

# Process: ndc_lost_zeros_rate, null_days_supply_rate, channel_variant_rate,
# resend_newer_rate, malformed_rate
ZIP_LOST_ZEROS_RATE = 0.3  # customers rows whose zip5 (starting with 0) lost them
NULL_IS_MAINTENANCE_RATE = 0.02
SPECIES_VARIANT_RATE = 0.3
BOOL_VARIANT_RATE = 0.05  # Y / N / TRUE / False instead of true / false
NULL_WEIGHT_UNIT_RATE = 0.08  # of lb rows: null means lb

BOOL_VARIANTS = {"true": ("Y", "TRUE", "True", "y"), "false": ("N", "FALSE", "False", "n")}
PMS_EXTRACTS = ("rx_orders", "vet_reauth", "customers", "pets")

# the column each kind of malformed row breaks, per extract
MALFORMED_TARGETS: dict[str, dict[str, str]] = {
    "rx_orders": {
        "bad_timestamp": "order_ts",
        "non_numeric_quantity": "qty_dispensed",
        "negative_quantity": "qty_dispensed",
        "unknown_status": "status",
        "empty_required": "pet_id",
        "extra_field": "",
    },
    "vet_reauth": {
        "bad_timestamp": "requested_at",
        "negative_quantity": "refills_granted",
        "unknown_status": "status",
        "empty_required": "rx_id",
        "extra_field": "",
    },
    "customers": {
        "bad_timestamp": "created_at",
        "empty_required": "customer_id",
        "extra_field": "",
    },
    "pets": {
        "bad_timestamp": "updated_at",
        "unknown_status": "status",
        "empty_required": "species",
        "extra_field": "",
    },
    "shipments": {
        "bad_timestamp": "event_ts",
        "unknown_status": "status",
        "empty_required": "order_id",
        "invalid_json": "",
    },
    "engagement": {
        "bad_timestamp": "event_ts",
        "unknown_status": "event_type",
        "empty_required": "customer_id",
        "invalid_json": "",
    },
}
BAD_VALUES = {
    "bad_timestamp": ("2025-02-30T10:00:00-05:00", "yesterday", "14/03/2025 09:12"),
    "non_numeric_quantity": ("thirty", "12 tabs", "N/A"),
    "unknown_status": ("on_hold", "in_transit", "forwarded"),
}
ORPHAN_DAY_FRACTION = 0.35
ORPHAN_IDS = {"order_id": "ORD999999999", "rx_id": "RX99999999", "pet_id": "P9999999"}


def _pick(rng: np.random.Generator, n: int, rate: float) -> pl.Series:
    return pl.Series(rng.random(n) < rate)


def _variant(column: str, mapping: dict[str, tuple[str, ...]], chosen: pl.Series, r: pl.Series):
    expr = pl.col(column)
    for canonical, variants in mapping.items():
        spelled = pl.lit(pl.Series(variants)).gather(r % len(variants))
        expr = pl.when(chosen & (pl.col(column) == canonical)).then(spelled).otherwise(expr)
    return expr


def _nullify(column: str, chosen: pl.Series) -> pl.Expr:
    return pl.when(chosen).then(pl.lit(None, pl.String)).otherwise(pl.col(column))


def value_quirks(
    name: str, rows: pl.DataFrame, p: Process, rng: np.random.Generator
) -> pl.DataFrame:
    """Spelling variants, lost leading zeros, nulls to derive: values that stay valid."""
    n = len(rows)
    r = pl.Series(rng.integers(0, 1 << 30, n))
    if name == "rx_orders":
        rows = rows.with_columns(
            ndc=pl.when(_pick(rng, n, p.ndc_lost_zeros_rate))
            .then(pl.col("ndc").str.strip_chars_start("0"))
            .otherwise(pl.col("ndc")),
            days_supply=_nullify("days_supply", _pick(rng, n, p.null_days_supply_rate)),
            is_maintenance=_variant(
                "is_maintenance", BOOL_VARIANTS, _pick(rng, n, BOOL_VARIANT_RATE), r
            ),
            channel=_variant("channel", CHANNEL_VARIANTS, _pick(rng, n, p.channel_variant_rate), r),
            autoship=_variant("autoship", BOOL_VARIANTS, _pick(rng, n, BOOL_VARIANT_RATE), r),
        )
        return rows.with_columns(
            is_maintenance=_nullify("is_maintenance", _pick(rng, n, NULL_IS_MAINTENANCE_RATE))
        )
    if name == "customers":
        return rows.with_columns(
            zip5=pl.when(_pick(rng, n, ZIP_LOST_ZEROS_RATE))
            .then(pl.col("zip5").str.strip_chars_start("0"))
            .otherwise(pl.col("zip5")),
            marketing_opt_in=_variant(
                "marketing_opt_in", BOOL_VARIANTS, _pick(rng, n, BOOL_VARIANT_RATE), r
            ),
        )
    if name == "pets":
        unit_dropped = _pick(rng, n, NULL_WEIGHT_UNIT_RATE) & (rows["weight_unit"] == "lb")
        return rows.with_columns(
            species=_variant("species", SPECIES_VARIANTS, _pick(rng, n, SPECIES_VARIANT_RATE), r),
            weight_unit=_nullify("weight_unit", unit_dropped),
        )
    return rows


def resend_newer(name: str, rows: pl.DataFrame, tl: Timeline, p: Process, rng) -> pl.DataFrame:
    """PMS rows re-sent unchanged but with a newer ``updated_at``.

    Only the latest version of a key is re-sent, so the truth stays the truth.
    """
    if name not in PMS_EXTRACTS:
        return rows
    key = list(EXTRACTS[name].key)
    latest = rows.filter(pl.col("_ts") == pl.col("_ts").max().over(key))
    chosen = latest.filter(_pick(rng, len(latest), p.resend_newer_rate))
    later = pl.Series(rng.integers(3600, 3 * 86_400, len(chosen)))
    copies = chosen.with_columns(_ts=pl.col("_ts") + later).with_columns(
        updated_at=utc_text(pl.col("_ts"), tl), _day=event_day(pl.col("_ts"), tl)
    )
    last_day = tl.n_days - 1
    return pl.concat([rows, copies.filter(pl.col("_day") <= last_day)])


def malformed_copies(name: str, rows: pl.DataFrame, p: Process, rng) -> pl.DataFrame:
    """Corrupted copies of real rows, every kind of the extract at least once.

    ``_raw`` names the kinds that only exist as text (a CSV line with one
    field too many, a JSON line cut short); the writer makes them.
    """
    targets = MALFORMED_TARGETS[name]
    kinds = list(targets)
    n_bad = max(len(kinds), round(p.malformed_rate * len(rows)))
    if len(rows) == 0:
        return rows.with_columns(_raw=pl.lit(None, pl.String))
    picked = rows[np.sort(rng.choice(len(rows), min(n_bad, len(rows)), replace=False))]
    kind = pl.Series([kinds[i % len(kinds)] for i in range(len(picked))])
    choice = pl.Series(rng.integers(0, 3, len(picked)))
    updates = {}
    for k, column in targets.items():
        if not column:
            continue
        is_k = kind == k
        if k == "empty_required":
            value = pl.lit(None, pl.String)
        elif k == "negative_quantity":
            value = pl.lit("-") + pl.col(column).fill_null("1")
        else:
            value = pl.lit(pl.Series(BAD_VALUES[k])).gather(choice)
        updates[column] = pl.when(is_k).then(value).otherwise(updates.get(column, pl.col(column)))
    raw_kinds = {"extra_field", "invalid_json"}
    return picked.with_columns(
        **updates, _raw=pl.when(kind.is_in(list(raw_kinds))).then(pl.lit(kind))
    )


def with_malformed(name: str, rows: pl.DataFrame, p: Process, rng) -> pl.DataFrame:
    bad = malformed_copies(name, rows, p, rng)
    rows = rows.with_columns(_raw=pl.lit(None, pl.String))
    return pl.concat([rows, bad])


def orphan_order(rows: pl.DataFrame, tl: Timeline) -> pl.DataFrame:
    """One order (all its versions) whose pet is never delivered in pets."""
    day = int(tl.n_days * ORPHAN_DAY_FRACTION)
    candidates = rows.filter(pl.col("_day") >= day, pl.col("status") == "filled")
    if candidates.is_empty():
        return rows
    order_id = candidates["order_id"][0]
    orphan = rows.filter(pl.col("order_id") == order_id).with_columns(
        **{column: pl.lit(value) for column, value in ORPHAN_IDS.items()}
    )
    return pl.concat([rows, orphan])
