"""The fine-tuning sweep: strategies x shots-per-class, each combination its own DVC experiment,
then one comparison table of the target-test metrics (markdown under reports/ and in MLflow).

    python -m flows.sweep --strategies head lp-ft full --shots 1 5 [key=value ...]

Experiments run one after another in the workspace (`dvc exp run -S ... --name ... evaluate`, up to
the stage that scores the test set), so stages a combination does not change are skipped by DVC;
afterwards the workspace holds the last one, as after any `dvc exp run` (`dvc exp show` lists
them all, `dvc exp apply <name>` switches).
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import mlflow
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.tasks import exponential_backoff

from flows.command_line import exit_status
from flows.dvc_commands import dvc_env, run_dvc
from flows.train import RETRIES, retry_if_transient
from flows.workspace import exclusive
from pipeline import tracking

REPORT = Path("reports/sweep.md")
# The stage whose metrics the table compares: experiments stop there (a sweep compares; the winner
# is then trained and exported by the training flow).
COMPARED_STAGE = "evaluate"
EVALUATE_METRICS = Path("metrics/evaluate.json")
COLUMNS = {"accuracy": "accuracy", "macro_f1": "macro-F1", "nll": "NLL", "ece": "ECE"}


@task(task_run_name="{name}", cache_policy=NO_CACHE, retries=RETRIES,
      retry_delay_seconds=exponential_backoff(backoff_factor=2), retry_condition_fn=retry_if_transient)
def run_experiment(name: str, overrides: list[str], workspace: Path, run_env: dict[str, str]) -> dict:
    """One DVC experiment; returns its target-test metrics as the evaluate stage wrote them."""
    set_params = [arg for override in overrides for arg in ("-S", override)]
    run_dvc(["exp", "run", "--name", name, *set_params, COMPARED_STAGE], workspace, get_run_logger(), dvc_env(**run_env))
    return json.loads((workspace / EVALUATE_METRICS).read_text())


def gain(value: float | None) -> str:
    """n/a without target labels: no baseline without source data can train."""
    return "n/a" if value is None else f"{value:+.4f}"


def comparison_table(rows: list[dict]) -> str:
    """Markdown, best fine-tuned accuracy first; `transfer gain` is over the best baseline that
    uses no source data, as evaluate defines it."""
    header = ["strategy", "shots/class", *COLUMNS.values(), "transfer gain", "experiment"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in sorted(rows, key=lambda r: -r["metrics"]["finetuned"]["accuracy"]):
        scores = [f"{row['metrics']['finetuned'][key]:.4f}" for key in COLUMNS]
        lines.append(f"| {row['strategy']} | {row['shots']} | {' | '.join(scores)} | {gain(row['metrics']['transfer_gain'])} | {row['experiment']} |")
    return "\n".join(lines) + "\n"


@flow(name="finetune-sweep")
def sweep(strategies: list[str], shots_per_class: list[int | str], overrides: list[str] | None = None, workspace: str = ".") -> str:
    """Run every strategy x shots combination as a DVC experiment; returns the comparison table.

    overrides: params.yaml values applied to every experiment, e.g. "finetune.epochs=20".
    """
    root = Path(workspace).resolve()
    rows = []
    with exclusive(root, get_run_logger()):
        lineage = {"prefect.flow_run_id": flow_run.id, "prefect.flow_run_name": flow_run.name}
        with tracking.pipeline_run("sweep", tags=lineage) as parent_run_id:
            run_env = {tracking.PARENT_RUN_ENV: parent_run_id, tracking.FLOW_RUN_ENV: flow_run.id}
            for strategy, shots in itertools.product(strategies, shots_per_class):
                name = f"{flow_run.name}-{strategy}-k{shots}"
                combination = [f"finetune.strategy={strategy}", f"prepare.target.shots_per_class={shots}"]
                metrics = run_experiment(name, [*(overrides or []), *combination], root, run_env)
                rows.append({"strategy": strategy, "shots": shots, "experiment": name, "metrics": metrics})
                mlflow.log_metrics({f"{strategy}.k{shots}.{key}": metrics["finetuned"][key] for key in COLUMNS})
            table = comparison_table(rows)
            (root / REPORT).parent.mkdir(parents=True, exist_ok=True)
            (root / REPORT).write_text(f"# Fine-tuning sweep {flow_run.name}: target test set\n\n{table}")
            tracking.log_artifacts(root / REPORT)
    get_run_logger().info("comparison (%s):\n%s", REPORT, table)
    return table


def shots_value(text: str) -> int | str:
    return text if text == "all" else int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.sweep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="params.yaml overrides applied to every experiment")
    parser.add_argument("--strategies", nargs="+", default=["head", "lp-ft", "full"], help="finetune.strategy values (default: %(default)s)")
    parser.add_argument("--shots", nargs="+", type=shots_value, default=[1, 5], help="prepare.target.shots_per_class values, or `all` (default: %(default)s)")
    parser.add_argument("--workspace", default=".", help="the DVC repository to run in (default: the current directory)")
    args = parser.parse_args(argv)
    state = sweep(args.strategies, args.shots, args.overrides, args.workspace, return_state=True)
    return exit_status(state)


if __name__ == "__main__":
    sys.exit(main())
