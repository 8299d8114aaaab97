"""Planted-problem scenarios: a real scikit-learn model with one known defect.

Each builder trains a model on a bundled or generated data set, predicts every row
and returns a :class:`Scenario`: the predictions table (``label``, ``pred``,
``proba_<class>`` or binary ``score``, ``split``) and the goal to analyse it with.
Everything is seeded, so each builder returns the same table on every run.

The planted problem is what ``erranalysis.analyze(frame, goal=goal)`` should put
first in ``next_steps``; ``tests/test_scenarios.py`` checks it. ``analysed(name)`` builds
and analyses a scenario once per test session for every module that reads it.
"""

from __future__ import annotations

import functools
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

SPLITS = ("train", "train_val", "val", "test")


class Scenario(NamedTuple):
    frame: pd.DataFrame
    goal: float


class Analysed(NamedTuple):
    scenario: Scenario
    result: object  # erranalysis.Result


@functools.lru_cache(maxsize=None)
def analysed(name: str) -> Analysed:
    """The scenario ``name`` built and ``erranalysis.analyze(frame, goal=goal)`` run on it,
    once per test session (both are deterministic). The frame and the result are shared:
    callers read them and never change them. Input warnings are not shown."""
    import erranalysis

    sc = globals()[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erranalysis.DataWarning)
        return Analysed(sc, erranalysis.analyze(sc.frame, goal=sc.goal))


# --------------------------------------------------------------------------- helpers


def equal_splits(n_per_split: int) -> np.ndarray:
    """``n_per_split`` rows of each split, in split order."""
    return np.repeat(np.array(SPLITS), n_per_split)


def random_splits(n: int, seed: int, p=(0.4, 0.2, 0.2, 0.2)) -> np.ndarray:
    """Each row drawn into a split with probabilities ``p``."""
    return np.random.default_rng(seed).choice(np.array(SPLITS), size=n, p=list(p))


def proba_frame(model, X: np.ndarray, y: np.ndarray, split: np.ndarray) -> pd.DataFrame:
    """Multi-class table: label, pred (argmax), one proba_<class> column per class."""
    proba = model.predict_proba(X)
    classes = model.classes_
    frame = pd.DataFrame({"label": y, "pred": classes[proba.argmax(axis=1)], "split": split})
    for j, c in enumerate(classes):
        frame[f"proba_{c}"] = proba[:, j]
    return frame


def score_frame(model, X: np.ndarray, y: np.ndarray, split: np.ndarray) -> pd.DataFrame:
    """Binary table: label and the positive-class score (pred from the 0.5 threshold)."""
    score = model.predict_proba(X)[:, list(model.classes_).index(1)]
    return pd.DataFrame({"label": y, "score": score, "split": split})


def fit_on_train(model, X: np.ndarray, y: np.ndarray, split: np.ndarray):
    train = split == "train"
    return model.fit(X[train], y[train])


def digits(seed: int = 0, shifts: bool = True):
    """The bundled 8×8 digits, pixels scaled to [0, 1], with random splits.

    With ``shifts`` every image also appears moved by one pixel up, down, left and
    right (5 × 1,797 = 8,985 rows), so that each split holds enough rows for tight
    intervals. The split is drawn per original image: an image and its shifted copies
    always share a split, so no near-duplicate crosses from train to a held-out split.
    """
    X, y = load_digits(return_X_y=True)
    split = random_splits(len(y), seed)
    if shifts:
        images = X.reshape(-1, 8, 8)
        moved = [images]
        for axis, step in ((1, 1), (1, -1), (2, 1), (2, -1)):
            m = np.roll(images, step, axis=axis)
            # Clear the row/column that wrapped around.
            edge = 0 if step == 1 else -1
            if axis == 1:
                m[:, edge, :] = 0
            else:
                m[:, :, edge] = 0
            moved.append(m)
        X = np.concatenate([m.reshape(len(y), 64) for m in moved])
        y = np.tile(y, len(moved))
        split = np.tile(split, len(moved))
    return X / 16.0, y, split


# ------------------------------------------------------------------------- scenarios


def underfitting(seed: int = 0, C: float = 0.03) -> Scenario:
    """A heavily regularised logistic regression on (shifted) digits.

    With C = 0.03 on pixels in [0, 1] the linear model cannot even fit its training
    set: train error ≈ 26 %, where 5-nearest-neighbours reaches ≈ 1 % on train and
    ≈ 3 % on test. All splits come from one distribution, so the gap to the goal is
    almost all avoidable bias.
    """
    X, y, split = digits(seed)
    model = fit_on_train(LogisticRegression(C=C, max_iter=5000), X, y, split)
    return Scenario(proba_frame(model, X, y, split), goal=0.01)


def underfitting_binary(seed: int = 0, n_per_split: int = 4000) -> Scenario:
    """A linear model on data that is not linearly separable (two Gaussian clusters per
    class, 1 % label noise), binary. Gradient boosting or 15-nearest-neighbours reach
    ≈ 5.5–6 % on train_val here; logistic regression stays at ≈ 10 % on train and on
    every held-out split.
    """
    X, y = make_classification(
        n_samples=4 * n_per_split, n_features=10, n_informative=6, n_redundant=0, n_classes=2,
        n_clusters_per_class=2, class_sep=1.5, random_state=seed,
    )
    split = equal_splits(n_per_split)
    model = fit_on_train(LogisticRegression(max_iter=1000), X, y, split)
    return Scenario(proba_frame(model, X, y, split), goal=0.01)


def overfitting(seed: int = 1, n_per_split: int = 4000) -> Scenario:
    """1-nearest-neighbour on noisy data (15 % of labels randomised): it memorises the
    training set (train error 0) and the noise costs it on every held-out split."""
    X, y = make_classification(
        n_samples=4 * n_per_split, n_features=10, n_informative=6, n_classes=2,
        flip_y=0.15, class_sep=1.5, random_state=seed,
    )
    split = equal_splits(n_per_split)
    model = fit_on_train(KNeighborsClassifier(n_neighbors=1), X, y, split)
    return Scenario(proba_frame(model, X, y, split), goal=0.01)


def distribution_shift(seed: int = 2, n_per_split: int = 4000, noise: float = 2.0) -> Scenario:
    """Three well-separated classes; a logistic regression fits train and generalises
    to train_val (same distribution). The val and test inputs are corrupted with
    Gaussian noise (sd ``noise`` on every feature), as from a noisier sensor."""
    X, y = make_classification(
        n_samples=4 * n_per_split, n_features=10, n_informative=6, n_classes=3,
        n_clusters_per_class=1, class_sep=3.0, flip_y=0.0, random_state=seed,
    )
    split = equal_splits(n_per_split)
    model = fit_on_train(LogisticRegression(max_iter=1000), X, y, split)
    shifted = np.isin(split, ["val", "test"])
    X_seen = X.copy()
    X_seen[shifted] += np.random.default_rng(seed).normal(scale=noise, size=X_seen[shifted].shape)
    return Scenario(proba_frame(model, X_seen, y, split), goal=0.01)


def threshold(seed: int = 0, n_per_split: int = 5000) -> Scenario:
    """Binary, 1.5 % positives. A regularised logistic regression ranks them well
    (ROC AUC ≈ 0.96 on test) but its scores seldom pass 0.5, so the default
    threshold finds almost none of them."""
    X, y = make_classification(
        n_samples=4 * n_per_split, n_features=20, n_informative=5, n_classes=2,
        weights=[0.985], flip_y=0.0, class_sep=1.0, random_state=seed,
    )
    split = equal_splits(n_per_split)
    model = fit_on_train(LogisticRegression(C=0.01, max_iter=1000), X, y, split)
    return Scenario(score_frame(model, X, y, split), goal=0.01)


def confused_pair(seed: int = 0, a: int = 3, b: int = 8, rate: float = 0.35, k: int = 25,
                  per_image: bool = True) -> Scenario:
    """Digits with noisy labels between ``a`` and ``b``: ``rate`` of the a's are
    labelled b and ``rate`` of the b's are labelled a, in every split (an image's
    shifted copies keep its label). A 25-nearest-neighbour classifier, which votes
    over many neighbours and so cannot memorise single flipped labels, then confuses
    the two classes in both directions on every split."""
    X, y, split = digits(seed)
    n_images = len(y) // 5
    rng = np.random.default_rng(seed + 100)
    noisy = y.copy()
    draw = np.tile(rng.random(n_images), 5) if per_image else rng.random(len(y))
    for src, dst in ((a, b), (b, a)):
        noisy[(y == src) & (draw < rate)] = dst
    model = fit_on_train(KNeighborsClassifier(n_neighbors=k), X, noisy, split)
    return Scenario(proba_frame(model, X, noisy, split), goal=0.01)


def shuffled_labels(seed: int = 5, n_per_split: int = 5000) -> Scenario:
    """Features and labels out of order (labels permuted over all rows, as after
    joining two unsorted file listings); the model is trained and evaluated on the
    misaligned pairs and can only learn noise."""
    X, y = make_classification(
        n_samples=4 * n_per_split, n_features=20, n_informative=5, n_classes=3, random_state=seed,
    )
    y = np.random.default_rng(seed).permutation(y)
    split = equal_splits(n_per_split)
    model = fit_on_train(LogisticRegression(max_iter=1000), X, y, split)
    return Scenario(proba_frame(model, X, y, split), goal=0.01)


#: Builder name → the finding kind expected as the first next step.
EXPECTED_FIRST = {
    "underfitting": "underfitting",
    "underfitting_binary": "underfitting",
    "overfitting": "overfitting",
    "distribution_shift": "distribution_shift",
    "threshold": "threshold",
    "confused_pair": "confused_pair",
    "shuffled_labels": "below_baseline",
}
