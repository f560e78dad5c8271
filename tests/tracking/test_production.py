"""Production mode: the tiny pipeline against `mlflow server` on PostgreSQL with a local artifact root."""
from __future__ import annotations

import uuid

import psycopg2
import pytest

from pipeline import registry, tracking
from tests.tracking.conftest import client_for, free_port, http_server, runs
from tests.workspace import BIN, copy_repo, pipeline_env, repro

pytestmark = pytest.mark.slow
# SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the installed driver is psycopg2.
POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432"


@pytest.fixture
def database() -> str:
    """A fresh PostgreSQL database, dropped afterwards; skips the test where no server answers."""
    name = f"mlflow_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=5)
    except psycopg2.OperationalError as error:
        pytest.skip(f"no PostgreSQL at {POSTGRES}: {error}")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_tiny_pipeline_against_a_tracking_server_on_postgresql(database, tmp_path):
    artifacts = tmp_path / "artifacts"
    port = free_port()
    command = [str(BIN / "mlflow"), "server", "--backend-store-uri", database, "--artifacts-destination", str(artifacts),
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with http_server(command, port, tmp_path, pipeline_env(), tmp_path / "server.log") as url:
        workspace = copy_repo(tmp_path / "repo")
        repro(workspace, env=pipeline_env(MLFLOW_TRACKING_URI=url))
        client = client_for(url)
        (parent,) = runs(client, **{tracking.STAGE_TAG: "pipeline"})
        stages = runs(client, **{"mlflow.parentRunId": parent.info.run_id})
        assert parent.info.status == "FINISHED"
        assert sorted(r.info.run_name for r in stages) == ["evaluate", "export", "finetune", "prepare", "pretrain"]
        assert {r.info.status for r in stages} == {"FINISHED"}
        version = client.get_model_version_by_alias("headstart-digits", registry.CHALLENGER)
        assert int(version.version) == 1 and version.tags[registry.TEST_SET_TAG]
        assert not (workspace / "mlflow.db").exists() and not (workspace / "mlartifacts").exists()
    # The server proxied every artifact into its own root: the model and the evaluate report.
    assert list(artifacts.rglob("model.onnx")) and list(artifacts.rglob("evaluate.md"))
