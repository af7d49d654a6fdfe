"""Usage priced item by item from the price table's rows and the compute rate."""

from __future__ import annotations

from dataclasses import fields

import pytest

from refill_assets.cost.estimate import (
    COST,
    GB,
    PREFIX,
    SERVICE,
    Usage,
    drivers_in,
    estimate,
    money,
)
from refill_assets.cost.prices import ComputeRate, PriceTable

MEMORY_MB = 2048


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.load()


@pytest.fixture(scope="module")
def rate(prices) -> ComputeRate:
    return ComputeRate.from_env({}, prices)


def _value(prices: PriceTable, item: str, size: str | int = "") -> float:
    return prices.price(item, size).value


# one usage per item of SERVICE: only that item's drivers set
DRIVES = {
    "compute": Usage(compute_seconds=1800.0),
    "endpoint_compute": Usage(gb_seconds=250.0, endpoint_memory_mb=MEMORY_MB),
    "endpoint_data": Usage(data_bytes=3 * GB, endpoint_memory_mb=MEMORY_MB),
    "s3_requests": Usage(s3_puts=2000, s3_gets=5000),
    "cost_explorer": Usage(ce_requests=7),
}
EVERYTHING = Usage(
    compute_seconds=5400.0,
    cpu_seconds=4000.0,
    gb_seconds=120.5,
    endpoint_memory_mb=MEMORY_MB,
    data_bytes=GB // 2,
    s3_puts=300,
    s3_gets=9000,
    s3_bytes=10 * GB,
    ce_requests=3,
)


def test_an_hour_of_compute_costs_the_rate(prices, rate):
    assert estimate(Usage(compute_seconds=3600.0), prices, rate).usd == pytest.approx(
        rate.usd_per_hour
    )
    given = ComputeRate(2.5, "test")
    half = estimate(Usage(compute_seconds=1800.0), prices, given)
    assert half.by_item == {"compute": pytest.approx(1.25)}


def test_endpoint_gb_seconds_and_payload_are_priced_from_the_table_rows(prices, rate):
    for size in (1024, 4096, 6144):
        usage = Usage(gb_seconds=1000.0, data_bytes=2 * GB, endpoint_memory_mb=size)
        items = estimate(usage, prices, rate).by_item
        compute = _value(prices, "sagemaker_serverless_compute", size)
        assert items["endpoint_compute"] == pytest.approx(1000.0 * compute)
        assert items["endpoint_data"] == pytest.approx(
            2 * _value(prices, "sagemaker_serverless_data")
        )
    # a GB-second at the list price $0.00002
    one = estimate(Usage(gb_seconds=1.0, endpoint_memory_mb=1024), prices, rate)
    assert one.by_item["endpoint_compute"] == pytest.approx(0.00002)


def test_endpoint_usage_without_its_memory_size_cannot_be_priced(prices, rate):
    with pytest.raises(KeyError, match="1024"):
        estimate(Usage(gb_seconds=1.0), prices, rate)


def test_s3_requests_are_priced_per_thousand(prices, rate):
    puts = estimate(Usage(s3_puts=1000), prices, rate).by_item["s3_requests"]
    gets = estimate(Usage(s3_gets=1000), prices, rate).by_item["s3_requests"]
    assert puts == pytest.approx(_value(prices, "s3_put"))
    assert gets == pytest.approx(_value(prices, "s3_get"))
    both = estimate(Usage(s3_puts=2500, s3_gets=40), prices, rate).by_item["s3_requests"]
    expected = 2.5 * _value(prices, "s3_put") + 0.04 * _value(prices, "s3_get")
    assert both == pytest.approx(expected)


def test_cost_explorer_is_priced_per_request(prices, rate):
    items = estimate(Usage(ce_requests=4), prices, rate).by_item
    assert items["cost_explorer"] == pytest.approx(4 * _value(prices, "cost_explorer_request"))


def test_items_are_absent_when_their_drivers_are_zero(prices, rate):
    nothing = estimate(Usage(), prices, rate)
    assert nothing.usd == 0
    # compute is always reported (a step always ran), at zero when it did not
    assert {k: v for k, v in nothing.by_item.items() if v} == {}
    assert set(nothing.by_item) <= {"compute"}
    only_compute = estimate(Usage(compute_seconds=60.0), prices, rate).by_item
    assert set(only_compute) == {"compute"}
    # a memory size alone is no endpoint use
    assert set(estimate(Usage(endpoint_memory_mb=MEMORY_MB), prices, rate).by_item) == {"compute"}
    no_requests = Usage(compute_seconds=60.0, gb_seconds=1.0, endpoint_memory_mb=MEMORY_MB)
    items = estimate(no_requests, prices, rate).by_item
    assert "s3_requests" not in items and "cost_explorer" not in items


def test_the_total_is_the_sum_of_the_items(prices, rate):
    result = estimate(EVERYTHING, prices, rate)
    assert result.usd == pytest.approx(sum(result.by_item.values()))
    expected = (
        5400.0 / 3600 * rate.usd_per_hour
        + 120.5 * _value(prices, "sagemaker_serverless_compute", MEMORY_MB)
        + 0.5 * _value(prices, "sagemaker_serverless_data")
        + (300 * _value(prices, "s3_put") + 9000 * _value(prices, "s3_get")) / 1000
        + 3 * _value(prices, "cost_explorer_request")
    )
    assert result.usd == pytest.approx(expected)


@pytest.mark.parametrize("item", sorted(DRIVES))
def test_service_covers_each_item_estimate_produces(prices, rate, item):
    items = estimate(DRIVES[item], prices, rate).by_item
    assert items[item] > 0
    assert set(items) <= set(SERVICE)
    assert SERVICE[item].startswith(("Amazon ", "AWS "))


def test_service_covers_every_item_at_once(prices, rate):
    assert set(estimate(EVERYTHING, prices, rate).by_item) == set(SERVICE) == set(DRIVES)


def test_usage_adds_field_by_field():
    a = Usage(compute_seconds=10.0, cpu_seconds=4.0, s3_puts=3, s3_bytes=100, ce_requests=1)
    b = Usage(gb_seconds=2.5, endpoint_memory_mb=MEMORY_MB, data_bytes=7, s3_gets=5, s3_puts=1)
    total = a + b
    for f in fields(Usage):
        if f.name != "endpoint_memory_mb":
            assert getattr(total, f.name) == getattr(a, f.name) + getattr(b, f.name), f.name
    # the one memory size in use is kept, whichever side it came from
    assert total.endpoint_memory_mb == MEMORY_MB
    assert (b + a).endpoint_memory_mb == MEMORY_MB
    assert (b + b).endpoint_memory_mb == MEMORY_MB
    assert (a + a).endpoint_memory_mb == 0


def test_usage_refuses_to_add_two_endpoint_memory_sizes():
    with pytest.raises(ValueError, match="1024.*2048"):
        Usage(gb_seconds=1.0, endpoint_memory_mb=2048) + Usage(
            gb_seconds=1.0, endpoint_memory_mb=1024
        )


@pytest.mark.parametrize("n", [2, 3, 7])
def test_n_shares_sum_back_to_the_whole(prices, rate, n):
    shares = [EVERYTHING.scaled(1 / n) for _ in range(n)]
    assert all(s.endpoint_memory_mb == MEMORY_MB for s in shares)
    total = shares[0]
    for share in shares[1:]:
        total = total + share
    for f in fields(Usage):
        assert getattr(total, f.name) == pytest.approx(getattr(EVERYTHING, f.name)), f.name
    whole = estimate(EVERYTHING, prices, rate).usd
    parts = [estimate(s, prices, rate).usd for s in shares]
    assert sum(parts) == pytest.approx(whole)
    assert all(p == pytest.approx(whole / n) for p in parts)


def test_a_share_splits_costs_proportionally(prices, rate):
    quarter = EVERYTHING.scaled(0.25)
    assert quarter.compute_seconds == pytest.approx(5400.0 / 4)
    assert quarter.s3_gets == pytest.approx(9000 / 4)
    assert quarter.endpoint_memory_mb == MEMORY_MB
    whole = estimate(EVERYTHING, prices, rate).by_item
    part = estimate(quarter, prices, rate).by_item
    assert set(part) == set(whole)
    for item, usd in whole.items():
        assert part[item] == pytest.approx(usd / 4), item


def test_metadata_is_floats_under_the_prefix_with_the_total(prices, rate):
    for usage in [Usage(), Usage(compute_seconds=3600, s3_puts=3), EVERYTHING, *DRIVES.values()]:
        result = estimate(usage, prices, rate)
        metadata = result.metadata()
        assert metadata, usage
        assert all(key.startswith(PREFIX) for key in metadata), metadata
        assert all(type(value) is float for value in metadata.values()), metadata
        assert metadata[COST] == result.usd


def test_metadata_records_the_drivers_a_step_can_read_back(prices, rate):
    # drivers recorded on a materialization come back as the same usage
    for usage in [Usage(), EVERYTHING, *DRIVES.values()]:
        assert drivers_in(estimate(usage, prices, rate).metadata()) == usage


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1.701e-05, "0.00001701"), (0.018394, "0.01839"), (2.0, "2"), (123.456, "123.5")],
)
def test_money_is_in_significant_digits_never_in_e_notation(value, shown):
    assert money(value) == shown
