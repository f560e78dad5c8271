"""Pretraining on the source: used by the pretrain stage and by the benchmark."""
from __future__ import annotations

import torch

from pipeline.models import TransferModel, build_model
from pipeline.training import Split, fit


def pretrain(model_params: dict, cfg: dict, input_shape: list[int], n_classes: int, pixel_max: float,
             train: Split, val: Split, device: torch.device, seed: int) -> tuple[TransferModel, list[dict]]:
    torch.manual_seed(seed)
    model = build_model(model_params, input_shape, n_classes, pixel_max)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    history = fit(model, optimizer, train, val=val, epochs=cfg["epochs"], batch_size=cfg["batch_size"], device=device, seed=seed, desc="pretrain")
    return model.cpu(), history
