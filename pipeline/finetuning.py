"""Fine-tuning a pretrained model on the target: the strategy's phases, the regularisers and adaptation
losses chosen in params, augmentation and model selection. Used by the finetune stage and the benchmark."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.optim.swa_utils import AveragedModel

from pipeline.adaptation.coral import CoralLoss
from pipeline.adaptation.dann import DomainAdversarialLoss
from pipeline.adaptation.information_max import InformationMaxLoss
from pipeline.adaptation.joint import JointSourceLoss
from pipeline.adaptation.l2sp import L2SP
from pipeline.adaptation.self_training import PseudoLabelLoss
from pipeline.augment import augmentation_for
from pipeline.models import TransferModel, build_model
from pipeline.strategies import phases, prepare_phase
from pipeline.training import BestCheckpoint, Split, fit


# The finetune options that add a loss or regulariser on top of a strategy, all switched off.
NO_EXTRAS = {"l2sp": 0.0, "joint_alpha": 0.0, "adaptation": "none", "self_training": 0.0, "information_max": 0.0}


@dataclass
class TransferData:
    source_train: Split
    target_train: Split | None  # None: no target labels at all (unsupervised domain adaptation)
    target_val: Split | None  # None: no val slice (val_per_class 0), so the last weights are kept
    # Target training images without labels (never val or test): what self-training pseudo-labels.
    target_unlabelled: torch.Tensor

    @property
    def target_pool(self) -> torch.Tensor:
        """Every target training image, labelled or not: what adaptation aligns the source with."""
        if self.target_train is None:
            return self.target_unlabelled
        return torch.cat([self.target_unlabelled, self.target_train.images])


def from_pretrained(state: dict, model_params: dict, input_shape: list[int], n_classes: int, pixel_max: float, cfg: dict, same_classes: bool) -> TransferModel:
    """The pretrained backbone; the pretrained head when `cfg["head"]` is "same", else a new head of that
    kind; and the source classifier when it is reusable (same head, `reuse_source_classifier`, same labels)."""
    new_head = cfg["head"] != "same"
    model = build_model(model_params, input_shape, n_classes, pixel_max, head=cfg["head"] if new_head else None)
    keep = ["backbone."]
    if not new_head:
        keep.append("head.")
        if cfg["reuse_source_classifier"] and same_classes:
            keep.append("classifier.")
    model.load_state_dict({k: v for k, v in state.items() if k.startswith(tuple(keep))}, strict=False)
    return model


def auxiliary_losses(model: TransferModel, cfg: dict, data: TransferData, seed: int, teacher: torch.nn.Module | None = None) -> list[torch.nn.Module]:
    losses, batch = [], cfg["batch_size"]
    if cfg["l2sp"]:
        losses.append(L2SP(model, cfg["l2sp"]))
    if cfg["joint_alpha"] and data.target_train is not None:
        losses.append(JointSourceLoss(data.source_train, cfg["joint_alpha"], batch, seed))
    if cfg["adaptation"] == "dann":
        dim = model.classifier.in_features
        losses.append(DomainAdversarialLoss(dim, data.source_train.images, data.target_pool, cfg["adaptation_weight"], batch, seed))
    elif cfg["adaptation"] == "coral":
        losses.append(CoralLoss(data.source_train.images, data.target_pool, cfg["adaptation_weight"], batch, seed))
    elif cfg["adaptation"] != "none":
        raise ValueError(f"finetune.adaptation must be none, dann or coral, got {cfg['adaptation']!r}")
    if cfg["information_max"]:
        losses.append(InformationMaxLoss(data.target_pool, cfg["information_max"], batch, seed))
    # With every image labelled (K = all) there is nothing to pseudo-label: the benchmark measured it as
    # no better than the moving average alone, at twice the cost.
    if cfg["self_training"] and len(data.target_unlabelled):
        unlabelled = data.target_unlabelled
        losses.append(PseudoLabelLoss(unlabelled, augmentation_for(unlabelled), cfg["self_training"], cfg["pseudo_threshold"], batch, seed, teacher,
                                      class_balanced=cfg["pseudo_class_balanced"]))
    return losses


def source_subset(data: TransferData, seed: int) -> Split:
    """Without target labels the source is the supervised task; as many source images as the target pool
    keeps an epoch short and the two domains balanced."""
    index = torch.randperm(len(data.source_train.labels), generator=torch.Generator().manual_seed(seed))[: len(data.target_pool)]
    return Split(data.source_train.images[index], data.source_train.labels[index])


def moving_average(model: torch.nn.Module, decay: float) -> AveragedModel:
    """An exponential moving average of `model`'s weights whose decay warms up as (1 + t) / (10 + t) toward
    `decay`: a k-shot run has only a few hundred steps, and a fixed 0.99 would still remember the random head."""
    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], steps: torch.Tensor) -> None:
        # Computed on the step counter's device: a host read would wait for the GPU at every step.
        rate = 1 - ((1 + steps) / (10 + steps)).clamp(max=decay)
        for average, value in zip(averaged, current):
            if average.is_floating_point():
                average.lerp_(value, rate.to(average.dtype))
            else:  # counters such as BatchNorm's num_batches_tracked
                average.copy_(value)
    return AveragedModel(model, multi_avg_fn=update, use_buffers=True)


@dataclass
class Finetuned:
    history: list[dict]  # one record per epoch, with its phase
    kept: dict  # which epoch's weights the model holds, why, and their val scores when selected on val


def finetune(model: TransferModel, cfg: dict, data: TransferData, device: torch.device, seed: int) -> Finetuned:
    """Train through the strategy's phases; keep the weights that scored best on the labelled target val
    slice. Without a val slice the last weights are kept; without target labels the source is the
    supervised task, and the last weights are kept too. With
    `ema_decay` > 0 the kept weights are the exponential moving average of the trained ones, which also
    gives self-training its pseudo-labels (a mean teacher, Tarvainen & Valpola 2017)."""
    labelled = data.target_train is not None
    train = data.target_train if labelled else source_subset(data, seed)
    val = data.target_val if labelled else None
    augment = augmentation_for(train.images) if cfg["augment"] and labelled else None
    model.to(device)
    ema = moving_average(model, cfg["ema_decay"]) if cfg["ema_decay"] else None
    losses = auxiliary_losses(model, cfg, data, seed, teacher=ema.module if ema else None)
    extra = [p for loss in losses for p in loss.parameters()]
    best, history = BestCheckpoint(), []
    for phase in phases(cfg["strategy"], cfg):
        optimizer = prepare_phase(model, phase, cfg["weight_decay"], extra)
        records = fit(model, optimizer, train, val=val, best=best, epochs=phase.epochs, batch_size=cfg["batch_size"],
                      device=device, seed=seed + len(history), desc=f"{cfg['strategy']}:{phase.name}", first_epoch=len(history),
                      min_batches=cfg["min_batches"], augment=augment, aux_losses=losses, ema=ema)
        history += [{**record, "phase": phase.name} for record in records]
    model.requires_grad_(True)
    if best.state is not None:
        model.load_state_dict(best.state)
        return Finetuned(history, {"target_val_accuracy": best.accuracy, "target_val_loss": best.loss, "kept_epoch": best.epoch, "selection": "best val"})
    if ema is not None:
        model.load_state_dict(ema.module.state_dict())
    return Finetuned(history, {"kept_epoch": history[-1]["epoch"], "selection": "last (no val slice)" if labelled else "last (no target labels)"})


def train_from_scratch(model_params: dict, input_shape: list[int], n_classes: int, pixel_max: float, cfg: dict, data: TransferData, device: torch.device, seed: int) -> TransferModel:
    """The no-transfer baseline: the same architecture and recipe from random weights, target labels only."""
    torch.manual_seed(seed)
    model = build_model(model_params, input_shape, n_classes, pixel_max)
    scratch_cfg = {**cfg, "strategy": "full", "backbone_lr_mult": 1.0, **NO_EXTRAS}
    finetune(model, scratch_cfg, data, device, seed)
    return model


