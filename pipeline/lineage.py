"""Where a run came from: the code (git), the inputs (DVC hashes), the orchestrator, and the process."""
from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass

import psutil

FLOW_RUN_ENV = "HEADSTART_FLOW_RUN_ID"  # set by flows/ for the stage processes they start
# Tag prefixes that describe the inputs of a run; the registry copies them onto a model version.
PREFIXES = ("git.", "dvc.", "prefect.")
HOST, PID, PID_STARTED = "headstart.host", "headstart.pid", "headstart.pid_started"


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def _written_by_dvc() -> list[str]:
    """Tracked files a run itself rewrites (dvc.lock, uncached metrics and plots): a change to
    these says nothing about the code and params the run started from."""
    from dvc.repo import Repo

    with Repo() as repo:
        return ["dvc.lock", *(str(out.def_path) for stage in repo.index.stages for out in stage.outs)]


def run_context() -> dict[str, str]:
    """Code and orchestrator: the same for every run of one pipeline execution."""
    excluded = [f":(exclude){path}" for path in _written_by_dvc()]
    return {
        "git.commit": _git("rev-parse", "HEAD"),
        "git.dirty": str(bool(_git("status", "--porcelain", "--untracked-files=no", "--", ".", *excluded))).lower(),
        "dvc.exp_name": os.environ.get("DVC_EXP_NAME", ""),
        "prefect.flow_run_id": os.environ.get(FLOW_RUN_ENV, ""),
    }


@dataclass(frozen=True)
class StageInputs:
    params: dict
    dep_hashes: dict[str, str]


def stage_inputs(stage: str) -> StageInputs:
    """The stage's params sections and the md5 of each dep, both as `dvc.yaml` declares them.

    The hashes are computed now, by DVC's own hashing (the values `dvc.lock` records, `.dir` for a
    directory), not read from `dvc.lock`: DVC writes the lock only after the stage exits, so at this
    point it still describes the previous run's inputs.
    """
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    with Repo() as repo:
        (dvc_stage,) = repo.stage.collect(stage)
        params: dict = {}
        hashes: dict[str, str] = {}
        for dep in dvc_stage.deps:
            if isinstance(dep, ParamsDependency):
                params.update(dep.get_hash().value or {})
            else:
                hashes[str(dep.def_path)] = dep.get_hash().value or ""
    return StageInputs(params, hashes)


def dep_tags(inputs: StageInputs) -> dict[str, str]:
    return {f"dvc.dep.{path}": md5 for path, md5 in inputs.dep_hashes.items()}


def process_tags(process: psutil.Process | None = None) -> dict[str, str]:
    """Who owns a run, so a later sweep can tell a crashed owner from a live one (pids get reused,
    so the start time is part of the identity)."""
    process = process or psutil.Process()
    return {HOST: socket.gethostname(), PID: str(process.pid), PID_STARTED: repr(process.create_time())}


def owner_is_dead(tags: dict[str, str]) -> bool:
    """True only for a run owned by a process of this host that no longer exists."""
    if tags.get(HOST) != socket.gethostname() or PID not in tags:
        return False
    try:
        return repr(psutil.Process(int(tags[PID])).create_time()) != tags.get(PID_STARTED)
    except psutil.NoSuchProcess:
        return True


def dvc_ancestor() -> psutil.Process | None:
    """The `dvc` process this one runs under (through DVC's shell), if any: every stage of one plain
    `dvc repro` shares it."""
    for process in psutil.Process().parents():
        try:
            if any(os.path.basename(arg) == "dvc" for arg in process.cmdline()[:2]):
                return process
        except psutil.Error:
            continue
    return None
