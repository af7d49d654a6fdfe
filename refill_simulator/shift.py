"""A documented shift of the latent process from a date on: what monitoring must notice.

``simulate(..., shift=Shift(start))`` builds the world as it would be
without the shift up to ``start``, and from ``start`` on under a changed
process. Exactly two things change, both from ``start`` (a date of the
world's calendar; day 0 is the world's ``start``):

- Carriers are slower: every shipment whose ship day (after the move of
  weekends to Monday) is on or after ``start`` takes ``transit_extra_days``
  more days to arrive, on top of ``Process.transit_max_days`` and the
  holiday days. Transit never moves a refill (the owner orders by the
  supply's run-out, as without a shift), so only the shipments extract
  shows it.
- Late owners get later: at every fill on or after ``start``, the refill
  ratio (days to the next order / days' supply, forgetting included, before
  backorders, seasonal pauses, holidays, cancellations and
  reauthorizations) is ``1 + lateness_factor * (ratio - 1)`` where it
  exceeds 1, whatever the owner's profile or auto-ship; a ratio of 1 or
  less is unchanged. A fill before ``start`` keeps its own law, even if the
  next fill it decides lands after ``start``.

What is the same as the world without the shift: the fill loop runs without
it first, then every prescription with a fill on or after ``start`` goes on
from its first such fill (dispensed as it was, its next fill drawn again)
under the shifted process, with the rest of the fill loop's random stream
(``fills.run_fills``). So the population, the prescriptions, the supply,
every fill before ``start`` and everything decided at it (its next order,
cancellation, reauthorization or stop) are identical to the unshifted
world's. The delivered files before ``start`` hold the same orders and
shipments, but not the same bytes: each extract draws its rows' details
(times, ids, carriers, transit, lost parcels, quirks, late deliveries) in
one stream over all its rows, so that fills after ``start`` changing moves
every row's draws; only ``inventory`` and ``pets``, which no fill touches,
keep their bytes. A shift whose ``start`` is after the world's end changes no file but
``truth/process.json``, which records the shift (``"shift"``, null without
one).

The ground truth draws with the shift too (``behaviour.draw_next`` applies it
by the fill's day), so the oracle stays the true law, before and after
``start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from refill_simulator.timeline import Timeline


@dataclass(frozen=True)
class Shift:
    """The process changes from ``start`` on (the module docstring says exactly how)."""

    start: date  # the first day the shift applies
    transit_extra_days: int = 3  # carriers' extra days for shipments shipped on/after start
    lateness_factor: float = 1.5  # a ratio's excess over 1 is scaled by this from start on

    def __post_init__(self) -> None:
        if self.transit_extra_days < 0 or self.lateness_factor < 0:
            raise ValueError(f"a shift's extra days and lateness factor are >= 0: {self}")

    def first_day(self, tl: Timeline) -> int:
        """``start`` as a day of ``tl`` (day 0 is the world's start)."""
        return (self.start - tl.start).days

    def later(self, ratio: np.ndarray, day: np.ndarray, tl: Timeline) -> np.ndarray:
        """``ratio`` (draws, fills) of fills on ``day`` (fills,), late owners made later."""
        late = (day >= self.first_day(tl)) & (ratio > 1)
        scaled = 1 + np.float32(self.lateness_factor) * (ratio - 1)
        return np.where(late, scaled, ratio).astype(ratio.dtype)

    def extra_transit(self, ship_day: np.ndarray, tl: Timeline) -> np.ndarray:
        """Days carriers add to shipments shipped on ``ship_day``."""
        return self.transit_extra_days * (ship_day >= self.first_day(tl))

    def record(self) -> dict[str, Any]:
        """The shift as ``truth/process.json`` holds it."""
        return {
            "start": self.start.isoformat(),
            "transit_extra_days": self.transit_extra_days,
            "lateness_factor": self.lateness_factor,
        }
