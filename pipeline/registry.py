"""The model registry: ONNX versions, the `challenger`/`champion` aliases and their history."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import mlflow
import mlflow.onnx
import numpy as np
import onnx
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import Schema, TensorSpec

from pipeline import lineage, tracking
from pipeline.onnx_export import INPUT_NAME, OUTPUT_NAME

CHALLENGER, CHAMPION = "challenger", "champion"
TEST_SET_TAG = "test_set.sha256"
METRIC_TAG_PREFIX = "metrics."
# Only what the ONNX flavour needs at serving time: no torch, no pickle.
SERVING_REQUIREMENTS = ["onnx", "onnxruntime", "numpy"]


def test_set_fingerprint(sample_ids: Iterable[str]) -> str:
    """Identity of a test set: two versions are comparable only if they were scored on the same ids."""
    return hashlib.sha256("\n".join(sorted(sample_ids)).encode()).hexdigest()


def signature(example: np.ndarray, n_classes: int) -> ModelSignature:
    """Named tensors, so a request says which input it fills and a wrong shape or dtype is rejected."""
    return ModelSignature(inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, *example.shape[1:]), INPUT_NAME)]),
                          outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, n_classes), OUTPUT_NAME)]))


def log_onnx(path: Path, example: np.ndarray, n_classes: int) -> str:
    """Log the ONNX file to the active run with signature and input example; returns the model URI."""
    info = mlflow.onnx.log_model(onnx.load(path), name="model", signature=signature(example, n_classes),
                                 input_example={INPUT_NAME: example.astype(np.float32)},
                                 onnx_execution_providers=["CPUExecutionProvider"], pip_requirements=SERVING_REQUIREMENTS)
    return info.model_uri


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def move_alias(model_name: str, alias: str, version: int | str) -> int | None:
    """Point `alias` at `version`, and record the move as tags on both versions, so the history
    survives the alias moving on (`alias.<alias>.assigned.<utc>` / `alias.<alias>.removed.<utc>`).
    Returns the version the alias left, if any."""
    client = MlflowClient()
    previous = version_by_alias(model_name, alias)
    previous_version = int(previous.version) if previous else None
    client.set_registered_model_alias(model_name, alias, str(version))
    when = _now()
    client.set_model_version_tag(model_name, str(version), f"alias.{alias}.assigned.{when}",
                                 f"replaced version {previous_version}" if previous_version else "first holder")
    if previous_version is not None and previous_version != int(version):
        client.set_model_version_tag(model_name, str(previous_version), f"alias.{alias}.removed.{when}", f"moved to version {version}")
    return previous_version


def version_by_alias(model_name: str, alias: str) -> ModelVersion | None:
    try:
        return MlflowClient().get_model_version_by_alias(model_name, alias)
    except MlflowException as error:
        if error.error_code in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"):
            return None
        raise


def register(model_uri: str, model_name: str, tags: dict[str, str]) -> ModelVersion:
    """A new version of `model_name` with `tags`, made the `challenger`."""
    version = mlflow.register_model(model_uri, model_name, tags=tags)
    move_alias(model_name, CHALLENGER, version.version)
    return version


def version_tags(evaluation: dict, test_set: str, run_tags: dict[str, str]) -> dict[str, str]:
    """What promotion compares (evaluate metrics, test-set identity) and where the version came from."""
    tags = {f"{METRIC_TAG_PREFIX}{k}": repr(v) for k, v in tracking.numeric(evaluation).items()}
    tags[TEST_SET_TAG] = test_set
    tags.update({k: v for k, v in run_tags.items() if k.startswith(lineage.PREFIXES)})
    return tags


def register_active_run_model(path: Path, example: np.ndarray, n_classes: int, model_name: str,
                              evaluation: dict, test_set: str) -> ModelVersion:
    """The export stage's registration: log the ONNX model to the active run and register it as the
    new `challenger`, tagged with the evaluation and the run's lineage."""
    run_id = mlflow.active_run().info.run_id
    model_uri = log_onnx(path, example, n_classes)
    return register(model_uri, model_name, version_tags(evaluation, test_set, MlflowClient().get_run(run_id).data.tags))
