"""Pictures people would rather look at than read: attention maps over test images."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.data.tables import write_atomic  # noqa: E402


def attention_maps(images: np.ndarray, weights: np.ndarray, grid: tuple[int, int], titles: list[str], path: Path) -> None:
    """Each image (C, H, W) beside its attention weights over the token grid, upsampled onto it."""
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 3.4), squeeze=False)
    for i in range(n):
        image = images[i].mean(0) if images[i].shape[0] != 3 else images[i].transpose(1, 2, 0) / images[i].max()
        axes[0, i].imshow(image, cmap="gray_r")
        axes[0, i].set_title(titles[i], fontsize=8)
        axes[1, i].imshow(image, cmap="gray_r")
        axes[1, i].imshow(weights[i].reshape(grid), cmap="inferno", alpha=0.6,
                          extent=(-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5, -0.5))
    for ax in axes.flat:
        ax.axis("off")
    axes[1, 0].text(-0.3, 0.5, "attention", transform=axes[1, 0].transAxes, rotation=90, va="center", fontsize=8)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
