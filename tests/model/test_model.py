import pytest
import torch

from pipeline.models import build_model
from pipeline.finetuning import TransferData, finetune, moving_average
from pipeline.strategies import phases, prepare_phase
from pipeline.training import Split, evaluate_split, fit
from tests.workspace import tiny_params

MODEL = tiny_params()["model"]


def model(input_shape=(1, 8, 8), n_classes=10, **overrides):
    torch.manual_seed(0)
    return build_model({**MODEL, **overrides}, list(input_shape), n_classes, 16.0)


@pytest.mark.parametrize("input_shape, grid", [((1, 8, 8), (4, 4)), ((3, 28, 28), (4, 4)), ((1, 16, 12), (4, 3))])
def test_forward_backward_and_token_grid(input_shape, grid):
    net = model(input_shape)
    images = torch.rand(5, *input_shape) * 16
    logits = net(images)
    assert logits.shape == (5, 10)
    logits.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert net.backbone.grid == grid


def test_attention_weights_are_a_distribution_over_tokens():
    net = model()
    _, weights = net.features_and_attention(torch.rand(3, 1, 8, 8) * 16)
    assert weights.shape == (3, 16)
    torch.testing.assert_close(weights.sum(1), torch.ones(3))
    assert (weights >= 0).all()


def test_mean_pooling_has_no_attention():
    _, weights = model(head="mean").features_and_attention(torch.rand(2, 1, 8, 8))
    assert weights is None


FT = {**tiny_params()["finetune"], "lr": 1e-2, "backbone_lr_mult": 0.1, "epochs": 4, "head_epochs": 2, "weight_decay": 0.0,
      "batch_size": 8, "min_batches": 1, "augment": False, "unfreeze_blocks": 1}


DATA = Split(torch.rand(20, 1, 8, 8) * 16, torch.arange(20) % 10)


def trained_groups(strategy):
    """Which parts of the model change while training through `strategy`'s phases (no selection)."""
    net = model()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    for phase in phases(strategy, FT):
        fit(net, prepare_phase(net, phase, 0.0), DATA, epochs=phase.epochs, batch_size=8, device=torch.device("cpu"), seed=0)
    return {k.split(".")[0] for k, v in net.state_dict().items() if not torch.equal(v, before[k])}


def test_finetune_restores_the_best_validation_weights():
    net = model()
    finetuned = finetune(net, {**FT, "strategy": "lp-ft"}, TransferData(DATA, DATA, DATA, DATA.images), torch.device("cpu"), seed=0)
    history = finetuned.history
    best = max(history, key=lambda r: (r["val_accuracy"], -r["val_loss"]))
    assert [r["phase"] for r in history] == ["head"] * 2 + ["all"] * 2
    assert evaluate_split(net, DATA, torch.device("cpu"))[1] == pytest.approx(best["val_accuracy"])
    # What finetune reports as kept is that epoch.
    assert finetuned.kept == {"target_val_accuracy": best["val_accuracy"], "target_val_loss": best["val_loss"], "kept_epoch": best["epoch"], "selection": "best val"}
    assert all(p.requires_grad for p in net.parameters())


def test_the_moving_average_warms_up_then_holds_its_decay():
    net = model()
    ema = moving_average(net, 0.5)
    start = net.classifier.bias.detach().clone()
    ema.update_parameters(net)  # the first update copies
    for steps in range(1, 12):
        weight = min(0.5, (1 + steps) / (10 + steps))
        expected = ema.module.classifier.bias.detach() + (start + steps - ema.module.classifier.bias.detach()) * (1 - weight)
        with torch.no_grad():
            net.classifier.bias.copy_(start + steps)
        ema.update_parameters(net)
        torch.testing.assert_close(ema.module.classifier.bias.detach(), expected)


def test_the_moving_average_carries_batchnorm_statistics_and_counters():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    ema = moving_average(net, 0.9)
    for _ in range(3):
        net(torch.randn(8, 3))
        ema.update_parameters(net)
    assert ema.module[1].num_batches_tracked.item() == 3
    assert 0 < ema.module[1].running_mean.abs().sum() < float("inf")


def test_the_moving_average_is_what_val_scores_and_what_finetune_keeps():
    net = model()
    ema = moving_average(net, 0.9)
    history = fit(net, prepare_phase(net, phases("full", FT)[0], 0.0), DATA, val=DATA, epochs=3, batch_size=8,
                  device=torch.device("cpu"), seed=0, ema=ema)
    assert not torch.equal(ema.module.classifier.weight, net.classifier.weight)
    assert evaluate_split(ema.module, DATA, torch.device("cpu"))[0] == pytest.approx(history[-1]["val_loss"])
    kept = model()
    history = finetune(kept, {**FT, "strategy": "full", "ema_decay": 0.9}, TransferData(DATA, DATA, DATA, DATA.images), torch.device("cpu"), seed=0).history
    best = max(history, key=lambda r: (r["val_accuracy"], -r["val_loss"]))
    assert evaluate_split(kept, DATA, torch.device("cpu"))[0] == pytest.approx(best["val_loss"])


def test_head_strategy_freezes_the_backbone():
    assert trained_groups("head") == {"head", "classifier"}


@pytest.mark.parametrize("strategy", ["lp-ft", "full"])
def test_lp_ft_and_full_train_everything(strategy):
    assert trained_groups(strategy) == {"backbone", "head", "classifier"}


def test_partial_trains_only_the_last_blocks():
    net = model(depth=2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    phase = phases("partial", FT)[0]
    fit(net, prepare_phase(net, phase, 0.0), DATA, epochs=2, batch_size=8, device=torch.device("cpu"), seed=0)
    changed = {k for k, v in net.state_dict().items() if not torch.equal(v, before[k])}
    assert any(k.startswith("backbone.blocks.1.") for k in changed)
    assert not any(k.startswith(("backbone.blocks.0.", "backbone.tokenizer.", "backbone.pos_embed")) for k in changed)
    assert any(k.startswith("head.") for k in changed)


def test_lp_ft_phases_and_learning_rates():
    head, everything = phases("lp-ft", FT)
    assert (head.backbone_blocks, head.epochs, head.head_lr) == (0, 2, 1e-2)
    assert (everything.backbone_blocks, everything.epochs) == (None, 2)
    assert everything.backbone_lr == everything.head_lr == pytest.approx(1e-3)
    net = model()
    optimizer = prepare_phase(net, head, 0.0)
    assert not any(p.requires_grad for p in net.backbone.parameters())
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(net.head.parameters())) + 2


def test_unknown_strategy_is_named():
    with pytest.raises(ValueError, match="finetune.strategy"):
        phases("bogus", FT)


def test_a_checkpoint_with_a_swapped_head_loads_back(tmp_path, monkeypatch):
    from pipeline import checkpoints

    params = tiny_params(finetune={"head": "gated"})
    net = build_model(params["model"], [1, 8, 8], 10, 16.0, head="gated")
    monkeypatch.setattr(checkpoints, "FINETUNED", tmp_path / "finetuned.pt")
    checkpoints.save(net, checkpoints.FINETUNED)
    loaded = checkpoints.load_finetuned(params, {"input_shape": [1, 8, 8], "classes": list("0123456789"), "pixel_max": 16.0})
    images = torch.rand(3, 1, 8, 8) * 16
    torch.testing.assert_close(loaded(images), net.eval()(images))
