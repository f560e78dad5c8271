"""Lineage that needs no MLflow run: the dirty flag ignores what DVC itself rewrites."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from pipeline import lineage

pytestmark = pytest.mark.slow


def test_git_dirty_ignores_dvc_lock_and_stage_outputs_but_not_code_or_params(tiny_workspace, tmp_path, monkeypatch):
    workspace = shutil.copytree(tiny_workspace, tmp_path / "repo", ignore=shutil.ignore_patterns("mlflow.db", "mlartifacts"))
    git = lambda *args: subprocess.run(["git", *args], cwd=workspace, check=True, capture_output=True)  # noqa: E731
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "run outputs committed, as a project would")
    monkeypatch.chdir(workspace)
    assert lineage.run_context()["git.dirty"] == "false"
    (workspace / "dvc.lock").write_text((workspace / "dvc.lock").read_text() + "\n")
    (workspace / "metrics" / "evaluate.json").write_text("{}\n")
    assert lineage.run_context()["git.dirty"] == "false"
    (workspace / "params.yaml").write_text((workspace / "params.yaml").read_text() + "\n# edited\n")
    assert lineage.run_context()["git.dirty"] == "true"
