"""Stage 3: fine-tune the pretrained model on the target k-shot set; select on the validation slice only."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import checkpoints, runtime, tracking
from pipeline.data.prepared import load_prepared
from pipeline.data.tables import write_atomic
from pipeline.models import build_model
from pipeline.params import load_params
from pipeline.strategies import run_strategy

HISTORY_PLOT = Path("plots/finetune_history.csv")


def main() -> None:
    params = load_params()
    cfg, seed = params["finetune"], params["seed"]
    with tracking.stage_run("finetune"):
        device = runtime.configure(params["runtime"], seed)
        data = load_prepared()
        model = build_model(params["model"], data.meta["input_shape"], len(data.classes), data.meta["pixel_max"])
        state = checkpoints.load_state(checkpoints.PRETRAINED)
        if not cfg["reuse_source_classifier"]:
            state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
        model.load_state_dict(state, strict=False)
        train, val = data.split("target", "train"), data.split("target", "val")
        history = run_strategy(model, cfg["strategy"], cfg, train, val, device, seed)
        checkpoints.save(model.cpu(), checkpoints.FINETUNED)
        write_atomic(HISTORY_PLOT, lambda tmp: pd.DataFrame(history).to_csv(tmp, index=False))
        tracking.log_history([{k: v for k, v in r.items() if k != "phase"} for r in history], "finetune")
        best = max(history, key=lambda r: (r["val_accuracy"], -r["val_loss"]))
        tracking.record_metrics("finetune", {"target_val_accuracy": best["val_accuracy"], "target_val_loss": best["val_loss"],
                                             "best_epoch": best["epoch"], "train_samples": len(train.labels)})


if __name__ == "__main__":
    main()
