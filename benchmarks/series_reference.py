"""Classical time-series classifiers on ArrowHead (the whole train file, its own test file): the accuracy
that methods without transfer reach on the data of issue #7, next to the benchmark's table.

aeon's classifiers need numba, which pins numpy below the project's, so this runs in an environment of its own:

    python -m venv /tmp/aeon-env && /tmp/aeon-env/bin/pip install aeon==1.6.0 numba
    /tmp/aeon-env/bin/python benchmarks/series_reference.py --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from aeon.classification.convolution_based import MiniRocketClassifier, MultiRocketClassifier, RocketClassifier
from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier
from aeon.datasets import load_classification

# Randomised classifiers are fitted once per seed; nearest neighbours are deterministic and fitted once.
CLASSIFIERS = {
    "1-NN, Euclidean": (lambda seed: KNeighborsTimeSeriesClassifier(distance="euclidean"), False),
    "1-NN, DTW": (lambda seed: KNeighborsTimeSeriesClassifier(distance="dtw"), False),
    "ROCKET": (lambda seed: RocketClassifier(random_state=seed), True),
    "MiniRocket": (lambda seed: MiniRocketClassifier(random_state=seed), True),
    "MultiRocket": (lambda seed: MultiRocketClassifier(random_state=seed), True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ArrowHead", help="a UCR dataset bundled with aeon")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    train_x, train_y = load_classification(args.dataset, split="train")
    test_x, test_y = load_classification(args.dataset, split="test")
    print(f"| {args.dataset}: {len(train_y)} train / {len(test_y)} test series | accuracy % | per seed | seconds |\n|---|---|---|---|")
    for name, (make, randomised) in CLASSIFIERS.items():
        start = time.perf_counter()
        accuracies = [float((make(seed).fit(train_x, train_y).predict(test_x) == test_y).mean()) for seed in (args.seeds if randomised else args.seeds[:1])]
        print(f"| {name} | {100 * np.mean(accuracies):.1f} ± {100 * np.std(accuracies):.1f} | {' / '.join(f'{100 * a:.1f}' for a in accuracies)} "
              f"| {time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()
