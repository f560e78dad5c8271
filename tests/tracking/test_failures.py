"""A stage that raises or is terminated ends FAILED; runs of killed processes are swept to KILLED."""
from __future__ import annotations

import shutil
import signal
import socket

import pytest
import yaml
from mlflow.entities import RunStatus

from pipeline import lineage, tracking
from tests.tracking.conftest import client_for, runs, stage_process
from tests.workspace import pipeline_env, repro

pytestmark = pytest.mark.slow


def status(client, run_id: str) -> str:
    return client.get_run(run_id).info.status


def test_a_stage_that_raises_leaves_its_run_and_the_parent_failed(tiny_workspace, tmp_path, store):
    workspace = shutil.copytree(tiny_workspace, tmp_path / "repo", ignore=shutil.ignore_patterns("mlflow.db", "mlartifacts"))
    params = yaml.safe_load((workspace / "params.yaml").read_text())
    params["runtime"]["device"] = "no-such-device"  # torch.device() raises inside the stage run
    (workspace / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = repro(workspace, "--force", "--single-item", "pretrain", env=pipeline_env(MLFLOW_TRACKING_URI=store), check=False)
    assert result.returncode != 0
    client = client_for(store)
    (parent,) = runs(client, **{tracking.STAGE_TAG: "pipeline"})
    (child,) = runs(client, **{"mlflow.parentRunId": parent.info.run_id})
    assert (child.info.run_name, child.info.status, parent.info.status) == ("pretrain", "FAILED", "FAILED")


def test_sigterm_leaves_the_stage_run_failed(tiny_workspace, store):
    process = stage_process(tiny_workspace, store)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert status(client_for(store), process.run_id) == "FAILED"


def test_pipeline_start_sweeps_runs_of_dead_processes_only(tiny_workspace, store, monkeypatch):
    monkeypatch.chdir(tiny_workspace)  # a pipeline starts at the root of its repository
    killed, alive = stage_process(tiny_workspace, store), stage_process(tiny_workspace, store)
    killed.kill()
    killed.wait(timeout=30)
    client = client_for(store)
    experiment_id = client.get_run(alive.run_id).info.experiment_id
    # Left RUNNING by a process of another host: its pid means nothing here, so it is not touched.
    elsewhere = client.create_run(experiment_id, tags={lineage.HOST: socket.gethostname() + "-other", lineage.PID: str(killed.pid),
                                                       lineage.PID_STARTED: "0.0"}).info.run_id
    assert {status(client, r) for r in (killed.run_id, alive.run_id, elsewhere)} == {"RUNNING"}
    try:
        with tracking.pipeline_run("next pipeline") as parent:
            pass
        assert status(client, killed.run_id) == RunStatus.to_string(RunStatus.KILLED)
        assert status(client, alive.run_id) == "RUNNING"
        assert status(client, elsewhere) == "RUNNING"
        assert status(client, parent) == "FINISHED"
    finally:
        alive.terminate()
        alive.wait(timeout=60)
    assert status(client, alive.run_id) == "FAILED"
