"""Information maximisation on the target training images, labelled or not (SHOT, Liang et al. 2020): each
prediction confident (low entropy) while the predictions of a batch stay spread over the classes (high
entropy of their mean), so the model cannot become confident by predicting one class everywhere."""
from __future__ import annotations

import torch
from torch import nn

from pipeline.adaptation.sampler import BatchSampler


def information_max_loss(logits: torch.Tensor) -> torch.Tensor:
    """Mean per-row entropy minus the entropy of the mean prediction; both in nats."""
    probabilities = torch.softmax(logits.float(), 1)
    log_probabilities = torch.log_softmax(logits.float(), 1)
    row_entropy = -(probabilities * log_probabilities).sum(1).mean()
    mean = probabilities.mean(0)
    return row_entropy + (mean * torch.log(mean + 1e-8)).sum()


class InformationMaxLoss(nn.Module):
    def __init__(self, target_images: torch.Tensor, weight: float, batch_size: int, seed: int):
        super().__init__()
        self.weight = weight
        # Not `seed`: self-training draws its batches from the same images with that one.
        self.target = BatchSampler(target_images, batch_size=batch_size, seed=seed + 2)

    def forward(self, model: nn.Module) -> torch.Tensor:
        (images,) = self.target.draw(model.input_scale.device)
        return self.weight * information_max_loss(model(images))
