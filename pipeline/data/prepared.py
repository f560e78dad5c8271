"""Reading what the prepare stage wrote: the tables, their metadata and tensors for training."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pandas as pd
import torch

from pipeline.data.tables import UNLABELLED, images_of, labels_of, read_json
from pipeline.finetuning import TransferData
from pipeline.training import Split

PREPARED_DIR = Path("data/prepared")


class Prepared:
    """Tables are read on first use, so a stage reads (and depends on) only the domains it uses."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.meta = read_json(directory / "meta.json")

    @cached_property
    def source(self) -> pd.DataFrame:
        return pd.read_parquet(self.directory / "source.parquet")

    @cached_property
    def target(self) -> pd.DataFrame:
        return pd.read_parquet(self.directory / "target.parquet")

    @property
    def classes(self) -> list[str]:
        """The target's classes: what the fine-tuned model predicts."""
        return self.meta["classes"]

    @property
    def source_classes(self) -> list[str]:
        return self.meta.get("source_classes", self.meta["classes"])

    def rows(self, domain: str, split: str) -> pd.DataFrame:
        frame = getattr(self, domain)
        return frame[frame["split"] == split]

    def split(self, domain: str, name: str) -> Split:
        rows = self.rows(domain, name)
        return Split.from_arrays(images_of(rows, self.meta["input_shape"]), labels_of(rows))

    def transfer_data(self) -> TransferData:
        target_train = self.split("target", "train")
        # A copy: the pixel block can come back from pandas read-only, which torch warns about.
        unlabelled = torch.tensor(images_of(self.rows("target", UNLABELLED), self.meta["input_shape"]))
        val = self.split("target", "val")  # empty when val_per_class is 0: nothing to select on
        # Empty when shots_per_class is 0: finetune then adapts without target labels.
        return TransferData(self.split("source", "train"), target_train if len(target_train.labels) else None,
                            val if len(val.labels) else None, unlabelled)


def load_prepared(directory: Path = PREPARED_DIR) -> Prepared:
    return Prepared(directory)
