"""From a fitted scikit-learn pipeline on a DataFrame to the review PDF.

The data: scikit-learn's bundled breast-cancer measurements (569 tumours, 30 numeric
features), seen by three clinics. One problem is planted: Cardiff's diagnoses were
entered by a team that swapped the two classes on about 30% of its cases, in every
split. The model (scaled measurements into a logistic regression) does not take the
clinic as an input, so nothing in its predictions names Cardiff.

``erranalysis.from_estimator`` keeps the DataFrame's columns beside the predictions.
The first step it names is "clinic = Cardiff", with that slice's error against the
rest. The same predictions without the features cannot show the slice. Their first
step is underfitting (make the model fit better), which would not fix a labelling
problem at one clinic. The script prints both headlines.

Run from anywhere (no network; scikit-learn comes with ``pip install ".[bench]"``)::

    python examples/from_estimator.py

It writes ``examples/from_estimator/report.pdf``, ``report.html`` and ``report.json``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import erranalysis

SEED = 7
GOAL = 0.02
ROOT = Path(__file__).resolve().parent.parent
OUT = Path("examples") / "from_estimator"  # relative to ROOT, so the report shows no local path


def load() -> tuple[dict[str, tuple[pd.DataFrame, pd.Series]], list[str]]:
    """The splits (60% train, 20% val, 20% test, stratified) and the measurement columns."""
    data = load_breast_cancer(as_frame=True)
    measurements = list(data.data.columns)
    X = data.data.copy()
    y = data.target.map({0: "malignant", 1: "benign"}).rename("diagnosis")
    rng = np.random.default_rng(SEED)
    X["clinic"] = rng.choice(["Aberdeen", "Bristol", "Cardiff"], len(X), p=[0.40, 0.35, 0.25])
    # Planted: Cardiff swapped the diagnosis on about 30% of its cases.
    swapped = (X["clinic"] == "Cardiff") & (rng.random(len(X)) < 0.30)
    y = y.where(~swapped, y.map({"malignant": "benign", "benign": "malignant"}))
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5, random_state=0, stratify=y_rest)
    return {"train": (X_train, y_train), "val": (X_val, y_val), "test": (X_test, y_test)}, measurements


def main() -> None:
    os.chdir(ROOT)
    OUT.mkdir(parents=True, exist_ok=True)
    splits, measurements = load()
    X_train, y_train = splits["train"]

    # The five lines: a fitted pipeline, its diagnosis, the review PDF.
    model = make_pipeline(make_column_transformer((StandardScaler(), measurements)), LogisticRegression())
    model.fit(X_train, y_train)
    result = erranalysis.from_estimator(model, splits, goal=GOAL, command="python examples/from_estimator.py")
    result.save(OUT / "report.pdf")
    print(result.headline)

    result.save(OUT / "report.html")
    (OUT / "report.json").write_text(result.to_json() + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erranalysis.DataWarning)
        alone = erranalysis.from_estimator(model, splits, goal=GOAL, features=False)
    print("\nThe same predictions without the features:\n" + alone.headline)
    for name in ("report.pdf", "report.html", "report.json"):
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
