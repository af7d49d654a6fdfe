"""The ledger of the faults the simulator injects into the landing zone (``truth/faults.csv``).

A *fault* here is a day on which a person looking at the feed should be told
that something is wrong with an extract: a data-quality alert on that day is
a true positive, an alert on another day a false one. The contract's routine
habits are not faults: late rows, identical or newer re-sends, several files
a day, duplicated files, shuffled CSV columns, malformed rows at a steady
rate. Ingestion absorbs those every day, and nobody should be woken for them.

The faults, all placed by fractions of the world in ``delivery``
(``quirk_day``), one row each, ``day`` being the delivery day (the ``dt`` of
the folder):

``outage``
    One per PMS extract (``OUTAGE_DAY_FRACTION``): the extract has no
    ``dt=<day>`` folder at all, and that day's rows come with the next day's
    delivery. Nothing else lands there either: a file planned to be
    delivered again "in the next day's folder" goes to the next day that has
    a delivery, so a copy of the file of the day before the outage lands on
    the day after it, never in the outage's folder. The day is placed
    without looking at the rows: in a small world a sparse extract
    (vet_reauth, customers) may have had nothing to deliver that day anyway,
    and then the outage cannot be seen in the feed.
``file_missing_column``
    rx_orders (``MISSING_COLUMN_DAY_FRACTION``): a manual re-export in that
    day's folder (``writer.MISSING_COLUMN_SUFFIX``) without the required
    ``order_ts`` column, rejected whole. Its rows are delivered properly too.
``file_truncated``
    inventory (``TRUNCATED_DAY_FRACTION``): one warehouse's Parquet snapshot
    in that day's folder is cut short and cannot be read. (Should that file
    also be drawn as a routine duplicate, its copy is truncated as well: a
    renamed one in the same folder, or one in the next delivery's folder,
    which the ledger does not list.)
``schema_drift``
    rx_orders (``DRIFT_DAY_FRACTION``): the unknown column ``loyalty_tier``
    is in no file before that day and in the files delivered from it on.

These promises hold for worlds of 13 days or more; in shorter ones two of
rx_orders' fractions can round to the same day. ``quirks=False`` worlds have
no faults: the ledger is empty (with the same columns).
"""

from __future__ import annotations

import polars as pl

from refill_simulator.delivery import (
    DRIFT_DAY_FRACTION,
    MISSING_COLUMN_DAY_FRACTION,
    OUTAGE_DAY_FRACTION,
    TRUNCATED_DAY_FRACTION,
    quirk_day,
)
from refill_simulator.timeline import Timeline

FAULTS_FILE = "faults.csv"
OUTAGE = "outage"
FILE_MISSING_COLUMN = "file_missing_column"
FILE_TRUNCATED = "file_truncated"
SCHEMA_DRIFT = "schema_drift"
FAULT_KINDS = (OUTAGE, FILE_MISSING_COLUMN, FILE_TRUNCATED, SCHEMA_DRIFT)
SCHEMA = {"extract": pl.Utf8, "day": pl.Date, "kind": pl.Utf8}


def _placed(quirks: bool) -> list[tuple[str, float, str]]:
    """(extract, day fraction, kind) of every fault of the world."""
    if not quirks:
        return []
    outages = [(name, fraction, OUTAGE) for name, fraction in OUTAGE_DAY_FRACTION.items()]
    return outages + [
        ("rx_orders", MISSING_COLUMN_DAY_FRACTION, FILE_MISSING_COLUMN),
        ("inventory", TRUNCATED_DAY_FRACTION, FILE_TRUNCATED),
        ("rx_orders", DRIFT_DAY_FRACTION, SCHEMA_DRIFT),
    ]


def injected_faults(tl: Timeline, quirks: bool) -> pl.DataFrame:
    """One row per fault (``extract``, ``day``, ``kind``), sorted by day; empty without quirks."""
    placed = _placed(quirks)
    days = pl.Series([quirk_day(tl, fraction) for _, fraction, _ in placed], dtype=pl.Int64)
    return pl.DataFrame(
        {
            "extract": [extract for extract, _, _ in placed],
            "day": (days + tl.epoch_day).cast(pl.Int32).cast(pl.Date),
            "kind": [kind for _, _, kind in placed],
        },
        schema=SCHEMA,
    ).sort("day", "extract", "kind")
