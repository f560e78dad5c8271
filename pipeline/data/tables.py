"""Sample tables: one row per image with `sample_id`, `domain`, `split`, `label` and one column per pixel."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

PIXEL_PREFIX = "px_"
PIXEL_PATTERN = rf"^{PIXEL_PREFIX}\d+$"
UNLABELLED = "unlabelled"


def to_frame(images: np.ndarray, labels, ids: list[str], domain: str, split: str | np.ndarray) -> pd.DataFrame:
    """`images` (n, ...) of pixel values; `labels` an integer array, with NA where a row is unlabelled."""
    flat = images.reshape(len(images), -1)
    width = len(str(flat.shape[1] - 1))
    pixels = pd.DataFrame(flat, columns=[f"{PIXEL_PREFIX}{i:0{width}d}" for i in range(flat.shape[1])])
    meta = pd.DataFrame({"sample_id": ids, "domain": domain, "split": split, "label": pd.array(labels, dtype="Int64")})
    return pd.concat([meta, pixels], axis=1)


def pixel_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(PIXEL_PREFIX)]


def images_of(frame: pd.DataFrame, input_shape: list[int]) -> np.ndarray:
    return frame[pixel_columns(frame)].to_numpy(np.float32).reshape(len(frame), *input_shape)


def labels_of(frame: pd.DataFrame) -> np.ndarray:
    return frame["label"].to_numpy(np.int64)


def write_atomic(path: Path, write) -> None:
    """Write through a temporary file and rename, so a crash never leaves a half-written output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_json(data: dict, path: Path) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n"))


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())
