"""The one training loop: in-memory mini-batches, cosine schedule, per-epoch progress, selection on val."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from pipeline.runtime import autocast


@dataclass
class Split:
    images: torch.Tensor  # float32 (n, C, H, W), raw pixel values
    labels: torch.Tensor  # int64 (n,)

    @classmethod
    def from_arrays(cls, images: np.ndarray, labels: np.ndarray) -> "Split":
        # np.array copies: frames hand out read-only views that torch refuses to wrap.
        return cls(torch.from_numpy(np.array(images, dtype=np.float32)), torch.from_numpy(np.array(labels, dtype=np.int64)))


@dataclass
class BestCheckpoint:
    """The weights with the best validation accuracy so far (ties: lower loss), kept across phases."""

    accuracy: float = -1.0
    loss: float = float("inf")
    epoch: int = -1
    state: dict | None = field(default=None, repr=False)

    def offer(self, model: torch.nn.Module, accuracy: float, loss: float, epoch: int) -> None:
        if accuracy > self.accuracy or (accuracy == self.accuracy and loss < self.loss):
            self.accuracy, self.loss, self.epoch = accuracy, loss, epoch
            self.state = copy.deepcopy(model.state_dict())


@torch.no_grad()
def predict_logits(model: torch.nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 512) -> torch.Tensor:
    model.eval()
    outputs = []
    for start in range(0, len(images), batch_size):
        with autocast(device):
            outputs.append(model(images[start : start + batch_size].to(device)).float().cpu())
    return torch.cat(outputs)


def evaluate_split(model: torch.nn.Module, split: Split, device: torch.device) -> tuple[float, float]:
    logits = predict_logits(model, split.images, device)
    loss = F.cross_entropy(logits, split.labels).item()
    return loss, (logits.argmax(1) == split.labels).float().mean().item()


def fit(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train: Split,
    *,
    epochs: int,
    batch_size: int,
    device: torch.device,
    seed: int,
    val: Split | None = None,
    best: BestCheckpoint | None = None,
    desc: str = "train",
    first_epoch: int = 0,
) -> list[dict]:
    """Train for `epochs`; returns one dict per epoch (for metrics curves and plots)."""
    model.to(device)
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = max(1, -(-len(train.labels) // batch_size))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs * steps_per_epoch))
    history = []
    bar = tqdm(range(first_epoch, first_epoch + epochs), desc=desc, unit="epoch", leave=True, dynamic_ncols=True)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(train.labels), generator=generator)
        total_loss, correct = 0.0, 0
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            images, labels = train.images[index].to(device), train.labels[index].to(device)
            with autocast(device):
                logits = model(images)
            loss = F.cross_entropy(logits.float(), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(index)
            correct += (logits.argmax(1) == labels).sum().item()
        record = {"epoch": epoch, "train_loss": total_loss / len(order), "train_accuracy": correct / len(order)}
        if val is not None:
            record["val_loss"], record["val_accuracy"] = evaluate_split(model, val, device)
            if best is not None:
                best.offer(model, record["val_accuracy"], record["val_loss"], epoch)
        bar.set_postfix({k: f"{v:.3f}" for k, v in record.items() if k != "epoch"})
        history.append(record)
    return history
