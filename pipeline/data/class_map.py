"""Source and target classes: which source class each target class stands for (`prepare.class_map`, else
the same name), and whether the source classifier can be reused as it is."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.schemas import class_map_schema, validate_or_exit


def match_classes(target_classes: list[str], source_classes: list[str], class_map: dict[str, str]) -> dict[str, str | None]:
    """{target class: its source class, or None when the source has no such class (it gets a new classifier row)}."""
    targets = pd.Index([str(t) for t in class_map], dtype=str, name="target class")
    explicit = pd.DataFrame({"source_class": pd.Series([str(s) for s in class_map.values()], index=targets, dtype=str)})
    validate_or_exit(explicit, class_map_schema(target_classes=target_classes, source_classes=source_classes), "class_map")
    return {t: str(class_map[t]) if t in class_map else (t if t in source_classes else None) for t in target_classes}


def align_source(labels: np.ndarray, source_classes: list[str], matched: dict[str, str | None]) -> tuple[np.ndarray, list[str]]:
    """When the match is one-to-one over all classes, relabel the source in target order and target names, so the
    source classifier can be reused; otherwise keep the source classes as they are."""
    if sorted(v for v in matched.values() if v is not None) != sorted(source_classes) or None in matched.values():
        return labels, source_classes
    target_of = {s: i for i, s in enumerate(matched.values())}
    return np.array([target_of[source_classes[label]] for label in labels], dtype=np.int64), list(matched)
