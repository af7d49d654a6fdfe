"""The inference service, started as the container would start it (`serve`), over loopback."""

from __future__ import annotations

import json
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from refill_assets.models.bundle import package, write_bundle
from refill_assets.models.lgbm import LgbmModel
from refill_assets.models.onnx_export import export_onnx
from refill_assets.models.split import time_split
from refill_assets.models.xgb_aft import XgbAftModel
from refill_assets.serving.app import MAX_PAYLOAD_BYTES
from tests.support.model_fixture import CATEGORICAL, NUMERIC, make_frame
from tests.support.service_process import serving

KEY = "test-api-key-0123456789"
FIELDS = [*NUMERIC, *CATEGORICAL]
MODELS = {
    "lightgbm": lambda: LgbmModel(NUMERIC, CATEGORICAL, n_jobs=1, params={"n_estimators": 60}),
    "xgboost_aft": lambda: XgbAftModel(
        NUMERIC, CATEGORICAL, nthread=1, params={"num_boost_round": 60}
    ),
}


@pytest.fixture(scope="module")
def split():
    return time_split(make_frame(n_rx=600, missing_share=0.05))


@pytest.fixture(scope="module", params=list(MODELS))
def service(request, split, tmp_path_factory):
    """The model packaged as for SageMaker, unpacked, and served by a `serve` process."""
    model = MODELS[request.param]().fit(split.train)
    root = tmp_path_factory.mktemp(request.param)
    archive = package(write_bundle(export_onnx(model), root / "bundle"), "7", root / "model.tar.gz")
    model_dir = root / "opt-ml-model"
    with tarfile.open(archive) as tar:
        tar.extractall(model_dir, filter="data")
    log = root / "service.log"
    with serving(model_dir, log, KEY) as (url, process):
        yield {"url": url, "model": model, "log": log, "process": process}


def _post(url: str, body: bytes, content_type="application/json", key: str | None = KEY):
    headers = {"content-type": content_type}
    if key is not None:
        headers["x-api-key"] = key
    request = urllib.request.Request(f"{url}/invocations", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _instances(frame: pl.DataFrame) -> list[dict]:
    return frame.select(FIELDS).to_dicts()


def test_ping_needs_no_key(service):
    with urllib.request.urlopen(f"{service['url']}/ping", timeout=5) as response:
        assert response.status == 200


def test_predictions_are_the_models_own(service, split):
    rows = split.test.head(200)
    status, body = _post(service["url"], json.dumps({"instances": _instances(rows)}).encode())
    assert status == 200 and body["model_version"] == "7"
    served = pl.DataFrame(body["predictions"])
    native = service["model"].predict(rows)
    for column in native.columns:
        assert np.abs(served[column].to_numpy() - native[column].to_numpy()).max() <= 1e-3
    assert (served["p10_days"] <= served["predicted_days_to_refill"]).all()


def test_csv_gives_what_json_gives(service, split):
    rows = split.test.head(50).select(FIELDS)
    _, as_json = _post(service["url"], json.dumps({"instances": rows.to_dicts()}).encode())
    status, as_csv = _post(service["url"], rows.write_csv().encode(), "text/csv")
    assert status == 200
    from_csv, from_json = pl.DataFrame(as_csv["predictions"]), pl.DataFrame(as_json["predictions"])
    assert from_csv.columns == from_json.columns and from_csv.height == 50
    for column in from_json.columns:
        assert from_csv[column].to_list() == pytest.approx(from_json[column].to_list())


def test_the_api_key_is_required(service, split):
    body = json.dumps({"instances": _instances(split.test.head(1))}).encode()
    assert _post(service["url"], body, key=None)[0] == 401
    assert _post(service["url"], body, key=KEY[:-1] + "x")[0] == 401


@pytest.mark.parametrize(
    ("mutate", "status", "named"),
    [
        (lambda r: r | {"colour": "red"}, 400, "colour"),
        (lambda r: {k: v for k, v in r.items() if k != "drug_class"}, 400, "drug_class"),
        (lambda r: r | {"days_since_last_fill": "soon"}, 400, "days_since_last_fill"),
        (lambda r: r | {"species": 3}, 400, "species"),
    ],
)
def test_malformed_input_names_the_field(service, split, mutate, status, named):
    row = mutate(_instances(split.test.head(1))[0])
    code, body = _post(service["url"], json.dumps({"instances": [row]}).encode())
    assert code == status and named in body["error"]


def test_bad_requests_get_a_4xx_and_the_worker_goes_on(service, split):
    url = service["url"]
    assert _post(url, b"{not json")[0] == 400
    assert _post(url, b'{"rows": []}')[0] == 400
    assert _post(url, b"a,b\n1", "text/csv")[0] == 400
    assert _post(url, b"<xml/>", "application/xml")[0] == 415
    assert _post(url, b" " * (MAX_PAYLOAD_BYTES + 1))[0] == 413
    ok = json.dumps({"instances": _instances(split.test.head(3))}).encode()
    status, body = _post(url, ok)
    assert status == 200 and len(body["predictions"]) == 3
    assert service["process"].poll() is None


def test_a_batch_near_the_payload_limit_is_served(service, split):
    rows = _instances(split.test.head(1)) * 10_000
    body = json.dumps({"instances": rows}).encode()
    assert 0.25 * MAX_PAYLOAD_BYTES < len(body) < MAX_PAYLOAD_BYTES
    status, answer = _post(service["url"], body)
    assert status == 200 and len(answer["predictions"]) == 10_000


def test_each_request_is_one_json_log_line_without_payload_values(service, split):
    rows = split.test.head(2)
    _post(service["url"], json.dumps({"instances": _instances(rows)}).encode())
    time.sleep(0.2)
    lines = [json.loads(x) for x in Path(service["log"]).read_text().splitlines() if x[:1] == "{"]
    last = [x for x in lines if x["path"] == "/invocations" and x["status"] == 200][-1]
    assert set(last) == {
        "method", "path", "status", "bytes_in", "bytes_out", "rows", "latency_ms", "model_version"
    }  # fmt: skip
    assert last["rows"] == 2 and last["model_version"] == "7" and last["bytes_in"] > 0
    text = Path(service["log"]).read_text()
    assert str(rows["prior_lateness_mean"][0]) not in text
