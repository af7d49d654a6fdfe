"""Feature matrices: the same float32 matrix feeds native boosters and their ONNX exports."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl


@dataclass
class OrdinalEncoder:
    """Numeric columns as they are, categorical ones as codes learnt at fit.

    Codes follow the sorted category order so refits on the same data agree; unseen or null
    categories become NaN, which trees route down their learnt missing-value branch (a
    LightGBM feature without nulls in training has none: it reads NaN as 0.0, the first
    category, and its ONNX export does the same).

    float32 because that is what ONNX tree ensembles compute in, and this is the one place
    both paths get their matrix from, at fit and at predict time: native and exported models
    see identical values. ``onnx_export`` relies on it: its float32 rewrite of the LightGBM
    thresholds is exact only for float32 inputs.
    """

    numeric: list[str]
    categorical: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def fit(self, frame: pl.DataFrame) -> OrdinalEncoder:
        self.categories = {
            c: sorted(frame.get_column(c).drop_nulls().cast(pl.String).unique().to_list())
            for c in self.categorical
        }
        return self

    def transform(self, frame: pl.DataFrame) -> np.ndarray:
        numeric = [pl.col(c).cast(pl.Float32) for c in self.numeric]
        coded = [
            pl.col(c)
            .cast(pl.String)
            .replace_strict(cats, list(range(len(cats))), default=None, return_dtype=pl.Float32)
            for c, cats in self.categories.items()
        ]
        matrix = frame.select(*numeric, *coded).to_numpy().astype(np.float32, copy=False)
        return np.ascontiguousarray(matrix)


def row_sample(n: int, max_rows: int, seed: int) -> np.ndarray | None:
    """Sorted indices of ``max_rows`` of ``n`` rows drawn with ``seed``; None when ``n`` is
    not more (every row is used)."""
    if n <= max_rows:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))
