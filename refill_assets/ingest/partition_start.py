"""The first daily partition: the landing zone's first delivery day, unless configured.

Dagster fixes a partitions definition's start when the definitions load, so the start is
decided then: ``REFILL_PARTITIONS_START`` when it is set, else the first delivery day of the
landing zone (``Landing.first_delivery_day``), else, for an empty or absent landing zone,
``settings.DEFAULT_PARTITIONS_START``. Deliveries before the first partition would never be
loaded: ``refill run`` refuses to start with ``left_behind``'s message, and the ingestion
reconciliation check (``ingest.reconcile``) fails with it on any other path (the UI, the
schedules), where the definitions were loaded before those deliveries were seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from refill_assets.ingest.landing import Landing
from refill_assets.settings import DEFAULT_PARTITIONS_START

VARIABLE = "REFILL_PARTITIONS_START"


@dataclass(frozen=True)
class PartitionStart:
    day: date  # the first daily partition
    configured: bool  # set by REFILL_PARTITIONS_START
    first_delivery: date | None  # the landing zone's first delivery day when decided, if known

    @property
    def source(self) -> str:
        if self.configured:
            return f"{VARIABLE}={self.day}"
        if self.first_delivery is not None:
            return "the landing zone's first delivery day when the definitions loaded"
        return f"{VARIABLE} unset and the landing zone empty: the default {self.day}"

    def left_behind(self, first_delivery: date | None) -> str | None:
        """Why deliveries starting on ``first_delivery`` cannot be run, and what to change;
        None when none of them lies before the first partition."""
        if first_delivery is None or first_delivery >= self.day:
            return None
        last_outside = self.day - timedelta(days=1)
        days = (
            f"{first_delivery}"
            if first_delivery == last_outside
            else f"{first_delivery} … {last_outside}"
        )
        if self.configured:
            fix = (
                f"unset {VARIABLE} (the partitions then start at the landing zone's first"
                f" delivery day) or set it to {first_delivery} or earlier"
            )
        else:
            fix = (
                "reload the definitions: with REFILL_PARTITIONS_START unset the partitions"
                " start at the first delivery day they find"
            )
        return (
            f"the landing zone's first delivery day is {first_delivery}, before the first"
            f" partition {self.day} ({self.source}): the deliveries of {days} would be left"
            f" behind; {fix}"
        )


def parse_start(configured: str) -> date:
    try:
        return date.fromisoformat(configured)
    except ValueError:
        raise ValueError(f"{VARIABLE}={configured!r} is not a date YYYY-MM-DD") from None


def decide(configured: str | None, landing: Landing, extracts: Iterable[str]) -> PartitionStart:
    """The first partition for ``configured`` (REFILL_PARTITIONS_START, None when unset) and
    the landing zone as it is now.

    Unset, the landing zone must be listable (its first delivery day is the start): an error
    names the landing zone and the variable that does without it. Set, the landing zone is
    looked at only to know its first delivery day; a listing error leaves it unknown.
    """
    extracts = list(extracts)
    if configured:
        day = parse_start(configured)
        try:
            first = landing.first_delivery_day(extracts)
        except Exception:  # the start is known; the run's own listing will say what is wrong
            first = None
        return PartitionStart(day, True, first)
    try:
        first = landing.first_delivery_day(extracts)
    except Exception as e:
        raise RuntimeError(
            f"cannot list the landing zone {landing.uri} to find its first delivery day"
            f" ({type(e).__name__}: {e}); fix its access, or set {VARIABLE}"
        ) from e
    default = date.fromisoformat(DEFAULT_PARTITIONS_START)
    return PartitionStart(first or default, False, first)
