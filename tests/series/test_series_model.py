"""The 1-D backbone (both stems) and padding masks: shapes, zero attention on padding, padding-content independence."""
from __future__ import annotations

import pytest
import torch

from pipeline.models import build_model
from pipeline.models.heads import HEADS
from pipeline.models.series_backbone import SERIES_STEMS, SeriesBackbone

MODEL = {"dim": 16, "depth": 1, "heads": 2, "max_grid": 4, "max_tokens": 8, "series_stem": "strided", "queries": 1, "head_pos_embed": False}
ATTENTION_HEADS = [kind for kind in HEADS if kind != "mean"]


def padded(batch: int = 3, length: int = 64, observed: int = 20) -> torch.Tensor:
    series = torch.randn(batch, 2, length)
    series[:, :, observed:] = float("nan")
    return series


def test_stem_strides_until_at_most_max_tokens():
    backbone = SeriesBackbone(in_channels=2, length=251, dim=16, depth=1, heads=2, max_tokens=32, stem="strided")
    tokens = backbone(torch.randn(4, 2, 251))
    assert tokens.shape == (4, 32, 16) and backbone.grid == (1, 32)


def test_token_mask_covers_exactly_the_observed_windows():
    backbone = SeriesBackbone(in_channels=2, length=64, dim=16, depth=1, heads=2, max_tokens=8, stem="strided")  # 8 points a token
    mask = backbone.token_mask(padded(observed=20))
    assert mask[0].tolist() == [True, True, True, False, False, False, False, False]


def test_fcn_stem_keeps_a_token_per_time_step():
    backbone = SeriesBackbone(in_channels=2, length=251, dim=16, depth=1, heads=2, max_tokens=32, stem="fcn")
    assert backbone(torch.randn(4, 2, 251)).shape == (4, 251, 16) and backbone.grid == (1, 251)
    assert backbone.token_mask(padded(length=64, observed=20))[0].tolist() == [True] * 20 + [False] * 44


def test_fcn_stem_features_of_observed_steps_do_not_depend_on_padding():
    """Appending NaN padding to a series leaves the stem's features on its observed steps unchanged (eval mode)."""
    backbone = SeriesBackbone(in_channels=2, length=64, dim=16, depth=1, heads=2, max_tokens=8, stem="fcn").eval()
    series = padded(observed=20)
    short, long = (backbone.stem(torch.nan_to_num(s), backbone.observed(s)) for s in (series[:, :, :20], series))
    assert torch.allclose(short, long[:, :, :20], atol=1e-5)
    assert torch.all(long[:, :, 20:] == 0)


def test_unknown_stem_is_refused():
    with pytest.raises(ValueError, match="series_stem"):
        SeriesBackbone(in_channels=1, length=64, dim=16, depth=1, heads=2, max_tokens=8, stem="dilated")


@pytest.mark.parametrize("stem", SERIES_STEMS)
@pytest.mark.parametrize("kind", ATTENTION_HEADS)
def test_padded_tokens_get_zero_attention(kind, stem):
    model = build_model({**MODEL, "head": kind, "series_stem": stem}, [2, 64], n_classes=3, pixel_max=1.0)
    observed_tokens = model.backbone.token_mask(padded(observed=20))[0].sum()
    _, weights = model.features_and_attention(padded(observed=20))
    assert torch.all(weights[:, observed_tokens:] == 0)
    assert torch.allclose(weights.sum(1), torch.ones(3))


@pytest.mark.parametrize("stem", SERIES_STEMS)
@pytest.mark.parametrize("kind", sorted(HEADS))
def test_padding_is_finite_and_trains(kind, stem):
    model = build_model({**MODEL, "head": kind, "series_stem": stem}, [2, 64], n_classes=3, pixel_max=1.0)
    logits = model(padded())
    assert logits.shape == (3, 3) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_blocks_ignore_what_lies_in_padded_tokens():
    """Blocks mask padded keys, so real tokens' outputs do not depend on padded tokens' content."""
    backbone = SeriesBackbone(in_channels=2, length=64, dim=16, depth=2, heads=2, max_tokens=8, stem="strided").eval()
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
