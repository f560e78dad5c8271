"""Pooling heads: tokens (B, N, dim) -> (features (B, dim), attention weights (B, N) or None).

Every attention head returns its weights over the tokens (they sum to 1) for the attention-map plots.
Every head takes an optional `mask` (B, N), True where a token is real: padded tokens get zero weight.
"""
from __future__ import annotations

import torch
from torch import nn


def _masked(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Scores (B, ..., N) with padded tokens at -inf, so a softmax over N gives them exactly zero weight."""
    if mask is None:
        return scores
    return scores.masked_fill(~mask.reshape(mask.shape[0], *[1] * (scores.dim() - 2), mask.shape[1]), float("-inf"))


class LatentQueryHead(nn.Module):
    """Learnable latent queries attend over the tokens (multi-head), then an MLP; cf. timm's attention_pool.
    Several queries are averaged; an optional positional embedding lets the head tell tokens apart by place."""

    def __init__(self, dim: int, heads: int, n_tokens: int, queries: int = 1, pos_embed: bool = False, mlp_ratio: int = 2):
        super().__init__()
        self.heads = heads
        self.queries = nn.Parameter(torch.randn(1, queries, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.zeros(1, n_tokens, dim)) if pos_embed else None
        self.norm = nn.LayerNorm(dim)
        self.key_value = nn.Linear(dim, 2 * dim)
        self.query_proj = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        batch, length, dim = tokens.shape
        head_dim = dim // self.heads
        if self.pos_embed is not None:
            tokens = tokens + self.pos_embed
        k, v = self.key_value(self.norm(tokens)).reshape(batch, length, 2, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        q = self.query_proj(self.queries).reshape(1, -1, self.heads, head_dim).transpose(1, 2)
        # Explicit softmax rather than fused attention: the weights are an output (attention maps).
        weights = torch.softmax(_masked(q @ k.transpose(-2, -1) * head_dim**-0.5, mask), dim=-1)  # (B, heads, Q, N)
        pooled = self.proj((weights @ v).transpose(1, 2).reshape(batch, -1, dim))
        pooled = pooled + self.mlp(pooled)
        return pooled.mean(dim=1), weights.mean(dim=(1, 2))


class AdditiveAttentionHead(nn.Module):
    """Bahdanau-style scores e_i = v^T tanh(W h_i), softmax over tokens, weighted sum."""

    def __init__(self, dim: int, hidden: int | None = None, **_):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.score = nn.Sequential(nn.Linear(dim, hidden or dim), nn.Tanh(), nn.Linear(hidden or dim, 1, bias=False))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.norm(tokens)
        weights = torch.softmax(_masked(self.score(tokens).squeeze(-1), mask), dim=-1)
        return (weights.unsqueeze(-1) * tokens).sum(1), weights


class GatedAttentionHead(nn.Module):
    """Gated attention pooling (Ilse et al. 2018): e_i = w^T (tanh(V h_i) * sigmoid(U h_i))."""

    def __init__(self, dim: int, hidden: int | None = None, **_):
        super().__init__()
        hidden = hidden or dim
        self.norm = nn.LayerNorm(dim)
        self.tanh_branch = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh())
        self.gate_branch = nn.Sequential(nn.Linear(dim, hidden), nn.Sigmoid())
        self.score = nn.Linear(hidden, 1, bias=False)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.norm(tokens)
        weights = torch.softmax(_masked(self.score(self.tanh_branch(tokens) * self.gate_branch(tokens)).squeeze(-1), mask), dim=-1)
        return (weights.unsqueeze(-1) * tokens).sum(1), weights


class MeanPoolHead(nn.Module):
    """The baseline: average the tokens; no attention weights."""

    def __init__(self, dim: int, **_):
        super().__init__()
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, None]:
        if mask is None:
            return self.norm(tokens.mean(dim=1)), None
        keep = mask.unsqueeze(-1).to(tokens.dtype)
        return self.norm((tokens * keep).sum(1) / keep.sum(1).clamp(min=1.0)), None


HEADS = {"attention": LatentQueryHead, "additive": AdditiveAttentionHead, "gated": GatedAttentionHead, "mean": MeanPoolHead}


def build_head(kind: str, dim: int, heads: int, n_tokens: int, queries: int = 1, pos_embed: bool = False) -> nn.Module:
    if kind not in HEADS:
        raise ValueError(f"head must be one of {sorted(HEADS)}, got {kind!r}")
    return HEADS[kind](dim=dim, heads=heads, n_tokens=n_tokens, queries=queries, pos_embed=pos_embed)
