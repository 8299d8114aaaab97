"""Build the digits MLP example: predictions *and* the training history of the run.

Trains scikit-learn's MLPClassifier on the bundled 8×8 digits one epoch at a time
(``partial_fit``) with a learning rate set too high for this data, logging the train
and val cross-entropy after every epoch as a Keras ``CSVLogger`` file would. It writes

* ``examples/digits_mlp/predictions.parquet``: label, proba_0 … proba_9, split (train /
  train_val / val / test);
* ``examples/digits_mlp/history.csv``: ``epoch, loss, val_loss``;
* ``examples/digits_mlp/report.json``, ``report.html`` and ``report.pdf``: the diagnosis of
  both together.

No network is needed (scikit-learn comes with ``pip install ".[bench]"``)::

    python examples/make_digits_mlp_example.py
    erranalysis report examples/digits_mlp/predictions.parquet --goal 0.01 --history examples/digits_mlp/history.csv
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

import erranalysis

SEED = 7
GOAL = 0.01
EPOCHS = 80
SPLITS = ["train", "train_val", "val", "test"]
SHARES = [0.55, 0.15, 0.15, 0.15]
ROOT = Path(__file__).resolve().parent.parent
OUT = Path("examples") / "digits_mlp"


def train() -> tuple[pd.DataFrame, pd.DataFrame]:
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(SEED)
    split = rng.choice(SPLITS, size=len(y), p=SHARES)
    fit = split == "train"
    held = split == "val"
    scaler = StandardScaler().fit(X[fit])
    Xs = scaler.transform(X)
    model = MLPClassifier(hidden_layer_sizes=(128,), learning_rate_init=0.03, alpha=0.0, batch_size=64,
                          random_state=SEED)
    classes = np.arange(10)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(EPOCHS):
            order = rng.permutation(np.flatnonzero(fit))
            model.partial_fit(Xs[order], y[order], classes=classes)
            rows.append({
                "epoch": epoch,
                "loss": log_loss(y[fit], model.predict_proba(Xs[fit]), labels=classes),
                "val_loss": log_loss(y[held], model.predict_proba(Xs[held]), labels=classes),
            })
    proba = model.predict_proba(Xs)
    frame = pd.DataFrame({"label": y, "split": split})
    for k in classes:
        frame[f"proba_{k}"] = proba[:, k]
    return frame, pd.DataFrame(rows)


def main() -> None:
    os.chdir(ROOT)
    OUT.mkdir(parents=True, exist_ok=True)
    # --reports-only: keep the stored predictions and history, write the reports again.
    if "--reports-only" not in sys.argv:
        frame, history = train()
        frame.to_parquet(OUT / "predictions.parquet", index=False, compression="zstd")
        history.to_csv(OUT / "history.csv", index=False, float_format="%.6g")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erranalysis.DataWarning)
        result = erranalysis.analyze(OUT / "predictions.parquet", goal=GOAL, history=OUT / "history.csv",
                                     command="python examples/make_digits_mlp_example.py")
    (OUT / "report.json").write_text(result.to_json() + "\n", encoding="utf-8")
    options = {"title": "Error analysis: digits MLP", "model_name": "digits MLP"}
    result.save(OUT / "report.html", **options)
    result.save(OUT / "report.pdf", **options)
    for name in ("predictions.parquet", "history.csv", "report.json", "report.html", "report.pdf"):
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size / 1024:.0f} KB)")
    print("headline:", result.headline)
    for i, step in enumerate(result.next_steps, 1):
        print(f"  {i}. {step.problem}: {step.why}")


if __name__ == "__main__":
    main()
