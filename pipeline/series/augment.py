"""Target-side augmentation for series: a random amplitude scale and a little Gaussian noise per series.
NaN padding stays NaN, so the padding mask is unchanged."""
from __future__ import annotations

import torch


def random_scale_noise(series: torch.Tensor, generator: torch.Generator, scale: float = 0.1, noise: float = 0.05) -> torch.Tensor:
    factor = 1 + (torch.rand(len(series), 1, 1, generator=generator) * 2 - 1) * scale
    return series * factor + torch.randn(series.shape, generator=generator) * noise
