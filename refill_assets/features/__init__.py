"""Point-in-time features, training examples and scoring rows (plain Python, no Dagster).

- ``registry``: the feature registry (``FEATURES``), read by training, scoring and reports;
- ``frame.feature_frame``: features of (rx, as-of day) keys, the one code path;
- ``examples``: ``training_examples`` (labelled snapshots), ``scoring_rows`` and
  ``reference_population`` (the nights a model's drift is measured against);
- ``snapshot.snapshot_hash``: a content hash of a training snapshot;
- ``relations_read``: the warehouse relations all of it reads.
"""

from refill_assets.features.examples import (
    SAMPLE_SQL,
    SCORING_SQL,
    reference_population,
    scoring_rows,
    training_examples,
)
from refill_assets.features.frame import FEATURE_SQL, HOLIDAYS_FRAME, KEYS_FRAME, feature_frame
from refill_assets.features.registry import (
    FEATURES,
    Feature,
    categorical_names,
    feature_names,
)
from refill_assets.features.snapshot import snapshot_hash
from refill_assets.storage import relations

# every SQL text the feature builder runs (FEATURE_SQL holds the CTEs of rx_history,
# supply and owner)
SQL_TEXTS = (SAMPLE_SQL, SCORING_SQL, FEATURE_SQL)


def relations_read() -> frozenset[tuple[str, str]]:
    """The (schema, table) pairs of the warehouse that training examples, scoring rows
    and the feature frame read, from their SQL texts (the frames ``feature_frame``
    registers on the connection left out)."""
    registered = {(relations.DEFAULT_SCHEMA, name) for name in (KEYS_FRAME, HOLIDAYS_FRAME)}
    return frozenset().union(*map(relations.relations_read, SQL_TEXTS)) - registered


__all__ = [
    "FEATURES",
    "Feature",
    "categorical_names",
    "feature_frame",
    "feature_names",
    "reference_population",
    "relations_read",
    "scoring_rows",
    "snapshot_hash",
    "training_examples",
]
