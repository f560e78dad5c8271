"""`dvc repro` prepare -> export on a bundled UCR pair (ItalyPowerDemand -> ArrowHead), padded to one length."""
from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from tests.series.conftest import series_params
from tests.workspace import copy_repo, dvc

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def series_workspace(tmp_path_factory):
    # Pad (not resample): ItalyPowerDemand's 24 points sit in 256 with NaN after them, so masking runs through every stage.
    # No val slice, as Fawaz et al.: all 36 ArrowHead train series train and the last weights are kept.
    params = series_params("ItalyPowerDemand", "ArrowHead", length_rule="pad", length=256, shots_per_class="all", val_per_class=0)
    workspace = copy_repo(tmp_path_factory.mktemp("series") / "repo", params)
    dvc(workspace, "repro")
    return workspace


def test_every_stage_ran_on_series(series_workspace):
    meta = json.loads((series_workspace / "data/prepared/meta.json").read_text())
    assert meta["modality"] == "series" and meta["input_shape"] == [1, 256]
    counts = json.loads((series_workspace / "metrics/prepare.json").read_text())
    assert counts["target_test"] == 175  # ArrowHead's own test file
    evaluate = json.loads((series_workspace / "metrics/evaluate.json").read_text())
    assert evaluate["test_samples"] == 175 and sum(map(sum, evaluate["confusion_matrix"])) == 175
    # Different label sets: source-only is n/a (empty); the raw-value baselines run on the padded series.
    assert evaluate["baselines"]["source_only"] == {} and evaluate["baselines"]["logreg_pixels"]["accuracy"] > 0.4
    for path in ("reports/evaluate.md", "plots/attention_maps.png", "models/model.onnx"):
        assert (series_workspace / path).stat().st_size > 0, path


def test_without_a_val_slice_the_whole_train_file_trains_and_the_last_epoch_is_kept(series_workspace):
    finetune = json.loads((series_workspace / "metrics/finetune.json").read_text())
    counts = json.loads((series_workspace / "metrics/prepare.json").read_text())
    assert finetune["train_samples"] == 36 and counts.get("target_val", 0) == 0
    history = pd.read_csv(series_workspace / "plots/finetune_history.csv")
    assert finetune["kept_epoch"] == history["epoch"].max() and "target_val_accuracy" not in finetune
    assert history["val_accuracy"].isna().all() and history["train_accuracy"].notna().all()
    # The plot that names val_accuracy still renders when that column is empty.
    dvc(series_workspace, "plots", "show", "-o", "dvc_plots")
    assert (series_workspace / "dvc_plots/index.html").stat().st_size > 0


def test_onnx_takes_nan_padded_series(series_workspace):
    export = json.loads((series_workspace / "metrics/export.json").read_text())
    assert export["batch_1"]["ok"] and export["batch_64"]["ok"]
    source = pd.read_parquet(series_workspace / "data/prepared/source.parquet")
    series = source.filter(regex="^px_").to_numpy(np.float32)[:4].reshape(4, 1, 256)
    assert np.isnan(series).any()
    logits = ort.InferenceSession(str(series_workspace / "models/model.onnx")).run(None, {"images": series})[0]
    assert logits.shape == (4, 3) and np.isfinite(logits).all()
