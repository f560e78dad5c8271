"""Joint training: keep fitting labelled source batches while fine-tuning, alpha * L_source + (1 - alpha) * L_target.

The loop already adds L_target with weight 1, so this term carries alpha / (1 - alpha): the same objective
up to the learning-rate scale. Source logits come from a classifier of their own when the label sets differ.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.adaptation.sampler import BatchSampler
from pipeline.training import Split


class JointSourceLoss(nn.Module):
    def __init__(self, source: Split, alpha: float, batch_size: int, seed: int, source_classifier: nn.Linear | None = None):
        super().__init__()
        self.weight = alpha / (1 - alpha)
        self.source_classifier = source_classifier
        self.batches = BatchSampler(source.images, source.labels, batch_size=batch_size, seed=seed)

    def forward(self, model: nn.Module) -> torch.Tensor:
        images, labels = self.batches.draw(model.input_scale.device)
        classifier = self.source_classifier or model.classifier
        return self.weight * F.cross_entropy(classifier(model.features(images)).float(), labels)
