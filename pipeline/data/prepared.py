"""Reading what the prepare stage wrote: the tables, their metadata and tensors for training."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.data.tables import images_of, labels_of, read_json
from pipeline.training import Split

PREPARED_DIR = Path("data/prepared")


@dataclass
class Prepared:
    meta: dict
    source: pd.DataFrame
    target: pd.DataFrame

    @property
    def classes(self) -> list[str]:
        return self.meta["classes"]

    @property
    def source_classes(self) -> list[str]:
        return self.meta.get("source_classes", self.classes)

    def split(self, domain: str, name: str) -> Split:
        frame = getattr(self, domain)
        rows = frame[frame["split"] == name]
        return Split.from_arrays(images_of(rows, self.meta["input_shape"]), labels_of(rows))


def load_prepared(directory: Path = PREPARED_DIR) -> Prepared:
    return Prepared(read_json(directory / "meta.json"), pd.read_parquet(directory / "source.parquet"), pd.read_parquet(directory / "target.parquet"))
