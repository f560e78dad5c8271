"""Prefect's overhead on the pipeline: `python -m flows.train` against plain `dvc repro`, each in
its own fresh copy of this repo, from nothing and again with every stage up to date.

    python benchmarks/prefect_overhead.py [--params params.yaml] [--tiny]

The flow is timed as a user runs it: a new process that starts its own ephemeral Prefect server
(unless PREFECT_API_URL is set). Prints seconds; run on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.workspace import copy_repo, pipeline_env, tiny_params  # noqa: E402


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml", help="params file to run with (default: the repo's)")
    parser.add_argument("--tiny", action="store_true", help="use the tests' tiny params instead")
    args = parser.parse_args()
    params = tiny_params() if args.tiny else yaml.safe_load(args.params.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        plain, flow = copy_repo(Path(tmp) / "plain", params), copy_repo(Path(tmp) / "flow", params)
        env = pipeline_env(PYTHONPATH=str(REPO), PREFECT_HOME=os.environ.get("PREFECT_HOME", str(Path(tmp) / "prefect")))
        dvc = [str(Path(sys.executable).parent / "dvc"), "repro"]
        train = [sys.executable, "-m", "flows.train", "--workspace"]
        figures = {
            "dvc repro, from nothing": timed(dvc, plain, env),
            "flows.train, from nothing": timed([*train, str(flow)], REPO, env),
            "dvc repro, up to date": timed(dvc, plain, env),
            "flows.train, up to date": timed([*train, str(flow)], REPO, env),
        }
    for name, seconds in figures.items():
        print(f"{name:28s} {seconds:7.1f} s")
    print(f"{'overhead, from nothing':28s} {figures['flows.train, from nothing'] - figures['dvc repro, from nothing']:+7.1f} s")
    print(f"{'overhead, up to date':28s} {figures['flows.train, up to date'] - figures['dvc repro, up to date']:+7.1f} s")


if __name__ == "__main__":
    main()
