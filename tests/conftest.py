"""Shared fixtures; the helpers they use live in tests/workspace.py (benchmarks use them too)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.workspace import copy_repo, repro


@pytest.fixture(scope="session")
def tiny_workspace(tmp_path_factory) -> Path:
    """One tiny end-to-end run, as `make run` does it (`dvc repro` inside a parent MLflow run), shared
    by every test that only reads its outputs or its MLflow store (`<workspace>/mlflow.db`)."""
    workspace = copy_repo(tmp_path_factory.mktemp("pipeline") / "repo")
    repro(workspace)
    return workspace
