"""The gate for series tables: the image gate's label, split and k-shot checks (reused from
pipeline/schemas.py), with value columns that may hold NaN padding, a `length` column, and the series
checks: shape (channel count x length), NaN policy, and equal lengths when no length rule applies."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipeline.data.tables import PIXEL_PATTERN, pixel_columns
from pipeline.schemas import sample_schema


def _values(frame: pd.DataFrame, channels: int, length: int) -> np.ndarray | None:
    columns = pixel_columns(frame)
    return frame[columns].to_numpy(np.float64).reshape(len(frame), channels, length) if len(columns) == channels * length else None


def _padding_only_after_end(frame: pd.DataFrame, channels: int, length: int) -> pd.Series | bool:
    values = _values(frame, channels, length)
    if values is None:  # the shape check reports it; a per-row verdict would mean nothing
        return True
    after_end = np.arange(length)[None, None, :] >= frame["length"].to_numpy()[:, None, None]
    return pd.Series((np.isnan(values) == after_end).all(axis=(1, 2)), index=frame.index)


def series_schema(*, domain: str, splits: list[str], n_classes: int, channels: int, length: int, equal_length: bool,
                  shots_per_class: int | str | None = None) -> pa.DataFrameSchema:
    """`channels` x `length` is the model's input shape (the source's); `equal_length` when the length rule is `none`."""
    base = sample_schema(domain=domain, splits=splits, n_classes=n_classes, pixel_max=0.0, shots_per_class=shots_per_class)
    columns = {
        **base.columns,
        "label": pa.Column("Int64", pa.Check.in_range(0, n_classes - 1, error=f"label outside the {n_classes} classes of the target's train file"), nullable=True),
        PIXEL_PATTERN: pa.Column("float32", nullable=True, regex=True),
        "length": pa.Column(int, pa.Check.in_range(1, length)),
    }
    checks = base.checks + [
        pa.Check(lambda f: len(pixel_columns(f)) == channels * length, name="shape",
                 error=f"every series must have {channels} channel(s) x {length} points (the source's shape)"),
        pa.Check(lambda f: _padding_only_after_end(f, channels, length), name="nan_policy",
                 error="NaN may only pad a series after its end: missing values inside a series are not allowed"),
    ]
    if equal_length:
        checks.append(pa.Check(lambda f: f["length"] == length, name="equal_length",
                               error=f"series lengths differ from {length} and prepare.series.length_rule is 'none': use resample or pad"))
    return pa.DataFrameSchema(columns, checks=checks, strict=True, name=f"{domain} series")
