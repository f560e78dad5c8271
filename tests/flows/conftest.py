"""One real Prefect server (the test harness) for the whole session, and a workspace the training
flow has run in once. `flows` is imported first: it sets the offline settings before prefect loads."""
from __future__ import annotations

import flows  # noqa: F401  (offline settings, before prefect is imported)

from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import TaskRun
from prefect.client.schemas.sorting import TaskRunSort
from prefect.states import State
from prefect.testing.utilities import prefect_test_harness

from flows.train import train
from tests.workspace import copy_repo


@pytest.fixture(scope="session")
def prefect_server():
    # Start-up takes ~10 s on an idle two-core machine and much longer on a busy one.
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def trained(prefect_server, tmp_path_factory) -> tuple[Path, State]:
    """A tiny workspace and the state of the first training flow run in it."""
    workspace = copy_repo(tmp_path_factory.mktemp("flow") / "repo")
    return workspace, train(workspace=str(workspace), return_state=True)


def task_runs(state: State) -> list[TaskRun]:
    """The task runs of a flow run, from the server, in start order."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])),
                                     sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=200)
    return sorted(runs, key=lambda run: run.start_time or run.expected_start_time)
