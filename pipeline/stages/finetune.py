"""Stage 3: fine-tune the pretrained model on the target k-shot set; select on the validation slice only
(or keep the last weights when val_per_class is 0)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import checkpoints, runtime, tracking
from pipeline.data.prepared import load_prepared
from pipeline.data.tables import write_atomic
from pipeline.finetuning import finetune, from_pretrained
from pipeline.params import load_params

HISTORY_PLOT = Path("plots/finetune_history.csv")
HISTORY_COLUMNS = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "phase"]


def main() -> None:
    params = load_params()
    cfg, seed = params["finetune"], params["seed"]
    with tracking.stage_run("finetune"):
        device = runtime.configure(params["runtime"], seed)
        data = load_prepared()
        meta = data.meta
        model = from_pretrained(checkpoints.load_state(checkpoints.PRETRAINED), params["model"], meta["input_shape"],
                                len(data.classes), meta["pixel_max"], cfg, same_classes=data.source_classes == data.classes)
        transfer = data.transfer_data()
        finetuned = finetune(model, cfg, transfer, device, seed)
        checkpoints.save(model.cpu(), checkpoints.FINETUNED)
        # Empty val columns without a val slice: the plot in dvc.yaml names them whatever the params.
        frame = pd.DataFrame(finetuned.history, columns=HISTORY_COLUMNS)
        write_atomic(HISTORY_PLOT, lambda tmp: frame.to_csv(tmp, index=False))
        tracking.log_history([{k: v for k, v in r.items() if k != "phase"} for r in finetuned.history], "finetune")
        tracking.record_metrics("finetune", {**finetuned.kept, "train_samples": 0 if transfer.target_train is None else len(transfer.target_train.labels)})


if __name__ == "__main__":
    main()
