"""Scores for a classifier on the target test set; scikit-learn where it has the metric."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int) -> float:
    """Weighted mean |accuracy - confidence| over equal-width confidence bins (Guo et al. 2017)."""
    confidence, predicted = probs.max(1), probs.argmax(1)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    correct = predicted == labels
    gaps = [abs(correct[bins == b].mean() - confidence[bins == b].mean()) * (bins == b).mean() for b in np.unique(bins)]
    return float(np.sum(gaps))


def classification_metrics(labels: np.ndarray, predicted: np.ndarray, probs: np.ndarray | None, n_classes: int, ece_bins: int) -> dict:
    """Accuracy and macro-F1 always; NLL and ECE only for models that give probabilities."""
    scores = {"accuracy": accuracy_score(labels, predicted), "macro_f1": f1_score(labels, predicted, average="macro")}
    if probs is not None:
        scores["nll"] = log_loss(labels, probs, labels=list(range(n_classes)))
        scores["ece"] = expected_calibration_error(probs, labels, ece_bins)
    return {k: float(v) for k, v in scores.items()}


def confusion(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> list[list[int]]:
    return confusion_matrix(labels, predicted, labels=list(range(n_classes))).tolist()
