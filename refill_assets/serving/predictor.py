"""A model directory (``bundle``) loaded for serving: onnxruntime and NumPy, nothing more.

Rows arrive as columns of Python values (from JSON or CSV); ``matrix`` validates them against
the feature schema and builds the float32 matrix the graphs were exported for, exactly as
``models.design.OrdinalEncoder`` does in training: numbers as they are, booleans as 0/1,
categories as the code of their sorted position, null and unseen categories as NaN.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from refill_assets.models.onnx_runtime import MANIFEST, run_graph, session
from refill_assets.models.outputs import aft_outputs, coherent


class InputError(ValueError):
    """Input that does not fit the feature schema; the message names the field (and row)."""


@dataclass
class ServedModel:
    manifest: dict
    sessions: dict[str, ort.InferenceSession]

    @classmethod
    def load(cls, folder: Path, threads: int = 1) -> ServedModel:
        manifest = json.loads((folder / MANIFEST).read_text())
        sessions = {
            name: session(str(folder / f"{name}.onnx"), threads) for name in manifest["graphs"]
        }
        return cls(manifest, sessions)

    @property
    def version(self) -> str:
        return str(self.manifest.get("model_version", "unversioned"))

    @property
    def fields(self) -> list[str]:
        return [*self.manifest["numeric"], *self.manifest["categorical"]]

    def matrix(self, columns: dict[str, list]) -> np.ndarray:
        """The feature matrix of the rows given as columns; ``InputError`` on the first
        missing or unknown field, or a value of the wrong type."""
        fields = self.fields
        unknown = sorted(set(columns) - set(fields))
        if unknown:
            raise InputError(f"unknown field {unknown[0]!r}; the model's fields: {fields}")
        missing = [f for f in fields if f not in columns]
        if missing:
            raise InputError(f"missing field {missing[0]!r} (null is allowed, absent is not)")
        n = len(columns[fields[0]])
        out = np.empty((n, len(fields)), dtype=np.float32)
        for j, name in enumerate(self.manifest["numeric"]):
            out[:, j] = _numbers(name, columns[name])
        offset = len(self.manifest["numeric"])
        for j, (name, categories) in enumerate(self.manifest["categorical"].items()):
            out[:, offset + j] = _codes(name, columns[name], categories)
        return out

    def predict(self, matrix: np.ndarray, columns: dict[str, list]) -> dict[str, np.ndarray]:
        """Prediction columns for the matrix (``columns`` gives the AFT's lapse deadline)."""
        if self.manifest["kind"] == "xgboost_aft":
            m = self.manifest
            supply = _numbers(m["supply_feature"], columns[m["supply_feature"]])
            # unknown supply: the training rows' typical one, as the native model does
            supply = np.where(np.isnan(supply), m["supply_fallback"], supply)
            deadline = np.clip(supply + m["lapse_grace_days"], 0.0, None)
            return aft_outputs(self._run("margin", matrix), m["sigma"], deadline, m["horizon_days"])
        raw = {name: self._run(name, matrix) for name in self.sessions}
        return coherent(raw["p50"], raw["p10"], raw["p90"], raw["lapse"])

    def _run(self, name: str, matrix: np.ndarray) -> np.ndarray:
        return run_graph(self.sessions[name], matrix)


def _numbers(name: str, values: list) -> np.ndarray:
    try:
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        row = next(i for i, v in enumerate(values) if not _is_number(v))
        raise InputError(
            f"field {name!r} row {row}: expected a number, true/false or null, got {values[row]!r}"
        ) from None


def _is_number(value) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _codes(name: str, values: list, categories: list[str]) -> np.ndarray:
    index = {c: float(i) for i, c in enumerate(categories)}
    out = np.full(len(values), math.nan)
    for row, value in enumerate(values):
        if isinstance(value, str):
            out[row] = index.get(value, math.nan)  # unseen: NaN, as in training
        elif value is not None:
            raise InputError(f"field {name!r} row {row}: expected a string or null, got {value!r}")
    return out
