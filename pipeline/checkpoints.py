"""Checkpoints are plain state_dicts, loadable with torch.load(weights_only=True): no pickled code."""
from __future__ import annotations

from pathlib import Path

import torch

from pipeline.data.tables import write_atomic
from pipeline.models import TransferModel, build_model

PRETRAINED = Path("models/pretrained.pt")
FINETUNED = Path("models/finetuned.pt")


def save(model: torch.nn.Module, path: Path) -> None:
    write_atomic(path, lambda tmp: torch.save(model.state_dict(), tmp))


def load_state(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)


def load_model(path: Path, model_params: dict, meta: dict, n_classes: int | None = None, head: str | None = None) -> TransferModel:
    """`head` when the checkpoint's head differs from `model_params["head"]` (fine-tuning swapped it)."""
    model = build_model(model_params, meta["input_shape"], n_classes or len(meta["classes"]), meta["pixel_max"], head=head)
    model.load_state_dict(load_state(path))
    return model.eval()


def load_finetuned(params: dict, meta: dict) -> TransferModel:
    head = params["finetune"]["head"]
    return load_model(FINETUNED, params["model"], meta, head=None if head == "same" else head)
