"""The sweep flow on a 2 x 2 grid: four DVC experiments and one comparison table."""
from __future__ import annotations

import shutil

import pytest
from mlflow.tracking import MlflowClient

from flows.sweep import sweep
from tests.workspace import dvc

pytestmark = pytest.mark.slow
FEW_EPOCHS = ["pretrain.epochs=1", "finetune.epochs=2", "finetune.head_epochs=1", "evaluate.scratch_epochs=2"]


def test_sweep_runs_each_combination_as_an_experiment_and_tabulates(trained, tmp_path):
    workspace = tmp_path / "repo"
    shutil.copytree(trained[0], workspace)
    state = sweep(["head", "full"], [1, 2], overrides=FEW_EPOCHS, workspace=str(workspace), return_state=True)
    assert state.is_completed(), state.message
    report = (workspace / "reports" / "sweep.md").read_text()
    rows = [line for line in report.splitlines() if line.startswith(("| head |", "| full |"))]
    assert sorted(row.split(" | ")[:2] for row in rows) == [["| full", "1"], ["| full", "2"], ["| head", "1"], ["| head", "2"]]
    experiments = [row.rstrip(" |").rsplit(" | ", 1)[1] for row in rows]
    listed = dvc(workspace, "exp", "ls").stdout
    assert all(name in listed for name in experiments)

    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")
    [parent] = client.search_runs([client.get_experiment_by_name("headstart").experiment_id],
                                  filter_string=f"tags.`prefect.flow_run_id` = '{state.state_details.flow_run_id}' and attributes.run_name = 'sweep'")
    assert {"head.k1.accuracy", "full.k2.accuracy"} <= set(parent.data.metrics)
    assert [a.path for a in client.list_artifacts(parent.info.run_id)] == ["sweep.md"]
    finetune_runs = client.search_runs([parent.info.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}' and attributes.run_name = 'finetune'")
    assert sorted((r.data.params["finetune.strategy"], r.data.tags["dvc.exp_name"] in experiments) for r in finetune_runs) == \
        [("full", True), ("full", True), ("head", True), ("head", True)]
