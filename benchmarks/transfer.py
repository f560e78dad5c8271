"""The k-shot transfer benchmark: every method on the same fixed target test set, K labels per class.

    python benchmarks/transfer.py                 # K in {0,1,5,20,all} x 3 seeds x the baselines and the defaults
    python benchmarks/transfer.py --methods all   # ... x every head and strategy
    python benchmarks/transfer.py --quick         # a tiny run for tests (small source, few epochs)
    python benchmarks/transfer.py --methods lp-ft full --shots 1 5 --seeds 0 1 2

One pretrained backbone per seed (from params.yaml's prepare/model/pretrain sections) serves every method
and K of that seed. Writes reports/benchmark/transfer.{json,md,png} and logs them to MLflow.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline import baselines, runtime  # noqa: E402
from pipeline.data import recipes  # noqa: E402
from pipeline.data.splits import source_splits, target_splits  # noqa: E402
from pipeline.finetuning import NO_EXTRAS, TransferData, finetune, from_pretrained, train_from_scratch  # noqa: E402
from pipeline.metrics import classification_metrics  # noqa: E402
from pipeline.models import build_model  # noqa: E402
from pipeline.params import load_params  # noqa: E402
from pipeline.pretraining import pretrain  # noqa: E402
from pipeline.training import Split  # noqa: E402

SHOTS = ["0", "1", "5", "20", "all"]
INPUT_SHAPE, N_CLASSES, PIXEL_MAX = [1, 8, 8], 10, float(recipes.OPTDIGITS_MAX)

# Fine-tuning methods as overrides of params.yaml's finetune section. Each named method switches off the
# extras it does not name, so it measures one idea; "default" is params.yaml as it is. Methods whose name
# starts with "uda" use no target labels and run at K=0 only; every other one needs K > 0.
PLAIN = NO_EXTRAS | {"head": "same"}
METHODS = {
    "default (params.yaml)": {},
    "probe (pretrained attention head)": PLAIN | {"strategy": "head"},
    "probe (new attention head)": PLAIN | {"strategy": "head", "head": "attention"},
    "probe (new additive head)": PLAIN | {"strategy": "head", "head": "additive"},
    "probe (new gated head)": PLAIN | {"strategy": "head", "head": "gated"},
    "probe (new mean head)": PLAIN | {"strategy": "head", "head": "mean"},
    "lp-ft": PLAIN | {"strategy": "lp-ft"},
    "partial": PLAIN | {"strategy": "partial"},
    "full": PLAIN | {"strategy": "full"},
    "full + L2-SP": PLAIN | {"strategy": "full", "l2sp": 0.01},
    "full + joint source": PLAIN | {"strategy": "full", "joint_alpha": 0.5},
    "full + DANN": PLAIN | {"strategy": "full", "adaptation": "dann"},
    "full + CORAL": PLAIN | {"strategy": "full", "adaptation": "coral"},
    "full + self-training": PLAIN | {"strategy": "full", "self_training": 1.0},
    "full + information max": PLAIN | {"strategy": "full", "information_max": 1.0},
    "uda: DANN": PLAIN | {"strategy": "full", "adaptation": "dann"},
    "uda: CORAL": PLAIN | {"strategy": "full", "adaptation": "coral"},
    "uda: self-training": PLAIN | {"strategy": "full", "self_training": 1.0},
    "uda: self-training + DANN": PLAIN | {"strategy": "full", "self_training": 1.0, "adaptation": "dann"},
    "uda: self-training, class-balanced": PLAIN | {"strategy": "full", "self_training": 1.0, "pseudo_class_balanced": True},
    "uda: information max": PLAIN | {"strategy": "full", "information_max": 1.0},
    "uda: self-training + information max": PLAIN | {"strategy": "full", "self_training": 1.0, "information_max": 1.0},
    "uda: default (params.yaml)": {},
}
BASELINES = ["source-only", "scratch", "logreg (pixels)", "rbf-svm (pixels)", "linear probe"]
# What `make benchmark` runs: the baselines against the defaults, with and without target labels.
# `--methods all` adds every head and strategy above.
DEFAULT_METHODS = BASELINES + ["uda: default (params.yaml)", "default (params.yaml)"]
QUICK = {"n_samples": 1500, "pretrain_epochs": 2, "finetune_epochs": 4, "head_epochs": 2, "dim": 32, "max_grid": 4}


def score(labels: np.ndarray, prediction: baselines.Prediction) -> dict:
    return classification_metrics(labels, prediction[0], prediction[1], N_CLASSES, ece_bins=15)


def as_split(images: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> Split:
    return Split.from_arrays(images[mask], labels[mask])


def source_data(params: dict, seed: int) -> tuple[Split, Split]:
    """The seed's rendered source, train and val: rendering is cheap, so each process redraws it."""
    source_cfg = params["prepare"]["source"]
    source = recipes.font_digits(source_cfg["n_samples"], seed, source_cfg["jitter"])
    split = source_splits(len(source.ids), source_cfg["val_fraction"], seed)
    return as_split(source.images, source.labels, split == "train"), as_split(source.images, source.labels, split == "val")


def pretrained_path(params: dict, seed: int, cache: Path) -> Path:
    """Pretrain the seed's backbone once into `cache`, keyed by the params that shape it, and reuse it after."""
    key = hashlib.sha256(json.dumps([params["prepare"]["source"], params["model"], params["pretrain"], seed], sort_keys=True).encode()).hexdigest()[:12]
    path = cache / f"pretrained-{key}.pt"
    if not path.exists():
        device = runtime.configure(params["runtime"], seed)
        model, _ = pretrain(params["model"], params["pretrain"], INPUT_SHAPE, N_CLASSES, PIXEL_MAX, *source_data(params, seed), device, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        torch.save(model.state_dict(), partial)
        partial.replace(path)
    return path


def target_data(params: dict, k: str, seed: int, source_train: Split) -> tuple[TransferData, Split]:
    """The seed's K-shot draw from the digits (labelled train and val, the rest of the pool unlabelled) and the fixed test set."""
    t, target = params["prepare"]["target"], recipes.sklearn_digits()
    split = target_splits(target.labels, test_fraction=t["test_fraction"], split_seed=t["split_seed"],
                          shots_per_class="all" if k == "all" else int(k), val_per_class=t["val_per_class"], seed=seed)
    unlabelled = torch.from_numpy(target.images[split == "unlabelled"].astype(np.float32))
    data = TransferData(source_train, as_split(target.images, target.labels, split == "train") if k != "0" else None,
                        as_split(target.images, target.labels, split == "val"), unlabelled)
    return data, as_split(target.images, target.labels, split == "test")


def run_shots(seed: int, k: str, params: dict, methods: list[str], transfer: dict, state_path: Path) -> list[dict]:
    """Every method at one K for one seed, all starting from that seed's pretrained backbone."""
    device = runtime.configure(params["runtime"], seed)
    ft = params["finetune"]
    state = torch.load(state_path, weights_only=True)
    pretrained = build_model(params["model"], INPUT_SHAPE, N_CLASSES, PIXEL_MAX)
    pretrained.load_state_dict(state)
    records = []
    data, test = target_data(params, k, seed, source_data(params, seed)[0])
    has_labels = k != "0"
    runners: dict[str, Callable[[], baselines.Prediction]] = {"source-only": lambda: baselines.torch_model(pretrained, test, device)}
    if has_labels:
        runners |= {
            "scratch": lambda: baselines.torch_model(train_from_scratch(params["model"], INPUT_SHAPE, N_CLASSES, PIXEL_MAX, ft, data, device, seed), test, device),
            "logreg (pixels)": lambda: baselines.logistic_regression_pixels(data.target_train, test, PIXEL_MAX),
            "rbf-svm (pixels)": lambda: baselines.rbf_svm_pixels(data.target_train, test, PIXEL_MAX),
            "linear probe": lambda: baselines.linear_probe(pretrained, data.target_train, test),
        }
    for name, overrides in transfer.items():
        if name.startswith("uda") == has_labels:
            continue
        def run(overrides=overrides):
            model = from_pretrained(state, params["model"], INPUT_SHAPE, N_CLASSES, PIXEL_MAX, {**ft, **overrides}, same_classes=True)
            finetune(model, {**ft, **overrides}, data, device, seed)
            return baselines.torch_model(model, test, device)
        runners[name] = run
    for name, runner in runners.items():
        if name not in methods:
            continue
        start = time.perf_counter()
        scores = score(test.labels.numpy(), runner())
        records.append({"method": name, "shots_per_class": k if k == "all" else int(k), "seed": seed,
                        "accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"], "seconds": time.perf_counter() - start})
        print(f"seed {seed} K={k:>3} {name:<36} acc {scores['accuracy']:.3f} ({records[-1]['seconds']:.1f}s)", flush=True)
    return records


def run_all(params: dict, seeds: list[int], shots: list[str], methods: list[str], transfer: dict, cache: Path, workers: int) -> list[dict]:
    """Pretrain every seed, and as each backbone is ready queue its (seed, K) jobs, longest K first: the
    workers stay busy until the end instead of idling while the last seed runs alone."""
    longest_first = sorted(shots, key=lambda k: -(10_000 if k == "all" else 1_000 if k == "0" else int(k)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pretraining = {pool.submit(pretrained_path, params, seed, cache): seed for seed in seeds}
        jobs = [pool.submit(run_shots, pretraining[done], k, params, methods, transfer, done.result())
                for done in as_completed(pretraining) for k in longest_first]
        records = [record for job in jobs for record in job.result()]
    return sorted(records, key=lambda r: (r["seed"], SHOTS.index(str(r["shots_per_class"]))))


def summary_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std accuracy (in %) per method and K, methods in the order they were run."""
    cell = lambda acc: f"{100 * acc.mean():.1f} ± {100 * acc.std(ddof=0):.1f}"  # noqa: E731
    table = frame.assign(K=frame["shots_per_class"].astype(str)).pivot_table(index="method", columns="K", values="accuracy", aggfunc=cell, sort=False)
    return table.reindex(columns=[k for k in SHOTS if k in table.columns]).fillna("")


def plot(frame: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = frame.assign(K=frame["shots_per_class"].astype(str))
    order = [k for k in SHOTS if k in set(frame["K"])]
    fig, ax = plt.subplots(figsize=(9, 6))
    for method, rows in frame.groupby("method", sort=False):
        stats = rows.groupby("K")["accuracy"].agg(["mean", "std"]).reindex(order).dropna(subset=["mean"])
        xs = [order.index(k) for k in stats.index]
        dashed = "--" if method in BASELINES else "-"
        ax.errorbar(xs, 100 * stats["mean"], yerr=100 * stats["std"].fillna(0), label=method, linestyle=dashed, marker="o", capsize=3)
    ax.set_xticks(range(len(order)), order)
    ax.set_xlabel("labelled target images per class (K)")
    ax.set_ylabel("target test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_reports(records: list[dict], out: Path, seconds: float) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "transfer.json").write_text(json.dumps(records, indent=2) + "\n")
    frame = pd.DataFrame(records)
    table = summary_table(frame)
    seeds = sorted(int(s) for s in frame["seed"].unique())
    lines = [f"# k-shot transfer benchmark", "", f"Target test accuracy (%), mean ± std over seeds {seeds}; same fixed 899-image test set for every cell; "
             f"{seconds / 60:.1f} min in all.", "", table.to_markdown(), ""]
    (out / "transfer.md").write_text("\n".join(lines))
    plot(frame, out / "transfer.png")
    return out / "transfer.md"


def log_to_mlflow(out: Path, records: list[dict], args: argparse.Namespace) -> None:
    import mlflow

    from pipeline import lineage, tracking

    tracking.configure()
    with mlflow.start_run(run_name="benchmark: k-shot transfer", tags={"headstart.stage": "benchmark", **lineage.run_context()}):
        mlflow.log_params({"quick": args.quick, "seeds": " ".join(map(str, args.seeds)), "shots": " ".join(args.shots)})
        frame = pd.DataFrame(records)
        means = frame.groupby(["method", "shots_per_class"])["accuracy"].mean()
        mlflow.log_metrics({f"acc.K{k}.{''.join(c if c.isalnum() else '_' for c in m)}": v for (m, k), v in means.items()})
        mlflow.log_artifacts(str(out), artifact_path="benchmark")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny source, few epochs, seeds 0 1, K in {0, 5}: for tests")
    parser.add_argument("--seeds", type=int, nargs="+", help="default: 0 1 2 (quick: 0 1)")
    parser.add_argument("--shots", nargs="+", choices=SHOTS, help="labels per class, 0 = unsupervised adaptation; default: all five (quick: 0 5)")
    parser.add_argument("--methods", nargs="+", default=DEFAULT_METHODS,
                        help=f"'all', or any of {BASELINES + list(METHODS)}; default: {DEFAULT_METHODS}")
    parser.add_argument("--workers", type=int, default=2, help="processes pretraining seeds, then running (seed, K) jobs, one torch thread each")
    parser.add_argument("--out", type=Path, default=Path("reports/benchmark"))
    parser.add_argument("--no-mlflow", action="store_true", help="do not log the reports to MLflow")
    parser.add_argument("--method", action="append", default=[], metavar="NAME=JSON",
                        help='an extra method as finetune overrides, e.g. \'mine={"strategy": "full", "lr": 0.001}\' (a name starting with "uda" runs at K=0 only)')
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file (default: the repo's)")
    parser.add_argument("--cache", type=Path, help="directory to keep pretrained weights in, keyed by their params and seed")
    args = parser.parse_args()
    params = load_params(args.params)
    params["runtime"]["threads"] = 1
    args.seeds = args.seeds or ([0, 1] if args.quick else [0, 1, 2])
    args.shots = args.shots or (["0", "5"] if args.quick else SHOTS)
    if args.quick:
        params["prepare"]["source"]["n_samples"] = QUICK["n_samples"]
        params["pretrain"]["epochs"] = QUICK["pretrain_epochs"]
        params["finetune"] |= {"epochs": QUICK["finetune_epochs"], "head_epochs": QUICK["head_epochs"]}
        params["model"] |= {"dim": QUICK["dim"], "max_grid": QUICK["max_grid"]}
    transfer = METHODS | {name: json.loads(overrides) for name, overrides in (m.split("=", 1) for m in args.method)}
    methods = (BASELINES + list(METHODS) if args.methods == ["all"] else args.methods) + [m.split("=", 1)[0] for m in args.method]
    if unknown := [m for m in methods if m not in BASELINES and m not in transfer]:
        parser.error(f"unknown method(s) {unknown}; choose from {BASELINES + list(transfer)} or add one with --method NAME=JSON")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        records = run_all(params, args.seeds, args.shots, methods, transfer, args.cache or Path(scratch), args.workers)
    report = write_reports(records, args.out, time.perf_counter() - start)
    print(report.read_text())
    if not args.no_mlflow:
        log_to_mlflow(args.out, records, args)


if __name__ == "__main__":
    main()
