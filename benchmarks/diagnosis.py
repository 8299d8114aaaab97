"""First-step accuracy and false alarms of the diagnosis on planted and null data.

Planted: every builder of ``tests/scenarios.py`` (a real scikit-learn model with one
known defect) at several seeds; a hit is a first next step whose problem is the planted
kind. Null: a logistic regression on one distribution (make_classification), analysed
with its own train error as the goal, so that nothing is wrong with it; every finding
raised there at severity high or medium counts as a false alarm of its kind.

    python benchmarks/diagnosis.py --seeds 3
"""

from __future__ import annotations

import argparse
import collections
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import numpy as np  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import erranalysis  # noqa: E402
import scenarios  # noqa: E402


def null_frame(seed: int, n_per_split: int = 3000):
    X, y = make_classification(n_samples=4 * n_per_split, n_features=10, n_informative=6, n_classes=3,
                               n_clusters_per_class=1, class_sep=1.2, random_state=seed)
    split = scenarios.equal_splits(n_per_split)
    model = scenarios.fit_on_train(LogisticRegression(max_iter=1000), X, y, split)
    frame = scenarios.proba_frame(model, X, y, split)
    rng = np.random.default_rng(seed)
    frame["region"] = rng.choice(["north", "south", "east", "west"], len(frame))  # metadata with no effect
    frame["age"] = rng.uniform(18, 80, len(frame))
    train = frame[frame.split == "train"]
    wrong = train[[c for c in frame.columns if c.startswith("proba_")]].to_numpy().argmax(1) != train.label
    return frame, float(wrong.mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"erranalysis from {Path(erranalysis.__file__).parent}")
    hits, total = collections.Counter(), collections.Counter()
    for name, expected in scenarios.EXPECTED_FIRST.items():
        for seed in range(args.seeds):
            case = getattr(scenarios, name)(seed=seed)
            result = erranalysis.analyze(case.frame, goal=case.goal)
            first = result.next_steps[0].problem if result.next_steps else None
            total[expected] += 1
            hits[expected] += first == expected
    alarms, runs = collections.Counter(), 0
    for seed in range(args.seeds * 2):
        frame, goal = null_frame(seed)
        result = erranalysis.analyze(frame, goal=goal)
        runs += 1
        for kind in {f.kind for f in result.findings if f.severity in ("high", "medium")}:
            alarms[kind] += 1
    print("first step right, per planted kind:")
    for kind in total:
        print(f"  {kind:20s} {hits[kind]}/{total[kind]}")
    print(f"  {'all':20s} {sum(hits.values())}/{sum(total.values())}")
    print(f"false alarms on {runs} null runs (runs raising the kind at high or medium):")
    for kind, count in sorted(alarms.items()):
        print(f"  {kind:20s} {count}/{runs}")
    if not alarms:
        print("  none")


if __name__ == "__main__":
    main()
