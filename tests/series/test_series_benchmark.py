"""The series benchmark: --quick runs and writes its table next to the published numbers."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
