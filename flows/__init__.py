"""Prefect flows that drive the DVC pipeline; they never re-implement it.

The offline settings are applied here, before any submodule imports prefect, because prefect
reads its settings once, at import time.
"""
from flows import settings  # noqa: F401
