"""Image folders (`<root>/<class>/*` or `<root>/{train,test}/<class>/*`): list the files, decode them with several
workers, and describe every file in a manifest table that pandera gates before any pixel is used."""
from __future__ import annotations

import hashlib
import io
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

# A given `test/` level becomes the fixed test set; without split levels every file is in split "all".
SPLIT_LEVELS = ("train", "test")
ALL = "all"
MODES = {1: "L", 3: "RGB"}
CHUNK = 64  # files per task: large enough that process hand-off costs little next to decoding


def list_files(root: Path) -> tuple[pd.DataFrame, list[str]]:
    """One row per file (`file` relative to root, `class_name`, `split`), and every class folder, empty or not."""
    levels = [(root / level, level) for level in SPLIT_LEVELS if (root / level).is_dir()] or [(root, ALL)]
    rows, classes = [], set()
    for level_dir, split in levels:
        for class_dir in sorted(p for p in level_dir.iterdir() if p.is_dir()):
            classes.add(class_dir.name)
            rows += [(f.relative_to(root).as_posix(), class_dir.name, split)
                     for f in sorted(class_dir.iterdir()) if f.is_file() and not f.name.startswith(".")]
    return pd.DataFrame(rows, columns=["file", "class_name", "split"]), sorted(classes)


def decode(path: Path, size: tuple[int, int], channels: int) -> tuple[dict, np.ndarray | None]:
    """What the manifest records about one file, and its pixels (H, W, C) resized to `size`, or None if unreadable."""
    data = path.read_bytes()
    record = {"sha256": hashlib.sha256(data).hexdigest(), "error": None, "channels": None, "height": None, "width": None}
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # a truncated file only fails here, not at open
            record.update(channels=len(image.getbands()), height=image.height, width=image.width)
            resized = image.convert(MODES[channels]).resize(size[::-1], Image.Resampling.BILINEAR)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        record["error"] = f"{type(error).__name__}: {error}"
        return record, None
    return record, np.asarray(resized, dtype=np.uint8).reshape(*size, channels)


def decode_all(paths: list[Path], size: tuple[int, int], channels: int, workers: int) -> list[tuple[dict, np.ndarray | None]]:
    job = partial(decode, size=tuple(size), channels=channels)
    if workers <= 1:
        return list(map(job, paths))
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(job, paths, chunksize=CHUNK))


def read_image_folder(root: Path, size: tuple[int, int], channels: int, workers: int) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The manifest (indexed by file), the decoded images (n, C, H, W) uint8 with zeros where a file was unreadable,
    and the class names."""
    files, classes = list_files(root)
    decoded = decode_all([root / f for f in files["file"]], size, channels, workers)
    manifest = pd.concat([files, pd.DataFrame([record for record, _ in decoded], index=files.index)], axis=1)
    manifest = manifest.astype({"channels": "Int64", "height": "Int64", "width": "Int64", "error": object}).set_index("file")
    blank = np.zeros((*size, channels), dtype=np.uint8)
    images = np.stack([blank if pixels is None else pixels for _, pixels in decoded]) if decoded else blank[None][:0]
    return manifest, images.transpose(0, 3, 1, 2), classes
