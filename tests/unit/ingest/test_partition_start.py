"""The first partition follows the landing zone unless configured; deliveries before it are
named with the setting to change, never skipped silently."""

from __future__ import annotations

from datetime import date

import pytest

import tests.support.landing_builder as lb
from refill_assets.contract.extracts import EXTRACTS
from refill_assets.ingest.landing import Landing
from refill_assets.ingest.partition_start import PartitionStart, decide
from refill_assets.settings import DEFAULT_PARTITIONS_START


@pytest.fixture
def landing(tmp_path) -> Landing:
    root = tmp_path / "landing"
    lb.deliver(root, "rx_orders", "2023-07-03", "orders", [lb.rx_order(1)])
    lb.deliver(root, "pets", "2023-07-01", "pets", [lb.pet(1)])
    lb.deliver(root, "pets", "2024-02-01", "pets", [lb.pet(2)])
    (root / "customers" / "dt=2023-06-01").mkdir(parents=True)  # an empty folder: no delivery
    return Landing(str(root))


def test_unset_the_partitions_start_at_the_first_delivery_day(landing):
    start = decide(None, landing, EXTRACTS)
    assert start == PartitionStart(date(2023, 7, 1), False, date(2023, 7, 1))
    assert start.left_behind(date(2023, 7, 1)) is None


def test_unset_and_no_landing_zone_the_documented_default(tmp_path):
    start = decide(None, Landing(str(tmp_path / "absent")), EXTRACTS)
    assert start.day == date.fromisoformat(DEFAULT_PARTITIONS_START) == date(2024, 1, 1)
    assert start.first_delivery is None and not start.configured


def test_configured_wins_and_earlier_deliveries_are_named_with_the_setting(landing):
    start = decide("2024-01-01", landing, EXTRACTS)
    assert (start.day, start.configured, start.first_delivery) == (
        date(2024, 1, 1),
        True,
        date(2023, 7, 1),
    )
    message = start.left_behind(start.first_delivery)
    assert message is not None
    assert "first delivery day is 2023-07-01" in message
    assert "2023-07-01 … 2023-12-31 would be left behind" in message
    assert "REFILL_PARTITIONS_START=2024-01-01" in message
    assert "set it to 2023-07-01 or earlier" in message
    assert decide("2023-07-01", landing, EXTRACTS).left_behind(date(2023, 7, 1)) is None


def test_started_from_the_landing_zone_later_deliveries_ask_for_a_reload(landing):
    start = decide(None, landing, EXTRACTS)
    message = start.left_behind(date(2023, 6, 30))  # delivered after the definitions loaded
    assert message is not None and "reload the definitions" in message
    assert "the deliveries of 2023-06-30 would be left behind" in message


def test_a_start_that_is_no_date_is_refused(landing):
    with pytest.raises(ValueError, match="REFILL_PARTITIONS_START='July' is not a date"):
        decide("July", landing, EXTRACTS)


def test_unset_and_an_unreadable_landing_zone_names_both(monkeypatch, landing):
    def broken(self, extracts):
        raise PermissionError("access denied")

    monkeypatch.setattr(Landing, "first_delivery_day", broken)
    with pytest.raises(RuntimeError, match="cannot list the landing zone .* set REFILL_PARTITIONS"):
        decide(None, landing, EXTRACTS)
    assert decide("2024-01-01", landing, EXTRACTS).first_delivery is None
