"""Point-in-time features, training examples and scoring rows (plain Python, no Dagster).

- ``registry``: the feature registry (``FEATURES``), read by training, scoring and reports;
- ``frame.feature_frame``: features of (rx, as-of day) keys, the one code path;
- ``examples``: ``training_examples`` (labelled snapshots) and ``scoring_rows``;
- ``snapshot.snapshot_hash``: a content hash of a training snapshot.
"""

from refill_assets.features.examples import scoring_rows, training_examples
from refill_assets.features.frame import feature_frame
from refill_assets.features.registry import (
    FEATURES,
    Feature,
    categorical_names,
    feature_names,
)
from refill_assets.features.snapshot import snapshot_hash

__all__ = [
    "FEATURES",
    "Feature",
    "categorical_names",
    "feature_frame",
    "feature_names",
    "scoring_rows",
    "snapshot_hash",
    "training_examples",
]
