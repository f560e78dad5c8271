"""The training flow: the DVC pipeline as one Prefect task per stage, in dvc.yaml's order.

    python -m flows.train [key=value ...] [--workspace DIR] [--name EXPERIMENT]

Each task runs `dvc repro --single-item <stage>`, so DVC alone decides what is stale: a stage it
finds up to date finishes at once as skipped. Overrides are applied to params.yaml by DVC's own
`-S` parser (what `dvc exp run -S` does) before the first stage, and the finished run is saved as
a DVC experiment (`dvc exp save`), so the stages and MLflow see the values DVC records.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.tasks import exponential_backoff

from flows.command_line import exit_status
from flows.dvc_commands import TransientStageError, dvc_env, outcome, run_dvc, stage_order, uncached_outputs
from flows.workspace import exclusive
from pipeline import tracking
from pipeline.params import PARAMS_FILE

RETRIES = 4  # backoff 2, 4, 8, 16 s: long enough for a manual `dvc` command to release its lock


def retry_if_transient(_task, _task_run, state) -> bool:
    """Retry only lock contention; a gate or a crash fails the same way again. (A plain function:
    Prefect 3.8 silently never retries when given any other callable.)"""
    try:
        state.result()
    except TransientStageError:
        return True
    except Exception:
        return False
    return False


@task(name="set-params", task_run_name="set-params", cache_policy=NO_CACHE)
def set_params(workspace: Path, overrides: list[str]) -> None:
    """Write the overrides into params.yaml with DVC's own `-S` implementation (same grammar,
    comments kept), so DVC tracks them in dvc.lock and the experiment like any param change."""
    from dvc.utils.hydra import apply_overrides

    apply_overrides(workspace / PARAMS_FILE, overrides)
    get_run_logger().info("params.yaml: %s", ", ".join(overrides))


@task(task_run_name="{stage}", cache_policy=NO_CACHE, retries=RETRIES,
      retry_delay_seconds=exponential_backoff(backoff_factor=2), retry_condition_fn=retry_if_transient)
def reproduce_stage(stage: str, workspace: Path, run_env: dict[str, str]) -> str:
    """`dvc repro` for one stage; its output goes to this task's log. Returns what DVC did."""
    logger = get_run_logger()
    result = outcome(stage, run_dvc(["repro", "--single-item", stage], workspace, logger, dvc_env(**run_env)))
    logger.info("stage %s: %s", stage, result)
    return result


@task(name="save-experiment", task_run_name="save-experiment", cache_policy=NO_CACHE, retries=RETRIES,
      retry_delay_seconds=exponential_backoff(backoff_factor=2), retry_condition_fn=retry_if_transient)
def save_experiment(workspace: Path, name: str) -> None:
    include = [arg for path in uncached_outputs(workspace) for arg in ("--include-untracked", path)]
    run_dvc(["exp", "save", "--force", "--name", name, *include], workspace, get_run_logger(), dvc_env())


@flow(name="train-pipeline")
def train(overrides: list[str] | None = None, workspace: str = ".", experiment: str | None = None) -> dict[str, str]:
    """Reproduce the pipeline stage by stage; returns each stage's outcome ("ran", "skipped ...").

    overrides: params.yaml values as `dvc exp run -S` takes them, e.g. "finetune.strategy=full".
    workspace: the DVC repository to run in.
    experiment: save the run as this DVC experiment (default: the flow run's name, when overridden).
    """
    logger = get_run_logger()
    root = Path(workspace).resolve()
    experiment = experiment or (flow_run.name if overrides else None)
    with exclusive(root, logger):
        if overrides:
            set_params(root, overrides)
        lineage = {"prefect.flow_run_id": flow_run.id, "prefect.flow_run_name": flow_run.name, "dvc.exp_name": experiment or ""}
        with tracking.pipeline_run("pipeline", tags=lineage) as parent_run_id:
            run_env = {tracking.PARENT_RUN_ENV: parent_run_id, tracking.FLOW_RUN_ENV: flow_run.id}
            if experiment:
                run_env["DVC_EXP_NAME"] = experiment  # the name `dvc exp save` below gives the run
            outcomes = {stage: reproduce_stage(stage, root, run_env) for stage in stage_order(root)}
            if experiment:
                save_experiment(root, experiment)
    return outcomes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m flows.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: python -m flows.train finetune.strategy=lp-ft prepare.target.shots_per_class=1\n"
               "Runs on an ephemeral local Prefect server unless PREFECT_API_URL points at one.")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="params.yaml overrides, as `dvc exp run -S` takes them")
    parser.add_argument("--workspace", default=".", help="the DVC repository to run in (default: the current directory)")
    parser.add_argument("--name", dest="experiment", help="DVC experiment name to save the run under")
    args = parser.parse_args(argv)
    if bad := [o for o in args.overrides if "=" not in o]:
        parser.error(f"overrides must be key=value: {', '.join(bad)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state = train(overrides=args.overrides, workspace=args.workspace, experiment=args.experiment, return_state=True)
    return exit_status(state, show=lambda results: "\n".join(f"{stage}: {result}" for stage, result in results.items()))


if __name__ == "__main__":
    sys.exit(main())
