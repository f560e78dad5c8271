"""A small conv stem that turns an image into a grid of tokens, then pre-norm transformer blocks."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _conv(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1),
        nn.GroupNorm(1, out_channels),
        nn.GELU(),
    )


class ConvTokenizer(nn.Module):
    """Stride-2 convolutions until the token grid is at most `max_grid` wide, so any input size works."""

    def __init__(self, in_channels: int, dim: int, input_hw: tuple[int, int], max_grid: int):
        super().__init__()
        downsamples = max(0, math.ceil(math.log2(max(input_hw) / max_grid)))
        layers = [_conv(in_channels, dim, 1)] + [_conv(dim, dim, 2) for _ in range(downsamples)]
        self.stem = nn.Sequential(*layers)
        h, w = input_hw
        for _ in range(downsamples):
            h, w = (h + 1) // 2, (w + 1) // 2
        self.grid = (h, w)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.stem(images).flatten(2).transpose(1, 2)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: int = 2):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """`mask` (B, N), True where a token is real: padded tokens are never attended to."""
        batch, length, dim = tokens.shape
        qkv = self.qkv(self.norm1(tokens)).reshape(batch, length, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=None if mask is None else mask[:, None, None, :])
        tokens = tokens + self.proj(attended.transpose(1, 2).reshape(batch, length, dim))
        return tokens + self.mlp(self.norm2(tokens))


class Backbone(nn.Module):
    """image (B, C, H, W) -> tokens (B, N, dim), N = grid height x grid width."""

    def __init__(self, in_channels: int, input_hw: tuple[int, int], dim: int, depth: int, heads: int, max_grid: int):
        super().__init__()
        self.tokenizer = ConvTokenizer(in_channels, dim, input_hw, max_grid)
        n_tokens = self.tokenizer.grid[0] * self.tokenizer.grid[1]
        self.pos_embed = nn.Parameter(torch.randn(1, n_tokens, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)

    @property
    def grid(self) -> tuple[int, int]:
        return self.tokenizer.grid

    def token_mask(self, images: torch.Tensor) -> None:
        """Images have no padding; the series backbone returns a mask here."""
        return None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.norm(self.blocks(self.tokenizer(images) + self.pos_embed))
