"""Each gate accepts good data and rejects each kind of bad data, naming the table, column and check."""
import numpy as np
import pandas as pd
import pytest

from pipeline.data.tables import UNLABELLED, to_frame
from pipeline.schemas import sample_schema, validate_or_exit

SPLITS = ["train", "val", "test", UNLABELLED]


def good_target() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    labels = np.tile(np.arange(10), 4)  # one row per class in each split
    split = np.repeat(["train", "val", "test", UNLABELLED], 10)
    images = rng.integers(0, 17, size=(40, 1, 8, 8)).astype(np.uint8)
    label_array = pd.array(labels, dtype="Int64")
    label_array[split == UNLABELLED] = pd.NA
    return to_frame(images, label_array, [f"s{i}" for i in range(40)], "target", split)


def gate(frame, tmp_path, shots=1):
    schema = sample_schema(domain="target", splits=SPLITS, n_classes=10, pixel_max=16, shots_per_class=shots)
    return validate_or_exit(frame, schema, "target", report_dir=tmp_path)


def test_good_table_passes_and_clears_stale_report(tmp_path):
    (tmp_path / "target.csv").write_text("stale")
    assert len(gate(good_target(), tmp_path)) == 40
    assert not (tmp_path / "target.csv").exists()


def corrupt_pixel_range(f):
    f.loc[3, "px_05"] = 17
    f.loc[4, "px_06"] = 200


def corrupt_nan(f):
    f["px_00"] = f["px_00"].astype(float)
    f.loc[2, "px_00"] = np.nan


def corrupt_label(f):
    f.loc[1, "label"] = 12


def corrupt_duplicate_id(f):
    f.loc[5, "sample_id"] = f.loc[25, "sample_id"]


def corrupt_split(f):
    f.loc[0, "split"] = "training"


def corrupt_unlabelled_with_label(f):
    f.loc[35, "label"] = 3


def corrupt_k_shot(f):
    f.loc[0, "split"] = "val"  # class 0 loses its only k-shot example


def corrupt_missing_test_class(f):
    f.loc[f["split"] == "test", "label"] = 1


def corrupt_extra_column(f):
    f["leak"] = 0


def corrupt_domain(f):
    f.loc[0, "domain"] = "source"


@pytest.mark.parametrize("corrupt, column, check", [
    (corrupt_pixel_range, "px_05", "in_range"),
    (corrupt_nan, "px_00", "not_nullable"),
    (corrupt_label, "label", "in_range"),
    (corrupt_duplicate_id, "sample_id", "field_uniqueness"),
    (corrupt_split, "split", "isin"),
    (corrupt_unlabelled_with_label, None, "labelled_unless_unlabelled"),
    (corrupt_k_shot, None, "k_shot_per_class"),
    (corrupt_k_shot, None, "class_coverage_train"),
    (corrupt_missing_test_class, None, "class_coverage_test"),
    (corrupt_extra_column, None, "column_in_schema"),
    (corrupt_domain, "domain", "isin"),
])
def test_bad_table_fails_with_every_failure_listed(tmp_path, capsys, corrupt, column, check):
    frame = good_target()
    corrupt(frame)
    with pytest.raises(SystemExit) as exit_info:
        gate(frame, tmp_path)
    assert exit_info.value.code == 1
    failures = pd.read_csv(tmp_path / "target.csv")
    assert failures["check"].astype(str).str.contains(check).any(), failures
    if column:
        assert column in set(failures["column"].dropna())
    message = capsys.readouterr().err
    assert "Validation failed for table 'target'" in message and check in message


def test_lazy_validation_reports_all_failures_at_once(tmp_path, capsys):
    frame = good_target()
    corrupt_pixel_range(frame)
    corrupt_label(frame)
    corrupt_split(frame)
    with pytest.raises(SystemExit):
        gate(frame, tmp_path)
    failures = pd.read_csv(tmp_path / "target.csv")
    assert {"px_05", "px_06", "label", "split"} <= set(failures["column"].dropna())
