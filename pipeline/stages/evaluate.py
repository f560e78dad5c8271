"""Stage 4: score the fine-tuned model and every baseline on the same fixed target test split."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipeline import baselines, checkpoints, runtime, tracking
from pipeline.data.prepared import load_prepared
from pipeline.data.tables import write_atomic
from pipeline.metrics import classification_metrics, confusion
from pipeline.finetuning import train_from_scratch
from pipeline.params import load_params
from pipeline.plots import attention_maps
from pipeline.series.plots import series_attention

CONFUSION_PLOT = Path("plots/confusion.csv")
ATTENTION_PNG = Path("plots/attention_maps.png")
REPORT = Path("reports/evaluate.md")
# Methods that use no source data: transfer has to beat the best of these to be worth it.
NON_TRANSFER = ("scratch", "logreg_pixels", "rbf_svm_pixels")


def verdict(metrics: dict) -> str:
    if metrics["best_non_transfer"] is None:
        gain = metrics["finetuned"]["accuracy"] - metrics["baselines"]["source_only"]["accuracy"]
        return (f"No target labels, so no baseline without source data can train. Adapting to the unlabelled target images "
                f"{'beat' if gain > 0 else 'did NOT beat'} the source model as it was (source_only): {100 * gain:+.1f} accuracy points.")
    gain = metrics["transfer_gain"]
    return (f"Transfer {'beat' if gain > 0 else 'did NOT beat'} the best non-transfer baseline ({metrics['best_non_transfer']}): "
            f"{100 * gain:+.1f} accuracy points.")


def report_markdown(metrics: dict, classes: list[str]) -> str:
    rows = {"finetuned": metrics["finetuned"], **metrics["baselines"]}
    lines = ["# Target test set", "", f"{metrics['test_samples']} test images, {metrics['train_samples']} labelled target images for training.", "",
             "| method | accuracy | macro-F1 | NLL | ECE |", "|---|---|---|---|---|"]
    fmt = lambda scores, key: f"{scores[key]:.4f}" if key in scores else "n/a"  # noqa: E731
    lines += [f"| {name} | {fmt(s, 'accuracy')} | {fmt(s, 'macro_f1')} | {fmt(s, 'nll')} | {fmt(s, 'ece')} |" for name, s in rows.items()]
    lines += ["", verdict(metrics), "", "## Confusion matrix (rows: true, columns: predicted)", "", "| | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
    lines += [f"| {classes[i]} | " + " | ".join(map(str, row)) + " |" for i, row in enumerate(metrics["confusion_matrix"])]
    return "\n".join(lines) + "\n"


def main() -> None:
    params = load_params()
    cfg, seed = params["evaluate"], params["seed"]
    with tracking.stage_run("evaluate"):
        device = runtime.configure(params["runtime"], seed)
        data = load_prepared()
        meta, n_classes = data.meta, len(data.classes)
        train, test = data.split("target", "train"), data.split("target", "test")
        finetuned = checkpoints.load_finetuned(params, meta)
        pretrained = checkpoints.load_model(checkpoints.PRETRAINED, params["model"], meta, len(data.source_classes))
        predictions = {
            "finetuned": baselines.torch_model(finetuned, test, device),
            # The source model predicts target classes only when both domains have the same ones; else "n/a".
            **({"source_only": baselines.torch_model(pretrained, test, device)} if data.source_classes == data.classes else {}),
        }
        labelled = len(train.labels) > 0  # shots_per_class 0: unsupervised adaptation, nothing for these to train on
        if labelled:
            scratch = train_from_scratch(params["model"], meta["input_shape"], n_classes, meta["pixel_max"],
                                         {**params["finetune"], "epochs": cfg["scratch_epochs"]}, data.transfer_data(), device, seed)
            predictions |= {
                "scratch": baselines.torch_model(scratch, test, device),
                "logreg_pixels": baselines.logistic_regression_pixels(train, test, meta["pixel_max"]),
                "rbf_svm_pixels": baselines.rbf_svm_pixels(train, test, meta["pixel_max"]),
                "linear_probe": baselines.linear_probe(pretrained, train, test),
            }
        labels = test.labels.numpy()
        scores = {name: classification_metrics(labels, pred, probs, n_classes, cfg["ece_bins"]) for name, (pred, probs) in predictions.items()}
        for name in ("source_only", *NON_TRANSFER, "linear_probe"):
            scores.setdefault(name, {})
        best_non_transfer = max(NON_TRANSFER, key=lambda name: scores[name]["accuracy"]) if labelled else None
        predicted = predictions["finetuned"][0]
        finetuned_scores = scores.pop("finetuned")
        metrics = {
            "finetuned": finetuned_scores,
            "baselines": scores,
            "best_non_transfer": best_non_transfer,
            "transfer_gain": finetuned_scores["accuracy"] - scores[best_non_transfer]["accuracy"] if labelled else None,
            "test_samples": len(labels),
            "train_samples": len(train.labels),
            "confusion_matrix": confusion(labels, predicted, n_classes),
        }

        classes = np.array(data.classes)
        write_atomic(CONFUSION_PLOT, lambda tmp: pd.DataFrame({"actual": classes[labels], "predicted": classes[predicted]}).to_csv(tmp, index=False))
        shown = test.images[: cfg["attention_examples"]]
        with torch.no_grad():
            _, weights = finetuned.cpu().features_and_attention(shown)
        if weights is None:  # mean pooling weighs every token alike: draw exactly that
            n_tokens = math.prod(finetuned.backbone.grid)
            weights = torch.full((len(shown), n_tokens), 1.0 / n_tokens)
        titles = [f"true {classes[t]} / pred {classes[p]}" for t, p in zip(labels[: len(shown)], predicted[: len(shown)])]
        plot = attention_maps if shown.dim() == 4 else series_attention
        plot(shown.numpy(), weights.numpy(), finetuned.backbone.grid, titles, ATTENTION_PNG)
        write_atomic(REPORT, lambda tmp: tmp.write_text(report_markdown(metrics, list(classes))))
        tracking.record_metrics("evaluate", metrics)
        tracking.log_artifacts(REPORT, CONFUSION_PLOT, ATTENTION_PNG)


if __name__ == "__main__":
    main()
