"""The training flow against a real Prefect server, driving real DVC and MLflow on tiny params."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from prefect.settings import PREFECT_API_URL

from flows.dvc_commands import stage_order
from flows.train import train
from tests.flows.conftest import task_runs
from tests.workspace import REPO, copy_repo, dvc

pytestmark = pytest.mark.slow
STAGES = ["prepare", "pretrain", "finetune", "evaluate", "export"]


def mlflow_runs(workspace: Path) -> list:
    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")
    return client.search_runs([client.get_experiment_by_name("headstart").experiment_id], order_by=["start_time DESC"])


def test_stage_order_is_dvc_yaml_order():
    assert stage_order(REPO) == STAGES


def test_every_stage_is_one_task_run_that_ran(trained):
    _, state = trained
    assert state.is_completed(), state.message
    assert state.result() == {stage: "ran" for stage in STAGES}
    runs = task_runs(state)
    assert [run.name for run in runs] == STAGES
    assert all(run.state.is_completed() and run.run_count == 1 for run in runs)


def test_flow_run_id_is_on_the_parent_run_and_every_stage_run(trained):
    workspace, state = trained
    flow_run_id = str(state.state_details.flow_run_id)
    runs = [r for r in mlflow_runs(workspace) if r.data.tags.get("prefect.flow_run_id") == flow_run_id]
    parent = next(r for r in runs if r.info.run_name == "pipeline")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert parent.info.status == "FINISHED"
    assert sorted(r.info.run_name for r in children) == sorted(STAGES)


def test_second_run_skips_every_stage(trained):
    workspace, _ = trained
    state = train(workspace=str(workspace), return_state=True)
    assert state.result() == {stage: "skipped (up to date)" for stage in STAGES}


def test_lock_held_by_another_dvc_process_is_retried_then_succeeds(trained):
    workspace, _ = trained
    # A real DVC repo lock, held from another process as a manual `dvc` command would: long enough for
    # the first attempt to fail even on a loaded machine (DVC itself retries for 3 s), short of the backoff total.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from dvc.lock import Lock; lock = Lock(sys.argv[1]); lock.lock(); "
         "print('held', flush=True); time.sleep(12); lock.unlock()", str(workspace / ".dvc" / "tmp" / "lock")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    state = train(workspace=str(workspace), return_state=True)
    holder.wait()
    assert state.is_completed(), state.message
    first = task_runs(state)[0]
    assert first.name == "prepare" and first.run_count >= 2


def test_gate_failure_fails_at_once_and_leaves_the_mlflow_run_failed(prefect_server, tmp_path):
    workspace = copy_repo(tmp_path / "repo")
    # Two source validation rows cannot cover ten classes: prepare's pandera gate fails.
    state = train(overrides=["prepare.source.val_fraction=0.001"], workspace=str(workspace), return_state=True)
    assert state.is_failed()
    assert "Validation failed for table 'source'" in state.message
    runs = task_runs(state)
    assert [(run.name, run.run_count, run.state.type.value) for run in runs] == [("set-params", 1, "COMPLETED"), ("prepare", 1, "FAILED")]
    parent = next(r for r in mlflow_runs(workspace) if r.info.run_name == "pipeline")
    assert parent.info.status == "FAILED"


def test_concurrent_runs_wait_for_each_other_and_both_succeed(trained, tmp_path):
    workspace = tmp_path / "repo"
    shutil.copytree(trained[0], workspace)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "flows.train", "--workspace", str(workspace), "export.latency_repeats=5"]
    processes = [subprocess.Popen([*command, "--name", f"concurrent-{i}"], env=env, cwd=REPO, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(2)]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    # Serialised: the override changes export only; whichever ran second found it up to date.
    assert sorted(next(line for line in out.splitlines() if line.startswith("export: ")) for out in outputs) == \
        ["export: ran", "export: skipped (up to date)"]
    assert any("waiting for it to finish" in out for out in outputs)
    # The override reached the stage through params.yaml: MLflow and the DVC experiment record it.
    export_runs = [r for r in mlflow_runs(workspace) if r.info.run_name == "export" and r.data.tags.get("dvc.exp_name", "").startswith("concurrent-")]
    assert [r.data.params["export.latency_repeats"] for r in export_runs] == ["5"]
    assert "concurrent-0" in dvc(workspace, "exp", "ls").stdout and "concurrent-1" in dvc(workspace, "exp", "ls").stdout
