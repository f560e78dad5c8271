"""L2-SP (Li et al. 2018): pull the backbone toward its pretrained weights instead of toward zero."""
from __future__ import annotations

import torch
from torch import nn


class L2SP(nn.Module):
    def __init__(self, model: nn.Module, weight: float):
        super().__init__()
        self.weight = weight
        self.anchor = {name: p.detach().clone() for name, p in model.backbone.named_parameters()}

    def forward(self, model: nn.Module) -> torch.Tensor:
        return 0.5 * self.weight * sum(((p - self.anchor[name].to(p.device)) ** 2).sum() for name, p in model.backbone.named_parameters())
