"""Stage 2: train backbone + attention head + classifier on the source domain."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import checkpoints, runtime, tracking
from pipeline.data.prepared import load_prepared
from pipeline.data.tables import write_atomic
from pipeline.params import load_params
from pipeline.pretraining import pretrain

HISTORY_PLOT = Path("plots/pretrain_history.csv")


def main() -> None:
    params = load_params()
    cfg, seed = params["pretrain"], params["seed"]
    with tracking.stage_run("pretrain"):
        device = runtime.configure(params["runtime"], seed)
        data = load_prepared()
        model, history = pretrain(params["model"], cfg, data.meta["input_shape"], len(data.source_classes), data.meta["pixel_max"],
                                  data.split("source", "train"), data.split("source", "val"), device, seed)
        checkpoints.save(model, checkpoints.PRETRAINED)
        write_atomic(HISTORY_PLOT, lambda tmp: pd.DataFrame(history).to_csv(tmp, index=False))
        tracking.log_history(history, "pretrain")
        last = history[-1]
        tracking.record_metrics("pretrain", {"source_val_accuracy": last["val_accuracy"], "source_val_loss": last["val_loss"],
                                             "train_loss": last["train_loss"], "epochs": len(history),
                                             "parameters": sum(p.numel() for p in model.parameters())})


if __name__ == "__main__":
    main()
