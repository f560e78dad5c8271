"""Small image folders and array files on disk, built from scikit-learn's bundled digits or generated."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

DIGITS = load_digits()


def digit_images(per_class: int, size: int = 8, rgb: bool = False, offset: int = 0) -> list[tuple[str, Image.Image]]:
    """(class name, image) for `per_class` digits of each class, 8-bit, resized to `size`, tinted when `rgb`."""
    out = []
    for cls in range(10):
        for i in np.flatnonzero(DIGITS.target == cls)[offset: offset + per_class]:
            image = Image.fromarray((DIGITS.images[i] * 255 / 16).astype(np.uint8)).resize((size, size))
            if rgb:
                gray = np.asarray(image)
                image = Image.fromarray(np.stack([gray, gray // 2, 255 - gray], axis=-1))
            out.append((str(cls), image))
    return out


def write_folder(root: Path, images: list[tuple[str, Image.Image]], fmt: str = "png") -> Path:
    for i, (cls, image) in enumerate(images):
        (root / cls).mkdir(parents=True, exist_ok=True)
        image.save(root / cls / f"{i:05d}.{fmt}")
    return root


def digit_arrays(per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` digits of each class: X (n, 8, 8) float32 in 0..16, y (n,) class indices."""
    index = np.concatenate([np.flatnonzero(DIGITS.target == c)[:per_class] for c in range(10)])
    return DIGITS.images[index].astype(np.float32), DIGITS.target[index]


def write_npz(path: Path, per_class: int, **overrides) -> Path:
    X, y = digit_arrays(per_class)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{"X": X, "y": y, **overrides})
    return path
