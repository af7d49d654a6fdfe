"""The daily partitions every partitioned asset shares (one delivery day each)."""

from datetime import date

import dagster as dg

from refill_assets.defs.resources import SETTINGS

daily = dg.DailyPartitionsDefinition(start_date=SETTINGS.partitions_start)
# Mixed policies silently degrade a backfill to many runs: every partitioned asset uses this.
single_run = dg.BackfillPolicy.single_run()


def window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The (first, last) delivery day of the run's partition range."""
    r = context.partition_key_range
    return date.fromisoformat(r.start), date.fromisoformat(r.end)
