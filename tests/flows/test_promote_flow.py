"""The promotion flow: training as a subflow, then the registry's promotion rule (its CLI)."""
from __future__ import annotations

import shutil

import pytest

from flows.promote import train_and_promote
from tests.flows.conftest import task_runs

pytestmark = pytest.mark.slow


def test_promotion_rule_runs_after_training(trained, tmp_path):
    workspace = tmp_path / "repo"
    shutil.copytree(trained[0], workspace)
    state = train_and_promote(workspace=str(workspace), return_state=True)
    assert state.is_completed(), state.message
    assert [run.name for run in task_runs(state)][-1] == "promotion-rule"
    # The workspace's first registered version has no champion to beat: it becomes champion.
    assert "champion" in state.result().lower()
