"""Build the digits example: a real model's predictions and erranalysis's diagnosis.

Trains a small random forest (20 trees, at most 6 levels deep) on scikit-learn's
bundled 8×8 digits, predicts every image, and writes

* ``examples/digits/predictions.parquet``: one row per image with ``id``, ``label``,
  ``pred``, ``proba_0`` … ``proba_9``, ``split`` and two metadata columns
  (``mean_intensity``: mean pixel value in [0, 16]; ``ink_pixels``: pixels that are
  not blank);
* ``examples/digits/report.json``: ``erranalysis.analyze(..., goal=0.01).to_json()``;
* ``examples/digits/report.html`` and ``report.pdf``: the report a reviewer reads.

The forest is deliberately small and trained on about 900 images only. Three problems
are planted for the report to find: scanner C's val/test images are noisy (a weak
slice that fails only after the shift, and shifted pixel statistics), a second
labelling batch got 4% of the held-out labels wrong (likely label errors), and six
test rows reuse the ids of training images (leakage).

Run from anywhere (no network needed; scikit-learn comes with ``pip install ".[bench]"``)::

    python examples/make_digits_example.py
    erranalysis report examples/digits/predictions.parquet --goal 0.01
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

import erranalysis

SEED = 42
GOAL = 0.01
SPLITS = ["train", "train_val", "val", "test"]
SPLIT_SHARES = [0.50, 0.15, 0.15, 0.20]
ROOT = Path(__file__).resolve().parent.parent
OUT = Path("examples") / "digits"  # relative to ROOT, so the report shows no local path


def small_forest(X: np.ndarray, y: np.ndarray) -> RandomForestClassifier:
    """The example's model: 20 trees at most 6 levels deep."""
    return RandomForestClassifier(n_estimators=20, max_depth=6, random_state=SEED).fit(X, y)


def build_predictions(fit=small_forest) -> pd.DataFrame:
    """The predictions table of the model that ``fit(X_train, y_train)`` returns, on the
    example's data (the same images, splits, planted problems and ids for any model)."""
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(SEED)
    split = rng.choice(SPLITS, size=len(y), p=SPLIT_SHARES)
    train = split == "train"
    X = X.astype(float)

    # Planted: the images came from three scanners; scanner C went out of focus after the
    # training data was collected, so its val/test images are noisy.
    scanner = rng.choice(["A", "B", "C"], size=len(y))
    degraded = (scanner == "C") & np.isin(split, ["val", "test"])
    X[degraded] = np.clip(X[degraded] + rng.normal(0, 5.0, size=(degraded.sum(), X.shape[1])), 0, 16)

    model = fit(X[train], y[train])
    proba = model.predict_proba(X)

    # Planted: a second labelling batch got 4% of the held-out labels wrong.
    labels = y.copy()
    relabel = (rng.random(len(y)) < 0.04) & ~train & ~degraded
    labels[relabel] = (y[relabel] + rng.integers(1, 10, relabel.sum())) % 10

    ids = np.arange(len(y))
    # Planted: a few test images are copies of training images (same id).
    test_rows = np.flatnonzero(split == "test")[:6]
    ids[test_rows] = np.flatnonzero(train)[:6]
    frame = pd.DataFrame({
        "id": ids,
        "label": labels,
        "pred": model.classes_[proba.argmax(axis=1)],
        "split": pd.Categorical(split, categories=SPLITS),
    })
    for j, c in enumerate(model.classes_):
        frame[f"proba_{c}"] = proba[:, j].astype(np.float32)
    frame["scanner"] = scanner
    frame["mean_intensity"] = X.mean(axis=1).astype(np.float32)
    frame["ink_pixels"] = (X > 0.5).sum(axis=1).astype(np.int16)
    return frame


def main() -> None:
    os.chdir(ROOT)
    OUT.mkdir(parents=True, exist_ok=True)
    parquet = OUT / "predictions.parquet"
    # --reports-only: keep the stored predictions (a new scikit-learn release may fit a
    # slightly different forest) and write the reports again.
    if "--reports-only" not in sys.argv:
        build_predictions().to_parquet(parquet, index=False, compression="zstd")
    frame = pd.read_parquet(parquet)

    # Analyse the file as a user would (float32 probabilities sum to 1 within tolerance).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erranalysis.DataWarning)
        result = erranalysis.analyze(parquet, goal=GOAL, command="python examples/make_digits_example.py")
    (OUT / "report.json").write_text(result.to_json() + "\n", encoding="utf-8")
    title = "Error analysis: digits random forest"
    result.save(OUT / "report.html", title=title, model_name="digits random forest")
    result.save(OUT / "report.pdf", title=title, model_name="digits random forest")

    print(f"wrote {parquet} ({parquet.stat().st_size / 1024:.0f} KB, {len(frame)} rows)")
    for name in ("report.json", "report.html", "report.pdf"):
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size / 1024:.0f} KB)")
    print("errors:", ", ".join(f"{s} {e.error:.1%}" for s, e in result.errors.items()))
    print("headline:", result.headline)
    for i, step in enumerate(result.next_steps, 1):
        print(f"  {i}. {step.problem}: {step.why}")


if __name__ == "__main__":
    main()
