"""Build the digits example: a real model's predictions and erranalysis's diagnosis.

Trains a small random forest (20 trees, at most 6 levels deep) on scikit-learn's
bundled 8×8 digits, predicts every image, and writes

* ``examples/digits/predictions.parquet``: one row per image with ``id``, ``label``,
  ``pred``, ``proba_0`` … ``proba_9``, ``split`` and two metadata columns
  (``mean_intensity``: mean pixel value in [0, 16]; ``ink_pixels``: pixels that are
  not blank);
* ``examples/digits/report.json``: ``erranalysis.analyze(..., goal=0.01).to_json()``;
* ``examples/digits/report.html`` and ``report.pdf``: the report a reviewer reads.

The forest is deliberately small and trained on 908 images only: it nearly fits its
training set (train error 1.5 %, goal 1 %) but loses about 4.5 points on train_val,
so the first next step is overfitting. The report also shows a decomposition term
that is too noisy to call on a few hundred rows (val − train_val, with the rows that
would settle it) and the forest's under-confident probabilities (poor calibration).

Run from anywhere (no network needed)::

    python examples/make_digits_example.py
    erranalysis report examples/digits/predictions.parquet --goal 0.01
"""

from __future__ import annotations

import os
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


def build_predictions() -> pd.DataFrame:
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(SEED)
    split = rng.choice(SPLITS, size=len(y), p=SPLIT_SHARES)
    train = split == "train"

    model = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=SEED)
    model.fit(X[train], y[train])
    proba = model.predict_proba(X)

    frame = pd.DataFrame({
        "id": np.arange(len(y)),
        "label": y,
        "pred": model.classes_[proba.argmax(axis=1)],
        "split": pd.Categorical(split, categories=SPLITS),
    })
    for j, c in enumerate(model.classes_):
        frame[f"proba_{c}"] = proba[:, j].astype(np.float32)
    frame["mean_intensity"] = X.mean(axis=1).astype(np.float32)
    frame["ink_pixels"] = (X > 0).sum(axis=1).astype(np.int16)
    return frame


def main() -> None:
    os.chdir(ROOT)
    OUT.mkdir(parents=True, exist_ok=True)
    frame = build_predictions()
    parquet = OUT / "predictions.parquet"
    frame.to_parquet(parquet, index=False, compression="zstd")

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
