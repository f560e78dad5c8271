"""Promote the `challenger` to `champion` if it is better on the same target test set.

    python -m pipeline.promote [--model NAME] [--metric KEY] [--margin X]

Defaults come from the `registry` section of params.yaml. The first version to be compared becomes
champion; afterwards `champion` moves only if challenger > champion + margin on the metric (a
key of metrics/evaluate.json, higher is better), and only if both versions were scored on the same
test set (the `test_set.sha256` version tag); otherwise the comparison is refused.
Exit status: 0 promoted or kept, 1 refused.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from pipeline import registry, tracking
from pipeline.params import load_params


@dataclass(frozen=True)
class Decision:
    outcome: str  # "promoted" | "kept" | "refused"
    reason: str
    challenger: int | None = None
    champion: int | None = None  # the champion after the decision

    def __str__(self) -> str:
        return f"{self.outcome}: {self.reason}"


def _score(version, metric: str) -> float | None:
    value = version.tags.get(f"{registry.METRIC_TAG_PREFIX}{metric}")
    return float(value) if value is not None else None


def promote(model_name: str, metric: str, margin: float) -> Decision:
    """Compare `challenger` with `champion` and move `champion` if the rule says so."""
    tracking.configure()
    challenger = registry.version_by_alias(model_name, registry.CHALLENGER)
    if challenger is None:
        return Decision("refused", f"model {model_name!r} has no {registry.CHALLENGER!r} version: run the pipeline's export stage first")
    new = int(challenger.version)
    champion = registry.version_by_alias(model_name, registry.CHAMPION)
    if champion is None:
        registry.move_alias(model_name, registry.CHAMPION, new)
        return Decision("promoted", f"there was no champion; version {new} becomes the first", new, new)
    current = int(champion.version)
    if current == new:
        return Decision("kept", f"version {new} is already both challenger and champion", new, current)
    if challenger.tags.get(registry.TEST_SET_TAG) != champion.tags.get(registry.TEST_SET_TAG):
        return Decision("refused", f"versions {new} and {current} were scored on different test sets "
                                   f"({registry.TEST_SET_TAG} differs): their {metric} is not comparable", new, current)
    ours, theirs = _score(challenger, metric), _score(champion, metric)
    if ours is None or theirs is None:
        return Decision("refused", f"{metric!r} is missing from the tags of version {new if ours is None else current}", new, current)
    comparison = f"challenger v{new} {metric}={ours:.4f} vs champion v{current} {metric}={theirs:.4f}, margin {margin}"
    if ours > theirs + margin:
        registry.move_alias(model_name, registry.CHAMPION, new)
        return Decision("promoted", f"{comparison}: the challenger is better by more than the margin", new, new)
    return Decision("kept", f"{comparison}: the challenger is not better by more than the margin", new, current)


def main(argv: list[str] | None = None) -> int:
    defaults = load_params()["registry"]
    parser = argparse.ArgumentParser(prog="python -m pipeline.promote", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=defaults["model_name"], help="registered model name (default: %(default)s)")
    parser.add_argument("--metric", default=defaults["metric"], help="metrics/evaluate.json key to compare, higher is better (default: %(default)s)")
    parser.add_argument("--margin", type=float, default=defaults["margin"], help="how much better the challenger must be (default: %(default)s)")
    args = parser.parse_args(argv)
    decision = promote(args.model, args.metric, args.margin)
    print(f"{args.model}: {decision}")
    return 1 if decision.outcome == "refused" else 0


if __name__ == "__main__":
    sys.exit(main())
