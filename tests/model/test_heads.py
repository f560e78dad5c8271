import pytest
import torch

from pipeline.models.heads import HEADS, build_head

ATTENTION_HEADS = [kind for kind in HEADS if kind != "mean"]


@pytest.mark.parametrize("kind", sorted(HEADS))
@pytest.mark.parametrize("queries, pos_embed", [(1, False), (3, True)])
def test_every_head_pools_tokens_to_one_vector(kind, queries, pos_embed):
    head = build_head(kind, dim=16, heads=4, n_tokens=9, queries=queries, pos_embed=pos_embed)
    features, weights = head(torch.randn(5, 9, 16))
    assert features.shape == (5, 16)
    features.sum().backward()


@pytest.mark.parametrize("kind", ATTENTION_HEADS)
def test_attention_weights_are_a_distribution_over_tokens(kind):
    _, weights = build_head(kind, dim=16, heads=4, n_tokens=9, queries=2)(torch.randn(5, 9, 16))
    assert weights.shape == (5, 9)
    assert (weights >= 0).all()
    torch.testing.assert_close(weights.sum(1), torch.ones(5))


@pytest.mark.parametrize("kind", ATTENTION_HEADS)
def test_attention_follows_the_content(kind):
    """Permuting the tokens permutes the weights: the head attends to content, not to slot order."""
    torch.manual_seed(0)
    head = build_head(kind, dim=16, heads=4, n_tokens=9)
    tokens, order = torch.randn(2, 9, 16), torch.randperm(9)
    _, weights = head(tokens)
    _, permuted = head(tokens[:, order])
    torch.testing.assert_close(permuted, weights[:, order])


def test_unknown_head_is_named():
    with pytest.raises(ValueError, match="head must be one of"):
        build_head("bogus", dim=16, heads=4, n_tokens=9)
