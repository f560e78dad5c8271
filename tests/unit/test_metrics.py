import numpy as np

from pipeline.metrics import classification_metrics, expected_calibration_error


def test_perfectly_calibrated_confident_predictions_have_zero_ece():
    probs = np.eye(3)[[0, 1, 2, 1]]
    assert expected_calibration_error(probs, np.array([0, 1, 2, 1]), 10) == 0.0


def test_overconfident_wrong_predictions_have_high_ece():
    probs = np.full((4, 2), [0.99, 0.01])
    ece = expected_calibration_error(probs, np.array([1, 1, 1, 0]), 10)
    assert abs(ece - (0.99 - 0.25)) < 1e-9


def test_classification_metrics_without_probabilities():
    scores = classification_metrics(np.array([0, 1, 1]), np.array([0, 1, 0]), None, 2, 10)
    assert set(scores) == {"accuracy", "macro_f1"}
    assert abs(scores["accuracy"] - 2 / 3) < 1e-9
