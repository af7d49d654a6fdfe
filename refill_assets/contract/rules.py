"""The business rules every layer shares, each defined here once.

Python reads them from this module; dbt receives them as vars (``dbt_vars``,
passed by the wiring on every dbt invocation), so a rule changed here changes
the marts, the labels, the features, the oracle and the reports together. The
contract (``../shared/contracts/raw-extracts.md``) states the same rules in prose.
"""

from __future__ import annotations

# A lapse: no fill of the prescription by run-out (fill date + days' supply) + this many days.
LAPSE_GRACE_DAYS = 30
# An active maintenance prescription on day D: a fill in (D - ACTIVE_LOOKBACK_DAYS, D].
ACTIVE_LOOKBACK_DAYS = 180
# An on-time refill: the next fill by run-out + this many days.
ON_TIME_DAYS = 7
# How far the models look ahead: the days to the next refill are followed up to this many days.
HORIZON_DAYS = 120
# An order's pet may arrive up to this many delivery days after the order.
PET_GRACE_DAYS = 3

DRUG_CLASSES = (
    "nsaid",
    "heartworm_prevention",
    "flea_tick",
    "thyroid",
    "cardiac",
    "anticonvulsant",
    "diabetes",
    "dermatology",
    "behavioral",
    "antibiotic",
    "gastro",
    "other",
)
# Acute classes are not maintenance; every other class, ``other`` included, is.
ACUTE_CLASSES = ("antibiotic", "gastro")
# Classes whose use pauses in the cold months.
SEASONAL_CLASSES = ("flea_tick", "heartworm_prevention")


def dbt_vars() -> dict[str, object]:
    """The rules as the dbt project's vars (``var('lapse_days')`` …)."""
    return {
        "lapse_days": LAPSE_GRACE_DAYS,
        "active_lookback_days": ACTIVE_LOOKBACK_DAYS,
        "on_time_days": ON_TIME_DAYS,
        "pet_grace_days": PET_GRACE_DAYS,
        "acute_drug_classes": list(ACUTE_CLASSES),
        "seasonal_drug_classes": list(SEASONAL_CLASSES),
    }
