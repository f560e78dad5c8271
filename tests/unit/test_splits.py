import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from pipeline.data.prepared import Prepared
from pipeline.data.splits import source_splits, target_splits
from pipeline.data.tables import UNLABELLED, to_frame, write_json, write_table
from pipeline.schemas import sample_schema, target_split_names
from pipeline.stages.prepare import require_source_classifier_without_labels

LABELS = np.repeat(np.arange(10), 40)


def make(**kw):
    args = dict(test_fraction=0.5, split_seed=0, shots_per_class=5, val_per_class=3, seed=0) | kw
    return target_splits(LABELS, **args)


def test_k_shot_and_val_per_class():
    split = make()
    for cls in range(10):
        assert (split[(LABELS == cls)] == "train").sum() == 5
        assert (split[(LABELS == cls)] == "val").sum() == 3
    assert (split == "test").sum() == 200
    assert (split == UNLABELLED).sum() == 200 - 80


def test_test_set_fixed_across_seeds_but_k_shot_changes():
    a, b = make(seed=0), make(seed=1)
    assert ((a == "test") == (b == "test")).all()
    assert ((a == "train") != (b == "train")).any()


def test_all_labels_whole_pool():
    split = make(shots_per_class="all")
    assert (split == UNLABELLED).sum() == 0
    assert (split == "train").sum() == 200 - 30


def test_too_few_samples_names_class_and_params():
    with pytest.raises(SystemExit, match=r"class 0 has 20 .* shots_per_class \(30\) \+ val_per_class \(3\)"):
        make(shots_per_class=30)


def test_source_val_fraction():
    split = source_splits(1000, 0.1, seed=3)
    assert (split == "val").sum() == 100


def test_without_a_val_slice_the_gate_passes_and_finetune_gets_no_val(tmp_path):
    """val_per_class 0: no class needs a 'val' row, and the prepared data hands finetune nothing to select on."""
    split = make(val_per_class=0, shots_per_class="all")
    assert not (split == "val").any() and (split == "train").sum() == 200
    labels = pd.array(LABELS, dtype="Int64")
    target = to_frame(np.zeros((len(LABELS), 1, 2, 2)), labels, [f"t{i}" for i in range(len(LABELS))], "target", split)
    with pytest.raises(pa.errors.SchemaErrors, match="class_coverage_val"):
        sample_schema(domain="target", splits=target_split_names(3, "all"), n_classes=10, pixel_max=16).validate(target, lazy=True)
    sample_schema(domain="target", splits=target_split_names(0, "all"), n_classes=10, pixel_max=16).validate(target, lazy=True)

    source = to_frame(np.zeros((4, 1, 2, 2)), np.arange(4), [f"s{i}" for i in range(4)], "source", "train")
    for name, frame in (("source", source), ("target", target)):
        write_table(frame, tmp_path / f"{name}.parquet")
    write_json({"input_shape": [1, 2, 2], "classes": [str(c) for c in range(10)]}, tmp_path / "meta.json")
    data = Prepared(tmp_path).transfer_data()
    assert data.target_val is None and len(data.target_train.labels) == 200


def test_without_labels_nothing_is_labelled_and_finetune_gets_no_target_train(tmp_path):
    """shots_per_class 0 (unsupervised adaptation): no train rows and no val slice whatever val_per_class says;
    the gate demands neither, and the prepared data hands finetune no labelled split."""
    split = make(shots_per_class=0, val_per_class=3)
    assert set(split) == {"test", UNLABELLED}
    assert target_split_names(3, 0) == ["test", UNLABELLED]
    labels = pd.array(LABELS, dtype="Int64")
    labels[split == UNLABELLED] = pd.NA
    target = to_frame(np.zeros((len(LABELS), 1, 2, 2)), labels, [f"t{i}" for i in range(len(LABELS))], "target", split)
    sample_schema(domain="target", splits=target_split_names(3, 0), n_classes=10, pixel_max=16, shots_per_class=0).validate(target, lazy=True)
    source = to_frame(np.zeros((4, 1, 2, 2)), np.arange(4), [f"s{i}" for i in range(4)], "source", "train")
    for name, frame in (("source", source), ("target", target)):
        write_table(frame, tmp_path / f"{name}.parquet")
    write_json({"input_shape": [1, 2, 2], "classes": [str(c) for c in range(10)]}, tmp_path / "meta.json")
    data = Prepared(tmp_path).transfer_data()
    assert data.target_train is None and data.target_val is None and len(data.target_unlabelled) == (split == UNLABELLED).sum()


def test_without_labels_the_target_classes_must_be_the_sources():
    cfg = {"recipe": "digits", "target": {"shots_per_class": 0}}
    require_source_classifier_without_labels(cfg, {"classes": ["0", "1"], "source_classes": ["0", "1"]})
    with pytest.raises(SystemExit, match=r"shots_per_class is 0 .* \['a', 'b'\] are not the source's \['0', '1'\]"):
        require_source_classifier_without_labels(cfg, {"classes": ["a", "b"], "source_classes": ["0", "1"]})
    # With labels a new classifier row can learn a new class.
    require_source_classifier_without_labels({**cfg, "target": {"shots_per_class": 1}}, {"classes": ["a", "b"], "source_classes": ["0", "1"]})
