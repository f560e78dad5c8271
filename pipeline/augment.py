"""Target-side augmentation: a random small affine (shift, rotation, scale) per image; series use
pipeline.series.augment. `augmentation_for` picks by the inputs' rank."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from pipeline.series.augment import random_scale_noise


def random_affine(images: torch.Tensor, generator: torch.Generator, shift: float = 1.0, rotation_deg: float = 10.0, scale: float = 0.1) -> torch.Tensor:
    """`shift` in pixels, `rotation_deg` and relative `scale` as symmetric ranges; shapes and value range kept."""
    n, _, height, width = images.shape
    uniform = lambda r: (torch.rand(n, generator=generator) * 2 - 1) * r  # noqa: E731
    angle, zoom = uniform(math.radians(rotation_deg)), 1 + uniform(scale)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle) / zoom, -torch.sin(angle) / zoom
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle) / zoom, torch.cos(angle) / zoom
    theta[:, 0, 2], theta[:, 1, 2] = uniform(2 * shift / width), uniform(2 * shift / height)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")


def augmentation_for(inputs: torch.Tensor):
    """The target augmentation that fits the inputs: affine for images (B, C, H, W), scale + noise for series (B, C, L)."""
    return random_affine if inputs.dim() == 4 else random_scale_noise
