"""Where each domain's samples come from: the built-in digit recipes (synthetic font digits, scikit-learn's
handwritten digits) or the user's own image folder or array file (`prepare.<domain>.kind`)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from pipeline.data.arrays import read_arrays
from pipeline.data.fonts import Jitter, render_digits
from pipeline.data.image_folder import ALL, read_image_folder
from pipeline.data.tables import to_frame
from pipeline.schemas import class_count_schema, manifest_schema, sample_schema, validate_all_or_exit

DIGIT_CLASSES = [str(d) for d in range(10)]
OPTDIGITS_MAX = 16  # on-pixel count of a 4x4 block
DIGITS_SHAPE = [1, 8, 8]


@dataclass
class Domain:
    images: np.ndarray  # (n, C, H, W) pixel values in 0..pixel_max
    labels: np.ndarray  # (n,) index into classes
    ids: list[str]
    classes: list[str]
    given_split: np.ndarray | None = None  # "train"/"test" per sample when the data came split


def font_digits(n_samples: int, seed: int, jitter: dict) -> Domain:
    jitter = Jitter(**{key: tuple(value) if isinstance(value, list) else value for key, value in jitter.items()})
    images, labels, _fonts = render_digits(n_samples, seed, jitter)
    return Domain(images[:, None].astype(np.uint8), labels, [f"font-{i:06d}" for i in range(n_samples)], DIGIT_CLASSES)


def sklearn_digits() -> Domain:
    bunch = load_digits()
    images = bunch.images.astype(np.uint8)[:, None]
    return Domain(images, bunch.target.astype(np.int64), [f"digits-{i:04d}" for i in range(len(images))], DIGIT_CLASSES)


def needed_per_class(domain: str, cfg: dict, splits: list[str]) -> dict[str, int]:
    """Samples each class needs per given split: the target pool must hold the k-shot set and the validation
    slice (and, unsplit, survive the test draw); every class needs one source sample."""
    if domain == "source":
        return {split: 1 for split in splits}
    shots = 0 if cfg["shots_per_class"] == "all" else cfg["shots_per_class"]
    pool = shots + cfg["val_per_class"]
    if ALL in splits:
        return {ALL: math.ceil(pool / (1 - cfg["test_fraction"])) + 1}
    return {"train": pool, "test": 1}


def image_folder(domain: str, cfg: dict, image: dict) -> Domain:
    manifest, pixels, classes = read_image_folder(Path(cfg["path"]), image["size"], image["channels"], image["workers"])
    splits = sorted(set(manifest["split"])) or [ALL]
    counts = pd.crosstab(manifest["class_name"], manifest["split"]).reindex(index=classes, columns=splits, fill_value=0).rename_axis(index="class", columns=None)
    validate_all_or_exit({
        f"{domain}_files": (manifest, manifest_schema(classes=classes, splits=splits, channels=image["channels"] if image["require_channels"] else None)),
        f"{domain}_class_counts": (counts, class_count_schema(needed_per_class(domain, cfg, splits))),
    })
    # 8-bit pixels stay compact when kept as they are; any other scale is stored as float, never rounded.
    scaled = pixels if image["pixel_max"] == 255 else (pixels * (image["pixel_max"] / 255)).astype(np.float32)
    labels = manifest["class_name"].map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
    split = manifest["split"].to_numpy(object)
    return Domain(scaled, labels, [f"{domain}:{f}" for f in manifest.index], classes, None if ALL in splits else split)


def array_file(domain: str, cfg: dict, image: dict) -> Domain:
    input_shape = [image["channels"], *image["size"]]
    images, labels, classes = read_arrays(Path(cfg["path"]), input_shape, f"{domain}_arrays")
    ids = [f"{domain}-{i:06d}" for i in range(len(labels))]
    frame = to_frame(images, labels, ids, domain, ALL)
    counts = pd.DataFrame({ALL: np.bincount(labels[(labels >= 0) & (labels < len(classes))], minlength=len(classes))}, index=pd.Index(classes, name="class"))
    validate_all_or_exit({
        f"{domain}_arrays": (frame, sample_schema(domain=domain, splits=[ALL], n_classes=len(classes), pixel_max=image["pixel_max"])),
        f"{domain}_class_counts": (counts, class_count_schema(needed_per_class(domain, cfg, [ALL]))),
    })
    return Domain(images.astype(np.float32), labels, ids, classes)


def load_domain(domain: str, cfg: dict, image: dict, seed: int) -> Domain:
    kind = cfg["kind"]
    if kind in ("image_folder", "arrays") and not Path(str(cfg.get("path"))).exists():
        raise SystemExit(f"prepare.{domain}.path: {cfg.get('path')!r} does not exist (kind {kind} reads it)")
    if kind in ("fonts", "sklearn_digits") and image["pixel_max"] != OPTDIGITS_MAX:
        raise SystemExit(f"prepare.{domain}.kind {kind} has pixel values 0..{OPTDIGITS_MAX}: set prepare.image.pixel_max to {OPTDIGITS_MAX}")
    if kind == "fonts":
        return font_digits(cfg["n_samples"], seed, cfg["jitter"])
    if kind == "sklearn_digits":
        return sklearn_digits()
    if kind == "image_folder":
        return image_folder(domain, cfg, image)
    if kind == "arrays":
        return array_file(domain, cfg, image)
    raise SystemExit(f"prepare.{domain}.kind must be one of fonts (source), sklearn_digits (target), image_folder, arrays; got {kind!r}")
