"""Self-training on the unlabelled target pool (FixMatch-style, Sohn et al. 2020): the model's confident
predictions on clean images become labels for augmented copies of the same images. With a `teacher`
(the moving average of the weights) the labels come from it rather than from the model being trained."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.adaptation.sampler import BatchSampler


class PseudoLabelLoss(nn.Module):
    def __init__(self, target_images: torch.Tensor, augment: Callable, weight: float, threshold: float, batch_size: int, seed: int,
                 teacher: nn.Module | None = None):
        super().__init__()
        # A plain attribute, not a submodule: the teacher's weights are an average, never trained.
        self.__dict__["teacher"] = teacher
        self.weight, self.threshold, self.augment = weight, threshold, augment
        self.target = BatchSampler(target_images, batch_size=batch_size, seed=seed)
        self.generator = torch.Generator().manual_seed(seed + 1)

    def forward(self, model: nn.Module) -> torch.Tensor:
        (images,) = self.target.draw(torch.device("cpu"))
        device = model.input_scale.device
        with torch.no_grad():
            confidence, pseudo = torch.softmax((model if self.teacher is None else self.teacher)(images.to(device)).float(), 1).max(1)
        keep = confidence >= self.threshold
        if not keep.any():
            return torch.zeros((), device=device)
        strong = self.augment(images[keep.cpu()], self.generator).to(device)
        return self.weight * keep.float().mean() * F.cross_entropy(model(strong).float(), pseudo[keep])
