"""Array files for data that is already numeric: `.npz` with `X` (n, H, W) or (n, C, H, W), `y` (class names, or
indices into an optional `class_names`), or Parquet with a `label` column and `px_*` pixel columns."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.data.tables import pixel_columns
from pipeline.schemas import array_rows_schema, validate_or_exit


def _read(path: Path, input_shape: list[int]) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as arrays:
            if not {"X", "y"} <= set(arrays.files):
                raise SystemExit(f"{path}: an .npz needs arrays 'X' and 'y' (and optionally 'class_names'); it has {arrays.files}")
            return arrays["X"], arrays["y"], list(map(str, arrays["class_names"])) if "class_names" in arrays else None
    frame = pd.read_parquet(path)
    pixels = frame[pixel_columns(frame)].to_numpy()
    if "label" not in frame or pixels.shape[1] != np.prod(input_shape):
        raise SystemExit(f"{path}: a Parquet array file needs a 'label' column and {np.prod(input_shape)} px_* columns "
                         f"(prepare.image channels x size = {input_shape}); it has {pixels.shape[1]} px_* columns")
    return pixels.reshape(len(frame), *input_shape), frame["label"].to_numpy(), None


def read_arrays(path: Path, input_shape: list[int], table: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images (n, C, H, W) as stored (float, so NaN/inf reach the gate), labels as indices into the class names
    (-1 where a label is not one of `class_names`), and the class names."""
    images, y, class_names = _read(path, input_shape)
    validate_or_exit(pd.DataFrame({"rows": [len(images), len(y)]}, index=pd.Index(["X", "y"], name="array")), array_rows_schema(), table)
    images = images[:, None] if images.ndim == 3 else images
    if class_names is not None and y.dtype.kind in "iu":
        return images.astype(np.float64), y.astype(np.int64), class_names  # indices: out-of-range ones fail the label gate
    names = y.astype(str)
    class_names = class_names or sorted({str(name) for name in names}, key=lambda name: (len(name), name) if name.isdigit() else (0, name))
    index = {name: i for i, name in enumerate(class_names)}
    return images.astype(np.float64), np.array([index.get(name, -1) for name in names], dtype=np.int64), class_names
