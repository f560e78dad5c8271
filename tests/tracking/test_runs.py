"""After the tiny end-to-end run: one parent run, a nested child per stage, params, curves, artifacts, lineage."""
from __future__ import annotations

import subprocess

import pandas as pd
import pytest
import yaml

from pipeline import tracking
from pipeline.params import flatten
from tests.tracking.conftest import client_for, runs, workspace_uri
from tests.workspace import dvc, pipeline_env

pytestmark = pytest.mark.slow
STAGES = ["prepare", "pretrain", "finetune", "evaluate", "export"]


@pytest.fixture(scope="module")
def client(tiny_workspace):
    return client_for(workspace_uri(tiny_workspace))


def children(client, parent_id: str) -> dict:
    return {run.info.run_name: run for run in runs(client, **{"mlflow.parentRunId": parent_id})}


@pytest.fixture(scope="module")
def first_pipeline(client):
    """The parent run of the fixture's `python -m pipeline.repro` (later tests may add more runs)."""
    return runs(client, **{tracking.STAGE_TAG: "pipeline"})[0]


def test_one_parent_with_a_finished_child_per_stage(client, first_pipeline):
    assert first_pipeline.info.status == "FINISHED"
    assert first_pipeline.info.run_name == "dvc repro"
    stages = children(client, first_pipeline.info.run_id)
    assert sorted(stages) == sorted(STAGES)
    for run in stages.values():
        assert run.info.status == "FINISHED"
        assert run.info.experiment_id == first_pipeline.info.experiment_id


def test_child_runs_carry_params_curves_metrics_and_artifacts(tiny_workspace, client, first_pipeline):
    stages = children(client, first_pipeline.info.run_id)
    params = yaml.safe_load((tiny_workspace / "params.yaml").read_text())
    finetune = stages["finetune"]
    # The stage's params sections as dvc.yaml lists them (seed, model, finetune), flattened.
    expected = flatten({"seed": params["seed"], "model": params["model"], "finetune": params["finetune"]})
    assert finetune.data.params == {k: str(v) for k, v in expected.items()}
    curve = client.get_metric_history(finetune.info.run_id, "finetune.val_accuracy")
    history = pd.read_csv(tiny_workspace / "plots" / "finetune_history.csv")
    assert sorted(m.step for m in curve) == sorted(history["epoch"]) and len(curve) > 1
    evaluate = stages["evaluate"]
    assert 0 < evaluate.data.metrics["finetuned.accuracy"] <= 1
    assert {a.path for a in client.list_artifacts(evaluate.info.run_id)} >= {"evaluate.md", "confusion.csv", "attention_maps.png"}


def test_every_run_is_tagged_with_lineage(tiny_workspace, client, first_pipeline):
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tiny_workspace, capture_output=True, text=True).stdout.strip()
    lock = yaml.safe_load((tiny_workspace / "dvc.lock").read_text())["stages"]
    for run in [first_pipeline, *children(client, first_pipeline.info.run_id).values()]:
        tags = run.data.tags
        assert tags["git.commit"] == commit and tags["git.dirty"] in ("true", "false")
        assert tags["dvc.exp_name"] == "" and tags["prefect.flow_run_id"] == ""
        if run is first_pipeline:
            continue
        # The hashes the stage computed before it ran are the ones DVC then locked for it.
        locked = {dep["path"]: dep["md5"] for dep in lock[run.info.run_name]["deps"]}
        assert {k.removeprefix("dvc.dep."): v for k, v in tags.items() if k.startswith("dvc.dep.")} == locked


def test_plain_dvc_repro_nests_its_stages_under_one_parent_per_invocation(tiny_workspace, client):
    before = {run.info.run_id for run in runs(client, **{tracking.STAGE_TAG: "pipeline"})}
    dvc(tiny_workspace, "repro", "--force", "--single-item", "prepare", "export", env=pipeline_env(HEADSTART_FLOW_RUN_ID="flow-123"))
    (parent,) = [run for run in runs(client, **{tracking.STAGE_TAG: "pipeline"}) if run.info.run_id not in before]
    assert tracking.INVOCATION_TAG in parent.data.tags and parent.info.status == "FINISHED"
    stages = children(client, parent.info.run_id)
    assert sorted(stages) == ["export", "prepare"]
    assert {run.data.tags["prefect.flow_run_id"] for run in [parent, *stages.values()]} == {"flow-123"}
