"""The jobs that build the graph, and their schedules.

- ``refill_all``: everything but the nightly scores, over a range of delivery
  days (the single-run backfill; `refill run` without --since).
- ``curate``: landing to curated warehouse, reports and published copy; no
  models (`refill run --skip-training`: reloading history, tests).
- ``score``: the scores of one day, the outreach export from them, the
  monitoring (outcomes settled, live performance) and the analysts' copy after them.
- ``nightly``: one night: ingestion, dbt, scores with the current champion, the
  outreach export and the published copy; no training, no EDA report (a profile of the history
  that one night barely moves).
- ``retrain``: the EDA report, the training snapshot, every model and the gate.

The cost jobs live with their assets: ``cost_daily`` in ``defs/cost``, ``untagged_sweep`` in
``defs/deploy/sweep.py``.
"""

import dagster as dg

# the scores and what follows from them: the export, the outcomes and live performance
SCORES = dg.AssetSelection.assets(
    ["scores", "rx_refill_scores"], ["outreach", "refill_outreach_export"]
) | dg.AssetSelection.groups("monitoring")
PUBLISHED = dg.AssetSelection.assets(["published_warehouse"])
TRAINING = dg.AssetSelection.groups("features", "models")
EDA = dg.AssetSelection.assets(["reports", "eda"])
# deploys run only from their sensor (defs/deploy), one per new champion
DEPLOY = dg.AssetSelection.groups("deploy")
# the AWS bill runs in its own daily job (defs/cost), as the untagged sweep (defs/deploy)
COST = dg.AssetSelection.groups("cost")

refill_all = dg.define_asset_job(
    "refill_all",
    selection=dg.AssetSelection.all() - SCORES - DEPLOY - COST,
    description="Everything but the scores, for a range of delivery days (single-run backfill).",
)
curate = dg.define_asset_job(
    "curate",
    selection=dg.AssetSelection.all() - SCORES - TRAINING - DEPLOY - COST,
    description="Landing to curated warehouse, reports and the published copy; no models.",
)
score = dg.define_asset_job(
    "score",
    selection=SCORES | PUBLISHED,
    description="The champion's scores for a day, then the analysts' copy.",
)
nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all() - TRAINING - EDA - DEPLOY - COST,
    description="One night's deliveries through to the scores, with the current champion.",
)
retrain = dg.define_asset_job(
    "retrain",
    selection=TRAINING | EDA,
    description="The EDA report, a fresh training snapshot, every model, validation and the "
    "champion gate.",
)

# Each night at 02:00 UTC, yesterday's deliveries (the partition that just closed).
nightly = dg.build_schedule_from_partitioned_job(
    nightly_job, hour_of_day=2, default_status=dg.DefaultScheduleStatus.STOPPED
)
# Sundays at 04:00 UTC; models learn from weeks, not nights.
weekly_retrain = dg.ScheduleDefinition(
    job=retrain, cron_schedule="0 4 * * 0", default_status=dg.DefaultScheduleStatus.STOPPED
)
