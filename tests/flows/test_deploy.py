"""The nightly deployment: defined without a server, then registered on a real one and read back."""
from __future__ import annotations

import importlib

import fastapi
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.flows import load_flow_from_entrypoint

from flows.deploy import GPU_JOB_VARIABLES, nightly_deployment


def test_prefect_server_imports_with_the_pinned_fastapi():
    # Prefect 3.8's server passes Body(min_items=...), which fastapi >= 0.155 rejects at import.
    assert tuple(int(part) for part in fastapi.__version__.split(".")[:2]) < (0, 155)
    assert importlib.import_module("prefect.server.api.server").create_app


def test_nightly_deployment_targets_the_gpu_pool_on_a_cron():
    deployment = nightly_deployment()
    assert (deployment.flow_name, deployment.name, deployment.work_pool_name) == ("train-pipeline", "nightly", "gpu")
    [schedule] = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == ("0 2 * * *", "UTC", True)
    assert deployment.job_variables["env"]["CUDA_VISIBLE_DEVICES"] == "0"
    assert deployment.parameters == {"overrides": ["runtime.device=cuda"]}
    assert load_flow_from_entrypoint(deployment.entrypoint).name == "train-pipeline"


def test_docker_pool_requests_every_gpu():
    variables = nightly_deployment("docker", image="headstart:gpu").job_variables
    assert variables["image"] == "headstart:gpu"
    assert variables["container_create_kwargs"] == GPU_JOB_VARIABLES["docker"]["container_create_kwargs"]


def test_deployment_registers_on_a_server_with_its_schedule(prefect_server):
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="gpu", type="process"), overwrite=True)
        deployment_id = nightly_deployment().apply()
        deployment = client.read_deployment(deployment_id)
        schedules = client.read_deployment_schedules(deployment_id)
    assert deployment.work_pool_name == "gpu" and deployment.global_concurrency_limit.limit == 1
    assert [s.schedule.cron for s in schedules] == ["0 2 * * *"]
