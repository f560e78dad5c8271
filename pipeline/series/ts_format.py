"""Reader for the sktime/aeon `.ts` text format: `@` header lines, then one case per line, dimensions
separated by `:` with the class label last. Written here because aeon's own loader needs numba, which
would pin numpy below what this environment runs; aeon is only used as the carrier of the UCR files."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

MISSING = "?"


def bundled_path(name: str, split: str) -> Path:
    """The `.ts` file of a dataset shipped inside the aeon wheel (ArrowHead, GunPoint, ItalyPowerDemand, OSULeaf, ...)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or spec.origin is None:
        raise SystemExit(f"dataset {name!r} names an aeon-bundled dataset but aeon is not installed (pip install aeon)")
    path = Path(spec.origin).parent / "datasets" / "data" / name / f"{name}_{split.upper()}.ts"
    if not path.exists():
        raise SystemExit(f"{name!r} is not bundled with aeon (no {path}); give a path to a .ts file instead")
    return path


def read_ts(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Every case as a float array (channels, length) - lengths may differ - and its label as text.
    Missing values (`?`) become NaN; the series gate decides what to do with them."""
    series, labels = [], []
    in_data = False
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *dimensions, label = line.split(":")
        channels = [[np.nan if v == MISSING else float(v) for v in d.split(",")] for d in dimensions]
        width = max(map(len, channels))
        series.append(np.array([c + [np.nan] * (width - len(c)) for c in channels], dtype=np.float64))
        labels.append(label.strip())
    if not series:
        raise SystemExit(f"{path}: no cases after an @data line")
    return series, labels


def load_split(source: str | dict, split: str) -> tuple[list[np.ndarray], list[str]]:
    """`source` is an aeon-bundled dataset name or `{train: path.ts, test: path.ts}` of the user's own files."""
    if isinstance(source, dict):
        return read_ts(Path(source[split]))
    return read_ts(bundled_path(source, split))
