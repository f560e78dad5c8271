"""Offline defaults for Prefect (and the MLflow/DVC processes the flows start).

Prefect reads its settings once, when `prefect` is first imported, so these must be in the
environment before that: `flows/__init__.py` imports this module first. `setdefault` keeps any
value the caller exported (a `PREFECT_API_URL` for a persistent server, a longer timeout).
"""
import os

OFFLINE_DEFAULTS = {
    # The server-side heartbeat runs in ephemeral servers too; offline it only logs failures.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # Prefect accepts 1/true/yes; MLflow only the literal "true".
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    # The ephemeral server takes 15-30 s to start on two busy cores; the default 20 s fails.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # With no PREFECT_API_URL, start a local ephemeral server rather than fail.
    "PREFECT_SERVER_EPHEMERAL_ENABLED": "true",
}

for name, value in OFFLINE_DEFAULTS.items():
    os.environ.setdefault(name, value)
