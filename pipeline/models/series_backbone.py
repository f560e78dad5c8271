"""A 1-D conv stem over time with stride -> tokens -> the image backbone's transformer `Block`s.

Padding arrives as NaN (prepare's `pad` rule, or a caller's shorter series): it is zeroed before the
convolutions and turned into a token mask, so neither the blocks nor the pooling head attend to it."""
from __future__ import annotations

import math

import torch
from torch import nn

from pipeline.models.backbone import Block


def _conv(in_channels: int, out_channels: int, kernel: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2),
                         nn.GroupNorm(1, out_channels), nn.GELU())


class SeriesBackbone(nn.Module):
    """series (B, C, L) -> tokens (B, N, dim), N = ceil(L / 2^d) <= `max_tokens`; one token per stride window."""

    def __init__(self, in_channels: int, length: int, dim: int, depth: int, heads: int, max_tokens: int):
        super().__init__()
        self.downsamples = max(0, math.ceil(math.log2(length / max_tokens)))
        # A wide first kernel sees local shape before the time axis is strided (cf. FCN's 8-5-3 kernels).
        layers = [_conv(in_channels, dim, 7, 1)] + [_conv(dim, dim, 3, 2) for _ in range(self.downsamples)]
        self.stem = nn.Sequential(*layers)
        self.n_tokens = math.ceil(length / 2**self.downsamples)
        self.pos_embed = nn.Parameter(torch.randn(1, self.n_tokens, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)

    @property
    def grid(self) -> tuple[int, int]:
        return (1, self.n_tokens)

    def token_mask(self, series: torch.Tensor) -> torch.Tensor:
        """(B, N) True where a token's window starts on an observed point (stride-2 convs keep ceil(L/2))."""
        observed = ~torch.isnan(series).all(dim=1)
        return observed[:, :: 2**self.downsamples]

    def forward(self, series: torch.Tensor) -> torch.Tensor:
        mask = self.token_mask(series)
        tokens = self.stem(torch.nan_to_num(series, nan=0.0)).transpose(1, 2) + self.pos_embed
        for block in self.blocks:
            tokens = block(tokens, mask)
        return self.norm(tokens)
