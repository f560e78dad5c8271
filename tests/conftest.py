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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test` runs on every core (pytest-xdist, --dist loadgroup). Tests that share a costly fixture
    go to one worker so it is built once: a session one (the Prefect server, the tiny workspace)
    groups across files, and a module's own fixtures (each a `dvc repro`) group by module."""
    for item in items:
        shared = next((name for name in ("prefect_server", "tiny_workspace") if name in item.fixturenames), None)
        item.add_marker(pytest.mark.xdist_group(shared or item.nodeid.split("::")[0]))
