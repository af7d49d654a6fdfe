"""Everything the process decided, handed from the process to the extract builders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from refill_simulator.catalog import CatalogArrays, Clinics
from refill_simulator.fills import FillLog
from refill_simulator.population import Customers, Pets
from refill_simulator.prescriptions import Prescriptions
from refill_simulator.process import Process
from refill_simulator.shift import Shift
from refill_simulator.supply import Supply
from refill_simulator.timeline import Timeline


@dataclass(frozen=True)
class World:
    seed: int
    process: Process  # the latent process's numbers: the standard world's, or drawn
    tl: Timeline
    cat: CatalogArrays
    clinics: Clinics
    customers: Customers
    pets: Pets
    rx: Prescriptions
    supply: Supply
    log: FillLog
    offsets: np.ndarray  # (zone, day) UTC offset in minutes, see formats.zone_offsets
    shift: Shift | None = None  # the process changes from its start on

    @property
    def last_day(self) -> int:
        return self.tl.n_days - 1
