"""`benchmarks/transfer.py --quick` produces a well-formed report (the figures themselves are not asserted)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_benchmark_writes_a_well_formed_report(tmp_path):
    methods = ["source-only", "rbf-svm (pixels)", "lp-ft", "probe (new gated head)", "uda: DANN"]
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "transfer.py"), "--quick", "--no-mlflow", "--out", str(tmp_path), "--methods", *methods],
                   cwd=REPO, check=True, capture_output=True, text=True)
    records = json.loads((tmp_path / "transfer.json").read_text())
    assert {r["method"] for r in records} == set(methods)
    assert {r["seed"] for r in records} == {0, 1}
    # Each (method, K, seed) exactly once, whichever worker ran it: source-only at K 0 and 5, the rest at one K.
    assert len({(r["method"], r["shots_per_class"], r["seed"]) for r in records}) == len(records) == 2 * (2 + 4)
    for r in records:
        assert set(r) == {"method", "shots_per_class", "seed", "accuracy", "macro_f1", "seconds"}
        assert r["shots_per_class"] in (0, 5) and 0 <= r["accuracy"] <= 1 and 0 <= r["macro_f1"] <= 1 and r["seconds"] >= 0
    # Label-free methods only at K=0, label-hungry ones only at K>0; source-only at both.
    assert {r["shots_per_class"] for r in records if r["method"] == "uda: DANN"} == {0}
    assert {r["shots_per_class"] for r in records if r["method"] == "lp-ft"} == {5}
    table = (tmp_path / "transfer.md").read_text()
    assert "| lp-ft" in table and "±" in table
    assert (tmp_path / "transfer.png").stat().st_size > 0
