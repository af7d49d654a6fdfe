"""The one Definitions object: the pipeline's table of contents, in flow order."""

import dagster as dg

from refill_assets.defs.automation.jobs import nightly, refill_all
from refill_assets.defs.ingest.assets import ingest_assets
from refill_assets.defs.publish.assets import build_publish_asset
from refill_assets.defs.resources import build_resources

_pipeline = [*ingest_assets]

defs = dg.Definitions(
    assets=[*_pipeline, build_publish_asset([a.key for a in ingest_assets])],
    jobs=[refill_all],
    schedules=[nightly],
    resources=build_resources(),
)
