"""`dvc repro` inside one parent MLflow run: `python -m pipeline.repro [dvc repro arguments]`.

Every stage that runs becomes a child run of it; if `dvc repro` fails, the parent ends FAILED.
"""
from __future__ import annotations

import subprocess
import sys

from pipeline import tracking


def main(argv: list[str]) -> int:
    with tracking.pipeline_run(" ".join(["dvc repro", *argv])):
        returncode = subprocess.run(["dvc", "repro", *argv]).returncode
        if returncode:
            sys.exit(returncode)  # raised inside the run: it ends FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
