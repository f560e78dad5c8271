"""The 1-D backbone and padding masks: shapes, zero attention on padding, padding-content independence."""
from __future__ import annotations

import pytest
import torch

from pipeline.models import build_model
from pipeline.models.heads import HEADS
from pipeline.models.series_backbone import SeriesBackbone

MODEL = {"dim": 16, "depth": 1, "heads": 2, "max_grid": 4, "max_tokens": 8, "queries": 1, "head_pos_embed": False}
ATTENTION_HEADS = [kind for kind in HEADS if kind != "mean"]


def padded(batch: int = 3, length: int = 64, observed: int = 20) -> torch.Tensor:
    series = torch.randn(batch, 2, length)
    series[:, :, observed:] = float("nan")
    return series


def test_stem_strides_until_at_most_max_tokens():
    backbone = SeriesBackbone(in_channels=2, length=251, dim=16, depth=1, heads=2, max_tokens=32)
    tokens = backbone(torch.randn(4, 2, 251))
    assert tokens.shape == (4, 32, 16) and backbone.grid == (1, 32)


def test_token_mask_covers_exactly_the_observed_windows():
    backbone = SeriesBackbone(in_channels=2, length=64, dim=16, depth=1, heads=2, max_tokens=8)  # 8 points a token
    mask = backbone.token_mask(padded(observed=20))
    assert mask[0].tolist() == [True, True, True, False, False, False, False, False]


@pytest.mark.parametrize("kind", ATTENTION_HEADS)
def test_padded_tokens_get_zero_attention(kind):
    model = build_model({**MODEL, "head": kind}, [2, 64], n_classes=3, pixel_max=1.0)
    _, weights = model.features_and_attention(padded(observed=20))
    assert torch.all(weights[:, 3:] == 0)
    assert torch.allclose(weights.sum(1), torch.ones(3))


@pytest.mark.parametrize("kind", sorted(HEADS))
def test_padding_is_finite_and_trains(kind):
    model = build_model({**MODEL, "head": kind}, [2, 64], n_classes=3, pixel_max=1.0)
    logits = model(padded())
    assert logits.shape == (3, 3) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_blocks_ignore_what_lies_in_padded_tokens():
    """Blocks mask padded keys, so real tokens' outputs do not depend on padded tokens' content."""
    backbone = SeriesBackbone(in_channels=2, length=64, dim=16, depth=2, heads=2, max_tokens=8).eval()
    tokens = torch.randn(1, 8, 16)
    mask = torch.tensor([[True] * 3 + [False] * 5])
    other = tokens.clone()
    other[:, 3:] = torch.randn(1, 5, 16) * 10
    out = [block_stack(backbone, t, mask) for t in (tokens, other)]
    assert torch.allclose(out[0][:, :3], out[1][:, :3], atol=1e-5)


def block_stack(backbone: SeriesBackbone, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    for block in backbone.blocks:
        tokens = block(tokens, mask)
    return tokens
