"""The landing-zone contract (``../shared/contracts/raw-extracts.md``) as data.

Every producer (the simulator, a client's export job, a test fixture) writes
this; ingestion reads exactly this. One ``Extract`` per source extract: its
file format, its columns with contract types and whether they are required,
the key that identifies a row and the column whose latest value wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from refill_assets.contract.rules import DRUG_CLASSES

# Contract types: str, int, dec, bool, date, ts
STR, INT, DEC, BOOL, DATE, TS = "str", "int", "dec", "bool", "date", "ts"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    # accepted values after normalisation (lower-cased, canonical); None = any
    allowed: tuple[str, ...] | None = None
    # a number that must not be negative
    non_negative: bool = False


@dataclass(frozen=True)
class Extract:
    name: str
    format: str  # csv | jsonl | parquet
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # the column whose latest value wins among rows sharing ``key``
    version_column: str

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


CHANNELS = ("mail", "clinic", "ecommerce")
ORDER_STATUSES = ("filled", "partial", "canceled", "pending")
REAUTH_STATUSES = ("pending", "approved", "denied", "expired")
PET_STATUSES = ("active", "deceased", "transferred")
SHIPMENT_STATUSES = ("created", "backordered", "shipped", "delivered", "returned", "lost")
ENGAGEMENT_CHANNELS = ("email", "sms")
ENGAGEMENT_EVENTS = ("sent", "delivered", "open", "click", "unsubscribe", "bounce")
WEIGHT_UNITS = ("lb", "kg")

RX_ORDERS = Extract(
    name="rx_orders",
    format="csv",
    columns=(
        Column("order_id", STR, required=True),
        Column("rx_id", STR, required=True),
        Column("customer_id", STR, required=True),
        Column("pet_id", STR, required=True),
        Column("clinic_id", STR),
        Column("ndc", STR, required=True),
        Column("drug_name", STR, required=True),
        Column("drug_class", STR, required=True, allowed=DRUG_CLASSES),
        Column("is_maintenance", BOOL),
        Column("sig", STR),
        Column("qty_prescribed", DEC, non_negative=True),
        Column("qty_dispensed", DEC, required=True, non_negative=True),
        Column("days_supply", INT, non_negative=True),
        Column("refills_authorized", INT, non_negative=True),
        Column("refills_remaining", INT, non_negative=True),
        Column("channel", STR, required=True, allowed=CHANNELS),
        Column("autoship", BOOL),
        Column("status", STR, required=True, allowed=ORDER_STATUSES),
        Column("order_ts", TS, required=True),
        Column("updated_at", TS, required=True),
    ),
    key=("order_id",),
    version_column="updated_at",
)

VET_REAUTH = Extract(
    name="vet_reauth",
    format="csv",
    columns=(
        Column("reauth_id", STR, required=True),
        Column("rx_id", STR, required=True),
        Column("clinic_id", STR),
        Column("requested_at", TS, required=True),
        Column("responded_at", TS),
        Column("status", STR, required=True, allowed=REAUTH_STATUSES),
        Column("refills_granted", INT, non_negative=True),
        Column("expires_on", DATE),
        Column("updated_at", TS, required=True),
    ),
    key=("reauth_id",),
    version_column="updated_at",
)

CUSTOMERS = Extract(
    name="customers",
    format="csv",
    columns=(
        Column("customer_id", STR, required=True),
        Column("first_name", STR),
        Column("last_name", STR),
        Column("email", STR),
        Column("phone", STR),
        Column("address_line1", STR),
        Column("zip5", STR),
        Column("state", STR),
        Column("marketing_opt_in", BOOL),
        Column("created_at", TS, required=True),
        Column("updated_at", TS, required=True),
    ),
    key=("customer_id",),
    version_column="updated_at",
)

PETS = Extract(
    name="pets",
    format="csv",
    columns=(
        Column("pet_id", STR, required=True),
        Column("customer_id", STR, required=True),
        Column("name", STR),
        Column("species", STR, required=True),
        Column("breed", STR),
        Column("birth_date", DATE),
        Column("weight", DEC, non_negative=True),
        Column("weight_unit", STR, allowed=WEIGHT_UNITS),
        Column("status", STR, required=True, allowed=PET_STATUSES),
        Column("updated_at", TS, required=True),
    ),
    key=("pet_id",),
    version_column="updated_at",
)

SHIPMENTS = Extract(
    name="shipments",
    format="jsonl",
    columns=(
        Column("shipment_id", STR, required=True),
        Column("order_id", STR, required=True),
        Column("warehouse_id", STR, required=True),
        Column("carrier", STR),
        Column("promised_ship_date", DATE),
        Column("shipped_at", TS),
        Column("delivered_at", TS),
        Column("status", STR, required=True, allowed=SHIPMENT_STATUSES),
        Column("event_ts", TS, required=True),
    ),
    key=("shipment_id",),
    version_column="event_ts",
)

INVENTORY = Extract(
    name="inventory",
    format="parquet",
    columns=(
        Column("snapshot_date", DATE, required=True),
        Column("warehouse_id", STR, required=True),
        Column("ndc", STR, required=True),
        Column("on_hand_units", INT, required=True),
        Column("backordered", BOOL, required=True),
        Column("expected_restock_date", DATE),
    ),
    key=("snapshot_date", "warehouse_id", "ndc"),
    version_column="snapshot_date",
)

ENGAGEMENT = Extract(
    name="engagement",
    format="jsonl",
    columns=(
        Column("event_id", STR, required=True),
        Column("customer_id", STR, required=True),
        Column("channel", STR, required=True, allowed=ENGAGEMENT_CHANNELS),
        Column("event_type", STR, required=True, allowed=ENGAGEMENT_EVENTS),
        Column("campaign_id", STR),
        Column("event_ts", TS, required=True),
    ),
    key=("event_id",),
    version_column="event_ts",
)

EXTRACTS: dict[str, Extract] = {
    e.name: e for e in (RX_ORDERS, VET_REAUTH, CUSTOMERS, PETS, SHIPMENTS, INVENTORY, ENGAGEMENT)
}

# Owner PII: never leaves the raw zone in clear text (hashed or dropped on ingest).
PII_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("first_name", "last_name", "email", "phone", "address_line1", "zip5"),
    "pets": ("name",),
}
