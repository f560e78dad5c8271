"""The length rule: every series leaves prepare with the same length, so one model takes source and target.

- `resample`: linear interpolation onto `length` points (shape kept, time stretched);
- `pad`: NaN after the series' end up to `length` (longer series are cut); the model masks it;
- `none`: series must already share one length; the gate rejects a table where they do not.
Values are z-normalised per series and channel over the observed points, as the UCR archive does."""
from __future__ import annotations

import numpy as np

RULES = ("resample", "pad", "none")


def znorm(series: np.ndarray) -> np.ndarray:
    mean = np.mean(series, axis=-1, keepdims=True)
    std = np.std(series, axis=-1, keepdims=True)
    return (series - mean) / np.where(std > 1e-8, std, 1.0)


def observed_length(series: np.ndarray) -> int:
    """Points up to the last one observed on any channel: trailing NaN is padding, inner NaN is missing data."""
    observed = np.flatnonzero(~np.isnan(series).all(axis=0))
    return int(observed[-1]) + 1 if len(observed) else 0


def resample(series: np.ndarray, length: int) -> np.ndarray:
    old = np.linspace(0.0, 1.0, series.shape[-1])
    new = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(new, old, channel) for channel in series])


def apply_rule(cases: list[np.ndarray], rule: str, length: int | None, normalise: bool) -> tuple[np.ndarray, np.ndarray]:
    """(n, channels, L) with NaN padding, and each case's own length. With `none`, L is the longest case."""
    if rule not in RULES:
        raise SystemExit(f"prepare.series.length_rule must be one of {RULES}, got {rule!r}")
    cases = [case[:, : observed_length(case)] for case in cases]
    cases = [znorm(case) if normalise else case for case in cases]
    if rule == "resample":
        cases = [resample(case, length) for case in cases]
    target = length if rule != "none" else max(case.shape[-1] for case in cases)
    lengths = np.array([min(case.shape[-1], target) for case in cases])
    channels = max(case.shape[0] for case in cases)
    out = np.full((len(cases), channels, target), np.nan, dtype=np.float32)
    for i, case in enumerate(cases):
        out[i, : case.shape[0], : lengths[i]] = case[:, : lengths[i]]
    return out, lengths
