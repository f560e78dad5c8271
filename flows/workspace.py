"""One flow run at a time per workspace: an OS file lock under .dvc/tmp/, held around the flow body.

Two `dvc repro` in one workspace fail on DVC's rwlock, so a second trigger must wait for the first
instead. A kernel lock (flock) is released when its holder dies, needs no server, and behaves the
same under the ephemeral server, a test harness and a worker; a Prefect concurrency limit leaks its
slot when an ephemeral-server holder is killed.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Iterator

from pipeline.tracking import DEFAULT_TRACKING_URI

LOCK_FILE = Path(".dvc/tmp/headstart-flow.lock")


@contextlib.contextmanager
def exclusive(workspace: Path, logger: logging.Logger | logging.LoggerAdapter) -> Iterator[None]:
    """Hold the workspace lock and make the workspace the working directory (stages and MLflow's
    embedded store resolve paths against it) until the block ends."""
    path = workspace / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    previous_cwd = Path.cwd()
    # MLflow keeps one store per URI string, so the relative default would keep writing to the first
    # workspace this process used; an absolute URI names the same file the stages use.
    default_store = "MLFLOW_TRACKING_URI" not in os.environ
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("another flow run is using %s; waiting for it to finish", workspace)
            fcntl.flock(fd, fcntl.LOCK_EX)
        if default_store:
            os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{workspace / DEFAULT_TRACKING_URI.removeprefix('sqlite:///')}"
        os.chdir(workspace)
        yield
    finally:
        if default_store:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        os.chdir(previous_cwd)
        os.close(fd)  # closing the descriptor releases the lock
