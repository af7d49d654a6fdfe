# Over 400 lines: one hand-written raw zone whose rows the dbt tests reason about together.
"""A small hand-written raw zone for the dbt project's tests.

``make_raw_warehouse(path)`` creates the tables ingestion writes (``raw.*``,
``raw.files``, ``raw.landing_files``, ``quarantine.rows``, exactly as
``refill_assets.contract.raw_tables`` defines them; ``raw.landing_files`` stays empty)
and fills them with a few dozen rows, each there for a case the
marts must get right. Values are as ingestion leaves them (normalised: the raw
zone is the contract), so dbt has nothing to clean. The expected values in
``tests/dbt/test_dbt_models.py`` are worked out by hand from these rows; the
comments say which case each row covers.

Delivery days (``_dt``) run from 2024-01-01 to 2024-05-31; the last fill date
(the data end of ``refill_intervals``) is 2024-05-31.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from refill_assets.contract.raw_tables import (
    FILES_TABLE,
    LANDING_FILES_TABLE,
    QUARANTINE_TABLE,
    RAW_TABLES,
    create_table_sql,
    table_columns,
)

FIRST_DT = date(2024, 1, 1)
LAST_DT = date(2024, 5, 31)

# ndc, drug_name, drug_class, is_maintenance as sent (None = derive downstream)
CARDIAC = ("00012345678", "Pimobendan 5 mg", "cardiac", True)
ANTIBIOTIC = ("00098765432", "Amoxicillin 250 mg", "antibiotic", None)
THYROID = ("11111111111", "Methimazole 5 mg", "thyroid", True)
OTHER = ("22222222222", "Gabapentin 100 mg", "other", None)
NSAID = ("33333333333", "Carprofen 75 mg", "nsaid", True)
HEARTWORM = ("44444444444", "Heartgard Plus", "heartworm_prevention", True)
DIABETES = ("55555555555", "Vetsulin", "diabetes", True)


def d(text: str) -> date:
    return date.fromisoformat(text)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _order(
    order_id: str,
    rx_id: str,
    pet_id: str,
    customer_id: str,
    drug: tuple[str, str, str, bool | None],
    *,
    status: str,
    fill_date: str,
    updated_at: str,
    dt: str,
    file: str,
    line: int = 1,
    days_supply: int | None = 30,
    qty_prescribed: float = 30.0,
    qty_dispensed: float = 30.0,
    sig_units_per_day: float | None = 1.0,
    channel: str = "mail",
) -> dict[str, Any]:
    ndc, drug_name, drug_class, is_maintenance = drug
    return {
        "order_id": order_id,
        "rx_id": rx_id,
        "customer_id": customer_id,
        "pet_id": pet_id,
        "clinic_id": "CL1",
        "ndc": ndc,
        "drug_name": drug_name,
        "drug_class": drug_class,
        "is_maintenance": is_maintenance,
        "sig": "1 tab PO SID",
        "sig_units_per_day": sig_units_per_day,
        "qty_prescribed": qty_prescribed,
        "qty_dispensed": qty_dispensed,
        "days_supply": days_supply,
        "refills_authorized": 5,
        "refills_remaining": 4,
        "channel": channel,
        "autoship": False,
        "status": status,
        "order_ts": ts(f"{fill_date} 15:00:00"),
        "fill_date": d(fill_date),
        "updated_at": ts(updated_at),
        "_dt": d(dt),
        "_file": file,
        "_line": line,
    }


def rx_orders() -> list[dict[str, Any]]:
    o = _order
    return [
        # R1: dog P1, cardiac. O1 arrives pending, then filled the next day,
        # and that filled version is delivered twice (a re-sent file).
        o(
            "O1",
            "R1",
            "P1",
            "C1",
            CARDIAC,
            status="pending",
            fill_date="2024-01-05",
            updated_at="2024-01-05 10:00:00",
            dt="2024-01-05",
            file="rx_0105.csv",
        ),
        o(
            "O1",
            "R1",
            "P1",
            "C1",
            CARDIAC,
            status="filled",
            fill_date="2024-01-05",
            updated_at="2024-01-05 15:00:00",
            dt="2024-01-06",
            file="rx_0106a.csv",
        ),
        o(
            "O1",
            "R1",
            "P1",
            "C1",
            CARDIAC,
            status="filled",
            fill_date="2024-01-05",
            updated_at="2024-01-05 15:00:00",
            dt="2024-01-06",
            file="rx_0106b.csv",
        ),
        # O2: ordered online (ingestion has already spelled the channel and
        # padded the NDC, as the contract says)
        o(
            "O2",
            "R1",
            "P1",
            "C1",
            CARDIAC,
            status="filled",
            fill_date="2024-02-03",
            updated_at="2024-02-03 18:00:00",
            dt="2024-02-03",
            file="rx_0203.csv",
            channel="ecommerce",
        ),
        # O3: partial fill (15 of 30), delivered a day late
        o(
            "O3",
            "R1",
            "P1",
            "C1",
            CARDIAC,
            status="partial",
            fill_date="2024-03-01",
            updated_at="2024-03-01 20:00:00",
            dt="2024-03-02",
            file="rx_0302.csv",
            qty_dispensed=15.0,
            days_supply=15,
        ),
        # O4: days_supply missing: floor(30 / 1.0) = 30
        o(
            "O4",
            "R1",
            "P1",
            "C1",
            CARDIAC,
            status="filled",
            fill_date="2024-03-14",
            updated_at="2024-03-14 16:00:00",
            dt="2024-03-14",
            file="rx_0314.csv",
            days_supply=None,
        ),
        # O5: pending, then canceled: never a fill
        o(
            "O5",
            "R1",
            "P1",
            "C1",
            CARDIAC,
            status="pending",
            fill_date="2024-04-09",
            updated_at="2024-04-09 10:00:00",
            dt="2024-04-09",
            file="rx_0409.csv",
        ),
        o(
            "O5",
            "R1",
            "P1",
            "C1",
            CARDIAC,
            status="canceled",
            fill_date="2024-04-09",
            updated_at="2024-04-10 10:00:00",
            dt="2024-04-10",
            file="rx_0410.csv",
            qty_dispensed=0.0,
            days_supply=None,
        ),
        # R2: antibiotic (is_maintenance null -> acute), 10 days
        o(
            "O6",
            "R2",
            "P1",
            "C1",
            ANTIBIOTIC,
            status="filled",
            fill_date="2024-01-10",
            updated_at="2024-01-10 16:00:00",
            dt="2024-01-10",
            file="rx_0110.csv",
            days_supply=10,
            qty_prescribed=20.0,
            qty_dispensed=20.0,
            sig_units_per_day=2.0,
            channel="clinic",
        ),
        # R3: cat P2 (reported deceased 2024-03-10, delivered 2024-03-11), thyroid;
        # O8 delivered two days late
        o(
            "O7",
            "R3",
            "P2",
            "C2",
            THYROID,
            status="filled",
            fill_date="2024-01-15",
            updated_at="2024-01-15 16:00:00",
            dt="2024-01-15",
            file="rx_0115.csv",
        ),
        o(
            "O8",
            "R3",
            "P2",
            "C2",
            THYROID,
            status="filled",
            fill_date="2024-02-10",
            updated_at="2024-02-10 16:00:00",
            dt="2024-02-12",
            file="rx_0212.csv",
        ),
        o(
            "O9",
            "R3",
            "P2",
            "C2",
            THYROID,
            status="filled",
            fill_date="2024-03-05",
            updated_at="2024-03-05 16:00:00",
            dt="2024-03-05",
            file="rx_0305.csv",
        ),
        # R4: rabbit P3, class other: in fills, never an active rx (not a dog or cat)
        o(
            "O10",
            "R4",
            "P3",
            "C3",
            OTHER,
            status="filled",
            fill_date="2024-01-20",
            updated_at="2024-01-20 16:00:00",
            dt="2024-01-20",
            file="rx_0120.csv",
        ),
        # R5: dog P4, class other (is_maintenance null -> maintenance); the pet
        # arrives 2024-01-12, two days after the order (inside the grace)
        o(
            "O11",
            "R5",
            "P4",
            "C2",
            OTHER,
            status="filled",
            fill_date="2024-01-09",
            updated_at="2024-01-09 16:00:00",
            dt="2024-01-10",
            file="rx_0110.csv",
            line=2,
        ),
        # R6: pet P404 never delivered: quarantined after the grace
        o(
            "O12",
            "R6",
            "P404",
            "C3",
            NSAID,
            status="filled",
            fill_date="2024-01-15",
            updated_at="2024-01-15 17:00:00",
            dt="2024-01-15",
            file="rx_0115.csv",
            line=2,
        ),
        # R7: pet PNEW not delivered yet, order on the last day: still in grace
        o(
            "O13",
            "R7",
            "PNEW",
            "C3",
            NSAID,
            status="filled",
            fill_date="2024-05-30",
            updated_at="2024-05-30 17:00:00",
            dt="2024-05-31",
            file="rx_0531.csv",
            line=2,
        ),
        # R8: dog P1, nsaid filled on 02-01, canceled (known 02-04); the old
        # filled version is re-sent on 02-05 and must not revive it
        o(
            "O14",
            "R8",
            "P1",
            "C1",
            NSAID,
            status="filled",
            fill_date="2024-02-01",
            updated_at="2024-02-01 12:00:00",
            dt="2024-02-01",
            file="rx_0201.csv",
        ),
        o(
            "O14",
            "R8",
            "P1",
            "C1",
            NSAID,
            status="canceled",
            fill_date="2024-02-01",
            updated_at="2024-02-03 09:00:00",
            dt="2024-02-04",
            file="rx_0204.csv",
            qty_dispensed=0.0,
            days_supply=None,
        ),
        o(
            "O14",
            "R8",
            "P1",
            "C1",
            NSAID,
            status="filled",
            fill_date="2024-02-01",
            updated_at="2024-02-01 12:00:00",
            dt="2024-02-05",
            file="rx_0205.csv",
        ),
        # R9: dog P5, heartworm, monthly; the last fill is censored, lapse not yet observable
        o(
            "O15",
            "R9",
            "P5",
            "C3",
            HEARTWORM,
            status="filled",
            fill_date="2024-04-20",
            updated_at="2024-04-20 16:00:00",
            dt="2024-04-20",
            file="rx_0420.csv",
        ),
        o(
            "O16",
            "R9",
            "P5",
            "C3",
            HEARTWORM,
            status="filled",
            fill_date="2024-05-20",
            updated_at="2024-05-20 16:00:00",
            dt="2024-05-21",
            file="rx_0521.csv",
        ),
        # R10: dog P4, diabetes, filled on the last day: the data end
        o(
            "O17",
            "R10",
            "P4",
            "C2",
            DIABETES,
            status="filled",
            fill_date="2024-05-31",
            updated_at="2024-05-31 16:00:00",
            dt="2024-05-31",
            file="rx_0531.csv",
        ),
        # R11: dog P5, thyroid, one 90-day fill on 2024-01-03: active through 2024-06-30
        o(
            "O18",
            "R11",
            "P5",
            "C3",
            THYROID,
            status="filled",
            fill_date="2024-01-03",
            updated_at="2024-01-03 16:00:00",
            dt="2024-01-03",
            file="rx_0103.csv",
            days_supply=90,
            qty_prescribed=90.0,
            qty_dispensed=90.0,
        ),
    ]


def _pet(
    pet_id: str,
    customer_id: str,
    species: str,
    species_raw: str,
    *,
    status: str = "active",
    updated_at: str = "2023-12-31 12:00:00",
    dt: str = "2024-01-01",
    birth_date: str = "2018-06-01",
    weight_kg: float = 20.0,
    line: int = 1,
) -> dict[str, Any]:
    return {
        "pet_id": pet_id,
        "customer_id": customer_id,
        "species": species,
        "species_raw": species_raw,
        "breed": "mixed",
        "birth_date": d(birth_date),
        "weight_kg": weight_kg,
        "status": status,
        "updated_at": ts(updated_at),
        "_dt": d(dt),
        "_file": f"pets_{dt.replace('-', '')}.csv",
        "_line": line,
    }


def pets() -> list[dict[str, Any]]:
    return [
        _pet("P1", "C1", "dog", "Canine", line=1),
        _pet("P2", "C2", "cat", "Feline", line=2, weight_kg=4.5),
        _pet(
            "P2",
            "C2",
            "cat",
            "Feline",
            status="deceased",
            updated_at="2024-03-10 12:00:00",
            dt="2024-03-11",
            weight_kg=4.5,
        ),
        _pet("P3", "C3", "other", "rabbit", line=3, weight_kg=2.0),
        _pet("P4", "C2", "dog", "K9", updated_at="2024-01-11 12:00:00", dt="2024-01-12"),
        _pet("P5", "C3", "dog", "dog", line=4, birth_date="2014-01-01"),
    ]


def customers() -> list[dict[str, Any]]:
    def c(customer_id, zip3, opt_in, updated_at, dt, line=1):
        return {
            "customer_id": customer_id,
            "email_hash": f"e_{customer_id}",
            "phone_hash": f"p_{customer_id}",
            "zip3": zip3,
            "state": "MA",
            "marketing_opt_in": opt_in,
            "created_at": ts("2023-01-01 00:00:00"),
            "updated_at": ts(updated_at),
            "_dt": d(dt),
            "_file": f"cust_{dt.replace('-', '')}.csv",
            "_line": line,
        }

    return [
        c("C1", "021", True, "2023-12-31 00:00:00", "2024-01-01", 1),
        c("C2", "021", False, "2023-12-31 00:00:00", "2024-01-01", 2),
        c("C2", "021", True, "2024-02-01 00:00:00", "2024-02-02", 1),  # opts in later
        c("C3", "100", False, "2023-12-31 00:00:00", "2024-01-01", 3),
    ]


def vet_reauth() -> list[dict[str, Any]]:
    def r(status, responded_at, refills, updated_at, dt):
        return {
            "reauth_id": "RA1",
            "rx_id": "R1",
            "clinic_id": "CL1",
            "requested_at": ts("2024-04-11 09:00:00"),
            "responded_at": ts(responded_at) if responded_at else None,
            "status": status,
            "refills_granted": refills,
            "expires_on": d("2025-04-13") if refills else None,
            "updated_at": ts(updated_at),
            "_dt": d(dt),
            "_file": f"reauth_{dt.replace('-', '')}.csv",
            "_line": 1,
        }

    return [
        r("pending", None, None, "2024-04-11 09:00:00", "2024-04-11"),
        r("approved", "2024-04-13 10:00:00", 5, "2024-04-13 10:00:00", "2024-04-13"),
    ]


def shipments() -> list[dict[str, Any]]:
    def s(
        shipment_id,
        order_id,
        status,
        event_ts,
        dt,
        *,
        promised=None,
        shipped=None,
        delivered=None,
        line=1,
    ):
        return {
            "shipment_id": shipment_id,
            "order_id": order_id,
            "warehouse_id": "W1",
            "carrier": "UPS",
            "promised_ship_date": d(promised) if promised else None,
            "shipped_at": ts(shipped) if shipped else None,
            "delivered_at": ts(delivered) if delivered else None,
            "status": status,
            "event_ts": ts(event_ts),
            "_dt": d(dt),
            "_file": f"ship_{dt.replace('-', '')}.jsonl",
            "_line": line,
        }

    return [
        # O1: backordered, shipped 2 days after the promised date, delivered
        # 2024-01-12; the delivered event lacks shipped_at
        s("S1", "O1", "created", "2024-01-05 16:00:00", "2024-01-05", promised="2024-01-07"),
        s("S1", "O1", "backordered", "2024-01-06 08:00:00", "2024-01-06", promised="2024-01-07"),
        s(
            "S1",
            "O1",
            "shipped",
            "2024-01-09 10:00:00",
            "2024-01-09",
            promised="2024-01-07",
            shipped="2024-01-09 10:00:00",
        ),
        s(
            "S1",
            "O1",
            "delivered",
            "2024-01-12 14:00:00",
            "2024-01-12",
            promised="2024-01-07",
            delivered="2024-01-12 14:00:00",
        ),
        # O2: on time
        s("S2", "O2", "created", "2024-02-03 19:00:00", "2024-02-03", promised="2024-02-04"),
        s(
            "S2",
            "O2",
            "delivered",
            "2024-02-06 11:00:00",
            "2024-02-06",
            promised="2024-02-04",
            shipped="2024-02-04 09:00:00",
            delivered="2024-02-06 11:00:00",
        ),
    ]


def inventory() -> list[dict[str, Any]]:
    def i(snapshot, warehouse, ndc, on_hand, backordered, restock, dt, file, line):
        return {
            "snapshot_date": d(snapshot),
            "warehouse_id": warehouse,
            "ndc": ndc,
            "on_hand_units": on_hand,
            "backordered": backordered,
            "expected_restock_date": d(restock) if restock else None,
            "_dt": d(dt),
            "_file": file,
            "_line": line,
        }

    card, thy = CARDIAC[0], THYROID[0]
    rows = [
        i("2024-01-05", "W1", card, 100, False, None, "2024-01-05", "inv_0105.parquet", 1),
        i("2024-01-05", "W2", card, 0, True, "2024-01-20", "2024-01-05", "inv_0105.parquet", 2),
        i("2024-01-05", "W1", thy, 50, False, None, "2024-01-05", "inv_0105.parquet", 3),
    ]
    # the 2024-01-06 snapshot is delivered twice under two names
    for file in ("inv_0106.parquet", "inv_0106_resend.parquet"):
        rows += [
            i("2024-01-06", "W1", card, 90, False, None, "2024-01-06", file, 1),
            i("2024-01-06", "W2", card, 0, True, "2024-01-18", "2024-01-06", file, 2),
            i("2024-01-06", "W1", thy, 45, False, None, "2024-01-06", file, 3),
        ]
    # the 2024-01-07 snapshot arrives after an outage, on 2024-01-09
    rows.append(i("2024-01-07", "W1", card, 80, False, None, "2024-01-09", "inv_0107.parquet", 1))
    return rows


def engagement() -> list[dict[str, Any]]:
    def e(event_id, customer_id, channel, event_type, event_ts, dt, campaign=None, line=1):
        return {
            "event_id": event_id,
            "customer_id": customer_id,
            "channel": channel,
            "event_type": event_type,
            "campaign_id": campaign,
            "event_ts": ts(event_ts),
            "_dt": d(dt),
            "_file": f"eng_{dt.replace('-', '')}.jsonl",
            "_line": line,
        }

    return [
        e("E1", "C1", "email", "sent", "2024-01-05 09:00:00", "2024-01-05", "CMP1", 1),
        e("E1", "C1", "email", "sent", "2024-01-05 09:00:00", "2024-01-06", "CMP1", 1),  # again
        e("E2", "C1", "email", "open", "2024-01-05 12:00:00", "2024-01-05", "CMP1", 2),
        e("E3", "C1", "sms", "sent", "2024-01-05 13:00:00", "2024-01-05", "refill_20240105", 3),
        e("E4", "C2", "email", "sent", "2024-01-06 10:00:00", "2024-01-08", "CMP1", 1),  # late
        e("E5", "C2", "email", "click", "2024-01-07 10:00:00", "2024-01-07", "CMP1", 1),
    ]


ROWS = {
    "rx_orders": rx_orders,
    "vet_reauth": vet_reauth,
    "customers": customers,
    "pets": pets,
    "shipments": shipments,
    "inventory": inventory,
    "engagement": engagement,
}


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The (empty) tables ingestion writes, exactly as raw_schema defines them."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists quarantine")
    for extract in RAW_TABLES:
        con.execute(create_table_sql(f"raw.{extract}", table_columns(extract)))
    con.execute(create_table_sql("quarantine.rows", QUARANTINE_TABLE))
    con.execute(create_table_sql("raw.files", FILES_TABLE))
    con.execute(create_table_sql("raw.landing_files", LANDING_FILES_TABLE))


def _insert(con: duckdb.DuckDBPyConnection, extract: str, rows: list[dict[str, Any]]) -> None:
    columns = list(table_columns(extract))
    unknown = {key for row in rows for key in row} - set(columns)
    assert not unknown, f"{extract}: fixture columns not in raw_schema: {unknown}"
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    con.executemany(
        f"insert into raw.{extract} ({names}) values ({marks})",
        [[row.get(c) for c in columns] for row in rows],
    )


def make_raw_warehouse(path: str | Path, *, with_rows: bool = True) -> Path:
    """Create a DuckDB warehouse at ``path`` with the raw zone (and the rows above)."""
    path = Path(path)
    with duckdb.connect(str(path)) as con:
        create_raw_tables(con)
        if with_rows:
            for extract, make_rows in ROWS.items():
                _insert(con, extract, make_rows())
            con.execute(
                "insert into raw.files (extract, _dt, _file, content_hash, status, rows_loaded, "
                "rows_quarantined, reason) select distinct 'rx_orders', _dt, _file, md5(_file), "
                "'loaded', 1, 0, null from raw.rx_orders"
            )
    return path
