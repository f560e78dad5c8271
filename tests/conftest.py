"""Shared fixtures; the helpers they use live in tests/workspace.py (benchmarks use them too)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.workspace import copy_repo, dvc


@pytest.fixture(scope="session")
def tiny_workspace(tmp_path_factory) -> Path:
    """One tiny end-to-end `dvc repro` shared by every test that only reads its outputs."""
    workspace = copy_repo(tmp_path_factory.mktemp("pipeline") / "repo")
    dvc(workspace, "repro")
    return workspace
