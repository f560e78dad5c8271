"""Self-training on the unlabelled target pool (FixMatch-style, Sohn et al. 2020): the model's confident
predictions on clean images become labels for augmented copies of the same images. With a `teacher`
(the moving average of the weights) the labels come from it rather than from the model being trained.
With `class_balanced` the confidence bar is set per class (`ClassBalancedThreshold`)."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.adaptation.sampler import BatchSampler


class ClassBalancedThreshold:
    """Per-class thresholds: `threshold` scaled by each class's share of the predicted probability mass
    (a moving average over unlabelled batches), relative to the most predicted class, in the spirit of
    FreeMatch (Wang et al. 2023). Under domain shift a class the model is rarely sure of would otherwise
    never be pseudo-labelled, and self-training would drift toward the classes it already predicts well."""

    def __init__(self, threshold: float, momentum: float = 0.99):
        self.threshold, self.momentum, self.class_mass = threshold, momentum, None

    def __call__(self, probabilities: torch.Tensor) -> torch.Tensor:
        """(B,) threshold for each row's predicted class; updates the moving average first."""
        mass = probabilities.mean(0)
        self.class_mass = mass if self.class_mass is None else self.momentum * self.class_mass + (1 - self.momentum) * mass
        return (self.threshold * self.class_mass / self.class_mass.max())[probabilities.argmax(1)]


class PseudoLabelLoss(nn.Module):
    def __init__(self, target_images: torch.Tensor, augment: Callable, weight: float, threshold: float, batch_size: int, seed: int,
                 teacher: nn.Module | None = None, class_balanced: bool = False):
        super().__init__()
        # A plain attribute, not a submodule: the teacher's weights are an average, never trained.
        self.__dict__["teacher"] = teacher
        self.weight, self.augment = weight, augment
        self.threshold = ClassBalancedThreshold(threshold) if class_balanced else (lambda probabilities: threshold)
        self.target = BatchSampler(target_images, batch_size=batch_size, seed=seed)
        self.generator = torch.Generator().manual_seed(seed + 1)

    def forward(self, model: nn.Module) -> torch.Tensor:
        (images,) = self.target.draw(torch.device("cpu"))
        device = model.input_scale.device
        with torch.no_grad():
            probabilities = torch.softmax((model if self.teacher is None else self.teacher)(images.to(device)).float(), 1)
        confidence, pseudo = probabilities.max(1)
        keep = confidence >= self.threshold(probabilities)
        if not keep.any():
            return torch.zeros((), device=device)
        strong = self.augment(images[keep.cpu()], self.generator).to(device)
        return self.weight * keep.float().mean() * F.cross_entropy(model(strong).float(), pseudo[keep])
