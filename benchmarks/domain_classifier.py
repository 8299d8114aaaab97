"""The feature-shift check's domain classifier against scikit-learn's, on planted data.

Each table holds ``--rows`` train rows and as many val/test rows with five metadata
features (three normal, one integer, one 5-value category) and one known difference
between the two groups, or none. Per scenario and over ``--seeds`` tables: the two-fold
cross-fitted ROC AUC of erranalysis's classifier (``erranalysis.stats.boosting``) and of
scikit-learn's ``HistGradientBoostingClassifier(max_iter=60, max_depth=4)`` with
``cross_val_predict(cv=2)``, as the analysis used it (early stopping "auto": on when a
fold has more than 10,000 rows, as erranalysis's) and without early stopping (the same
trees as erranalysis's on folds up to 10,000 rows); the mean and 95th percentile of each AUC, how often its 95%
Hanley–McNeil interval excludes 0.5, the mean and largest |AUC difference|, and the
median time of one cross-fitted pair of fits (imports excluded; the fits alternate, so
a busy machine slows each about as much).

    python benchmarks/domain_classifier.py --seeds 30 --rows 20000
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from erranalysis.stats.boosting import domain_auc

CATEGORIES = np.array([0.3, 0.25, 0.2, 0.15, 0.1])


def table(scenario: str, seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` rows of each group (0: train, 1: val/test) with the scenario's difference."""
    rng = np.random.default_rng(seed)
    domain = np.repeat([0.0, 1.0], n)
    later = domain == 1
    x1, x2, x3 = rng.normal(size=(3, 2 * n))
    age = rng.integers(18, 80, 2 * n).astype(float)
    site = rng.choice(5, 2 * n, p=CATEGORIES).astype(float)
    if scenario.startswith("mean shift"):
        x1 += float(scenario.split()[-2]) * domain
    elif scenario == "category frequencies":
        site[later] = rng.choice(5, n, p=[0.25, 0.25, 0.2, 0.15, 0.15])
    elif scenario == "interaction only":
        # Equal marginals (standard normal), correlation 0 in train and 0.3 in val/test.
        x2[later] = 0.3 * x1[later] + math.sqrt(1 - 0.09) * x2[later]
    elif scenario == "mix with missing values":
        x1 += 0.1 * domain
        x2[rng.random(2 * n) < np.where(later, 0.13, 0.10)] = np.nan  # missing more often later
        x3[rng.random(2 * n) < 0.3] = np.nan  # missing as often in both
    X = np.column_stack([x1, x2, x3, age, site])
    return X, domain, np.array([False, False, False, False, True])


def sklearn_auc(X: np.ndarray, domain: np.ndarray, categorical: np.ndarray, early_stopping) -> float:
    model = HistGradientBoostingClassifier(max_iter=60, max_depth=4, categorical_features=categorical,
                                           early_stopping=early_stopping, random_state=0)
    return float(roc_auc_score(domain, cross_val_predict(model, X, domain, cv=2, method="predict_proba")[:, 1]))


def excludes_half(auc: float, n: int) -> bool:
    """Whether the 95% Hanley–McNeil interval of ``auc`` (n rows per group) leaves out
    0.5, as the analysis computes it."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt(max((auc * (1 - auc) + (n - 1) * (q1 - auc * auc) + (n - 1) * (q2 - auc * auc)) / (n * n), 0.0))
    return abs(auc - 0.5) > 1.959964 * se


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--rows", type=int, default=20000, help="rows per group (the analysis samples up to 20,000)")
    parser.add_argument("--scenarios", default="null,mean shift 0.05 sd,mean shift 0.1 sd,mean shift 0.2 sd,"
                        "category frequencies,interaction only,mix with missing values")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    fits = {"ours": lambda X, d, c: domain_auc(X, d, c),
            "sklearn": lambda X, d, c: sklearn_auc(X, d, c, "auto"),
            "sklearn no ES": lambda X, d, c: sklearn_auc(X, d, c, False)}
    print(f"{args.seeds} seeds, {args.rows} rows per group; AUC mean / 95th percentile / share of "
          "intervals excluding 0.5; |ours - sklearn|: mean / largest; median seconds per cross-fitted pair")
    for scenario in args.scenarios.split(","):
        auc: dict[str, list[float]] = {name: [] for name in fits}
        took: dict[str, list[float]] = {name: [] for name in fits}
        for seed in range(args.seeds):
            X, domain, categorical = table(scenario, seed, args.rows)
            names = list(fits) if seed % 2 == 0 else list(fits)[::-1]  # alternate who goes first
            for name in names:
                start = time.perf_counter()
                auc[name].append(fits[name](X, domain, categorical))
                took[name].append(time.perf_counter() - start)
        print(f"\n{scenario}")
        for name in fits:
            a = np.array(auc[name])
            shown = sum(excludes_half(x, args.rows) for x in a) / a.size
            line = (f"  {name:14s} AUC {a.mean():.4f} / {np.percentile(a, 95):.4f} / {shown:4.0%}"
                    f"   {statistics.median(took[name]):.3f} s")
            if name != "ours":
                diff = np.abs(np.array(auc["ours"]) - a)
                line += f"   |ours - {name}| {diff.mean():.5f} / {diff.max():.5f}"
            print(line)


if __name__ == "__main__":
    main()
