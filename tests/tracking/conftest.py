"""Real MLflow stores for the tracking tests: the tiny workspace's own, or a fresh sqlite file per test."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
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
