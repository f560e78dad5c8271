"""Running DVC from a flow: the stage order from dvc.yaml, one command streamed to a logger, and
which failures a retry can fix."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import yaml

# DVC's own messages when another DVC process holds the repo lock or a stage's rwlock: the other
# process finishes, so trying again later helps.
TRANSIENT_MARKERS = (
    "Unable to acquire lock",
    "is busy, it is being blocked by",
    "Resource temporarily unavailable",
)
# The pipeline's gates: retrying reproduces the same verdict, so these fail the flow at once.
GATE_MARKERS = ("Validation failed for table", "ONNX parity failed")


class StageFailed(RuntimeError):
    """A stage failed in a way a retry cannot fix; the message carries the stage's own words."""


class TransientStageError(RuntimeError):
    """A stage could not run for a reason that passes (another DVC process held the lock)."""


def stage_order(workspace: Path) -> list[str]:
    """The stages in dvc.yaml's order, which the file keeps topological; dvc.yaml is the only list."""
    return list(yaml.safe_load((workspace / "dvc.yaml").read_text())["stages"])


def uncached_outputs(workspace: Path) -> list[str]:
    """The outs and metrics dvc.yaml marks `cache: false`: git, not the DVC cache, keeps them, so an
    experiment commit must include them even while they are untracked."""
    paths = []
    for stage in yaml.safe_load((workspace / "dvc.yaml").read_text())["stages"].values():
        for entry in stage.get("outs", []) + stage.get("metrics", []) + stage.get("plots", []):
            if isinstance(entry, dict):
                paths += [path for path, options in entry.items() if (options or {}).get("cache") is False]
    return [path for path in paths if (workspace / path).exists()]


def dvc_env(**extra: str) -> dict[str, str]:
    """The environment for DVC and the stage commands it runs: this interpreter's `python` and
    `dvc` first on PATH, plus the caller's extras (run ids)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


def run_dvc(args: list[str], workspace: Path, logger: logging.Logger | logging.LoggerAdapter, env: dict[str, str]) -> str:
    return run_command([str(Path(sys.executable).parent / "dvc"), *args], workspace, logger, env)


def run_command(command: list[str], workspace: Path, logger: logging.Logger | logging.LoggerAdapter, env: dict[str, str]) -> str:
    """Run `command` in `workspace`, each output line logged as it comes; returns the output.
    Raises TransientStageError when DVC says another process holds a lock, StageFailed otherwise."""
    lines: list[str] = []
    with subprocess.Popen(command, cwd=workspace, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as process:
        for line in process.stdout:
            line = line.rstrip()
            if line:
                lines.append(line)
                logger.info(line)
    output = "\n".join(lines)
    if process.returncode != 0:
        raise failure(" ".join([Path(command[0]).name, *command[1:]]), process.returncode, output)
    return output


def failure(command: str, returncode: int, output: str) -> StageFailed | TransientStageError:
    gate = [line for line in output.splitlines() if any(marker in line for marker in GATE_MARKERS)]
    if gate:
        return StageFailed(f"{command} failed the gate: {' '.join(gate)}")
    if any(marker in output for marker in TRANSIENT_MARKERS):
        return TransientStageError(f"{command}: another DVC process holds the lock (exit {returncode})")
    tail = "\n".join(output.splitlines()[-15:])
    return StageFailed(f"{command} exited {returncode}:\n{tail}")


def outcome(stage: str, output: str) -> str:
    """What `dvc repro` did with a stage, from its own report."""
    if f"Stage '{stage}' didn't change, skipping" in output:
        return "skipped (up to date)"
    if f"Stage '{stage}' is cached - skipping run" in output:
        return "restored from the run cache"
    return "ran"
