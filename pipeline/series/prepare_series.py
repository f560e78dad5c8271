"""prepare for `prepare.recipe: series`: UCR source and target, the length rule, the UCR splits (the
target's own test file is the fixed test set), series gates, and the same tables and meta.json as images.

Table layout: the image layout (`px_*` value columns) with values channel-major (`px_i`, i = c * L + t),
NaN after each series' end when padded, plus a `length` column with each series' own length."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.data.splits import target_splits
from pipeline.data.tables import UNLABELLED, to_frame
from pipeline.schemas import target_split_names, validate_or_exit
from pipeline.series.length import apply_rule
from pipeline.series.schemas import series_schema
from pipeline.series.ts_format import load_split


def _table(cfg: dict, source: str | dict, domain: str, split_names: dict[str, np.ndarray | str], classes: list[str]) -> tuple[pd.DataFrame, tuple[int, int]]:
    """The domain's table from its UCR train and test files, and the (channels, length) of its train file."""
    frames, shapes = [], []
    for ucr_split, names in split_names.items():
        cases, text_labels = load_split(source, ucr_split)
        values, lengths = apply_rule(cases, cfg["length_rule"], cfg["length"], cfg["znorm"])
        # A label outside the class list becomes -1, which the gate reports by value.
        labels = pd.array([classes.index(t) if t in classes else -1 for t in text_labels], dtype="Int64")
        if isinstance(names, np.ndarray):
            labels[names == UNLABELLED] = pd.NA
        name = source if isinstance(source, str) else Path(source["train"]).stem
        frame = to_frame(values, labels, [f"{name}_{ucr_split}_{i}" for i in range(len(cases))], domain, names)
        frames.append(frame.assign(length=lengths.astype(np.int64)))
        shapes.append(values.shape[1:])
    return pd.concat(frames, ignore_index=True), shapes[0]


def _classes(source: str | dict) -> list[str]:
    return sorted(set(load_split(source, "train")[1]), key=lambda label: (len(label), label))


def series_tables(params: dict) -> tuple[dict[str, pd.DataFrame], dict]:
    """The gated source and target tables and their meta.json, as `build_tables` returns them for images."""
    cfg, seed = params["prepare"]["series"], params["seed"]
    source_classes, classes = _classes(cfg["source"]), _classes(cfg["target"])
    source, (channels, length) = _table(cfg, cfg["source"], "source", {"train": "train", "test": "val"}, source_classes)
    target_labels = np.array([classes.index(t) for t in load_split(cfg["target"], "train")[1]])
    # The target's own test file is the test set, so no series of its train file is held out as test.
    target_split = target_splits(target_labels, test_fraction=0.0, split_seed=0, shots_per_class=cfg["shots_per_class"],
                                 val_per_class=cfg["val_per_class"], seed=seed, given_test=np.zeros(len(target_labels), dtype=bool))
    target, _ = _table(cfg, cfg["target"], "target", {"train": target_split, "test": "test"}, classes)

    # The source fixes the model's input shape; the target's gate demands the same shape.
    gate = dict(channels=channels, length=length, equal_length=cfg["length_rule"] == "none")
    source = validate_or_exit(source, series_schema(domain="source", splits=["train", "val"], n_classes=len(source_classes), **gate), "source")
    target = validate_or_exit(target, series_schema(domain="target", splits=target_split_names(cfg["val_per_class"], cfg["shots_per_class"]), n_classes=len(classes),
                                                    shots_per_class=cfg["shots_per_class"], **gate), "target")
    # As for images, nothing in meta depends on the target split; no label is shared, so every target class is new.
    meta = {"modality": "series", "input_shape": [channels, length], "classes": classes, "source_classes": source_classes,
            "class_map": {c: None for c in classes}, "new_target_classes": classes, "pixel_max": 1.0}
    return {"source": source, "target": target}, meta
