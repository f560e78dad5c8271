"""pandera gates for every sample table; a failing gate lists every failure, writes them all to
reports/validation/<table>.csv and stops the stage with a non-zero exit."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pandera.errors
import pandera.pandas as pa

from pipeline.data.tables import PIXEL_PATTERN, UNLABELLED

VALIDATION_DIR = Path("reports/validation")


def _labelled_unless_unlabelled(frame: pd.DataFrame) -> pd.Series:
    return frame["label"].isna() == (frame["split"] == UNLABELLED)


def _class_counts(frame: pd.DataFrame, split: str, n_classes: int) -> pd.Series:
    labels = frame.loc[frame["split"] == split, "label"]
    return labels.value_counts().reindex(range(n_classes), fill_value=0)


def sample_schema(*, domain: str, splits: list[str], n_classes: int, pixel_max: float, shots_per_class: int | str | None = None) -> pa.DataFrameSchema:
    """The gate for one domain's table. `shots_per_class` (target only) demands exactly k train rows per class."""
    checks = [
        pa.Check(_labelled_unless_unlabelled, name="labelled_unless_unlabelled",
                 error=f"label must be set on every row except split '{UNLABELLED}', and empty there"),
    ]
    for split in splits:
        if split != UNLABELLED:
            checks.append(pa.Check(lambda f, s=split: _class_counts(f, s, n_classes) > 0, name=f"class_coverage_{split}",
                                   error=f"every class must have at least one '{split}' row"))
    if isinstance(shots_per_class, int):
        checks.append(pa.Check(lambda f: _class_counts(f, "train", n_classes) == shots_per_class, name="k_shot_per_class",
                               error=f"the k-shot train split must hold exactly {shots_per_class} rows per class"))
    return pa.DataFrameSchema(
        {
            "sample_id": pa.Column(str, unique=True, nullable=False),
            "domain": pa.Column(str, pa.Check.isin([domain])),
            "split": pa.Column(str, pa.Check.isin(splits)),
            "label": pa.Column("Int64", pa.Check.in_range(0, n_classes - 1), nullable=True),
            PIXEL_PATTERN: pa.Column(None, pa.Check.in_range(0, pixel_max), nullable=False, regex=True),
        },
        checks=checks,
        strict=True,
        name=f"{domain} samples",
    )


def _one_row_per_failure(failures: pd.DataFrame, table_checks: list[pa.Check]) -> pd.DataFrame:
    """pandera repeats a failed table-wide check once per column; keep one row per failing row or class,
    and label it `name: explanation`."""
    labels = {check.error: f"{check.name}: {check.error}" for check in table_checks}
    failures = failures.assign(check=failures["check"].map(lambda c: labels.get(c, c)))
    table_wide = failures["check"].isin(labels.values())
    collapsed = failures[table_wide].drop_duplicates(subset=["check", "index"]).assign(column=None)
    return pd.concat([failures[~table_wide], collapsed], ignore_index=True)


def _example(group: pd.DataFrame) -> str:
    first = group.iloc[0]
    if pd.isna(first["index"]):  # table-wide: only a column name is worth showing
        return f": {first['failure_case']!r}" if isinstance(first["failure_case"], str) else ""
    return f", e.g. {first['failure_case']!r} at row {first['index']}"


def validate_or_exit(frame: pd.DataFrame, schema: pa.DataFrameSchema, table: str, report_dir: Path = VALIDATION_DIR) -> pd.DataFrame:
    """Validate lazily (every failure, not the first); on failure write them all and exit non-zero."""
    report = report_dir / f"{table}.csv"
    try:
        validated = schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        failures = _one_row_per_failure(errors.failure_cases, schema.checks)
        report_dir.mkdir(parents=True, exist_ok=True)
        failures.to_csv(report, index=False)
        summary = failures.fillna({"column": "<table>"}).groupby(["column", "check"], sort=False)
        lines = [f"  {column}: {check}: {len(group)} failure(s)" + _example(group) for (column, check), group in summary]
        print(f"Validation failed for table '{table}' ({len(failures)} failure(s)); all listed in {report}:", *lines, sep="\n", file=sys.stderr)
        raise SystemExit(1) from None
    report.unlink(missing_ok=True)
    return validated
