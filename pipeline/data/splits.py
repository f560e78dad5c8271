"""Target splits: a fixed stratified test set, then k-shot train, a validation slice and the unlabelled rest."""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from pipeline.data.tables import UNLABELLED


def target_splits(labels: np.ndarray, *, test_fraction: float, split_seed: int, shots_per_class: int | str, val_per_class: int, seed: int,
                  given_test: np.ndarray | None = None) -> np.ndarray:
    """Returns a split name per sample. The test set is `given_test` (a mask) when the data came split, else
    drawn from `split_seed` only, so it is the same for every `seed`; `shots_per_class="all"` labels the whole
    pool except the validation slice, and 0 labels none, not even a validation slice (unsupervised adaptation)."""
    if shots_per_class == 0:  # no target labels at all, so none for a val slice either
        val_per_class = 0
    index = np.arange(len(labels))
    if given_test is None:
        pool, _test = train_test_split(index, test_size=test_fraction, stratify=labels, random_state=split_seed)
    else:
        pool = index[~given_test]
    split = np.full(len(labels), "test", dtype=object)
    split[pool] = UNLABELLED
    rng = np.random.default_rng(seed)
    for cls in np.unique(labels):
        members = rng.permutation(pool[labels[pool] == cls])
        needed = val_per_class + (0 if shots_per_class == "all" else shots_per_class)
        if len(members) < needed:
            raise SystemExit(f"class {cls} has {len(members)} labelled samples outside the test set, fewer than the {needed} that "
                             f"shots_per_class ({shots_per_class}) + val_per_class ({val_per_class}) need")
        split[members[:val_per_class]] = "val"
        train_end = len(members) if shots_per_class == "all" else val_per_class + shots_per_class
        split[members[val_per_class:train_end]] = "train"
    return split


def source_splits(n_samples: int, val_fraction: float, seed: int, given_test: np.ndarray | None = None) -> np.ndarray:
    """A random validation fraction; when the source came split, its test part is the validation split instead."""
    split = np.full(n_samples, "train", dtype=object)
    if given_test is not None:
        split[given_test] = "val"
        return split
    split[np.random.default_rng(seed).permutation(n_samples)[: int(round(n_samples * val_fraction))]] = "val"
    return split
