"""Times a default `dvc repro` from nothing and a no-op `dvc repro`, in a fresh copy of this repo.

    python benchmarks/repro_timing.py [--params params.yaml]

Prints seconds for each; run on an otherwise idle machine and compare runs made together.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.workspace import copy_repo, pipeline_env  # noqa: E402


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=pipeline_env(), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file to run with (default: the repo's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = copy_repo(Path(tmp) / "repo", yaml.safe_load(args.params.read_text()))
        dvc = str(Path(sys.executable).parent / "dvc")
        full = timed([dvc, "repro"], workspace)
        noop = timed([dvc, "repro"], workspace)
    print(f"full dvc repro: {full:.1f} s")
    print(f"no-op dvc repro: {noop:.2f} s")


if __name__ == "__main__":
    main()
