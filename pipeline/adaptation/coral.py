"""Deep CORAL (Sun & Saenko 2016): match the covariance of source and target pooled features."""
from __future__ import annotations

import torch
from torch import nn

from pipeline.adaptation.sampler import BatchSampler


def coral_distance(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    dim = source.shape[1]
    return ((torch.cov(source.T) - torch.cov(target.T)) ** 2).sum() / (4 * dim * dim)


class CoralLoss(nn.Module):
    def __init__(self, source_images: torch.Tensor, target_images: torch.Tensor, weight: float, batch_size: int, seed: int):
        super().__init__()
        self.weight = weight
        self.source = BatchSampler(source_images, batch_size=batch_size, seed=seed)
        self.target = BatchSampler(target_images, batch_size=batch_size, seed=seed + 1)

    def forward(self, model: nn.Module) -> torch.Tensor:
        device = model.input_scale.device
        (source,), (target,) = self.source.draw(device), self.target.draw(device)
        return self.weight * coral_distance(model.features(source).float(), model.features(target).float())
