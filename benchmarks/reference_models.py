"""Hit and false-alarm rates of the reference models (``from_estimator(...,
reference_models=True)``) on planted data where the better family is known.

Each table has ``--rows`` rows (60% train, 20% val, 20% test) of four numeric features
and a 4-value category; the label follows the scenario's rule through a logistic link.
Per scenario and seed, a model of one family is fitted and diagnosed; the scenario says
what a correct diagnosis holds:

* ``nonlinear/linear model``: sine and square terms; a logistic regression underfits,
  so the gradient-boosted reference must be better (a hit when it is flagged);
* ``linear/linear model``: a linear rule and a logistic regression; nothing to gain,
  a flagged tree reference is a false alarm;
* ``linear/unknown model``: the same model behind a wrapper whose family is not known,
  so both references run; a flagged linear reference (the model's own kind) is a false
  alarm, and so is a flagged tree;
* ``noise/unknown model``: labels independent of the features; any flag is a false
  alarm;
* ``nonlinear/tree model``: gradient-boosted trees on the nonlinear rule; the linear
  reference is worse, a flag is a false alarm.

For each: the share of seeds with a ``reference_model`` finding, the mean error change
of each reference (reference minus model, in points) and how often its interval covers
the change measured on the whole test split with 50,000 fresh rows (the truth).

    python benchmarks/reference_models.py --seeds 20 --rows 6000
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import erranalysis
from erranalysis.reference import _inputs, _kinds, _reference

SCENARIOS = {
    # name: (rule, model family fitted, family told to erranalysis, what a flag means)
    "nonlinear/linear model": ("nonlinear", "linear", "linear", "hit"),
    "linear/linear model": ("linear", "linear", "linear", "false alarm"),
    "linear/unknown model": ("linear", "linear", None, "false alarm"),
    "noise/unknown model": ("noise", "linear", None, "false alarm"),
    "nonlinear/tree model": ("nonlinear", "tree", "tree", "false alarm"),
}


def table(rule: str, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(4)})
    X["group"] = rng.choice(list("abcd"), n)
    if rule == "nonlinear":
        logit = 2.5 * np.sin(2 * X["x0"]) + 1.5 * (X["x1"] ** 2 - 1) + 1.2 * (X["group"] == "b")
    elif rule == "linear":
        logit = 1.5 * X["x0"] - 1.0 * X["x1"] + 0.5 * X["x2"] + 0.8 * (X["group"] == "b")
    else:
        logit = np.zeros(n)
    y = (rng.random(n) < 1 / (1 + np.exp(-np.asarray(logit)))).astype(int)
    return X, y


class Unknown:
    """A model behind a wrapper erranalysis cannot place in a family."""

    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_

    def predict_proba(self, X):
        return self.model.predict_proba(X)


def model_of(family: str):
    numeric = [f"x{i}" for i in range(4)]
    if family == "linear":
        from sklearn.compose import make_column_transformer
        from sklearn.preprocessing import OneHotEncoder

        return make_pipeline(make_column_transformer((StandardScaler(), numeric), (OneHotEncoder(), ["group"])),
                             LogisticRegression())
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OrdinalEncoder

    return make_pipeline(make_column_transformer(("passthrough", numeric), (OrdinalEncoder(), ["group"])),
                         HistGradientBoostingClassifier(categorical_features=[4], random_state=1))


def run(scenario: str, seed: int, n: int) -> dict:
    rule, fitted, told, _ = SCENARIOS[scenario]
    rng = np.random.default_rng(seed)
    X, y = table(rule, n, rng)
    cut = [int(0.6 * n), int(0.8 * n)]
    parts = dict(zip(("train", "val", "test"), (slice(0, cut[0]), slice(cut[0], cut[1]), slice(cut[1], n))))
    splits = {s: (X.iloc[r], y[r]) for s, r in parts.items()}
    model = model_of(fitted).fit(*splits["train"])
    estimator = model if told is not None else Unknown(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = erranalysis.from_estimator(estimator, splits, goal=0.0, reference_models=True)
    # The truth: each reference's change of error on 50,000 fresh rows.
    X_new, y_new = table(rule, 50_000, np.random.default_rng(10_000 + seed))
    model_wrong = np.mean(model.predict(X_new) != y_new)
    truth = {}
    numeric, categorical = _kinds(splits["train"][0])
    for ref in result.references:
        fitted_ref = _reference(ref.family, numeric, categorical).fit(
            _inputs(splits["train"][0], numeric, categorical), splits["train"][1])
        truth[ref.family] = np.mean(fitted_ref.predict(_inputs(X_new, numeric, categorical)) != y_new) - model_wrong
    return {
        "flagged": [f.evidence["family"] for f in result.findings if f.kind == "reference_model"],
        "changes": {r.family: r.change for r in result.references},
        "covered": {r.family: r.ci[0] <= truth[r.family] <= r.ci[1] for r in result.references},
        "first": result.next_steps[0].problem if result.next_steps else None,
        "first_action": result.next_steps[0].actions[0][:40] if result.next_steps else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--rows", type=int, default=6000)
    args = parser.parse_args()
    print(f"{args.seeds} seeds, {args.rows:,} rows each (60/20/20)\n")
    print(f"{'scenario':26} {'flag means':12} {'flagged':>8} {'reference':>10} {'mean change':>12} "
          f"{'covers truth':>13} {'first step says try it':>23} {'s/run':>6}")
    for scenario, (_, _, _, meaning) in SCENARIOS.items():
        start = time.perf_counter()
        runs = [run(scenario, seed, args.rows) for seed in range(args.seeds)]
        per_run = (time.perf_counter() - start) / args.seeds
        flagged = sum(bool(r["flagged"]) for r in runs)
        families = sorted({f for r in runs for f in r["changes"]})
        for i, family in enumerate(families):
            changes = [r["changes"][family] * 100 for r in runs if family in r["changes"]]
            covered = [r["covered"][family] for r in runs if family in r["covered"]]
            says = sum(r["first_action"].startswith("Try ") for r in runs)
            print(f"{scenario if i == 0 else '':26} {meaning if i == 0 else '':12} "
                  f"{(f'{flagged}/{args.seeds}' if i == 0 else ''):>8} {family:>10} "
                  f"{statistics.mean(changes):+11.1f}  {sum(covered):>6}/{len(covered):<6} "
                  f"{(f'{says}/{args.seeds}' if i == 0 else ''):>23} {(f'{per_run:.2f}' if i == 0 else ''):>6}")


if __name__ == "__main__":
    main()
