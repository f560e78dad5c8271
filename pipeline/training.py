"""The one training loop: in-memory mini-batches, cosine schedule, per-epoch progress, selection on val."""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel
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
    """Logits on the host, computed on `device`; the model moves there, since checkpoints load on the CPU."""
    model.to(device).eval()
    outputs = []
    for start in range(0, len(images), batch_size):
        with autocast(device):
            outputs.append(model(images[start : start + batch_size].to(device)).float().cpu())
    return torch.cat(outputs)


def evaluate_split(model: torch.nn.Module, split: Split, device: torch.device) -> tuple[float, float]:
    logits = predict_logits(model, split.images, device)
    loss = F.cross_entropy(logits, split.labels).item()
    return loss, (logits.argmax(1) == split.labels).float().mean().item()


def _passes(n_samples: int, batch_size: int, min_batches: int) -> int:
    return max(1, -(-min_batches * batch_size // n_samples))


def epoch_order(n_samples: int, batch_size: int, min_batches: int, generator: torch.Generator) -> torch.Tensor:
    """A shuffled pass over the data, repeated until it fills `min_batches` batches: with a handful of
    labels one pass is one step, too few for a schedule or for auxiliary losses to act."""
    return torch.cat([torch.randperm(n_samples, generator=generator) for _ in range(_passes(n_samples, batch_size, min_batches))])


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
    min_batches: int = 1,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    aux_losses: Sequence[torch.nn.Module] = (),
    ema: AveragedModel | None = None,
) -> list[dict]:
    """Train for `epochs`, minimising cross-entropy on `train` plus every auxiliary loss (a module whose
    forward(model) draws its own batch and returns a weighted loss term); one dict per epoch comes back.
    With `ema`, the running average of the weights is updated after every step, and it is what the val
    split scores and `best` keeps."""
    model.to(device)
    for aux in aux_losses:
        aux.to(device)
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = -(-_passes(len(train.labels), batch_size, min_batches) * len(train.labels) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs * steps_per_epoch))
    # On a GPU every host read of a device value waits for the queued steps, so the data goes over once
    # and the epoch's loss and hits stay on the device until its end. Augmented batches are still built on
    # the host: the augmentation draws from this CPU generator, so a seed augments alike on any device.
    device_images = train.images.to(device) if augment is None else None
    device_labels = train.labels.to(device)
    history = []
    bar = tqdm(range(first_epoch, first_epoch + epochs), desc=desc, unit="epoch", leave=True, dynamic_ncols=True)
    for epoch in bar:
        model.train()
        order = epoch_order(len(train.labels), batch_size, min_batches, generator)
        device_order = order.to(device, non_blocking=True)
        total_loss, correct = torch.zeros((), device=device), torch.zeros((), device=device, dtype=torch.long)
        for start in range(0, len(order), batch_size):
            index = device_order[start : start + batch_size]
            labels = device_labels[index]
            if augment is None:
                images = device_images[index]
            else:
                images = augment(train.images[order[start : start + batch_size]], generator).to(device, non_blocking=True)
            with autocast(device):
                logits = model(images)
                loss = F.cross_entropy(logits.float(), labels) + sum(aux(model) for aux in aux_losses)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if ema is not None:
                ema.update_parameters(model)
            total_loss += loss.detach() * len(index)
            correct += (logits.argmax(1) == labels).sum()
        record = {"epoch": epoch, "train_loss": total_loss.item() / len(order), "train_accuracy": correct.item() / len(order)}
        if val is not None:
            scored = model if ema is None else ema.module
            record["val_loss"], record["val_accuracy"] = evaluate_split(scored, val, device)
            if best is not None:
                best.offer(scored, record["val_accuracy"], record["val_loss"], epoch)
        bar.set_postfix({k: f"{v:.3f}" for k, v in record.items() if k != "epoch"})
        history.append(record)
    return history
