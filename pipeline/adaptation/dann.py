"""DANN (Ganin et al. 2016): a domain discriminator on the pooled features, trained through a gradient
reversal layer so the backbone learns features the discriminator cannot tell apart by domain."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.adaptation.sampler import BatchSampler


class GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, coefficient: float) -> torch.Tensor:
        ctx.coefficient = coefficient
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.coefficient * grad, None


class DomainAdversarialLoss(nn.Module):
    def __init__(self, dim: int, source_images: torch.Tensor, target_images: torch.Tensor, weight: float, batch_size: int, seed: int, reversal: float = 1.0):
        super().__init__()
        self.weight, self.reversal = weight, reversal
        self.discriminator = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 1))
        self.source = BatchSampler(source_images, batch_size=batch_size, seed=seed)
        self.target = BatchSampler(target_images, batch_size=batch_size, seed=seed + 1)

    def forward(self, model: nn.Module) -> torch.Tensor:
        device = model.input_scale.device
        (source,), (target,) = self.source.draw(device), self.target.draw(device)
        features = model.features(torch.cat([source, target]))
        logits = self.discriminator(GradientReversal.apply(features, self.reversal)).squeeze(1).float()
        domains = torch.cat([torch.zeros(len(source)), torch.ones(len(target))]).to(device)
        return self.weight * F.binary_cross_entropy_with_logits(logits, domains)
