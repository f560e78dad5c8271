"""Single machine, no work pool or worker: this process runs the training flow on the nightly
schedule (and on demand from the UI) until stopped.

    prefect server start                                   # another shell
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    python -m flows.serve
"""
from __future__ import annotations

from flows.deploy import NIGHTLY
from flows.train import train


def main() -> None:
    # limit=1: this runner starts one flow run at a time; the next waits for it.
    train.serve(name="nightly-local", schedules=[NIGHTLY], limit=1, tags=["nightly"])


if __name__ == "__main__":
    main()
