"""What every flow's command line does with the final state: the result on stdout, or the failure on
stderr and exit status 1."""
from __future__ import annotations

import sys
from collections.abc import Callable

from prefect.states import State


def exit_status(state: State, show: Callable[[object], str] = str) -> int:
    if state.is_failed():
        print(state.message, file=sys.stderr)
        return 1
    print(show(state.result()))
    return 0
