"""Estimated cost from usage: the drivers a step or an endpoint measured, priced.

A ``Usage`` holds the drivers (seconds of the pipeline's compute, GB-seconds and payload of
the serverless endpoint, S3 and Cost Explorer requests, bytes); ``estimate`` prices them with
the price table and the compute rate, item by item, so the estimate can be set beside Cost
Explorer's actuals service by service (``SERVICE``). ``metadata`` is how an estimate is
recorded on a Dagster materialization: numbers only, under one namespace (``PREFIX``), so
the UI plots each per asset over time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from refill_assets.cost.prices import ComputeRate, PriceTable

PREFIX = "refill/"
COST = f"{PREFIX}cost_usd"
PER_1000 = f"{PREFIX}cost_per_1000_predictions"
PREDICTIONS = f"{PREFIX}predictions"  # an asset that counts predictions records this
ITEM = f"{PREFIX}usd_"  # one key per priced item: refill/usd_compute, ...
RUN = "(run)"  # the ledger's asset for a run's time no step accounts for (``unattributed``)
GB = 1024**3
# the Cost Explorer SERVICE each estimated item is billed under
SERVICE = {
    "compute": "Amazon Elastic Container Service",
    "endpoint_compute": "Amazon SageMaker",
    "endpoint_data": "Amazon SageMaker",
    "s3_requests": "Amazon Simple Storage Service",
    "cost_explorer": "AWS Cost Explorer",
}


_COUNTS = {"endpoint_memory_mb", "data_bytes", "s3_puts", "s3_gets", "s3_bytes", "ce_requests"}


@dataclass(frozen=True)
class Usage:
    compute_seconds: float = 0.0  # wall seconds of the pipeline's task: what is billed
    cpu_seconds: float = 0.0  # what the step used of it (not billed: context)
    gb_seconds: float = 0.0  # the endpoint's compute: latency x configured memory
    endpoint_memory_mb: int = 0  # its configured memory (the price row), 0: no endpoint use
    data_bytes: int = 0  # the endpoint's payloads, in and out
    s3_puts: int = 0
    s3_gets: int = 0
    s3_bytes: int = 0
    ce_requests: int = 0

    def __add__(self, other: Usage) -> Usage:
        memory = {self.endpoint_memory_mb, other.endpoint_memory_mb} - {0}
        if len(memory) > 1:
            raise ValueError(f"endpoint usage at two memory sizes {sorted(memory)}: keep apart")
        summed = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        return Usage(**{**summed, "endpoint_memory_mb": next(iter(memory), 0)})

    def scaled(self, share: float) -> Usage:
        """This usage's ``share`` (a step's cost split among the assets it materialized)."""
        kept = {"endpoint_memory_mb": self.endpoint_memory_mb}
        return Usage(**{f.name: getattr(self, f.name) * share for f in fields(self)} | kept)


@dataclass(frozen=True)
class Estimate:
    usage: Usage
    by_item: dict[str, float]  # USD per item of SERVICE

    @property
    def usd(self) -> float:
        return sum(self.by_item.values())

    def metadata(self) -> dict[str, float]:
        """The estimate as Dagster metadata: the total, each item's share, the drivers used."""
        drivers = {f.name: float(getattr(self.usage, f.name)) for f in fields(self.usage)}
        return {
            COST: self.usd,
            **{f"{ITEM}{item}": usd for item, usd in self.by_item.items()},
            **{f"{PREFIX}{name}": value for name, value in drivers.items() if value},
        }


def drivers_in(metadata: Mapping[str, object]) -> Usage:
    """The drivers a step recorded itself under ``PREFIX`` (requests it made, an endpoint's
    GB-seconds), so the meter prices them with the step's compute."""
    given = {
        f.name: metadata[f"{PREFIX}{f.name}"]
        for f in fields(Usage)
        if isinstance(metadata.get(f"{PREFIX}{f.name}"), int | float)
    }
    return Usage(**{k: int(v) if k in _COUNTS else float(v) for k, v in given.items()})


def money(value: float, digits: int = 4) -> str:
    """USD in ``digits`` significant digits, never in e-notation: a night's cost per
    1,000 predictions is $0.00001701, and 1.701e-05 reads as nothing to a person."""
    return np.format_float_positional(
        value, precision=digits, unique=False, fractional=False, trim="-"
    )


def unattributed(wall_seconds: float, attributed_compute_usd: float, rate: ComputeRate) -> float:
    """The run's task time no step accounts for (Dagster's own bookkeeping, dbt's start-up,
    the run's start and end), priced: the task is billed for all of its time."""
    return max(0.0, wall_seconds / 3600 * rate.usd_per_hour - attributed_compute_usd)


def estimate(usage: Usage, prices: PriceTable, rate: ComputeRate) -> Estimate:
    items = {"compute": usage.compute_seconds / 3600 * rate.usd_per_hour}
    if usage.gb_seconds or usage.data_bytes:
        size = usage.endpoint_memory_mb
        compute = prices.price("sagemaker_serverless_compute", size).value
        items["endpoint_compute"] = usage.gb_seconds * compute
        data = prices.price("sagemaker_serverless_data").value
        items["endpoint_data"] = usage.data_bytes / GB * data
    if usage.s3_puts or usage.s3_gets:
        items["s3_requests"] = (
            usage.s3_puts * prices.price("s3_put").value
            + usage.s3_gets * prices.price("s3_get").value
        ) / 1000
    if usage.ce_requests:
        items["cost_explorer"] = usage.ce_requests * prices.price("cost_explorer_request").value
    return Estimate(usage, items)
