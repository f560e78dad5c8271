"""Seconds per epoch of the default pretraining and fine-tuning on each device, measured in one run: what
moving `runtime.device` from cpu to cuda (bf16 autocast) buys, as a ratio.

    python benchmarks/device_speed.py                          # cpu, and cuda when one is visible
    python benchmarks/device_speed.py --devices cuda --epochs 4

Pretraining: params.yaml's model and pretrain section on the rendered font source (prepare.source). Fine-tuning:
params.yaml's finetune recipe (self-training, information max, moving average as set there) on K =
prepare.target.shots_per_class digits a class, the rest of the pool unlabelled. Each device first runs one
untimed epoch of each (CUDA start-up, kernel selection). Accuracy is not measured here: the same recipe's
accuracy on either device comes from `benchmarks/transfer.py --params` with `runtime.device` set.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline import runtime  # noqa: E402
from pipeline.finetuning import finetune  # noqa: E402
from pipeline.models import build_model  # noqa: E402
from pipeline.params import load_params  # noqa: E402
from pipeline.pretraining import pretrain  # noqa: E402
from transfer import INPUT_SHAPE, N_CLASSES, PIXEL_MAX, source_data, target_data  # noqa: E402


def seconds_per_epoch(train_for, epochs: int) -> float:
    """`train_for(n)` trains n epochs and returns once the device is done (both stages end on a host read)."""
    train_for(1)
    start = time.perf_counter()
    train_for(epochs)
    return (time.perf_counter() - start) / epochs


def measure(params: dict, device_name: str, epochs: int, seed: int) -> dict:
    device = runtime.configure({**params["runtime"], "device": device_name}, seed)
    source_train, source_val = source_data(params, seed)
    k = str(params["prepare"]["target"]["shots_per_class"])
    target, _ = target_data(params, k, seed, source_train)

    def pretrain_for(n: int) -> None:
        pretrain(params["model"], {**params["pretrain"], "epochs": n}, INPUT_SHAPE, N_CLASSES, PIXEL_MAX, source_train, source_val, device, seed)

    def finetune_for(n: int) -> None:
        model = build_model(params["model"], INPUT_SHAPE, N_CLASSES, PIXEL_MAX)
        finetune(model, {**params["finetune"], "strategy": "full", "epochs": n}, target, device, seed)

    return {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
            "pretrain": seconds_per_epoch(pretrain_for, epochs), "finetune": seconds_per_epoch(finetune_for, epochs),
            "source images": len(source_train.labels), "target labels": len(target.target_train.labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"], choices=["cpu", "cuda"])
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs of each stage, after the warm-up one")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    params = load_params()
    rows = [measure(params, name, args.epochs, args.seed) for name in args.devices]
    print(f"seconds per epoch, {args.epochs} timed epochs, params.yaml's defaults "
          f"({rows[0]['source images']} source images, {rows[0]['target labels']} target labels + the unlabelled pool):")
    for row in rows:
        ratio = "".join(f", {rows[0][stage] / row[stage]:.1f}x {stage}" for stage in ("pretrain", "finetune")) if row is not rows[0] else ""
        print(f"  {row['device']:<24} pretrain {row['pretrain']:7.2f} s   finetune {row['finetune']:7.3f} s{ratio}")


if __name__ == "__main__":
    main()
