"""Fine-tuning strategies as phases: which parameters train, at which learning rate, for how long."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from pipeline.models import TransferModel

STRATEGIES = ("head", "lp-ft", "partial", "full")


@dataclass(frozen=True)
class Phase:
    name: str
    epochs: int
    backbone_blocks: int | None  # trainable backbone blocks counted from the top; None = the whole backbone
    head_lr: float
    backbone_lr: float


def phases(strategy: str, cfg: dict) -> list[Phase]:
    """`head`: backbone frozen. `lp-ft` (Kumar et al. 2022): head first, then everything at
    lr x backbone_lr_mult. `partial`: the last `unfreeze_blocks` blocks train with the head.
    `full`: everything from the start, the backbone at lr x backbone_lr_mult."""
    lr, slow = cfg["lr"], cfg["lr"] * cfg["backbone_lr_mult"]
    if strategy == "head":
        return [Phase("head", cfg["epochs"], 0, lr, 0.0)]
    if strategy == "lp-ft":
        head_epochs = cfg["head_epochs"]
        return [Phase("head", head_epochs, 0, lr, 0.0), Phase("all", cfg["epochs"] - head_epochs, None, slow, slow)]
    if strategy == "partial":
        return [Phase("partial", cfg["epochs"], cfg["unfreeze_blocks"], lr, slow)]
    if strategy == "full":
        return [Phase("all", cfg["epochs"], None, lr, slow)]
    raise ValueError(f"finetune.strategy must be one of {STRATEGIES}, got {strategy!r}")


def backbone_trainable(model: TransferModel, blocks: int | None) -> list[nn.Parameter]:
    """Freeze the backbone except its last `blocks` blocks (and the final norm); returns what trains."""
    backbone = model.backbone
    backbone.requires_grad_(blocks is None)
    if blocks:
        for module in [*backbone.blocks[-blocks:], backbone.norm]:
            module.requires_grad_(True)
    return [p for p in backbone.parameters() if p.requires_grad]


def prepare_phase(model: TransferModel, phase: Phase, weight_decay: float, extra: list[nn.Parameter] = ()) -> torch.optim.Optimizer:
    """Freeze what the phase does not train and return an optimizer over what it does
    (`extra`: parameters of auxiliary losses, e.g. a domain discriminator, at the head's rate)."""
    groups = [{"params": [*model.head.parameters(), *model.classifier.parameters(), *extra], "lr": phase.head_lr}]
    backbone = backbone_trainable(model, phase.backbone_blocks)
    if backbone:
        groups.append({"params": backbone, "lr": phase.backbone_lr})
    return torch.optim.AdamW(groups, weight_decay=weight_decay)
