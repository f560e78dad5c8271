"""Helpers for series tests: write small `.ts` files and tiny series params."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.workspace import tiny_params

TINY_SERIES = {"length_rule": "resample", "length": 32, "shots_per_class": 2, "val_per_class": 1}


def write_ts(path: Path, cases: list[list[list[float]]], labels: list[str]) -> Path:
    """One `.ts` file: `cases[i]` is a list of channels, each a list of values (NaN written as `?`)."""
    rows = [":".join(",".join("?" if np.isnan(v) else f"{v:.5f}" for v in channel) for channel in case) + f":{label}"
            for case, label in zip(cases, labels)]
    header = ["@problemName test", "@timeStamps false", "@univariate true", f"@classLabel true {' '.join(sorted(set(labels)))}", "@data"]
    path.write_text("\n".join(header + rows) + "\n")
    return path


def sine_cases(n_per_class: int, length: int, classes: int = 2, channels: int = 1, seed: int = 0) -> tuple[list, list[str]]:
    """Class c is a noisy sine with c + 1 periods: easy to tell apart, cheap to write."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, length)
    cases, labels = [], []
    for c in range(classes):
        for _ in range(n_per_class):
            cases.append([list(np.sin((c + 1) * t) + 0.1 * rng.standard_normal(length)) for _ in range(channels)])
            labels.append(str(c))
    return cases, labels


@pytest.fixture
def ts_pair(tmp_path):
    """Writes a source and a target dataset (train + test each) and returns their params entries;
    the `target_*` arguments let a test break the target."""

    def make(target_train=None, target_test=None, source_length: int = 40, target_length: int = 40) -> dict:
        files = {}
        for name, length, train, test in (("source", source_length, None, None), ("target", target_length, target_train, target_test)):
            files[name] = {
                "train": str(write_ts(tmp_path / f"{name}_TRAIN.ts", *(train or sine_cases(6, length)))),
                "test": str(write_ts(tmp_path / f"{name}_TEST.ts", *(test or sine_cases(4, length, seed=1)))),
            }
        return files

    return make


def series_params(source: str | dict, target: str | dict, **series) -> dict:
    params = tiny_params(prepare={"recipe": "series"}, model={"max_tokens": 8})
    # Set, not merged: a source may replace a dataset name with a {train, test} dict of paths.
    params["prepare"]["series"] = {**params["prepare"]["series"], **TINY_SERIES, "source": source, "target": target, **series}
    return params
