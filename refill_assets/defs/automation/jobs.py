"""The one job that builds the whole graph, and its nightly schedule."""

import dagster as dg

refill_all = dg.define_asset_job(
    "refill_all",
    selection=dg.AssetSelection.all(),
    description="Everything, for a range of delivery days (a single-run backfill).",
)

# Each night at 02:00 UTC, yesterday's deliveries (the partition that just closed).
nightly = dg.build_schedule_from_partitioned_job(
    refill_all, hour_of_day=2, default_status=dg.DefaultScheduleStatus.STOPPED
)
