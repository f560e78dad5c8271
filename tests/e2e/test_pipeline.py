"""`dvc repro` end to end on a tiny params override, in a temporary copy of the repo."""
import json
import shutil
from pathlib import Path

import onnx
import pytest
import yaml

from tests.workspace import dvc

pytestmark = pytest.mark.slow
STAGES = ["prepare", "pretrain", "finetune", "evaluate", "export"]


@pytest.fixture
def own_workspace(tiny_workspace, tmp_path):
    """A copy of the finished tiny run (git, DVC cache, lock, outputs) for tests that change it: the
    shared workspace stays as its first run left it for the tests that read its lineage."""
    return Path(shutil.copytree(tiny_workspace, tmp_path / "repo", symlinks=True))


def test_every_stage_wrote_its_outputs(tiny_workspace):
    for stage in ("pretrain", "finetune", "evaluate", "export"):
        assert json.loads((tiny_workspace / "metrics" / f"{stage}.json").read_text())
    onnx.checker.check_model(onnx.load(tiny_workspace / "models" / "model.onnx"))
    for path in ("reports/evaluate.md", "plots/confusion.csv", "plots/attention_maps.png", "data/prepared/target.parquet"):
        assert (tiny_workspace / path).stat().st_size > 0, path


def test_evaluate_metrics_are_sane(tiny_workspace):
    metrics = json.loads((tiny_workspace / "metrics" / "evaluate.json").read_text())
    assert metrics["test_samples"] == 899
    # Ten classes: chance is 0.1. Even the tiny run transfers far above it.
    assert metrics["finetuned"]["accuracy"] > 0.35
    assert metrics["baselines"]["source_only"]["accuracy"] > 0.2
    for scores in [metrics["finetuned"], *metrics["baselines"].values()]:
        assert 0 <= scores["accuracy"] <= 1 and 0 <= scores["macro_f1"] <= 1
    assert sum(map(sum, metrics["confusion_matrix"])) == 899
    export = json.loads((tiny_workspace / "metrics" / "export.json").read_text())
    assert export["batch_1"]["ok"] and export["batch_64"]["ok"]


def test_metrics_and_plots_show(tiny_workspace):
    shown = dvc(tiny_workspace, "metrics", "show").stdout
    assert "finetuned.accuracy" in shown and "source_val_accuracy" in shown
    dvc(tiny_workspace, "plots", "show", "-o", "dvc_plots")
    assert (tiny_workspace / "dvc_plots" / "index.html").exists()


def test_second_repro_is_a_noop(tiny_workspace):
    out = dvc(tiny_workspace, "repro").stdout
    assert "Running stage" not in out
    for stage in STAGES:
        assert f"Stage '{stage}' didn't change, skipping" in out


def test_bytecode_caches_do_not_make_stages_stale(tiny_workspace):
    """A .pyc embeds its source's mtime, so it differs on every clone: hashed as a dependency, it would make
    the committed dvc.lock stale on every fresh checkout."""
    cache = tiny_workspace / "pipeline" / "models" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "stray.cpython-312.pyc").write_bytes(b"bytecode of another checkout")
    assert "up to date" in dvc(tiny_workspace, "status").stdout


def repro_with(workspace: Path, section: list[str], key: str, value) -> str:
    """`dvc repro` after setting params.yaml's `section` (a path such as ["prepare", "target"]) `key` to `value`."""
    params_file = workspace / "params.yaml"
    params = yaml.safe_load(params_file.read_text())
    node = params
    for name in section:
        node = node[name]
    node[key] = value
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    return dvc(workspace, "repro").stdout


def test_param_change_reruns_only_the_stages_that_depend_on_it(own_workspace):
    repeats = yaml.safe_load((own_workspace / "params.yaml").read_text())["export"]["latency_repeats"]
    out = repro_with(own_workspace, ["export"], "latency_repeats", repeats + 1)
    assert "Running stage 'export'" in out
    assert [s for s in STAGES[:-1] if f"Running stage '{s}'" in out] == []


def test_a_new_k_reruns_the_target_side_but_not_pretraining(own_workspace):
    out = repro_with(own_workspace, ["prepare", "target"], "shots_per_class", 3)
    assert [s for s in STAGES if f"Running stage '{s}'" in out] == ["prepare", "finetune", "evaluate", "export"]
    assert json.loads((own_workspace / "metrics" / "prepare.json").read_text())["target_train"] == 30


def test_no_target_labels_adapts_on_the_unlabelled_pool(own_workspace):
    """shots_per_class 0: unsupervised adaptation through the same stages; val_per_class (3 here) is ignored,
    since a val slice would be labels, and the baselines that need target labels are n/a."""
    out = repro_with(own_workspace, ["prepare", "target"], "shots_per_class", 0)
    assert [s for s in STAGES if f"Running stage '{s}'" in out] == ["prepare", "finetune", "evaluate", "export"]
    prepared = json.loads((own_workspace / "metrics" / "prepare.json").read_text())
    assert prepared.get("target_train", 0) == prepared.get("target_val", 0) == 0
    finetuned = json.loads((own_workspace / "metrics" / "finetune.json").read_text())
    assert finetuned["train_samples"] == 0 and finetuned["selection"] == "last (no target labels)"
    metrics = json.loads((own_workspace / "metrics" / "evaluate.json").read_text())
    assert metrics["best_non_transfer"] is None and metrics["transfer_gain"] is None
    assert metrics["baselines"]["scratch"] == {} and metrics["baselines"]["source_only"]["accuracy"] > 0.2
    assert metrics["finetuned"]["accuracy"] > 0.35
    report = (own_workspace / "reports" / "evaluate.md").read_text()
    assert "No target labels" in report and "| scratch | n/a |" in report
    assert json.loads((own_workspace / "metrics" / "export.json").read_text())["batch_64"]["ok"]
