"""A 1-D conv stem over time -> tokens -> the image backbone's transformer `Block`s.

Two stems (`model.series_stem`): `fcn`, the three conv blocks of Wang et al.'s FCN (kernels 8-5-3, no
striding, one token per time step), and `strided`, a kernel-7 conv then stride-2 convs until at most
`max_tokens` tokens. Padding arrives as NaN (prepare's `pad` rule, or a caller's shorter series): it is
zeroed before the convolutions and turned into a token mask, so neither the blocks nor the pooling head
attend to it."""
from __future__ import annotations

import math

import torch
from torch import nn

from pipeline.models.backbone import Block

SERIES_STEMS = ("fcn", "strided")


def _conv(in_channels: int, out_channels: int, kernel: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2),
                         nn.GroupNorm(1, out_channels), nn.GELU())


class StridedStem(nn.Module):
    """A wide first kernel sees local shape before the time axis is strided 2^downsamples times."""

    def __init__(self, in_channels: int, dim: int, downsamples: int):
        super().__init__()
        self.layers = nn.Sequential(_conv(in_channels, dim, 7, 1), *[_conv(dim, dim, 3, 2) for _ in range(downsamples)])

    def forward(self, series: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
        """`observed` is not needed: a strided window mixes steps anyway, and the token mask hides padding."""
        return self.layers(series)


class FCNStem(nn.Module):
    """FCN's conv blocks (Wang et al. 2017; Ismail Fawaz et al. 2018): kernels 8-5-3, widths dim-2dim-dim
    (128-256-128 at dim 128), 'same' padding, BatchNorm, ReLU, every time step kept. Padded steps are
    zeroed after each block, so in eval mode an observed step's features do not depend on the padding."""

    KERNELS = (8, 5, 3)

    def __init__(self, in_channels: int, dim: int):
        super().__init__()
        widths = [in_channels, dim, 2 * dim, dim]
        self.blocks = nn.ModuleList(nn.Sequential(nn.Conv1d(w_in, w_out, kernel, padding="same"), nn.BatchNorm1d(w_out), nn.ReLU())
                                    for w_in, w_out, kernel in zip(widths, widths[1:], self.KERNELS))

    def forward(self, series: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
        """`observed` (B, L), True on real time steps."""
        keep = observed.unsqueeze(1).to(series.dtype)
        for block in self.blocks:
            series = block(series) * keep
        return series


class SeriesBackbone(nn.Module):
    """series (B, C, L) -> tokens (B, N, dim): N = L with the fcn stem, ceil(L / 2^d) <= `max_tokens` strided."""

    def __init__(self, in_channels: int, length: int, dim: int, depth: int, heads: int, max_tokens: int, stem: str):
        super().__init__()
        if stem not in SERIES_STEMS:
            raise ValueError(f"model.series_stem must be one of {SERIES_STEMS}, got {stem!r}")
        self.downsamples = max(0, math.ceil(math.log2(length / max_tokens))) if stem == "strided" else 0
        self.stem = StridedStem(in_channels, dim, self.downsamples) if stem == "strided" else FCNStem(in_channels, dim)
        self.n_tokens = math.ceil(length / 2**self.downsamples)
        self.pos_embed = nn.Parameter(torch.randn(1, self.n_tokens, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)

    @property
    def grid(self) -> tuple[int, int]:
        return (1, self.n_tokens)

    def token_mask(self, series: torch.Tensor) -> torch.Tensor:
        """(B, N) True where a token's window starts on an observed point (stride-2 convs keep ceil(L/2))."""
        return self.observed(series)[:, :: 2**self.downsamples]

    @staticmethod
    def observed(series: torch.Tensor) -> torch.Tensor:
        """(B, L) True on time steps with a value in some channel."""
        return ~torch.isnan(series).all(dim=1)

    def forward(self, series: torch.Tensor) -> torch.Tensor:
        mask = self.token_mask(series)
        tokens = self.stem(torch.nan_to_num(series, nan=0.0), self.observed(series)).transpose(1, 2) + self.pos_embed
        for block in self.blocks:
            tokens = block(tokens, mask)
        return self.norm(tokens)
