"""Random batches from an in-memory tensor, drawn with the loss's own seeded generator."""
from __future__ import annotations

import torch


class BatchSampler:
    def __init__(self, *tensors: torch.Tensor, batch_size: int, seed: int):
        self.tensors, self.batch_size = tensors, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def draw(self, device: torch.device) -> list[torch.Tensor]:
        index = torch.randint(len(self.tensors[0]), (self.batch_size,), generator=self.generator)
        return [t[index].to(device) for t in self.tensors]
