"""The one place that talks to MLflow: stage runs nested under a pipeline run, metrics, artifacts."""
from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Iterator

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from pipeline.data.tables import write_json
from pipeline.params import flatten

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
ARTIFACT_ROOT = Path("mlartifacts")
EXPERIMENT = "headstart"
PARENT_RUN_ENV = "HEADSTART_PARENT_RUN_ID"
FLOW_RUN_ENV = "HEADSTART_FLOW_RUN_ID"  # set by flows/ for the stage processes they start
METRICS_DIR = Path("metrics")


def configure() -> None:
    uri = os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        # A local store keeps artifacts beside the repo; a tracking server decides for itself.
        location = ARTIFACT_ROOT.resolve().as_uri() if uri.startswith(("sqlite:", "file:")) or "://" not in uri else None
        mlflow.create_experiment(EXPERIMENT, artifact_location=location)
    mlflow.set_experiment(EXPERIMENT)


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def lineage_tags() -> dict[str, str]:
    return {
        "git.commit": _git("rev-parse", "HEAD"),
        "git.dirty": str(bool(_git("status", "--porcelain", "--untracked-files=no"))).lower(),
        "dvc.exp_name": os.environ.get("DVC_EXP_NAME", ""),
        "prefect.flow_run_id": os.environ.get(FLOW_RUN_ENV, ""),
    }


@contextlib.contextmanager
def pipeline_run(name: str = "pipeline", tags: dict[str, str] | None = None) -> Iterator[str]:
    """The parent run of one pipeline execution; stage processes started inside find it through
    the environment and nest under it. Yields its run id."""
    configure()
    with mlflow.start_run(run_name=name, tags={"headstart.stage": "pipeline", **lineage_tags(), **(tags or {})}) as run:
        previous = os.environ.get(PARENT_RUN_ENV)
        os.environ[PARENT_RUN_ENV] = run.info.run_id
        try:
            yield run.info.run_id
        finally:
            if previous is None:
                os.environ.pop(PARENT_RUN_ENV)
            else:
                os.environ[PARENT_RUN_ENV] = previous


@contextlib.contextmanager
def stage_run(stage: str, params: dict) -> Iterator[mlflow.ActiveRun]:
    """A child run for one stage; raising inside leaves it FAILED (the `with` form of start_run)."""
    configure()
    tags = {"headstart.stage": stage, **lineage_tags()}
    parent = os.environ.get(PARENT_RUN_ENV)
    if parent:
        tags["mlflow.parentRunId"] = parent
    with mlflow.start_run(run_name=stage, tags=tags) as run:
        mlflow.log_params(flatten(params))
        yield run


def log_history(history: list[dict], prefix: str) -> None:
    """Per-epoch curves in one batched call per 1000 values, not one call per value."""
    run_id = mlflow.active_run().info.run_id
    metrics = [Metric(f"{prefix}.{key}", float(value), 0, record["epoch"])
               for record in history for key, value in record.items() if key != "epoch"]
    client = MlflowClient()
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start : start + 1000])


def record_metrics(stage: str, metrics: dict) -> None:
    """Write `metrics/<stage>.json` for DVC and log the same numbers to the active MLflow run."""
    write_json(metrics, METRICS_DIR / f"{stage}.json")
    mlflow.log_metrics({k: float(v) for k, v in flatten(metrics).items() if isinstance(v, (int, float)) and not isinstance(v, bool)})


def log_artifacts(*paths: Path) -> None:
    for path in paths:
        if Path(path).is_dir():
            mlflow.log_artifacts(str(path), artifact_path=Path(path).name)
        elif Path(path).exists():
            mlflow.log_artifact(str(path))
