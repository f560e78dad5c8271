"""Self-training on the unlabelled target pool (FixMatch-style, Sohn et al. 2020): the model's confident
predictions on clean images become labels for augmented copies of the same images."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.adaptation.sampler import BatchSampler


class PseudoLabelLoss(nn.Module):
    def __init__(self, target_images: torch.Tensor, augment: Callable, weight: float, threshold: float, batch_size: int, seed: int):
        super().__init__()
        self.weight, self.threshold, self.augment = weight, threshold, augment
        self.target = BatchSampler(target_images, batch_size=batch_size, seed=seed)
        self.generator = torch.Generator().manual_seed(seed + 1)

    def forward(self, model: nn.Module) -> torch.Tensor:
        (images,) = self.target.draw(torch.device("cpu"))
        device = model.input_scale.device
        with torch.no_grad():
            confidence, pseudo = torch.softmax(model(images.to(device)).float(), 1).max(1)
        keep = confidence >= self.threshold
        if not keep.any():
            return torch.zeros((), device=device)
        strong = self.augment(images[keep.cpu()], self.generator).to(device)
        return self.weight * keep.float().mean() * F.cross_entropy(model(strong).float(), pseudo[keep])
