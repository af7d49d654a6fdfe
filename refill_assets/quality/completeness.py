"""Missingness the business accepts: where an optional column may be empty, and how often.

The contract marks which columns may be null; the Wave A plan accepts missing values in
them up to ``MAX_MISSING_SHARE`` and asks for a warning past it. Some optional columns are
empty by design in some rows (a reauthorization has no response while pending), so each
column is judged only on the rows where the contract says it is due: ``None`` means every
row, otherwise a SQL condition on the raw table's columns. Columns absent here carry no
completeness rule: ``engagement.campaign_id`` is null for every message the platform did
not send, ``pets.weight_kg`` and the hashed PII are the owner's to give or not.
"""

from __future__ import annotations

MAX_MISSING_SHARE = 0.05

DUE_WHEN: dict[str, dict[str, str | None]] = {
    "rx_orders": {
        "clinic_id": None,
        "is_maintenance": None,  # derived from the drug class when empty
        "sig": None,
        "qty_prescribed": None,
        "days_supply": None,  # derived from the quantity and the sig when empty
        "refills_authorized": None,
        "refills_remaining": None,
        "autoship": None,
    },
    "vet_reauth": {
        "responded_at": "status IN ('approved', 'denied')",
        "refills_granted": "status = 'approved'",
        "expires_on": "status = 'approved'",
    },
    "customers": {"zip3": None, "state": None, "marketing_opt_in": None},
    "pets": {"breed": None, "birth_date": None},
    "shipments": {
        "carrier": "status <> 'created'",
        "promised_ship_date": None,
        "shipped_at": "status IN ('shipped', 'delivered')",  # "missing for some shipped rows"
        "delivered_at": "status = 'delivered'",
    },
    "inventory": {"expected_restock_date": "backordered"},
    "engagement": {},
}
