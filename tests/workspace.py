"""A tiny params override composed once, and temporary copies of the repo to run DVC in (tests and benchmarks)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# What a run writes; never copied into a temporary repo.
RUN_OUTPUTS = {".venv", ".git", "mlflow.db", "mlartifacts", "mlruns", "models", "metrics", "plots", "reports", ".pytest_cache", "dvc.lock"}

TINY = {
    "prepare": {"source": {"n_samples": 1500}, "target": {"shots_per_class": 5, "val_per_class": 3}},
    "model": {"dim": 32, "depth": 1, "heads": 2, "max_grid": 4},
    "pretrain": {"epochs": 3, "batch_size": 64},
    # Six epochs on a backbone pretrained for three: at the default full backbone lr they rewrite the barely
    # trained features (34% on the test set, measured), so the tiny run keeps the backbone at x0.3.
    "finetune": {"epochs": 6, "head_epochs": 3, "backbone_lr_mult": 0.3},
    "evaluate": {"scratch_epochs": 6, "attention_examples": 4},
    "export": {"latency_repeats": 3},
}


def merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(base[key], value) if isinstance(value, dict) else value
    return out


def tiny_params(**overrides) -> dict:
    return merge(merge(yaml.safe_load((REPO / "params.yaml").read_text()), TINY), overrides)


def copy_repo(dest: Path, params: dict | None = None) -> Path:
    """A git + DVC workspace holding the tracked sources and `params`, none of this checkout's outputs."""
    shutil.copytree(REPO, dest, ignore=lambda d, names: [n for n in names if Path(d) == REPO and n in RUN_OUTPUTS or n == "__pycache__"])
    (dest / "data" / "prepared").exists() and shutil.rmtree(dest / "data" / "prepared")
    (dest / "params.yaml").write_text(yaml.safe_dump(params or tiny_params(), sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"], cwd=dest, check=True)
    return dest


def pipeline_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1", **extra}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("HEADSTART_PARENT_RUN_ID", None)
    env.update(extra)
    return env


def dvc(workspace: Path, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / "dvc"), *args], cwd=workspace, env=env or pipeline_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result



def repro(workspace: Path, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """What `make run` does: `dvc repro` inside one parent MLflow run (pipeline/repro.py)."""
    result = subprocess.run([sys.executable, "-m", "pipeline.repro", *args], cwd=workspace, env=env or pipeline_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"pipeline.repro {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
