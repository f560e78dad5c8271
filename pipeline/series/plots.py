"""Attention over time: each test series with the head's weight per token drawn under it."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.data.tables import write_atomic  # noqa: E402


def series_attention(series: np.ndarray, weights: np.ndarray, grid: tuple[int, int], titles: list[str], path: Path) -> None:
    """`series` (n, C, L), `weights` (n, N) over N = grid[1] tokens, each covering L / N points; same signature as
    pipeline.plots.attention_maps so evaluate picks either by the input's shape."""
    n, length = len(series), series.shape[-1]
    fig, axes = plt.subplots(n, 1, figsize=(6, 1.3 * n), squeeze=False, sharex=True)
    token_starts = np.arange(grid[1]) * length / grid[1]
    for ax, one, w, title in zip(axes[:, 0], series, weights, titles):
        ax.bar(token_starts, w / max(w.max(), 1e-12), width=length / grid[1], align="edge", color="orange", alpha=0.4)
        ax.plot(np.arange(length), (one.T - np.nanmin(one)) / max(np.nanmax(one) - np.nanmin(one), 1e-12), lw=1)
        ax.set_title(title, fontsize=8)
        ax.set_yticks([])
    axes[-1, 0].set_xlabel("time (bars: attention weight per token, scaled to the largest)")
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
