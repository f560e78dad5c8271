"""Fine-tuning a pretrained model on the target: the strategy's phases, the regularisers and adaptation
losses chosen in params, augmentation and model selection. Used by the finetune stage and the benchmark."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from pipeline.adaptation.coral import CoralLoss
from pipeline.adaptation.dann import DomainAdversarialLoss
from pipeline.adaptation.joint import JointSourceLoss
from pipeline.adaptation.l2sp import L2SP
from pipeline.adaptation.self_training import PseudoLabelLoss
from pipeline.augment import augmentation_for
from pipeline.models import TransferModel, build_model
from pipeline.strategies import phases, prepare_phase
from pipeline.training import BestCheckpoint, Split, fit


@dataclass
class TransferData:
    source_train: Split
    target_train: Split | None  # None: no target labels at all (unsupervised domain adaptation)
    target_val: Split | None
    target_unlabelled: torch.Tensor


def from_pretrained(state: dict, model_params: dict, input_shape: list[int], n_classes: int, pixel_max: float, cfg: dict, same_classes: bool) -> TransferModel:
    """The pretrained backbone, plus the pretrained head unless `cfg["head"]` names another one, plus the
    source classifier when `reuse_source_classifier` is set and the label sets match."""
    head = model_params["head"] if cfg["head"] == "same" else cfg["head"]
    model = build_model(model_params, input_shape, n_classes, pixel_max, head=head)
    keep = ["backbone."]
    if head == model_params["head"]:
        keep.append("head.")
        if cfg["reuse_source_classifier"] and same_classes:
            keep.append("classifier.")
    model.load_state_dict({k: v for k, v in state.items() if k.startswith(tuple(keep))}, strict=False)
    return model


def auxiliary_losses(model: TransferModel, cfg: dict, data: TransferData, seed: int) -> list[torch.nn.Module]:
    losses, batch = [], cfg["batch_size"]
    if cfg["l2sp"]:
        losses.append(L2SP(model, cfg["l2sp"]))
    if cfg["joint_alpha"] and data.target_train is not None:
        losses.append(JointSourceLoss(data.source_train, cfg["joint_alpha"], batch, seed))
    if cfg["adaptation"] == "dann":
        dim = model.classifier.in_features
        losses.append(DomainAdversarialLoss(dim, data.source_train.images, data.target_unlabelled, cfg["adaptation_weight"], batch, seed))
    elif cfg["adaptation"] == "coral":
        losses.append(CoralLoss(data.source_train.images, data.target_unlabelled, cfg["adaptation_weight"], batch, seed))
    elif cfg["adaptation"] != "none":
        raise ValueError(f"finetune.adaptation must be none, dann or coral, got {cfg['adaptation']!r}")
    if cfg["self_training"]:
        losses.append(PseudoLabelLoss(data.target_unlabelled, augmentation_for(data.target_unlabelled), cfg["self_training"], cfg["pseudo_threshold"], batch, seed))
    return losses


def source_subset(data: TransferData, seed: int) -> Split:
    """Without target labels the source is the supervised task; as many source images as the unlabelled
    target pool keeps an epoch short and the two domains balanced."""
    index = torch.randperm(len(data.source_train.labels), generator=torch.Generator().manual_seed(seed))[: len(data.target_unlabelled)]
    return Split(data.source_train.images[index], data.source_train.labels[index])


def finetune(model: TransferModel, cfg: dict, data: TransferData, device: torch.device, seed: int) -> list[dict]:
    """Train through the strategy's phases; keep the weights that scored best on the labelled target val
    slice. Without target labels the source is the supervised task and the last weights are kept."""
    train = data.target_train if data.target_train is not None else source_subset(data, seed)
    val = data.target_val if data.target_train is not None else None
    augment = augmentation_for(train.images) if cfg["augment"] and data.target_train is not None else None
    losses = auxiliary_losses(model, cfg, data, seed)
    extra = [p for loss in losses for p in loss.parameters()]
    best, history = BestCheckpoint(), []
    for phase in phases(cfg["strategy"], cfg):
        optimizer = prepare_phase(model, phase, cfg["weight_decay"], extra)
        records = fit(model, optimizer, train, val=val, best=best, epochs=phase.epochs, batch_size=cfg["batch_size"],
                      device=device, seed=seed + len(history), desc=f"{cfg['strategy']}:{phase.name}", first_epoch=len(history),
                      min_batches=cfg["min_batches"], augment=augment, aux_losses=losses)
        history += [{**record, "phase": phase.name} for record in records]
    model.requires_grad_(True)
    if best.state is not None:
        model.load_state_dict(best.state)
    return history


def train_from_scratch(model_params: dict, input_shape: list[int], n_classes: int, pixel_max: float, cfg: dict, data: TransferData, device: torch.device, seed: int) -> TransferModel:
    """The no-transfer baseline: the same architecture and recipe from random weights, target labels only."""
    torch.manual_seed(seed)
    model = build_model(model_params, input_shape, n_classes, pixel_max)
    scratch_cfg = {**cfg, "strategy": "full", "backbone_lr_mult": 1.0, "l2sp": 0.0, "joint_alpha": 0.0, "adaptation": "none", "self_training": 0.0}
    finetune(model, scratch_cfg, data, device, seed)
    return model


