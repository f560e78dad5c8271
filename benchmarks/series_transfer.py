"""Time-series transfer on UCR, next to Ismail Fawaz et al. 2018 (FCN, accuracy on the ArrowHead test set).

    python benchmarks/series_transfer.py                # every source x strategy, scratch, K in {all, 3}, 3 seeds
    python benchmarks/series_transfer.py --quick        # a tiny run for tests
    python benchmarks/series_transfer.py --sources GunPoint --strategies full --shots all --seeds 0 1 2 \\
        --set model.dim=64 finetune.epochs=100
    python benchmarks/series_transfer.py --set prepare.series.val_per_class=2   # select on a val slice instead of the last weights
    python benchmarks/series_transfer.py --merge a/series.json b/series.json   # one table from runs made in parallel
    python benchmarks/series_transfer.py --ensemble 5   # each seed's row: the mean prediction of 5 models (members 5s .. 5s+4)

Settings come from params.yaml (model/pretrain/finetune, prepare.series for the length rule) with `--set`
overrides; the target's own test file is the test set for every row. Writes reports/benchmark/series.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline import baselines, runtime  # noqa: E402
from pipeline.data.prepared import Prepared  # noqa: E402
from pipeline.data.tables import write_json, write_table  # noqa: E402
from pipeline.finetuning import finetune, from_pretrained, train_from_scratch  # noqa: E402
from pipeline.params import load_params  # noqa: E402
from pipeline.pretraining import pretrain  # noqa: E402
from pipeline.series.prepare_series import series_tables  # noqa: E402
from pipeline.training import Split  # noqa: E402

TARGET = "ArrowHead"
SOURCES = ["ItalyPowerDemand", "GunPoint", "OSULeaf"]
STRATEGIES = ["head", "lp-ft", "partial", "full"]
# Fawaz et al. 2018, FCN, ArrowHead test accuracy (full train set).
PUBLISHED = {"scratch": 0.823, "ItalyPowerDemand": 0.891, "GunPoint": 0.880, "OSULeaf": 0.817}
QUICK = {"model.dim": 32, "model.depth": 1, "model.heads": 2, "pretrain.epochs": 2, "finetune.epochs": 4, "finetune.head_epochs": 2}
OUT = Path("reports/benchmark")


def with_overrides(params: dict, overrides: dict[str, object]) -> dict:
    params = json.loads(json.dumps(params))
    for key, value in overrides.items():
        *path, last = key.split(".")
        section = params
        for name in path:
            section = section[name]
        section[last] = value
    return params


def prepared_in_memory(tables: dict[str, pd.DataFrame], meta: dict) -> Prepared:
    """The stage's reader over tables written to a scratch directory, read back at once so it can go."""
    with tempfile.TemporaryDirectory() as directory:
        for name, frame in tables.items():
            write_table(frame, Path(directory) / f"{name}.parquet")
        write_json(meta, Path(directory) / "meta.json")
        data = Prepared(Path(directory))
        data.source, data.target  # noqa: B018 - cached on first read
    return data


def monitored(val: Split, size: int = 128) -> Split:
    """Pretraining keeps its last weights and only reports the source val score each epoch: a fixed
    subset is enough for that, and scoring all of e.g. ItalyPowerDemand's 1,029 test series would cost more than training."""
    every = max(1, len(val.labels) // size)  # spread over the file: UCR files are often sorted by class
    return Split(val.images[::every][:size], val.labels[::every][:size])


def scored(model, test: Split, device, start: float, row: dict) -> dict:
    """`row` with the model's test accuracy, its test probabilities (for `ensembled`) and the seconds since
    `start`; printed as it comes."""
    predicted, probabilities = baselines.torch_model(model, test, device)
    accuracy = float((predicted == test.labels.numpy()).mean())
    row = {**row, "accuracy": accuracy, "seconds": time.perf_counter() - start, "probabilities": probabilities, "labels": test.labels.numpy()}
    print(f"K={row['shots_per_class']:>3} seed {row['seed']} {row['source']:<17} {row['method']:<8} acc {accuracy:.3f} ({row['seconds']:.0f}s)", flush=True)
    return row


def target_split(params: dict, source: str, shots: str, seed: int) -> Prepared:
    series = {**params["prepare"]["series"], "source": source, "target": TARGET, "shots_per_class": shots if shots == "all" else int(shots)}
    return prepared_in_memory(*series_tables({**params, "seed": seed, "prepare": {**params["prepare"], "series": series}}))


def run(params: dict, source: str, seed: int, shots_list: list[str], strategies: list[str], with_scratch: bool) -> list[dict]:
    """One source, one seed: pretrain once (the source does not depend on K), then for each K every strategy
    (and scratch, which needs no source) on the same target split."""
    device = runtime.configure(params["runtime"], seed)
    model_params, cfg, records = params["model"], params["finetune"], []
    transfers, pretrained = [s for s in strategies if s != "scratch"], None
    for shots in shots_list:
        data = target_split(params, source, shots, seed)
        meta, n_classes, test = data.meta, len(data.classes), data.split("target", "test")
        transfer = data.transfer_data()
        row = {"shots_per_class": shots, "seed": seed}
        if with_scratch:
            start = time.perf_counter()
            model = train_from_scratch(model_params, meta["input_shape"], n_classes, 1.0, cfg, transfer, device, seed)
            records.append(scored(model, test, device, start, {"source": "-", "method": "scratch", **row}))
        if transfers and pretrained is None:
            start = time.perf_counter()
            pretrained, _ = pretrain(model_params, params["pretrain"], meta["input_shape"], len(data.source_classes), 1.0,
                                     data.split("source", "train"), monitored(data.split("source", "val")), device, seed)
            print(f"seed {seed} pretrained on {source} ({time.perf_counter() - start:.0f}s)", flush=True)
        for strategy in transfers:
            start = time.perf_counter()
            model = from_pretrained(pretrained.state_dict(), model_params, meta["input_shape"], n_classes, 1.0, {**cfg, "strategy": strategy}, same_classes=False)
            finetune(model, {**cfg, "strategy": strategy}, transfer, device, seed)
            records.append(scored(model, test, device, start, {"source": source, "method": strategy, **row}))
    return records


def ensembled(records: list[dict], size: int) -> list[dict]:
    """One record per (source, method, K, seed) from the records of its members, seeds size * seed ..
    size * seed + size - 1: scored on the mean of their test probabilities (a deep ensemble, as
    InceptionTime's five), timed as their sum."""
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        groups.setdefault((record["source"], record["method"], record["shots_per_class"], record["seed"] // size), []).append(record)
    rows = []
    for (source, method, shots, seed), members in groups.items():
        probabilities = np.mean([member["probabilities"] for member in members], axis=0)
        accuracy = float((probabilities.argmax(1) == members[0]["labels"]).mean())
        rows.append({"source": source, "method": method, "shots_per_class": shots, "seed": seed, "accuracy": accuracy,
                     "seconds": sum(member["seconds"] for member in members), "members": [member["accuracy"] for member in members]})
        print(f"K={shots:>3} seed {seed} {source:<17} {method:<8} ensemble of {len(members)}: acc {accuracy:.3f}", flush=True)
    return rows


def summary(frame: pd.DataFrame) -> str:
    cell = lambda acc: f"{100 * acc.mean():.1f} ± {100 * acc.std(ddof=0):.1f} (n={len(acc)})"  # noqa: E731
    table = frame.pivot_table(index=["source", "method"], columns="shots_per_class", values="accuracy", aggfunc=cell, sort=False).fillna("")
    published = [f"{100 * PUBLISHED['scratch' if s == '-' else s]:.1f}" for s, _ in table.index]
    table.insert(0, "Fawaz et al. 2018 (FCN, K=all)", published)
    return table.reset_index().to_markdown(index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny model, a few epochs, one seed and source")
    parser.add_argument("--sources", nargs="+", default=SOURCES)
    parser.add_argument("--strategies", nargs="+", default=["scratch", *STRATEGIES])
    parser.add_argument("--shots", nargs="+", default=["all", "3"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--ensemble", type=int, default=1, metavar="N", help="score each seed's row on the mean prediction of N models "
                        "trained with seeds N*seed .. N*seed+N-1 (each pretrained on its own)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="params overrides, e.g. finetune.epochs=100")
    parser.add_argument("--merge", nargs="+", type=Path, help="render one table from series.json files of runs with the same --set")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.set)}
    if args.quick:
        overrides, args.sources, args.seeds, args.strategies = {**QUICK, **overrides}, args.sources[:1], args.seeds[:1], ["scratch", "lp-ft"]
    if args.merge:
        runs = [json.loads(path.read_text()) for path in args.merge]
        if any((r["overrides"], r.get("ensemble", 1)) != (runs[0]["overrides"], runs[0].get("ensemble", 1)) for r in runs):
            sys.exit("--merge: the runs used different --set overrides or --ensemble sizes; their rows are not comparable")
        overrides, args.ensemble, records = runs[0]["overrides"], runs[0].get("ensemble", 1), [record for r in runs for record in r["records"]]
    else:
        params = with_overrides(load_params(), overrides)
        seeds = [args.ensemble * seed + member for seed in args.seeds for member in range(args.ensemble)]
        # Scratch does not depend on the source: once per K and seed, with the first source.
        records = [r for source in args.sources for seed in seeds
                   for r in run(params, source, seed, args.shots, args.strategies, "scratch" in args.strategies and source == args.sources[0])]
        if args.ensemble > 1:
            records = ensembled(records, args.ensemble)
        records = [{k: v for k, v in r.items() if k not in ("probabilities", "labels")} for r in records]
    frame = pd.DataFrame(records)
    seeds = sorted(frame["seed"].unique().tolist())
    models = f", each seed an ensemble of {args.ensemble} models" if args.ensemble > 1 else ""
    text = (f"# Time-series transfer: UCR source -> {TARGET} (test accuracy %, mean ± std over seeds {seeds}{models})\n\n"
            f"Overrides of params.yaml: {overrides or 'none'}\n\n"
            f"Training time: {frame['seconds'].sum() / 60:.0f} min of fine-tuning (pretraining not counted). "
            f"Written by `python {' '.join(sys.argv)}`\n\n{summary(frame)}\n")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "series.md").write_text(text)
    (args.out / "series.json").write_text(json.dumps({"overrides": overrides, "ensemble": args.ensemble, "records": records}, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
