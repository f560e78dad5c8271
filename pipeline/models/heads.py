"""Pooling heads: tokens (B, N, dim) -> (features (B, dim), attention weights (B, N) or None)."""
from __future__ import annotations

import torch
from torch import nn


class AttentionPoolHead(nn.Module):
    """Learnable latent queries attend over the tokens (multi-head), then an MLP; cf. timm's attention_pool."""

    def __init__(self, dim: int, heads: int, queries: int = 1, mlp_ratio: int = 2):
        super().__init__()
        self.heads = heads
        self.queries = nn.Parameter(torch.randn(1, queries, dim) * 0.02)
        self.norm = nn.LayerNorm(dim)
        self.key_value = nn.Linear(dim, 2 * dim)
        self.query_proj = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, length, dim = tokens.shape
        head_dim = dim // self.heads
        k, v = self.key_value(self.norm(tokens)).reshape(batch, length, 2, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        q = self.query_proj(self.queries).reshape(1, -1, self.heads, head_dim).transpose(1, 2)
        # Explicit softmax rather than fused attention: the weights are an output (attention maps).
        weights = torch.softmax(q @ k.transpose(-2, -1) * head_dim**-0.5, dim=-1)  # (B, heads, Q, N)
        pooled = (weights @ v).transpose(1, 2).reshape(batch, -1, dim)
        pooled = self.proj(pooled)
        pooled = pooled + self.mlp(pooled)
        return pooled.mean(dim=1), weights.mean(dim=(1, 2))


class MeanPoolHead(nn.Module):
    """The baseline: average the tokens; no attention weights."""

    def __init__(self, dim: int, **_):
        super().__init__()
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.norm(tokens.mean(dim=1)), None


HEADS = {"attention": AttentionPoolHead, "mean": MeanPoolHead}


def build_head(kind: str, dim: int, heads: int, queries: int) -> nn.Module:
    if kind not in HEADS:
        raise ValueError(f"model.pooling must be one of {sorted(HEADS)}, got {kind!r}")
    return HEADS[kind](dim=dim, heads=heads, queries=queries)
