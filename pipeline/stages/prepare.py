"""Stage 1: build the source and target tables, split them, gate them with pandera, write Parquet."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import tracking
from pipeline.data import recipes
from pipeline.data.splits import source_splits, target_splits
from pipeline.data.tables import UNLABELLED, to_frame, write_json, write_table
from pipeline.params import load_params
from pipeline.schemas import sample_schema, validate_or_exit
from pipeline.series.prepare_series import prepare_series

OUT_DIR = Path("data/prepared")


def main() -> None:
    params = load_params()
    cfg, seed = params["prepare"], params["seed"]
    with tracking.stage_run("prepare"):
        if cfg["recipe"] == "series":
            return prepare_series(params, OUT_DIR)
        classes, pixel_max = recipes.DIGIT_CLASSES, recipes.OPTDIGITS_MAX

        source = recipes.font_digits(cfg["source"]["n_samples"], seed, cfg["source"]["jitter"])
        source_frame = to_frame(source.images, source.labels, source.ids, "source",
                                source_splits(len(source.ids), cfg["source"]["val_fraction"], seed))

        target = recipes.sklearn_digits()
        t = cfg["target"]
        split = target_splits(target.labels, test_fraction=t["test_fraction"], split_seed=t["split_seed"],
                              shots_per_class=t["shots_per_class"], val_per_class=t["val_per_class"], seed=seed)
        # Unlabelled rows carry no label at all, so no later stage can leak it.
        labels = pd.array(target.labels, dtype="Int64")
        labels[split == UNLABELLED] = pd.NA
        target_frame = to_frame(target.images, labels, target.ids, "target", split)

        # Gate both tables before writing either: a failure leaves no new output behind.
        source_frame = validate_or_exit(source_frame, sample_schema(domain="source", splits=["train", "val"], n_classes=len(classes), pixel_max=pixel_max), "source")
        target_frame = validate_or_exit(target_frame, sample_schema(domain="target", splits=["train", "val", "test", UNLABELLED], n_classes=len(classes), pixel_max=pixel_max, shots_per_class=t["shots_per_class"]), "target")

        write_table(source_frame, OUT_DIR / "source.parquet")
        write_table(target_frame, OUT_DIR / "target.parquet")
        counts = {f"{domain}_{name}": int(n) for domain, frame in (("source", source_frame), ("target", target_frame))
                  for name, n in frame["split"].value_counts().items()}
        write_json({"input_shape": list(source.images.shape[1:]), "classes": classes, "pixel_max": pixel_max, "counts": counts},
                   OUT_DIR / "meta.json")
        tracking.log_artifacts(OUT_DIR / "meta.json")


if __name__ == "__main__":
    main()
