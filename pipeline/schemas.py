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


def target_split_names(val_per_class: int, shots_per_class: int | str) -> list[str]:
    """The target table's splits; without a val slice (val_per_class 0) no class needs a 'val' row, and
    without labels (shots_per_class 0, which also means no val slice) none needs a 'train' or 'val' row."""
    labelled = shots_per_class != 0
    return [*(["train"] if labelled else []), *(["val"] if val_per_class and labelled else []), "test", UNLABELLED]


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


def manifest_schema(*, classes: list[str], splits: list[str], channels: int | None) -> pa.DataFrameSchema:
    """The gate for an image folder's file manifest (indexed by file): every file a readable image, of the
    configured channel count when `channels` is given, and no file content in two splits."""
    return pa.DataFrameSchema(
        {
            "class_name": pa.Column(str, pa.Check.isin(classes)),
            "split": pa.Column(str, pa.Check.isin(splits)),
            "sha256": pa.Column(str, nullable=False),
            # Checks skip nulls, so every non-null error message is reported as a failure, with its file.
            "error": pa.Column(None, pa.Check(lambda s: s.isna(), name="readable_image", error="not a readable image"), nullable=True),
            "channels": pa.Column("Int64", nullable=True, checks=None if channels is None else
                                  pa.Check.isin([channels], name="configured_channels", error=f"image must have {channels} channel(s) (prepare.image.channels)")),
        },
        checks=[pa.Check(lambda f: f.groupby("sha256")["split"].transform("nunique") == 1, name="duplicate_across_splits",
                         error="the same file content appears in more than one split")],
        name="image files",
    )


def class_count_schema(needed: dict[str, int]) -> pa.DataFrameSchema:
    """The gate for a per-class count table (index: class name, one column per split): no empty class, and
    enough samples in each split for the k-shot draw and the validation slice."""
    return pa.DataFrameSchema(
        {split: pa.Column(int, [pa.Check.gt(0, name="class_not_empty", error=f"class has no samples in split '{split}'"),
                                pa.Check.ge(n, name="enough_per_class", error=f"class needs at least {n} samples in split '{split}' (shots_per_class + val_per_class)")])
         for split, n in needed.items()},
        name="class counts",
    )


def array_rows_schema() -> pa.DataFrameSchema:
    """The gate for an array file's shapes (index: array name, column `rows`): X and y of equal length."""
    return pa.DataFrameSchema({"rows": pa.Column(int, pa.Check(lambda s: s == s.max(), name="same_length", error="X and y must have the same number of rows"))},
                              name="array rows")


def _one_row_per_failure(failures: pd.DataFrame, table_checks: list[pa.Check]) -> pd.DataFrame:
    """pandera repeats a failed table-wide check once per column; keep one row per failing row or class,
    and label it `name: explanation`."""
    labels = {check.error: f"{check.name}: {check.error}" for check in table_checks}
    failures = failures.assign(check=failures["check"].map(lambda c: labels.get(c, c)))
    table_wide = failures["check"].isin(labels.values())
    collapsed = failures[table_wide].drop_duplicates(subset=["check", "index"]).assign(column=None)
    return pd.concat([failures[~table_wide], collapsed], ignore_index=True)


def _example(group: pd.DataFrame, index_name: str, shown: int = 3) -> str:
    first = group.iloc[0]
    if pd.isna(first["index"]):  # table-wide: only a column name is worth showing
        return f": {first['failure_case']!r}" if isinstance(first["failure_case"], str) else ""
    examples = "; ".join(f"{row['failure_case']!r} at {index_name} {row['index']}" for _, row in group.head(shown).iterrows())
    return f", e.g. {examples}"


def _report_failures(errors: pandera.errors.SchemaErrors, schema: pa.DataFrameSchema, table: str, index_name: str, report: Path) -> str:
    failures = _one_row_per_failure(errors.failure_cases, schema.checks)
    report.parent.mkdir(parents=True, exist_ok=True)
    failures.to_csv(report, index=False)
    summary = failures.fillna({"column": "<table>"}).groupby(["column", "check"], sort=False)
    lines = [f"  {column}: {check}: {len(group)} failure(s)" + _example(group, index_name) for (column, check), group in summary]
    return "\n".join([f"Validation failed for table '{table}' ({len(failures)} failure(s)); all listed in {report}:", *lines])


def validate_all_or_exit(tables: dict[str, tuple[pd.DataFrame, pa.DataFrameSchema]], report_dir: Path = VALIDATION_DIR) -> dict[str, pd.DataFrame]:
    """Validate every table lazily (every failure, not the first); if any fails, write each table's failures
    to `<report_dir>/<table>.csv`, print them all and exit non-zero, without a traceback."""
    validated, messages = {}, []
    for table, (frame, schema) in tables.items():
        report = report_dir / f"{table}.csv"
        try:
            validated[table] = schema.validate(frame, lazy=True)
            report.unlink(missing_ok=True)
        except pandera.errors.SchemaErrors as errors:
            messages.append(_report_failures(errors, schema, table, frame.index.name or "row", report))
    if messages:
        print(*messages, sep="\n", file=sys.stderr)
        raise SystemExit(1)
    return validated


def validate_or_exit(frame: pd.DataFrame, schema: pa.DataFrameSchema, table: str, report_dir: Path = VALIDATION_DIR) -> pd.DataFrame:
    return validate_all_or_exit({table: (frame, schema)}, report_dir)[table]


def class_map_schema(*, target_classes: list[str], source_classes: list[str]) -> pa.DataFrameSchema:
    """The gate for `prepare.class_map` (index: target class, column `source_class`): both names must exist."""
    return pa.DataFrameSchema(
        {"source_class": pa.Column(str, pa.Check.isin(source_classes, name="maps_to_a_source_class",
                                                      error="target class is mapped to a source class that does not exist"))},
        index=pa.Index(str, pa.Check.isin(target_classes, name="is_a_target_class", error="class_map key is not a target class")),
        name="class map",
    )
