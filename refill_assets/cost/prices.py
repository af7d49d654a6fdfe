"""The price table (``prices.csv``, kept in the repository) and the pipeline's compute rate.

Each price has its value, unit, source and the day it was read: prices change, and an
estimate is only as good as the row it used, so a row is the one place a price lives. The
SageMaker Serverless compute price is listed by memory size (AWS lists it so; in us-east-1
it is linear in memory). The pipeline's own compute is the run's task: by default the ECS
Fargate size ``deploy/ecs/dagster.yaml`` gives a run (4 vCPU, 16 GB), priced from the
Fargate rows; ``REFILL_COMPUTE_USD_PER_HOUR`` overrides it for an EC2 instance or a
Kubernetes node share.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

TABLE = Path(__file__).with_name("prices.csv")
# the run task of deploy/ecs/dagster.yaml (run_resources: cpu 4096, memory 16384)
DEFAULT_VCPU, DEFAULT_MEMORY_GB = 4.0, 16.0


@dataclass(frozen=True)
class Price:
    item: str
    size: str  # "" when the item has one price
    value: float
    unit: str
    source: str
    as_of: date


class PriceTable:
    def __init__(self, prices: list[Price]):
        self._prices = {(p.item, p.size): p for p in prices}

    @classmethod
    def load(cls, path: Path = TABLE) -> PriceTable:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)  # line_num: the file's line (csv skips blank lines)
            rows = [(reader.line_num, row) for row in reader]
        prices = []
        for n, row in rows:
            try:
                value = float(row["value"])
                as_of = date.fromisoformat(row["as_of"])
            except (TypeError, ValueError) as error:
                raise ValueError(f"{path.name} line {n}: {error}") from None
            if not (math.isfinite(value) and value >= 0) or not row["unit"] or not row["source"]:
                raise ValueError(f"{path.name} line {n}: a price needs a value >= 0, unit, source")
            prices.append(Price(row["item"], row["size"], value, row["unit"], row["source"], as_of))
        return cls(prices)

    def price(self, item: str, size: str | int = "") -> Price:
        found = self._prices.get((item, str(size)))
        if found is None:
            sizes = sorted(s for i, s in self._prices if i == item)
            known = f"sizes {', '.join(sizes)}" if sizes else "no such item"
            raise KeyError(f"no price for {item!r} size {size!r} in {TABLE.name} ({known})")
        return found

    def __iter__(self):
        return iter(self._prices.values())


@dataclass(frozen=True)
class ComputeRate:
    """What an hour of the pipeline's compute costs, and why."""

    usd_per_hour: float
    basis: str

    @classmethod
    def from_env(cls, env: Mapping[str, str], table: PriceTable) -> ComputeRate:
        given = env.get("REFILL_COMPUTE_USD_PER_HOUR")
        if given:
            rate = _positive("REFILL_COMPUTE_USD_PER_HOUR", given)
            return cls(rate, "REFILL_COMPUTE_USD_PER_HOUR")
        vcpu = _positive("REFILL_COMPUTE_VCPU", env.get("REFILL_COMPUTE_VCPU", DEFAULT_VCPU))
        memory = env.get("REFILL_COMPUTE_MEMORY_GB", DEFAULT_MEMORY_GB)
        memory_gb = _positive("REFILL_COMPUTE_MEMORY_GB", memory)
        rate = (
            vcpu * table.price("fargate_vcpu").value
            + memory_gb * table.price("fargate_memory").value
        )
        return cls(rate, f"ECS Fargate {vcpu:g} vCPU, {memory_gb:g} GB")


def _positive(name: str, value) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return number
