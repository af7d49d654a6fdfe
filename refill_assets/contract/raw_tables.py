"""Tables of the raw zone: what ingestion writes and dbt's sources read.

Each accepted row of an extract lands, normalised, in ``raw.<extract>`` with
its lineage (``_dt`` delivery day, ``_file``, ``_line``). Owner PII is hashed
or dropped before it gets here. Column types are DuckDB types.
"""

from __future__ import annotations

LINEAGE = {"_dt": "DATE", "_file": "VARCHAR", "_line": "INTEGER"}

RAW_TABLES: dict[str, dict[str, str]] = {
    "rx_orders": {
        "order_id": "VARCHAR",
        "rx_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "pet_id": "VARCHAR",
        "clinic_id": "VARCHAR",
        "ndc": "VARCHAR",  # left-padded to 11 digits
        "drug_name": "VARCHAR",
        "drug_class": "VARCHAR",
        "is_maintenance": "BOOLEAN",  # as sent; null derived downstream
        "sig": "VARCHAR",
        "sig_units_per_day": "DOUBLE",  # parsed from sig; null when unparseable
        "qty_prescribed": "DOUBLE",
        "qty_dispensed": "DOUBLE",
        "days_supply": "INTEGER",  # as sent; null derived downstream
        "refills_authorized": "INTEGER",
        "refills_remaining": "INTEGER",
        "channel": "VARCHAR",  # mail | clinic | ecommerce
        "autoship": "BOOLEAN",
        "status": "VARCHAR",
        "order_ts": "TIMESTAMP",  # UTC
        "fill_date": "DATE",  # local calendar date of order_ts
        "updated_at": "TIMESTAMP",  # UTC
    },
    "vet_reauth": {
        "reauth_id": "VARCHAR",
        "rx_id": "VARCHAR",
        "clinic_id": "VARCHAR",
        "requested_at": "TIMESTAMP",
        "responded_at": "TIMESTAMP",
        "status": "VARCHAR",
        "refills_granted": "INTEGER",
        "expires_on": "DATE",
        "updated_at": "TIMESTAMP",
    },
    "customers": {
        "customer_id": "VARCHAR",
        "email_hash": "VARCHAR",  # keyed HMAC-SHA256, hex
        "phone_hash": "VARCHAR",  # keyed HMAC-SHA256 of the digits, hex
        "zip3": "VARCHAR",
        "state": "VARCHAR",
        "marketing_opt_in": "BOOLEAN",
        "created_at": "TIMESTAMP",
        "updated_at": "TIMESTAMP",
    },
    "pets": {
        "pet_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "species": "VARCHAR",  # dog | cat | other
        "species_raw": "VARCHAR",
        "breed": "VARCHAR",
        "birth_date": "DATE",
        "weight_kg": "DOUBLE",
        "status": "VARCHAR",
        "updated_at": "TIMESTAMP",
    },
    "shipments": {
        "shipment_id": "VARCHAR",
        "order_id": "VARCHAR",
        "warehouse_id": "VARCHAR",
        "carrier": "VARCHAR",
        "promised_ship_date": "DATE",
        "shipped_at": "TIMESTAMP",
        "delivered_at": "TIMESTAMP",
        "status": "VARCHAR",
        "event_ts": "TIMESTAMP",
    },
    "inventory": {
        "snapshot_date": "DATE",
        "warehouse_id": "VARCHAR",
        "ndc": "VARCHAR",
        "on_hand_units": "BIGINT",
        "backordered": "BOOLEAN",
        "expected_restock_date": "DATE",
    },
    "engagement": {
        "event_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "channel": "VARCHAR",
        "event_type": "VARCHAR",
        "campaign_id": "VARCHAR",
        "event_ts": "TIMESTAMP",
    },
}

# Bookkeeping tables of the warehouse, written with each partition.
QUARANTINE_TABLE = {
    "extract": "VARCHAR",
    "_dt": "DATE",
    "_file": "VARCHAR",
    "_line": "INTEGER",
    "column_name": "VARCHAR",  # the column that broke a rule; null for a malformed line
    "reason": "VARCHAR",
    "record": "VARCHAR",  # the row as JSON, PII columns removed
}
FILES_TABLE = {
    "extract": "VARCHAR",
    "_dt": "DATE",
    "_file": "VARCHAR",
    "content_hash": "VARCHAR",
    "status": "VARCHAR",  # loaded | duplicate | rejected
    "rows_loaded": "BIGINT",
    "rows_quarantined": "BIGINT",
    "reason": "VARCHAR",
}
# The reconciliation of the landing zone (``ingest.reconcile``): every file under the landing
# root as the latest ingestion of its extract saw it. Each ingestion asset replaces its
# extract's rows and those of files outside any extract.
LANDING_FILES_TABLE = {
    "extract": "VARCHAR",  # the top folder (an extract, or an unknown name); null at the root
    "_dt": "DATE",  # delivery day; null for a file the platform cannot place
    "_file": "VARCHAR",  # path under the landing root (for a delivery, raw.files' _file)
    "status": "VARCHAR",  # loaded | duplicate | rejected | skipped
    "reason": "VARCHAR",  # skipped: a code of ingest.reconcile.SKIP_REASONS; else raw.files'
    "accounted": "BOOLEAN",  # false: neither loaded nor accounted for (the check fails)
}
SCHEMA_DRIFT_TABLE = {
    "extract": "VARCHAR",
    "_dt": "DATE",
    "_file": "VARCHAR",
    "column_name": "VARCHAR",
}


def table_columns(extract: str) -> dict[str, str]:
    """All columns of ``raw.<extract>``: the normalised fields, then lineage."""
    return {**RAW_TABLES[extract], **LINEAGE}


def create_table_sql(qualified_name: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f'"{name}" {dtype}' for name, dtype in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {qualified_name} ({cols})"
