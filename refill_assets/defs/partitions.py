"""The daily partitions every partitioned asset shares (one delivery day each).

They start at ``START``, decided when the definitions load (``ingest.partition_start``):
REFILL_PARTITIONS_START when set, else the landing zone's first delivery day.
"""

import logging
from datetime import date

import dagster as dg

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.defs.resources import SETTINGS, landing_resource
from refill_assets.ingest.partition_start import decide

START = decide(SETTINGS.partitions_start, landing_resource().landing(), EXTRACTS)
if (_behind := START.left_behind(START.first_delivery)) is not None:
    # `refill run` refuses to start; in the UI, ingestion's files_reconciled check fails
    logging.getLogger(__name__).warning(_behind)

daily = dg.DailyPartitionsDefinition(start_date=START.day.isoformat())
# Mixed policies silently degrade a backfill to many runs: every partitioned asset uses this.
single_run = dg.BackfillPolicy.single_run()


def window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The (first, last) delivery day of the run's partition range."""
    r = context.partition_key_range
    return date.fromisoformat(r.start), date.fromisoformat(r.end)


def run_window(context: dg.AssetExecutionContext) -> tuple[date, date] | None:
    """An unpartitioned asset's view of the run it is in: the partitioned run's window, or
    None outside one (every day)."""
    partitioned = context.has_partition_key or context.has_partition_key_range
    return window(context) if partitioned else None
