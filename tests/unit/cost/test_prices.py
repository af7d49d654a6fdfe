"""The shipped price table, its loader's checks, and the pipeline's compute rate."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from refill_assets.cost.prices import TABLE, ComputeRate, PriceTable

HEADER = "item,size,value,unit,source,as_of\n"
GOOD = "s3_get,,0.0004,USD per 1000 requests,https://aws.amazon.com/s3/pricing/,2026-12-01\n"
# SageMaker Serverless Inference's allowed memory sizes (MB)
SAGEMAKER_SIZES = range(1024, 6144 + 1, 1024)


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_table_loads_with_every_row_sourced_and_dated(table):
    rows = list(table)
    assert TABLE.name == "prices.csv" and TABLE.is_file()
    # one price per data line of the file: no row lost or collapsed by a duplicate key
    data_lines = [line for line in TABLE.read_text(encoding="utf-8").splitlines()[1:] if line]
    assert len(rows) == len(data_lines) > 0
    for row in rows:
        assert row.source.startswith("https://"), row
        assert row.unit.strip(), row
        assert isinstance(row.as_of, date) and row.as_of <= date(2026, 12, 31), row
        assert math.isfinite(row.value) and row.value >= 0, row


def test_sagemaker_serverless_compute_is_listed_for_every_allowed_memory_size(table):
    for size in SAGEMAKER_SIZES:
        for key in (size, str(size)):  # an int size finds the same row as its text
            row = table.price("sagemaker_serverless_compute", key)
            assert row.size == str(size)
            assert row.value == pytest.approx(0.00002, rel=1e-12)
            assert "GB-second" in row.unit
    listed = {p.size for p in table if p.item == "sagemaker_serverless_compute"}
    assert listed == {str(s) for s in SAGEMAKER_SIZES}


def test_an_unknown_size_raises_keyerror_naming_the_known_sizes(table):
    with pytest.raises(KeyError) as raised:
        table.price("sagemaker_serverless_compute", 1536)
    message = str(raised.value)
    assert "1536" in message
    for size in SAGEMAKER_SIZES:
        assert str(size) in message


def test_an_unknown_item_raises_keyerror_saying_so(table):
    with pytest.raises(KeyError, match="no such item") as raised:
        table.price("sagemaker_realtime_compute")
    assert "sagemaker_realtime_compute" in str(raised.value)


@pytest.mark.parametrize("value", ["abc", "", "-0.5", "nan", "inf"])
def test_a_bad_value_raises_valueerror_naming_its_line(tmp_path, value):
    bad = f"s3_put,,{value},USD per 1000 requests,https://aws.amazon.com/s3/pricing/,2026-12-01\n"
    path = _write(tmp_path, HEADER + GOOD + bad)
    with pytest.raises(ValueError, match=r"prices\.csv line 3\b"):
        PriceTable.load(path)


@pytest.mark.parametrize(
    "row",
    [
        "s3_put,,0.005,USD per 1000 requests,,2026-12-01\n",  # no source
        "s3_put,,0.005,,https://aws.amazon.com/s3/pricing/,2026-12-01\n",  # no unit
        "s3_put,,0.005,USD per 1000 requests,https://aws.amazon.com/s3/pricing/,Dec 2026\n",
        "s3_put,,0.005\n",  # a short row: no unit, source nor date
    ],
    ids=["no-source", "no-unit", "bad-date", "short-row"],
)
def test_a_row_missing_its_unit_source_or_date_raises_valueerror_naming_its_line(tmp_path, row):
    path = _write(tmp_path, HEADER + GOOD + GOOD.replace("s3_get", "s3_head") + row)
    with pytest.raises(ValueError, match=r"prices\.csv line 4\b"):
        PriceTable.load(path)


def test_the_line_named_is_the_files_line_after_a_blank_line(tmp_path):
    # csv skips a blank line: the error must still name the line a reader would go to
    bad = "s3_put,,0.005,USD per 1000 requests,,2026-12-01\n"
    path = _write(tmp_path, HEADER + GOOD + "\n" + bad)
    with pytest.raises(ValueError, match=r"prices\.csv line 4\b"):
        PriceTable.load(path)


def test_a_well_formed_temp_table_loads_its_rows(tmp_path):
    path = _write(tmp_path, HEADER + GOOD)
    (row,) = list(PriceTable.load(path))
    assert (row.item, row.size, row.value, row.as_of) == ("s3_get", "", 0.0004, date(2026, 12, 1))


def _fargate(table: PriceTable, vcpu: float, memory_gb: float) -> float:
    return (
        vcpu * table.price("fargate_vcpu").value + memory_gb * table.price("fargate_memory").value
    )


def test_the_default_rate_is_the_run_tasks_fargate_size_from_the_table_rows(table):
    rate = ComputeRate.from_env({}, table)
    # deploy/ecs/dagster.yaml's run task: 4 vCPU, 16 GB
    assert rate.usd_per_hour == pytest.approx(_fargate(table, 4, 16), rel=1e-12)
    assert "Fargate" in rate.basis and "4 vCPU" in rate.basis and "16 GB" in rate.basis


def test_the_default_rate_follows_the_table_it_is_given(tmp_path):
    rows = (
        "fargate_vcpu,,0.5,USD per vCPU-hour,https://aws.amazon.com/fargate/pricing/,2026-12-01\n"
        "fargate_memory,,0.25,USD per GB-hour,https://aws.amazon.com/fargate/pricing/,2026-12-01\n"
    )
    rate = ComputeRate.from_env({}, PriceTable.load(_write(tmp_path, HEADER + rows)))
    assert rate.usd_per_hour == pytest.approx(4 * 0.5 + 16 * 0.25)


def test_a_given_hourly_rate_overrides_the_fargate_price(table):
    env = {"REFILL_COMPUTE_USD_PER_HOUR": "1.25", "REFILL_COMPUTE_VCPU": "64"}
    rate = ComputeRate.from_env(env, table)
    assert rate.usd_per_hour == 1.25
    assert rate.basis == "REFILL_COMPUTE_USD_PER_HOUR"


def test_the_task_size_from_the_environment_changes_the_rate(table):
    rate = ComputeRate.from_env(
        {"REFILL_COMPUTE_VCPU": "2", "REFILL_COMPUTE_MEMORY_GB": "8"}, table
    )
    assert rate.usd_per_hour == pytest.approx(_fargate(table, 2, 8), rel=1e-12)
    assert "2 vCPU" in rate.basis and "8 GB" in rate.basis
    only_memory = ComputeRate.from_env({"REFILL_COMPUTE_MEMORY_GB": "30"}, table)
    assert only_memory.usd_per_hour == pytest.approx(_fargate(table, 4, 30), rel=1e-12)
    assert only_memory.usd_per_hour > ComputeRate.from_env({}, table).usd_per_hour


@pytest.mark.parametrize(
    "variable", ["REFILL_COMPUTE_USD_PER_HOUR", "REFILL_COMPUTE_VCPU", "REFILL_COMPUTE_MEMORY_GB"]
)
@pytest.mark.parametrize("value", ["0", "-1", "-0.5", "abc", "nan", "inf", "4 vCPU"])
def test_a_zero_negative_or_non_number_setting_raises_valueerror_naming_it(table, variable, value):
    with pytest.raises(ValueError, match=variable) as raised:
        ComputeRate.from_env({variable: value}, table)
    assert repr(value) in str(raised.value)
