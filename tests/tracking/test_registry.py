"""The registry: the export stage's version, promotion between versions, concurrent registration."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest

from pipeline import promote, registry, tracking
from pipeline.data.prepared import load_prepared
from tests.tracking.conftest import client_for, workspace_uri
from tests.workspace import REPO, pipeline_env

pytestmark = pytest.mark.slow
MODEL = "digits-test"


def test_export_registered_a_challenger_with_metrics_lineage_and_an_onnx_signature(tiny_workspace):
    client = client_for(workspace_uri(tiny_workspace))
    name = "headstart-digits"
    version = client.get_model_version_by_alias(name, registry.CHALLENGER)
    assert int(version.version) == max(int(v.version) for v in client.search_model_versions(f"name = '{name}'"))
    evaluation = json.loads((tiny_workspace / "metrics" / "evaluate.json").read_text())
    tags = version.tags
    assert float(tags["metrics.finetuned.accuracy"]) == pytest.approx(evaluation["finetuned"]["accuracy"])
    data = load_prepared(tiny_workspace / "data" / "prepared")
    assert tags[registry.TEST_SET_TAG] == registry.test_set_fingerprint(data.target.loc[data.target["split"] == "test", "sample_id"])
    assert tags["git.commit"] and "dvc.dep.models/finetuned.pt" in tags
    assert any(key.startswith("alias.challenger.assigned.") for key in tags)
    # Served through the ONNX flavour with a named float32 tensor signature: no pickle anywhere.
    mlflow.set_tracking_uri(workspace_uri(tiny_workspace))
    info = mlflow.models.get_model_info(f"models:/{name}/{version.version}")
    assert set(info.flavors) == {"onnx", "python_function"}
    (spec,) = info.signature.inputs.inputs
    assert (spec.name, spec.type, spec.shape) == ("images", np.dtype(np.float32), (-1, 1, 8, 8))
    files = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{version.version}"))
    assert (files / "model.onnx").exists() and not [p for p in files.rglob("*") if p.suffix in (".pkl", ".pickle")]


@pytest.fixture
def model_uri(tiny_workspace, store) -> str:
    """The tiny run's ONNX file logged once to a fresh store."""
    experiment_id = tracking.configure()
    example = load_prepared(tiny_workspace / "data" / "prepared").split("target", "test").images[:2].numpy()
    with mlflow.start_run(experiment_id=experiment_id):
        return registry.log_onnx(tiny_workspace / "models" / "model.onnx", example, 10)


def new_challenger(model_uri: str, accuracy: float, test_set: str = "same") -> int:
    tags = registry.version_tags({"finetuned": {"accuracy": accuracy}}, test_set, {})
    return int(registry.register(model_uri, MODEL, tags).version)


def test_promotion_moves_champion_only_when_the_challenger_is_better_on_the_same_test_set(model_uri):
    first = new_challenger(model_uri, 0.80)
    decision = promote.promote(MODEL, "finetuned.accuracy", 0.01)
    assert (decision.outcome, decision.champion) == ("promoted", first) and "no champion" in decision.reason
    worse = new_challenger(model_uri, 0.805)  # better, but not by the margin
    decision = promote.promote(MODEL, "finetuned.accuracy", 0.01)
    assert (decision.outcome, decision.champion) == ("kept", first) and "not better" in decision.reason
    better = new_challenger(model_uri, 0.85)
    decision = promote.promote(MODEL, "finetuned.accuracy", 0.01)
    assert (decision.outcome, decision.challenger, decision.champion) == ("promoted", better, better)
    other = new_challenger(model_uri, 0.99, test_set="another")
    decision = promote.promote(MODEL, "finetuned.accuracy", 0.01)
    assert (decision.outcome, decision.champion) == ("refused", better) and "different test sets" in decision.reason

    client = client_for(tracking.mlflow.get_tracking_uri())
    assert client.get_registered_model(MODEL).aliases == {"champion": better, "challenger": other}
    # The champion's history survives on the versions it left.
    history = client.get_model_version(MODEL, str(first)).tags
    assert [v for k, v in history.items() if k.startswith("alias.champion.removed.")] == [f"moved to version {better}"]
    assert worse not in (decision.champion, decision.challenger)


def test_promote_command_prints_its_decision(tiny_workspace, store):
    env = pipeline_env(MLFLOW_TRACKING_URI=store)
    shown = subprocess.run([sys.executable, "-m", "pipeline.promote", "--help"], cwd=tiny_workspace, env=env, capture_output=True, text=True)
    assert shown.returncode == 0 and "--margin" in shown.stdout and "test_set.sha256" in shown.stdout
    result = subprocess.run([sys.executable, "-m", "pipeline.promote", "--model", MODEL], cwd=tiny_workspace, env=env, capture_output=True, text=True)
    assert result.returncode == 1 and f"{MODEL}: refused: model '{MODEL}' has no 'challenger' version" in result.stdout


def test_two_processes_registering_at_once_get_distinct_versions(model_uri, store):
    code = ("import sys\nfrom pipeline import registry, tracking\ntracking.configure()\n"
            f"print(*[registry.register({model_uri!r}, {MODEL!r}, {{}}).version for _ in range(5)])")
    processes = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=pipeline_env(MLFLOW_TRACKING_URI=store), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=240) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err[-2000:] for _, err in outputs]
    versions = [int(v) for out, _ in outputs for v in out.split()]
    assert sorted(versions) == list(range(1, 11))
