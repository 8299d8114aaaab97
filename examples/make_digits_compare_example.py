"""Build the comparison example: the digits model's successor, and what changed.

The digits example's forest (``examples/digits``) fails on scanner C, whose val/test
images went out of focus after the training data was collected. Its successor is
trained on the same training images plus a noisy copy of each (the blur the scanner
now adds), with more and deeper trees; it predicts the same images, with the same
splits, labels (including the mislabelled batch) and ids. This writes

* ``examples/digits_compare/predictions.parquet``: the new model's predictions;
* ``examples/digits_compare/report.json``, ``report.html`` and ``report.pdf``:
  ``erranalysis.analyze(new, goal=0.01, compare=examples/digits/predictions.parquet)``,
  whose "What changed" section compares the two models on paired rows (matched by id).

Run from anywhere (no network needed; scikit-learn comes with ``pip install ".[bench]"``)::

    python examples/make_digits_compare_example.py
    erranalysis report examples/digits_compare/predictions.parquet --goal 0.01 \\
        --compare examples/digits/predictions.parquet
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

import erranalysis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_digits_example import GOAL, ROOT, SEED, build_predictions  # noqa: E402

PREVIOUS = Path("examples") / "digits" / "predictions.parquet"
OUT = Path("examples") / "digits_compare"  # relative to ROOT, so the report shows no local path


def noise_augmented_forest(X: np.ndarray, y: np.ndarray) -> RandomForestClassifier:
    """100 trees up to 12 levels deep, on the training images and a noisy copy of each."""
    rng = np.random.default_rng(SEED + 1)
    noisy = np.clip(X + rng.normal(0, 5.0, size=X.shape), 0, 16)
    model = RandomForestClassifier(n_estimators=100, max_depth=12, random_state=SEED)
    return model.fit(np.vstack([X, noisy]), np.concatenate([y, y]))


def main() -> None:
    os.chdir(ROOT)
    OUT.mkdir(parents=True, exist_ok=True)
    parquet = OUT / "predictions.parquet"
    if "--reports-only" not in sys.argv:  # keep the stored predictions, write the reports again
        build_predictions(noise_augmented_forest).to_parquet(parquet, index=False, compression="zstd")
    frame = pd.read_parquet(parquet)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erranalysis.DataWarning)
        result = erranalysis.analyze(parquet, goal=GOAL, compare=PREVIOUS,
                                     command="python examples/make_digits_compare_example.py")
    (OUT / "report.json").write_text(result.to_json() + "\n", encoding="utf-8")
    title = "Error analysis: digits forest, noise-augmented"
    for name in ("report.html", "report.pdf"):
        result.save(OUT / name, title=title, model_name="digits forest, noise-augmented")

    print(f"wrote {parquet} ({parquet.stat().st_size / 1024:.0f} KB, {len(frame)} rows)")
    for name in ("report.json", "report.html", "report.pdf"):
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size / 1024:.0f} KB)")
    c = result.comparison
    print(c.text)
    for group in (c.components, c.classes, c.slices):
        for x in group:
            if x.verdict in ("better", "worse"):
                print(f"  {x.name}: {x.old:.3f} -> {x.new:.3f} ({x.verdict})")
    print(f"findings: {len(c.new_findings)} new, {len(c.resolved_findings)} resolved, {c.kept_findings} kept")
    print("headline:", result.headline)


if __name__ == "__main__":
    main()
