"""Where and how torch runs: threads, seeds, device and mixed precision."""
from __future__ import annotations

import contextlib
import random

import numpy as np
import torch


def configure(runtime: dict, seed: int) -> torch.device:
    """Apply the runtime params and seed every RNG; returns the device to train on."""
    torch.set_num_threads(int(runtime["threads"]))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return resolve_device(runtime["device"])


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("params.yaml runtime.device is 'cuda' but no CUDA device is visible; use 'auto' or 'cpu'")
    return torch.device(name)


def autocast(device: torch.device):
    """bf16 autocast on CUDA; on CPU full precision (CPU bf16 is slower for models this small)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
