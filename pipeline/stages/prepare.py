"""Stage 1: build the source and target tables, split them, gate them with pandera, write Parquet."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import tracking
from pipeline.data.class_map import align_source, match_classes
from pipeline.data.recipes import Domain, load_domain
from pipeline.data.splits import source_splits, target_splits
from pipeline.data.tables import UNLABELLED, to_frame, write_json, write_table
from pipeline.params import load_params
from pipeline.schemas import sample_schema, target_split_names, validate_all_or_exit
from pipeline.series.prepare_series import series_tables

OUT_DIR = Path("data/prepared")


def given_test(domain: Domain) -> np.ndarray | None:
    return None if domain.given_split is None else domain.given_split == "test"


def check_shapes(source: Domain, target: Domain) -> list[int]:
    """One model reads both domains, so both must come out in the same shape."""
    if source.images.shape[1:] != target.images.shape[1:]:
        raise SystemExit(f"source images are {list(source.images.shape[1:])} but target images are {list(target.images.shape[1:])} "
                         "([C, H, W]): set prepare.image.size/channels to the shape of the built-in or array data")
    return list(target.images.shape[1:])


def build_tables(cfg: dict, seed: int) -> tuple[dict[str, pd.DataFrame], dict]:
    """The gated source and target tables, and the metadata later stages build the model from."""
    image = cfg["image"]
    source, target = (load_domain(name, cfg[name], image, seed) for name in ("source", "target"))
    input_shape = check_shapes(source, target)
    matched = match_classes(target.classes, source.classes, cfg.get("class_map") or {})
    source_labels, source_classes = align_source(source.labels, source.classes, matched)
    source_frame = to_frame(source.images, source_labels, source.ids, "source",
                            source_splits(len(source.ids), cfg["source"]["val_fraction"], seed, given_test(source)))

    t = cfg["target"]
    split = target_splits(target.labels, test_fraction=t["test_fraction"], split_seed=t["split_seed"], shots_per_class=t["shots_per_class"],
                          val_per_class=t["val_per_class"], seed=seed, given_test=given_test(target))
    # Unlabelled rows carry no label at all, so no later stage can leak it.
    labels = pd.array(target.labels, dtype="Int64")
    labels[split == UNLABELLED] = pd.NA
    target_frame = to_frame(target.images, labels, target.ids, "target", split)

    # Gate both tables before writing either: a failure leaves no new output behind.
    gated = validate_all_or_exit({
        "source": (source_frame, sample_schema(domain="source", splits=["train", "val"], n_classes=len(source_classes), pixel_max=image["pixel_max"])),
        "target": (target_frame, sample_schema(domain="target", splits=target_split_names(t["val_per_class"], t["shots_per_class"]), n_classes=len(target.classes),
                                               pixel_max=image["pixel_max"], shots_per_class=t["shots_per_class"])),
    })
    # Nothing in meta depends on the target split, so a new k does not make pretraining stale.
    meta = {"input_shape": input_shape, "classes": target.classes, "source_classes": source_classes, "class_map": matched,
            "new_target_classes": [t for t, s in matched.items() if s is None], "pixel_max": image["pixel_max"]}
    return gated, meta


def require_source_classifier_without_labels(cfg: dict, meta: dict) -> None:
    """Without target labels (shots_per_class 0) only the source classifier can name the target classes."""
    shots = (cfg["series"] if cfg["recipe"] == "series" else cfg["target"])["shots_per_class"]
    if shots == 0 and meta["source_classes"] != meta["classes"]:
        raise SystemExit(f"shots_per_class is 0 (no target labels), but the target classes {meta['classes']} are not the source's "
                         f"{meta['source_classes']}: without labels only the source classifier can predict them. "
                         "Map them with prepare.class_map, or label some target images.")


def main() -> None:
    params = load_params()
    with tracking.stage_run("prepare"):
        tables, meta = series_tables(params) if params["prepare"]["recipe"] == "series" else build_tables(params["prepare"], params["seed"])
        require_source_classifier_without_labels(params["prepare"], meta)
        for name, frame in tables.items():
            write_table(frame, OUT_DIR / f"{name}.parquet")
        write_json(meta, OUT_DIR / "meta.json")
        tracking.log_artifacts(OUT_DIR / "meta.json")
        tracking.record_metrics("prepare", {f"{domain}_{split}": int(n) for domain, frame in tables.items()
                                            for split, n in frame["split"].value_counts().items()})
        new = meta["new_target_classes"]
        print(f"prepare: input shape {meta['input_shape']}, {len(meta['source_classes'])} source / {len(meta['classes'])} target classes; "
              + (f"target classes absent from the source (new classifier rows): {new}" if new else "every target class has a source class"))


if __name__ == "__main__":
    main()
