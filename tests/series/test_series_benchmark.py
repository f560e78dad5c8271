"""The series benchmark: --quick runs and writes its table next to the published numbers."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workspace import REPO


def quick(out: Path, *args: str) -> dict:
    """`--quick --shots 3` with `args`, written to `out`; its series.json."""
    result = subprocess.run([sys.executable, str(REPO / "benchmarks/series_transfer.py"), "--quick", "--shots", "3", *args, "--out", str(out)],
                            cwd=REPO, capture_output=True, text=True, env={"TQDM_DISABLE": "1", "PATH": ""})
    assert result.returncode == 0, result.stderr
    return json.loads((out / "series.json").read_text())


@pytest.mark.slow
def test_quick_benchmark_writes_the_table(tmp_path):
    records = quick(tmp_path)["records"]
    table = (tmp_path / "series.md").read_text()
    assert "Fawaz et al. 2018" in table and "| -" in table and "ItalyPowerDemand | lp-ft" in table
    assert {r["method"] for r in records} == {"scratch", "lp-ft"} and all(0 <= r["accuracy"] <= 1 for r in records)


@pytest.mark.slow
def test_ensemble_scores_each_seed_on_the_mean_prediction_of_its_members(tmp_path):
    run = quick(tmp_path, "--ensemble", "2", "--seeds", "1")
    assert run["ensemble"] == 2 and {r["seed"] for r in run["records"]} == {1}
    assert all(len(r["members"]) == 2 for r in run["records"])
    assert "each seed an ensemble of 2 models" in (tmp_path / "series.md").read_text()
    # Seed 1's second member is seed 3 of the plain benchmark, which scores it alone.
    single = quick(tmp_path / "single", "--seeds", "3")
    assert [r["members"][1] for r in run["records"]] == [r["accuracy"] for r in single["records"]]
