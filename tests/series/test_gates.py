"""The prepare stage on series: good `.ts` files pass, and each bad input stops it with a named check."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.series.conftest import series_params, sine_cases
from tests.workspace import copy_repo, pipeline_env


def run_prepare(workspace, params: dict) -> subprocess.CompletedProcess:
    """The prepare stage as DVC runs it (it records lineage, so it needs a git + DVC workspace)."""
    (workspace / "params.yaml").write_text(yaml.safe_dump(params))
    shutil.rmtree(workspace / "data" / "prepared", ignore_errors=True)
    return subprocess.run([sys.executable, "-m", "pipeline.stages.prepare"], cwd=workspace, env=pipeline_env(), capture_output=True, text=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("gates") / "repo")


def test_good_files_pass_and_pad_marks_the_end_with_nan(workspace, ts_pair):
    files = ts_pair(source_length=20, target_length=30)
    result = run_prepare(workspace, series_params(files["source"], files["target"], length_rule="pad", length=30))
    assert result.returncode == 0, result.stderr
    meta = json.loads((workspace / "data/prepared/meta.json").read_text())
    assert meta["modality"] == "series" and meta["input_shape"] == [1, 30]
    source = pd.read_parquet(workspace / "data/prepared/source.parquet")
    assert (source["length"] == 20).all()
    values = source.filter(regex="^px_").to_numpy()
    assert np.isnan(values[:, 20:]).all() and not np.isnan(values[:, :20]).any()


def _broken(case_edit):
    cases, labels = sine_cases(6, 40)
    return case_edit(cases, labels)


def test_nan_inside_a_series_fails_the_nan_policy(workspace, ts_pair):
    def missing_value(cases, labels):
        cases[0][0][10] = np.nan
        return cases, labels

    files = ts_pair(target_train=_broken(missing_value))
    result = run_prepare(workspace, series_params(files["source"], files["target"], length_rule="none", length=None))
    assert result.returncode == 1
    assert "Validation failed for table 'target'" in result.stderr and "nan_policy" in result.stderr


def test_wrong_channel_count_fails_the_shape_check(workspace, ts_pair):
    files = ts_pair(target_train=sine_cases(6, 40, channels=2), target_test=sine_cases(4, 40, channels=2))
    result = run_prepare(workspace, series_params(files["source"], files["target"]))
    assert result.returncode == 1
    assert "shape: every series must have 1 channel(s) x 32 points" in result.stderr


def test_label_outside_the_train_labels_fails(workspace, ts_pair):
    test_cases, test_labels = sine_cases(4, 40)
    files = ts_pair(target_test=(test_cases, test_labels[:-1] + ["unseen"]))
    result = run_prepare(workspace, series_params(files["source"], files["target"]))
    assert result.returncode == 1
    assert "label outside the 2 classes of the target's train file" in result.stderr


def test_length_mismatch_without_a_rule_fails(workspace, ts_pair):
    files = ts_pair(source_length=40, target_length=50)
    result = run_prepare(workspace, series_params(files["source"], files["target"], length_rule="none", length=None))
    assert result.returncode == 1
    assert "shape: every series must have 1 channel(s) x 40 points" in result.stderr


def test_unequal_lengths_within_a_table_fail_without_a_rule(workspace, ts_pair):
    def one_shorter(cases, labels):
        cases[0][0] = cases[0][0][:30]
        return cases, labels

    files = ts_pair(target_train=_broken(one_shorter))
    result = run_prepare(workspace, series_params(files["source"], files["target"], length_rule="none", length=None))
    assert result.returncode == 1
    assert "equal_length" in result.stderr and "length_rule is 'none'" in result.stderr


def test_more_shots_than_the_train_file_holds_fails_naming_the_params(workspace, ts_pair):
    files = ts_pair()  # 6 train series a class
    result = run_prepare(workspace, series_params(files["source"], files["target"], shots_per_class=6, val_per_class=1))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "class 0 has 6 labelled samples outside the test set, fewer than the 7 that shots_per_class (6) + val_per_class (1) need" in result.stderr
