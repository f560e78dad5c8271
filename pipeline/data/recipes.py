"""The default recipe: synthetic font digits as the source, scikit-learn's handwritten digits as the target."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits

from pipeline.data.fonts import Jitter, render_digits

DIGIT_CLASSES = [str(d) for d in range(10)]
OPTDIGITS_MAX = 16  # on-pixel count of a 4x4 block


@dataclass
class Domain:
    images: np.ndarray  # (n, C, H, W) pixel values in 0..pixel_max
    labels: np.ndarray  # (n,) index into classes
    ids: list[str]


def font_digits(n_samples: int, seed: int, jitter: dict) -> Domain:
    jitter = Jitter(**{key: tuple(value) if isinstance(value, list) else value for key, value in jitter.items()})
    images, labels, _fonts = render_digits(n_samples, seed, jitter)
    return Domain(images[:, None].astype(np.uint8), labels, [f"font-{i:06d}" for i in range(n_samples)])


def sklearn_digits() -> Domain:
    bunch = load_digits()
    images = bunch.images.astype(np.uint8)[:, None]
    return Domain(images, bunch.target.astype(np.int64), [f"digits-{i:04d}" for i in range(len(images))])
