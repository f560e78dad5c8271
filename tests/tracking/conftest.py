"""Real MLflow stores for the tracking tests: the tiny workspace's own, or a fresh sqlite file per test."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests
from mlflow.tracking import MlflowClient

from pipeline import tracking
from tests.workspace import pipeline_env


def client_for(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def workspace_uri(workspace: Path) -> str:
    return f"sqlite:///{workspace / 'mlflow.db'}"


def runs(client: MlflowClient, **tags: str) -> list:
    experiment = client.get_experiment_by_name(tracking.EXPERIMENT)
    where = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
    return client.search_runs([experiment.experiment_id], filter_string=where, order_by=["attributes.start_time ASC"])


def stage_process(workspace: Path, uri: str, stage: str = "export") -> subprocess.Popen:
    """A process that opens a stage run, prints `ready <run id>` and waits to be signalled."""
    code = ("import time\nfrom pipeline import tracking\n"
            f"with tracking.stage_run({stage!r}) as run:\n"
            "    print('ready', run.info.run_id, flush=True)\n    time.sleep(120)\n")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=workspace, env=pipeline_env(MLFLOW_TRACKING_URI=uri),
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().split()
    assert line[:1] == ["ready"], f"stage process did not start: {line}"
    process.run_id = line[1]
    return process


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    """A fresh sqlite store this process and its children use through MLFLOW_TRACKING_URI."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)  # a new experiment's ./mlartifacts lands here, not in the checkout
    monkeypatch.delenv(tracking.PARENT_RUN_ENV, raising=False)
    return uri


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def http_server(command: list[str], port: int, cwd: Path, env: dict, log: Path, ready_path: str = "/health",
                timeout: float = 180) -> Iterator[str]:
    """Run a server (in its own process group, so its workers stop with it) until it answers
    `ready_path` on the loopback port; yields its base URL and stops it afterwards."""
    url = f"http://127.0.0.1:{port}"
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, f"{command[:3]} exited {process.returncode}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{command[:3]} not ready after {timeout}s:\n{log.read_text()[-3000:]}"
            try:
                if requests.get(url + ready_path, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
