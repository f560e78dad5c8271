import numpy as np
import pytest

from pipeline.data.splits import source_splits, target_splits
from pipeline.data.tables import UNLABELLED

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


def test_too_few_samples_names_class():
    with pytest.raises(ValueError, match="class 0 has 20"):
        make(shots_per_class=30)


def test_source_val_fraction():
    split = source_splits(1000, 0.1, seed=3)
    assert (split == "val").sum() == 100
