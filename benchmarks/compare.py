"""How often the comparison with a previous model says 'better' or 'worse', and when it should.

Three kinds of pairs of models scored on the same rows, where the truth is known:

* null pairs: two models of the same error rate whose errors are partly shared (the
  usual case: both fail on the hard rows); any 'better' or 'worse' is a false alarm,
  and at a 95% interval about 5% are expected;
* planted changes: the new model fixes or breaks rows so that its true error is
  1, 2 or 5 points lower; the hit rate is the share called 'better', paired (rows
  matched) and unpaired (the same figures compared as independent samples, as for a
  previous run's JSON);
* real models: random forests that differ only in their seed, on data sets that ship
  with scikit-learn (no true change, so a near-null on real errors), and a logistic
  regression against a random forest on digits (a real difference of a few points).

    python benchmarks/compare.py            # under a minute
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from erranalysis.compare import Outcomes, compare_docs
from erranalysis.io import SPLITS

TEST = SPLITS.index("test")


def _docs():
    return {"errors": {}, "eval_split": "test"}, {"errors": {}}


def _verdict(nw, ow, y, k, paired=True):
    split = np.full(y.size, TEST)
    classes = tuple(range(k))
    new = Outcomes(classes, split, y, np.where(nw, (y + 1) % k, y), None, None)
    if paired:
        old = Outcomes(classes, split, y, np.where(ow, (y + 1) % k, y), None, None)
        c = compare_docs(*_docs(), previous="old", source="predictions", new_rows=new, old_rows=old)
        return c.splits[0].verdict, bool(c.classes)
    from erranalysis.stats.intervals import wilson

    n = y.size
    e_new, e_old = float(nw.mean()), float(ow.mean())
    doc_new = {"errors": {"test": {"error": e_new, "n": n, "ci": wilson(e_new, n)}}, "eval_split": "test"}
    doc_old = {"errors": {"test": {"error": e_old, "n": n, "ci": wilson(e_old, n)}}}
    c = compare_docs(doc_new, doc_old, previous="old.json", source="json")
    return c.splits[0].verdict, bool(c.classes)


def synthetic(runs: int, rng) -> None:
    print("Null pairs: same error rate, share of errors common to both models; 'moved' = better or worse")
    print(f"  {'rows':>7} {'error':>6} {'shared':>7} {'moved':>12} {'classes moved':>14}")
    for n in (500, 5000, 50000):
        for err in (0.05, 0.2):
            for shared in (0.0, 0.5, 0.9):
                moved = classes = 0
                for _ in range(runs):
                    y = rng.integers(0, 5, n)
                    common = rng.random(n) < err * shared
                    own = err * (1 - shared) / (1 - err * shared)
                    nw = common | (rng.random(n) < own)
                    ow = common | (rng.random(n) < own)
                    v, c = _verdict(nw, ow, y, 5)
                    moved += v != "no_change"
                    classes += c
                print(f"  {n:>7,} {err:>6.0%} {shared:>7.0%} {moved:>5}/{runs} {moved / runs:>5.1%} "
                      f"{classes / runs:>13.1%}")
    print()
    print("Planted improvements (old error 20%, 60% of the new model's errors shared): share called 'better'")
    print(f"  {'rows':>7} {'change':>7} {'paired':>14} {'unpaired':>14} {'called worse':>13}")
    for n in (1000, 5000, 20000):
        for delta in (0.01, 0.02, 0.05):
            hits = {True: 0, False: 0}
            wrong = 0
            for _ in range(runs):
                y = rng.integers(0, 5, n)
                ow = rng.random(n) < 0.2
                # The new model keeps a share of the old errors and makes a few of its own,
                # so that its error rate is 0.2 - delta.
                keep = 0.6
                nw = (ow & (rng.random(n) < keep)) | (~ow & (rng.random(n) < (0.2 - delta - 0.2 * keep) / 0.8))
                for paired in (True, False):
                    v, _ = _verdict(nw, ow, y, 5, paired)
                    hits[paired] += v == "better"
                    wrong += v == "worse"
            print(f"  {n:>7,} {-delta * 100:>+6.0f}pt {hits[True]:>5}/{runs} {hits[True] / runs:>5.0%} "
                  f"{hits[False]:>5}/{runs} {hits[False] / runs:>5.0%} {wrong:>13}")


def real(seeds: int) -> None:
    from sklearn.datasets import load_breast_cancer, load_digits, load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    print()
    print("Real models: random forests that differ only in their seed (no true change)")
    print(f"  {'data set':<14} {'test rows':>9} {'pairs':>6} {'moved':>6} {'mean |change|':>14}")
    for name, load in (("digits", load_digits), ("breast_cancer", load_breast_cancer), ("wine", load_wine)):
        X, y = load(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
        k = int(y.max()) + 1
        preds = [RandomForestClassifier(n_estimators=50, random_state=s, n_jobs=1).fit(Xtr, ytr).predict(Xte)
                 for s in range(seeds + 1)]
        moved, sizes = 0, []
        split = np.full(yte.size, TEST)
        for s in range(seeds):
            new = Outcomes(tuple(range(k)), split, yte, preds[s + 1], None, None)
            old = Outcomes(tuple(range(k)), split, yte, preds[s], None, None)
            c = compare_docs(*_docs(), previous="old", source="predictions", new_rows=new, old_rows=old)
            moved += c.splits[0].verdict != "no_change"
            sizes.append(abs(c.splits[0].change))
        print(f"  {name:<14} {yte.size:>9} {seeds:>6} {moved:>6} {np.mean(sizes) * 100:>11.2f} pt")
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    old = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(Xtr, ytr).predict(Xte)
    new = RandomForestClassifier(n_estimators=300, random_state=0).fit(Xtr, ytr).predict(Xte)
    split = np.full(yte.size, TEST)
    c = compare_docs(*_docs(), previous="logistic", source="predictions",
                     new_rows=Outcomes(tuple(range(10)), split, yte, new, None, None),
                     old_rows=Outcomes(tuple(range(10)), split, yte, old, None, None))
    s = c.splits[0]
    print(f"  digits, logistic regression -> random forest: {s.old:.1%} -> {s.new:.1%}, "
          f"{s.change * 100:+.1f} pts ({s.ci[0] * 100:+.1f} to {s.ci[1] * 100:+.1f}), {s.verdict}, "
          f"McNemar p = {s.p_value:.2g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="pairs per synthetic setting")
    parser.add_argument("--seeds", type=int, default=30, help="seed pairs per real data set")
    args = parser.parse_args()
    start = time.perf_counter()
    synthetic(args.runs, np.random.default_rng(0))
    real(args.seeds)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
