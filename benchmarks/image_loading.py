"""Decode a generated folder of images (default 20,000 PNGs) with 1 worker and with N, and print images/second.
No assertions: speed goals live here, not in tests. `python -m benchmarks.image_loading [--images N] [--workers N]`."""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.data.image_folder import read_image_folder


def generate_folder(root: Path, n_images: int, size: int, n_classes: int = 10) -> Path:
    rng = np.random.default_rng(0)
    for i in range(n_images):
        folder = root / f"class_{i % n_classes}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"{i:06d}.png")
    return root


def images_per_second(root: Path, n_images: int, workers: int, size: tuple[int, int]) -> float:
    start = time.perf_counter()
    read_image_folder(root, size, channels=3, workers=workers)
    return n_images / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=64, help="side of the generated images (decoded to 32x32)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = generate_folder(Path(tmp), args.images, args.size)
        for workers in sorted({1, args.workers}):
            rate = images_per_second(root, args.images, workers, (32, 32))
            print(f"{args.images} images {args.size}x{args.size} RGB PNG -> 32x32, {workers} worker(s): {rate:,.0f} images/s")


if __name__ == "__main__":
    main()
