"""Train, then let the MLflow promotion rule decide whether the new challenger becomes champion.

    python -m flows.promote [key=value ...] [--workspace DIR] [--promote-args="ARGS"]

The rule itself lives in `pipeline.promote` (the registry's owner); this flow only orders the two
steps and runs the rule's CLI, so the flow and a person at a shell apply exactly the same rule.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.command_line import exit_status
from flows.dvc_commands import dvc_env, run_command
from flows.train import train
from pipeline import tracking


@task(name="promotion-rule", task_run_name="promotion-rule", cache_policy=NO_CACHE)
def apply_promotion_rule(workspace: Path, args: list[str]) -> str:
    """`python -m pipeline.promote` in the workspace; its report is the result. Not retried: the
    rule reads the registry and decides, and deciding twice changes nothing."""
    env = dvc_env(**{tracking.FLOW_RUN_ENV: flow_run.id})
    return run_command([sys.executable, "-m", "pipeline.promote", *args], workspace, get_run_logger(), env)


@flow(name="train-and-promote")
def train_and_promote(overrides: list[str] | None = None, workspace: str = ".", promote_args: list[str] | None = None) -> str:
    """The training flow (as a subflow), then the promotion rule; a failed training promotes nothing."""
    train(overrides=overrides, workspace=workspace)
    return apply_promotion_rule(Path(workspace).resolve(), promote_args or [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.promote", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="params.yaml overrides for the training run")
    parser.add_argument("--workspace", default=".", help="the DVC repository to run in (default: the current directory)")
    parser.add_argument("--promote-args", default="", help='arguments for `python -m pipeline.promote`, one quoted string: --promote-args="--help"')
    args = parser.parse_args(argv)
    state = train_and_promote(args.overrides, args.workspace, shlex.split(args.promote_args), return_state=True)
    return exit_status(state)


if __name__ == "__main__":
    sys.exit(main())
