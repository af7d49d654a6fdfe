"""The one job that builds the whole graph, and its nightly schedule."""

import dagster as dg

from refill_assets.defs.partitions import daily

refill_all = dg.define_asset_job(
    "refill_all",
    selection=dg.AssetSelection.all(),
    partitions_def=daily,
    description="Everything, for a range of delivery days (a single-run backfill).",
)

# Each night at 02:00 UTC, yesterday's deliveries (the partition that just closed).
nightly = dg.build_schedule_from_partitioned_job(
    refill_all, hour_of_day=2, default_status=dg.DefaultScheduleStatus.STOPPED
)
