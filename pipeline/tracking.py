"""MLflow runs: one parent run per pipeline execution, a nested child run per stage, metrics, artifacts.

How a stage process finds its parent (stages run in separate processes under DVC):
1. `HEADSTART_PARENT_RUN_ID` in the environment: set by `pipeline_run` (`make run`, Prefect flows).
2. Otherwise, under a plain `dvc repro` / `dvc exp run`: get-or-create the parent tagged with the
   `dvc` process it runs under (host, pid, start time), so every stage of one invocation nests
   under one parent. That parent ends FINISHED or FAILED with each stage; the next stage of the
   same invocation sets it back to RUNNING.
3. Otherwise (a stage module run by hand): a run with no parent.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Iterator

import mlflow
from mlflow.entities import Metric, RunStatus
from mlflow.tracking import MlflowClient

from pipeline import lineage
from pipeline.data.tables import write_json
from pipeline.params import flatten

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
ARTIFACT_ROOT = Path("mlartifacts")
EXPERIMENT = "headstart"
PARENT_RUN_ENV = "HEADSTART_PARENT_RUN_ID"
FLOW_RUN_ENV = lineage.FLOW_RUN_ENV
STAGE_TAG, INVOCATION_TAG = "headstart.stage", "headstart.invocation"
METRICS_DIR = Path("metrics")


def configure() -> str:
    """Point MLflow at the store and the `headstart` experiment; returns the experiment id."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        # A local store keeps artifacts beside the repo (MLflow's default would be ./mlruns);
        # a tracking server decides for itself.
        location = ARTIFACT_ROOT.resolve().as_uri() if uri.startswith(("sqlite:", "file:")) or "://" not in uri else None
        try:
            return mlflow.create_experiment(EXPERIMENT, artifact_location=location)
        except mlflow.MlflowException:  # another process created it first
            experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    return experiment.experiment_id


def sweep_killed(experiment_id: str) -> list[str]:
    """Mark KILLED the runs left RUNNING by a process of this host that no longer exists. Runs of
    live processes (a concurrent pipeline) and of other hosts are left alone. Returns their ids."""
    client = MlflowClient()
    running = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'")
    dead = [run.info.run_id for run in running if lineage.owner_is_dead(run.data.tags)]
    for run_id in dead:
        client.set_terminated(run_id, status=RunStatus.to_string(RunStatus.KILLED))
    return dead


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM's default action ends the process before `with start_run` can record the outcome;
    turned into SystemExit, the run ends FAILED. (SIGINT already raises KeyboardInterrupt.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def pipeline_run(name: str = "pipeline", tags: dict[str, str] | None = None) -> Iterator[str]:
    """The parent run of one pipeline execution; stage processes started inside find it through
    the environment and nest under it. Yields its run id; raising inside leaves it FAILED."""
    experiment_id = configure()
    sweep_killed(experiment_id)
    run_tags = {STAGE_TAG: "pipeline", **lineage.run_context(), **lineage.process_tags(), **(tags or {})}
    with _sigterm_raises(), mlflow.start_run(run_name=name, experiment_id=experiment_id, tags=run_tags) as run:
        previous = os.environ.get(PARENT_RUN_ENV)
        os.environ[PARENT_RUN_ENV] = run.info.run_id
        try:
            yield run.info.run_id
        finally:
            if previous is None:
                os.environ.pop(PARENT_RUN_ENV)
            else:
                os.environ[PARENT_RUN_ENV] = previous


def _invocation_parent(experiment_id: str) -> str | None:
    """Rule 2 of the module docstring: the parent run of the enclosing `dvc` invocation."""
    dvc = lineage.dvc_ancestor()
    if dvc is None:
        return None
    owner = lineage.process_tags(dvc)
    key = f"{owner[lineage.HOST]}:{owner[lineage.PID]}:{owner[lineage.PID_STARTED]}"
    client = MlflowClient()
    found = client.search_runs([experiment_id], filter_string=f"tags.`{INVOCATION_TAG}` = '{key}'", max_results=1)
    if found:
        client.update_run(found[0].info.run_id, status="RUNNING")
        return found[0].info.run_id
    sweep_killed(experiment_id)  # first stage of a new invocation: the pipeline is starting
    tags = {STAGE_TAG: "pipeline", INVOCATION_TAG: key, **lineage.run_context(), **owner}
    return client.create_run(experiment_id, run_name="dvc repro", tags=tags).info.run_id


@contextlib.contextmanager
def stage_run(stage: str) -> Iterator[mlflow.ActiveRun]:
    """A child run for one stage, with the stage's params (its `dvc.yaml` params sections,
    flattened) and lineage tags. Raising inside, SIGINT or SIGTERM leave it FAILED."""
    experiment_id = configure()
    inputs = lineage.stage_inputs(stage)
    parent = os.environ.get(PARENT_RUN_ENV)
    invocation_parent = None if parent else _invocation_parent(experiment_id)
    if parent:
        experiment_id = MlflowClient().get_run(parent).info.experiment_id
    tags = {STAGE_TAG: stage, **lineage.run_context(), **lineage.dep_tags(inputs), **lineage.process_tags()}
    status = "FAILED"
    try:
        with _sigterm_raises(), mlflow.start_run(run_name=stage, experiment_id=experiment_id,
                                                 parent_run_id=parent or invocation_parent, tags=tags) as run:
            mlflow.log_params(flatten(inputs.params))
            yield run
            status = "FINISHED"
    finally:
        if invocation_parent:
            MlflowClient().set_terminated(invocation_parent, status=status)


def log_history(history: list[dict], prefix: str) -> None:
    """Per-epoch curves (`step` = epoch) in batched calls, not one call per value."""
    run_id = mlflow.active_run().info.run_id
    metrics = [Metric(f"{prefix}.{key}", float(value), 0, record["epoch"])
               for record in history for key, value in record.items() if key != "epoch"]
    client = MlflowClient()
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start : start + 1000])


def numeric(metrics: dict) -> dict[str, float]:
    """The flattened numbers of a metrics dict (lists such as a confusion matrix and flags left out)."""
    return {k: float(v) for k, v in flatten(metrics).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def record_metrics(stage: str, metrics: dict) -> None:
    """Write `metrics/<stage>.json` for DVC and log the same numbers to the active MLflow run."""
    write_json(metrics, METRICS_DIR / f"{stage}.json")
    mlflow.log_metrics(numeric(metrics))


def log_artifacts(*paths: Path) -> None:
    for path in paths:
        if Path(path).is_dir():
            mlflow.log_artifacts(str(path), artifact_path=Path(path).name)
        elif Path(path).exists():
            mlflow.log_artifact(str(path))
