"""Bring your own data: image folders and array files as source or target, run through `dvc repro` in a
temporary copy of the repo; each kind of bad input stops prepare with a message naming the file or class."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
import yaml
from PIL import Image

from pipeline.data.arrays import read_arrays
from pipeline.data.image_folder import decode_all, read_image_folder
from pipeline.data.tables import pixel_columns, to_frame
from tests.data.own_data import digit_arrays, digit_images, write_folder, write_npz
from tests.workspace import copy_repo, dvc, tiny_params

GRAY = {"size": [8, 8], "channels": 1, "pixel_max": 16}


def folder_params(target: str = "data/raw/target", source: dict | None = None, image: dict | None = None, **prepare) -> dict:
    return tiny_params(prepare={"source": source or {"kind": "fonts"}, "target": {"kind": "image_folder", "path": target},
                                "image": {**GRAY, **(image or {})}, **prepare})


def split_digit_folder(root: Path, train: int = 9, test: int = 4, **image) -> Path:
    write_folder(root / "train", digit_images(train, **image))
    write_folder(root / "test", digit_images(test, offset=train, **image))
    return root


def test_parallel_decoding_matches_serial(tmp_path):
    root = write_folder(tmp_path / "digits", digit_images(3, size=12, rgb=True))
    manifest, images, classes = read_image_folder(root, (10, 6), 3, workers=1)
    paths = [root / f for f in manifest.index]
    assert images.shape == (30, 3, 10, 6) and classes == [str(c) for c in range(10)]
    assert manifest["channels"].eq(3).all() and manifest["height"].eq(12).all()
    parallel = np.stack([pixels for _, pixels in decode_all(paths, (10, 6), 3, workers=2)]).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(parallel, images)


def test_parquet_array_file_reads_named_labels_and_rejects_a_wrong_shape(tmp_path):
    X, y = digit_arrays(3)
    frame = to_frame(X[:, None], y, [str(i) for i in range(len(y))], "target", "all")
    frame = frame[["label", *pixel_columns(frame)]]
    frame["label"] = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])[y]
    frame.to_parquet(tmp_path / "digits.parquet")
    images, labels, classes = read_arrays(tmp_path / "digits.parquet", [1, 8, 8], "target_arrays")
    assert images.shape == (30, 1, 8, 8) and classes[labels[0]] == "zero" and len(classes) == 10
    with pytest.raises(SystemExit, match="64 px_"):
        read_arrays(tmp_path / "digits.parquet", [3, 8, 8], "target_arrays")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("own-data") / "repo")


@pytest.mark.slow
def test_rgb_folders_of_another_size_run_to_onnx(tmp_path_factory):
    """Source: RGB 16x16 folder without digit 9; target: RGB folder with train/test levels and a new class 9."""
    image = {"size": [12, 12], "channels": 3, "pixel_max": 255}
    repo = copy_repo(tmp_path_factory.mktemp("rgb") / "repo", folder_params(source={"kind": "image_folder", "path": "data/raw/source"}, image=image))
    write_folder(repo / "data/raw/source", [(c, im) for c, im in digit_images(40, size=16, rgb=True) if c != "9"])
    split_digit_folder(repo / "data/raw/target", size=16, rgb=True)
    out = dvc(repo, "repro").stdout
    meta = json.loads((repo / "data/prepared/meta.json").read_text())
    assert meta["input_shape"] == [3, 12, 12] and meta["new_target_classes"] == ["9"] and len(meta["source_classes"]) == 9
    assert "target classes absent from the source" in out
    assert pd.read_parquet(repo / "data/prepared/target.parquet")["split"].value_counts()["test"] == 40
    graph = onnx.load(repo / "models/model.onnx").graph
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim][1:] == [3, 12, 12]
    assert [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim][1:] == [10]
    assert json.loads((repo / "metrics/evaluate.json").read_text())["baselines"]["source_only"] == {}
    # The raw data is a dependency: touching it makes prepare, and so everything after it, stale.
    shutil.copy(repo / "data/raw/target/train/0/00000.png", repo / "data/raw/target/train/0/extra.png")
    assert "prepare" in dvc(repo, "status").stdout


@pytest.mark.slow
def test_mapped_array_source_reuses_the_source_classifier(workspace):
    """npz source with named classes mapped onto the target's digit names: one-to-one, so the source is relabelled."""
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    write_npz(workspace / "data/raw/source.npz", 50, class_names=np.array(names))
    split_digit_folder(workspace / "data/raw/target")
    params = folder_params(source={"kind": "arrays", "path": "data/raw/source.npz"}, class_map={str(i): n for i, n in enumerate(names)})
    (workspace / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc(workspace, "repro", "prepare")
    meta = json.loads((workspace / "data/prepared/meta.json").read_text())
    assert meta["source_classes"] == meta["classes"] == [str(i) for i in range(10)] and meta["new_target_classes"] == []
    assert meta["class_map"]["3"] == "three"


def truncated_image(root: Path) -> tuple[dict, str]:
    path = root / "train/4/00041.png"
    path.write_bytes(path.read_bytes()[:60])
    return {}, "train/4/00041.png"


def non_image_file(root: Path) -> tuple[dict, str]:
    (root / "train/2/notes.txt").write_text("not an image")
    return {}, "train/2/notes.txt"


def empty_class_folder(root: Path) -> tuple[dict, str]:
    for f in (root / "train/7").iterdir():
        f.unlink()
    return {}, "0 at class 7"


def too_few_for_k_shot(root: Path) -> tuple[dict, str]:
    for f in sorted((root / "train/3").iterdir())[2:]:
        f.unlink()
    return {}, "2 at class 3"


def mixed_channels(root: Path) -> tuple[dict, str]:
    Image.new("RGB", (8, 8), (200, 10, 10)).save(root / "train/5/rgb.png")
    return {"image": {"require_channels": True}}, "train/5/rgb.png"


def duplicate_across_splits(root: Path) -> tuple[dict, str]:
    shutil.copy(root / "train/6/00054.png", root / "test/6/copy.png")
    return {}, "test/6/copy.png"


def class_mapped_to_nothing(root: Path) -> tuple[dict, str]:
    return {"class_map": {"8": "eight"}}, "'eight' at target class 8"


def array_source(**overrides) -> dict:
    return {"source": {"kind": "arrays", "path": "data/raw/source.npz"}, "arrays": overrides}


def label_outside_class_list(root: Path) -> tuple[dict, str]:
    y = np.repeat(np.arange(10), 20)
    y[7] = 12
    return array_source(y=y, class_names=np.array([str(i) for i in range(10)])), "label"


def nan_inf_out_of_range(root: Path) -> tuple[dict, str]:
    X, _ = digit_arrays(20)
    X[1, 2, 3], X[4, 0, 0], X[5, 1, 1] = np.nan, np.inf, 99
    return array_source(X=X), "px_"


def mismatched_lengths(root: Path) -> tuple[dict, str]:
    return array_source(y=np.repeat(np.arange(10), 20)[:-5]), "195 at array y"


@pytest.mark.slow
@pytest.mark.parametrize("corrupt", [truncated_image, non_image_file, empty_class_folder, too_few_for_k_shot, mixed_channels,
                                     duplicate_across_splits, class_mapped_to_nothing, label_outside_class_list,
                                     nan_inf_out_of_range, mismatched_lengths])
def test_bad_input_stops_prepare_with_a_clear_message(workspace, corrupt):
    root = workspace / "data/raw/bad"
    shutil.rmtree(workspace / "data/raw", ignore_errors=True)
    shutil.rmtree(workspace / "reports/validation", ignore_errors=True)
    split_digit_folder(root)
    overrides, named = corrupt(root)
    arrays = overrides.pop("arrays", None)
    if arrays is not None:
        write_npz(workspace / "data/raw/source.npz", 20, **arrays)
    params = folder_params(target="data/raw/bad", **overrides)
    (workspace / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = dvc(workspace, "repro", check=False)
    assert result.returncode != 0
    assert named in result.stderr and "Traceback" not in result.stderr + result.stdout, result.stderr
    assert "Running stage 'pretrain'" not in result.stdout and not (workspace / "models/pretrained.pt").exists()
    reports = list((workspace / "reports/validation").glob("*.csv"))
    assert reports and any(named in p.read_text() for p in reports) or named in result.stderr
