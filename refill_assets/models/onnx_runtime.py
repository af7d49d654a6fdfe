"""The serving bundle's format and how its ONNX graphs run: onnxruntime and NumPy only.

Both sides use it: the ONNX export checks its graphs with it (``models.onnx_export``) and
the inference service serves them with it (``serving.predictor``), which is why it lives
below both and imports nothing of the training code.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

MANIFEST = "serving.json"  # the bundle's schema file (refill_assets.models.bundle)
EXAMPLE = "example.json"  # a request body for a deploy's smoke test (models.bundle)
INPUT = "features"  # the graphs' input name, given at export (refill_assets.models.onnx_export)


def session(graph: str | bytes, threads: int = 1) -> ort.InferenceSession:
    """An onnxruntime session of one exported graph (a path or its bytes).

    One thread per worker: the workers are the parallelism. Two threads evaluate a 1,000-row
    batch's trees in 6 ms instead of 9 per graph, but with two workers on two cores they cost a
    quarter of the throughput (4,070 -> 3,010 requests/s) and gained nothing end to end
    (bench_service); no spinning either way.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # the converted classifier declares its label output as shape {1}: a harmless warning
    options.log_severity_level = 3
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def run_graph(graph: ort.InferenceSession, matrix: np.ndarray) -> np.ndarray:
    """The graph's output for the feature matrix: a regressor's value, a classifier's P(1)."""
    outputs = graph.run(None, {INPUT: matrix})
    # regressors have one output; classifiers (label, probabilities): keep P(lapse)
    return outputs[0].ravel() if len(outputs) == 1 else outputs[1][:, 1]
