"""The nightly training deployment: a cron schedule on the work pool `gpu`, whose job variables
request a GPU. Needs a persistent server (the ephemeral one runs no scheduler):

    prefect server start                                   # another shell; UI on :4200
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    prefect work-pool create gpu --type process            # or docker (needs prefect-docker)
    python -m flows.deploy [--pool-type docker --image IMAGE]
    prefect worker start --pool gpu                        # on the GPU machine
"""
from __future__ import annotations

import argparse
from pathlib import Path

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.train import train

REPO = Path(__file__).resolve().parents[1]
NAME = "nightly"
POOL = "gpu"
NIGHTLY = Cron("0 2 * * *", timezone="UTC")
# "cuda", not "auto": on a GPU pool a missing GPU should fail the run, not fall back to a slow CPU
# run. `runtime` is not a DVC param dependency, so this changes no stage's result.
PARAMETERS = {"overrides": ["runtime.device=cuda"]}
# Each pool type asks for a GPU its own way (kubernetes: see the README).
GPU_JOB_VARIABLES: dict[str, dict] = {
    # A process worker runs flows on its own host: pick the device it exposes, run from the checkout.
    "process": {"env": {"CUDA_VISIBLE_DEVICES": "0"}, "working_dir": str(REPO)},
    # docker-py device request, as `docker run --gpus all`.
    "docker": {"container_create_kwargs": {"device_requests": [{"driver": "nvidia", "count": -1, "capabilities": [["gpu"]]}]}},
}


def nightly_deployment(pool_type: str = "process", image: str | None = None) -> RunnerDeployment:
    """The deployment, built without talking to any server. One run at a time: a nightly run that
    overruns makes the next wait (the flow's workspace lock would serialise them anyway)."""
    job_variables = dict(GPU_JOB_VARIABLES[pool_type], **({"image": image} if image else {}))
    return train.to_deployment(name=NAME, schedules=[NIGHTLY], work_pool_name=POOL, job_variables=job_variables,
                               parameters=PARAMETERS, concurrency_limit=1, tags=["nightly", "gpu"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.deploy", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool-type", choices=sorted(GPU_JOB_VARIABLES), default="process", help="the type of the `gpu` pool (default: %(default)s)")
    parser.add_argument("--image", help="container image holding this repository (docker pools)")
    args = parser.parse_args(argv)
    deployment_id = nightly_deployment(args.pool_type, args.image).apply()
    print(f"deployment {train.name}/{NAME} ({deployment_id}) on pool '{POOL}', cron '{NIGHTLY.cron}' {NIGHTLY.timezone}")


if __name__ == "__main__":
    main()
