"""Baselines scored on the same test split as the fine-tuned model: each returns (predicted, probs or None).
The schema guarantees every class in the train split, so probability columns cover every class."""
from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from pipeline.models import TransferModel
from pipeline.training import Split, predict_logits

Prediction = tuple[np.ndarray, np.ndarray | None]


def _flat(split: Split, pixel_max: float) -> np.ndarray:
    # Series padding is NaN (see pipeline/series/length.py); the raw-value baselines read it as 0.
    return torch.nan_to_num(split.images, nan=0.0).flatten(1).numpy() / pixel_max


def logistic_regression_pixels(train: Split, test: Split, pixel_max: float) -> Prediction:
    model = LogisticRegression(max_iter=5000).fit(_flat(train, pixel_max), train.labels.numpy())
    probs = model.predict_proba(_flat(test, pixel_max))
    return model.classes_[probs.argmax(1)], probs


def rbf_svm_pixels(train: Split, test: Split, pixel_max: float) -> Prediction:
    # No probabilities: SVC's Platt scaling needs internal cross-validation that one-shot data cannot give.
    model = SVC(kernel="rbf", gamma="scale").fit(_flat(train, pixel_max), train.labels.numpy())
    return model.predict(_flat(test, pixel_max)), None


@torch.no_grad()
def _features(model: TransferModel, split: Split) -> np.ndarray:
    """Pooled features in float32 on whatever device the model is on."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.features(split.images[i : i + 512].to(device)).cpu() for i in range(0, len(split.images), 512)]).numpy()


def linear_probe(pretrained: TransferModel, train: Split, test: Split) -> Prediction:
    """Logistic regression on frozen pooled features of the source-trained model."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(_features(pretrained, train), train.labels.numpy())
    probs = probe.predict_proba(_features(pretrained, test))
    return probe.classes_[probs.argmax(1)], probs


def torch_model(model: TransferModel, test: Split, device: torch.device) -> Prediction:
    probs = torch.softmax(predict_logits(model, test.images, device), 1).numpy()
    return probs.argmax(1), probs

