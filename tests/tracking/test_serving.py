"""`mlflow models serve` of the champion: the same predictions as onnxruntime, a clear 4xx on a bad request."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import requests
from mlflow.artifacts import download_artifacts

from pipeline import promote
from pipeline.data.prepared import load_prepared
from tests.tracking.conftest import free_port, http_server, workspace_uri
from tests.workspace import BIN, pipeline_env

pytestmark = pytest.mark.slow
MODEL = "headstart-digits"


def test_served_champion_predicts_like_onnxruntime_and_rejects_bad_requests(tiny_workspace, tmp_path, monkeypatch):
    uri = workspace_uri(tiny_workspace)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tiny_workspace)
    assert promote.promote(MODEL, "finetuned.accuracy", 0.0).champion is not None
    images = load_prepared(tiny_workspace / "data" / "prepared").split("target", "test").images[:16].numpy()
    onnx_file = download_artifacts(f"models:/{MODEL}@champion", dst_path=str(tmp_path / "champion")) + "/model.onnx"
    expected = ort.InferenceSession(onnx_file, providers=["CPUExecutionProvider"]).run(None, {"images": images})[0]

    port = free_port()
    command = [str(BIN / "mlflow"), "models", "serve", "-m", f"models:/{MODEL}@champion", "--env-manager", "local",
               "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    with http_server(command, port, tiny_workspace, pipeline_env(MLFLOW_TRACKING_URI=uri), tmp_path / "serve.log", "/ping") as url:
        answer = requests.post(f"{url}/invocations", json={"inputs": {"images": images.tolist()}}, timeout=60)
        assert answer.status_code == 200, answer.text
        np.testing.assert_allclose(np.array(answer.json()["predictions"]["logits"], dtype=np.float32), expected, rtol=1e-5, atol=1e-5)

        flat = requests.post(f"{url}/invocations", json={"inputs": {"images": images.reshape(16, -1).tolist()}}, timeout=60)
        assert flat.status_code == 400
        assert "does not match expected shape (-1, 1, 8, 8)" in flat.json()["message"]
        assert "Tensor('float32', (-1, 1, 8, 8))" in flat.json()["message"]
        text = requests.post(f"{url}/invocations", json={"inputs": {"images": [[[["dark"] * 8] * 8]]}}, timeout=60)
        assert text.status_code == 400 and "could not convert string to float" in text.json()["message"]
