"""How the flows read DVC's output: which failures are worth a retry, what a stage's outcome was."""
from __future__ import annotations

from flows.dvc_commands import StageFailed, TransientStageError, failure, outcome, uncached_outputs
from flows.sweep import comparison_table
from tests.workspace import REPO

LOCKED = "ERROR: Unable to acquire lock. Most likely another DVC process is running or was terminated abruptly."


def test_lock_contention_is_transient():
    assert isinstance(failure("dvc repro", 255, LOCKED), TransientStageError)
    assert isinstance(failure("dvc repro", 255, "ERROR: '/w/data/prepared' is busy, it is being blocked by:\n  (PID 7): dvc repro"), TransientStageError)


def test_gate_failures_are_final_and_keep_the_stage_message():
    error = failure("dvc repro", 1, "Validation failed for table 'target' (3 failure(s)); all listed in x.csv:\nERROR: failed to reproduce 'prepare'")
    assert isinstance(error, StageFailed) and "Validation failed for table 'target' (3 failure(s))" in str(error)
    assert isinstance(failure("dvc repro", 1, "ONNX parity failed at batch 64: max |onnxruntime - torch| = 1\n" + LOCKED), StageFailed)


def test_any_other_failure_is_final_with_the_output_tail():
    error = failure("dvc repro", 1, "Traceback (most recent call last):\nZeroDivisionError: division by zero")
    assert isinstance(error, StageFailed) and "ZeroDivisionError" in str(error)


def test_outcome_reads_dvc_report():
    assert outcome("export", "Stage 'export' didn't change, skipping") == "skipped (up to date)"
    assert outcome("export", "Stage 'export' is cached - skipping run, checking out outputs") == "restored from the run cache"
    assert outcome("export", "Running stage 'export':") == "ran"


def test_uncached_outputs_come_from_dvc_yaml(tmp_path):
    (tmp_path / "dvc.yaml").write_text((REPO / "dvc.yaml").read_text())
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "evaluate.json").write_text("{}")
    assert uncached_outputs(tmp_path) == ["metrics/evaluate.json"]


def test_comparison_table_puts_the_best_accuracy_first():
    def row(strategy: str, accuracy: float, shots: int = 1) -> dict:
        scores = {"accuracy": accuracy, "macro_f1": accuracy, "nll": 1.0, "ece": 0.1}
        # Without target labels (K=0) evaluate has no baseline to compare with: its gain is None.
        gain = 0.05 if shots else None
        return {"strategy": strategy, "shots": shots, "experiment": f"e-{strategy}-{shots}", "metrics": {"finetuned": scores, "transfer_gain": gain}}
    lines = comparison_table([row("head", 0.5), row("full", 0.7), row("full", 0.6, shots=0)]).splitlines()
    assert lines[0].startswith("| strategy | shots/class | accuracy")
    assert lines[2].startswith("| full | 1 | 0.7000") and lines[4].startswith("| head | 1 | 0.5000")
    assert "+0.0500 | e-full-1 |" in lines[2]
    assert lines[3].startswith("| full | 0 | 0.6000") and "| n/a | e-full-0 |" in lines[3]
