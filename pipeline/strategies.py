"""Fine-tuning strategies as phases: which parameters train, at which learning rate, for how long."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from pipeline.models import TransferModel
from pipeline.training import BestCheckpoint, Split, fit

STRATEGIES = ("head", "lp-ft", "full")


@dataclass(frozen=True)
class Phase:
    name: str
    epochs: int
    train_backbone: bool
    head_lr: float
    backbone_lr: float


def phases(strategy: str, cfg: dict) -> list[Phase]:
    """`head`: backbone frozen. `lp-ft`: head first, then everything at lr x backbone_lr_mult.
    `full`: everything from the start, the backbone at lr x backbone_lr_mult."""
    lr, slow = cfg["lr"], cfg["lr"] * cfg["backbone_lr_mult"]
    if strategy == "head":
        return [Phase("head", cfg["epochs"], False, lr, 0.0)]
    if strategy == "lp-ft":
        head_epochs = cfg["head_epochs"]
        return [Phase("head", head_epochs, False, lr, 0.0), Phase("all", cfg["epochs"] - head_epochs, True, slow, slow)]
    if strategy == "full":
        return [Phase("all", cfg["epochs"], True, lr, slow)]
    raise ValueError(f"finetune.strategy must be one of {STRATEGIES}, got {strategy!r}")


def head_parameters(model: TransferModel) -> list[nn.Parameter]:
    return [*model.head.parameters(), *model.classifier.parameters()]


def prepare_phase(model: TransferModel, phase: Phase, weight_decay: float) -> torch.optim.Optimizer:
    """Freeze what the phase does not train and return an optimizer over what it does."""
    model.backbone.requires_grad_(phase.train_backbone)
    groups = [{"params": head_parameters(model), "lr": phase.head_lr}]
    if phase.train_backbone:
        groups.append({"params": list(model.backbone.parameters()), "lr": phase.backbone_lr})
    return torch.optim.AdamW(groups, weight_decay=weight_decay)


def run_strategy(model: TransferModel, strategy: str, cfg: dict, train: Split, val: Split, device: torch.device, seed: int) -> list[dict]:
    """Train through the strategy's phases, then restore the weights that scored best on `val`."""
    best, history = BestCheckpoint(), []
    for phase in phases(strategy, cfg):
        optimizer = prepare_phase(model, phase, cfg["weight_decay"])
        records = fit(model, optimizer, train, val=val, best=best, epochs=phase.epochs, batch_size=cfg["batch_size"],
                      device=device, seed=seed + len(history), desc=f"{strategy}:{phase.name}", first_epoch=len(history))
        history += [{**record, "phase": phase.name} for record in records]
    model.requires_grad_(True)
    model.load_state_dict(best.state)
    return history
