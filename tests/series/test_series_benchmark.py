"""The series benchmark: --quick runs and writes its table next to the published numbers; --selection last's split."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from pipeline.finetuning import TransferData
from pipeline.training import Split
from tests.workspace import REPO


@pytest.mark.slow
def test_quick_benchmark_writes_the_table(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "benchmarks/series_transfer.py"), "--quick", "--shots", "3", "--out", str(tmp_path)],
                            cwd=REPO, capture_output=True, text=True, env={"TQDM_DISABLE": "1", "PATH": ""})
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "series.md").read_text()
    assert "Fawaz et al. 2018" in table and "| -" in table and "ItalyPowerDemand | lp-ft" in table
    records = json.loads((tmp_path / "series.json").read_text())["records"]
    assert {r["method"] for r in records} == {"scratch", "lp-ft"} and all(0 <= r["accuracy"] <= 1 for r in records)


def load_benchmark():
    spec = importlib.util.spec_from_file_location("series_transfer", REPO / "benchmarks/series_transfer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("shots", "n_train", "n_unlabelled"), [("all", 5, 6), ("3", 3, 8)])
def test_selection_last_trains_on_the_val_slice_only_with_every_label(shots, n_train, n_unlabelled):
    """--selection last: no val slice to select on; with K=all its series train too (the whole train file)."""
    bench = load_benchmark()
    split = lambda n: Split(torch.randn(n, 1, 8), torch.arange(n))  # noqa: E731
    data = TransferData(split(4), split(3), split(2), torch.randn(6, 1, 8))
    chosen = bench.without_selection(data, shots)
    assert chosen.target_val is None and len(chosen.target_train.labels) == n_train
    assert len(chosen.target_unlabelled) == n_unlabelled  # K=3: the unused val series join the unlabelled
    assert len(chosen.target_pool) == 6 + 3 + 2
