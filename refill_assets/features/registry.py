"""The feature registry: every model feature with its meaning, unit and type.

The one list that training, scoring, reports and model cards read. A column of
``feature_frame`` is a feature exactly when it is registered here. All
features describe a prescription as known at the end of its as-of day D (see
``refill_assets.features.frame``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Dtype = Literal["float", "int", "bool", "category"]


@dataclass(frozen=True)
class Feature:
    name: str
    meaning: str
    unit: str
    dtype: Dtype


FEATURES: tuple[Feature, ...] = (
    # supply of the latest fill known on D
    Feature(
        "days_since_last_fill",
        "D minus the fill date of the latest fill known on D.",
        "days",
        "int",
    ),
    Feature(
        "last_days_supply",
        "Effective days' supply of that fill (sent, else quantity dispensed / daily dose in sig).",
        "days",
        "int",
    ),
    Feature(
        "days_supply_remaining",
        "Days' supply left on D: last fill date + its days' supply - D (negative after run-out).",
        "days",
        "int",
    ),
    Feature(
        "last_units_per_day", "Daily dose parsed from the latest fill's sig.", "units/day", "float"
    ),
    Feature(
        "last_fill_partial",
        "The latest fill dispensed less than prescribed (status partial).",
        "flag",
        "bool",
    ),
    Feature(
        "rx_fill_count",
        "Fills of the prescription known on D (the latest included).",
        "count",
        "int",
    ),
    # refill intervals of the prescription: pairs of consecutive fills both known on D
    Feature(
        "rx_interval_count", "Refill intervals of the prescription known on D.", "count", "int"
    ),
    Feature(
        "rx_interval_mean",
        "Mean of those intervals (fill date to next fill date).",
        "days",
        "float",
    ),
    Feature("rx_interval_std", "Sample standard deviation of those intervals.", "days", "float"),
    Feature("rx_interval_last", "The most recent of those intervals.", "days", "int"),
    Feature("rx_interval_last2", "The second most recent interval.", "days", "int"),
    Feature("rx_interval_last3", "The third most recent interval.", "days", "int"),
    Feature(
        "rx_gap_ratio_mean",
        "Mean of interval / days' supply of the interval's first fill (1 = refilled at run-out).",
        "ratio",
        "float",
    ),
    Feature(
        "rx_gap_ratio_last",
        "Interval / days' supply of the most recent interval.",
        "ratio",
        "float",
    ),
    Feature(
        "rx_gap_ratio_median",
        "Median of the prescription's gap ratios (robust to a single forgotten refill).",
        "ratio",
        "float",
    ),
    Feature(
        "rx_early_share",
        "Share of the prescription's intervals refilled before run-out.",
        "share",
        "float",
    ),
    Feature(
        "rx_late_share",
        "Share of the prescription's intervals refilled more than 7 days after run-out.",
        "share",
        "float",
    ),
    # refill intervals of the pet, over all its maintenance prescriptions (on its owner's orders)
    Feature(
        "pet_interval_count",
        "Refill intervals of all the pet's maintenance prescriptions known on D.",
        "count",
        "int",
    ),
    Feature(
        "pet_gap_ratio_mean",
        "Mean interval / days' supply over the pet's intervals.",
        "ratio",
        "float",
    ),
    Feature(
        "pet_gap_ratio_std", "Sample standard deviation of the pet's gap ratios.", "ratio", "float"
    ),
    Feature(
        "pet_gap_ratio_ontime",
        "Mean gap ratio of the pet's intervals that were not late (the pace when the owner"
        " does not forget).",
        "ratio",
        "float",
    ),
    Feature(
        "pet_late_share",
        "Share of the pet's intervals refilled more than 7 days after run-out.",
        "share",
        "float",
    ),
    # refill intervals of the customer, over all maintenance prescriptions of all their pets
    Feature(
        "customer_interval_count",
        "Refill intervals with a days' supply over all the customer's maintenance prescriptions"
        " known on D.",
        "count",
        "int",
    ),
    Feature(
        "customer_gap_ratio_mean",
        "Mean interval / days' supply over the customer's intervals.",
        "ratio",
        "float",
    ),
    Feature(
        "customer_late_share",
        "Share of the customer's intervals refilled more than 7 days after run-out.",
        "share",
        "float",
    ),
    Feature(
        "paced_days_to_refill",
        "Days from D to the refill if the owner keeps their pace: latest fill's days' supply x"
        " the rx's median gap ratio (else the pet's on-time mean, else the customer's mean,"
        " else 1) - days since that fill. Negative once that day has passed.",
        "days",
        "float",
    ),
    # fulfilment and stock
    Feature(
        "last_ship_delay_days",
        "Latest fill's shipment as known on D: ship day (D while unshipped) - promised ship day;"
        " null without a known shipment (clinic pick-up).",
        "days",
        "int",
    ),
    Feature(
        "last_ship_backordered",
        "A shipment of the latest fill was reported backordered by D.",
        "flag",
        "bool",
    ),
    Feature(
        "ndc_backordered",
        "The drug (NDC) is backordered at some warehouse in the newest inventory snapshot"
        " known on D.",
        "flag",
        "bool",
    ),
    Feature(
        "ndc_on_hand_units",
        "Units of the NDC on hand over all warehouses in that snapshot.",
        "units",
        "int",
    ),
    Feature(
        "ndc_days_to_restock",
        "Expected restock date of the NDC in that snapshot - D; null when none is expected.",
        "days",
        "int",
    ),
    # seasonality and calendar
    Feature(
        "is_seasonal",
        "Seasonal preventive (flea_tick, heartworm_prevention).",
        "flag",
        "bool",
    ),
    Feature("as_of_month", "Calendar month of D.", "month 1-12", "int"),
    Feature(
        "days_to_holiday",
        "Days from D to the next major US holiday (New Year, Memorial Day, July 4, Labor Day,"
        " Thanksgiving, Christmas); 0 on the day.",
        "days",
        "int",
    ),
    # authorization
    Feature(
        "refills_remaining", "Refills left after the latest fill, as on that fill.", "count", "int"
    ),
    Feature(
        "reauth_pending",
        "A reauthorization request of the prescription is pending on D (latest version known).",
        "flag",
        "bool",
    ),
    Feature(
        "reauth_wait_days",
        "Days since the pending request was made; null when none is pending.",
        "days",
        "int",
    ),
    Feature(
        "clinic_reauth_lead_days",
        "Mean days from request to answer of the prescribing clinic's requests answered by D.",
        "days",
        "float",
    ),
    Feature(
        "auth_expires_in_days",
        "Expiry of the latest approved reauthorization of the prescription known on D - D.",
        "days",
        "int",
    ),
    # pet, drug, channel
    Feature(
        "species", "dog | cat | other, in the pet's version current on D.", "category", "category"
    ),
    Feature("weight_kg", "The pet's weight in that version.", "kg", "float"),
    Feature("age_years", "(D - birth date) / 365.25 in that version.", "years", "float"),
    Feature("drug_class", "Maintenance class of the latest fill's drug.", "category", "category"),
    Feature("channel", "mail | clinic | ecommerce of the latest fill.", "category", "category"),
    Feature(
        "autoship",
        "The customer is on auto-ship for the prescription (latest fill).",
        "flag",
        "bool",
    ),
    # engagement and customer
    Feature(
        "eng_sent_90d",
        "Messages sent to the customer, delivered to us in (D-90, D].",
        "count",
        "int",
    ),
    Feature("eng_open_30d", "Opens by the customer, delivered in (D-30, D].", "count", "int"),
    Feature("eng_open_90d", "Opens by the customer, delivered in (D-90, D].", "count", "int"),
    Feature("eng_click_30d", "Clicks by the customer, delivered in (D-30, D].", "count", "int"),
    Feature("eng_click_90d", "Clicks by the customer, delivered in (D-90, D].", "count", "int"),
    Feature(
        "customer_tenure_days",
        "D - the customer's creation date (first delivered version); null if unknown on D.",
        "days",
        "int",
    ),
    Feature(
        "pet_active_rx",
        "Active maintenance prescriptions of the pet on D (contract definition: a maintenance fill"
        " known on D in (D - 180, D], the pet a living dog or cat as known on D).",
        "count",
        "int",
    ),
    Feature(
        "customer_active_rx",
        "Maintenance prescriptions of the customer with a fill known on D in (D - 180, D].",
        "count",
        "int",
    ),
    # a returning owner: has the owner been back for other prescriptions since this one's
    # latest fill? Tells a therapy that ended from an owner who left
    Feature(
        "customer_rx_filled_since",
        "Other maintenance prescriptions of the customer whose latest fill known on D came"
        " after this prescription's latest fill.",
        "count",
        "int",
    ),
    Feature(
        "customer_days_since_any_fill",
        "D - the latest fill known on D of any maintenance prescription of the customer.",
        "days",
        "int",
    ),
)


def feature_names() -> list[str]:
    return [f.name for f in FEATURES]


def categorical_names() -> list[str]:
    return [f.name for f in FEATURES if f.dtype == "category"]
