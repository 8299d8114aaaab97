"""Likely label errors by confident learning (Northcutt, Jiang and Chuang, 2021).

A row is a candidate label error when the model is confident that it belongs to another
class than its given label. Per class, the threshold of confidence is the mean
probability the model gives that class on the rows labelled with it. Counting the rows
confidently in class j among those labelled k gives the confident joint C[k, j]; scaled so
that each row of C sums to the rows labelled k, its off-diagonal entries estimate how many
rows of each label belong to another class. Among the rows labelled k, the C[k, j] rows
with the largest margin p_j - p_k are flagged ("prune by noise rate"), and rows whose
label is also the model's prediction are never flagged.

The figures are those of ``cleanlab.filter.find_label_issues`` with its defaults
(``filter_by="prune_by_noise_rate"``, ``min_examples_per_class=1``), including how it
rounds the counts and breaks ties, which the tests check against cleanlab itself; this
module needs NumPy only.
"""

from __future__ import annotations

import numpy as np

#: Probabilities within this of each other count as equal.
_TOLERANCE = 1e-6
#: The lowest per-class threshold: above the tolerance, so a zero probability never counts.
_MIN_THRESHOLD = 2 * _TOLERANCE
#: Guards the divisions by a count.
_TINY = 1e-100


def label_issues(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """A mask of the rows whose label is likely wrong.

    ``labels``: the given class of each row, integers 0..K-1, every class present;
    ``probs``: an (n, K) array of out-of-sample probabilities, rows summing to 1.
    """
    labels = np.asarray(labels)
    k = probs.shape[1]
    counts = np.bincount(labels, minlength=k)
    # Rows of ``prune`` are the likely true classes, columns the given labels.
    prune = _at_least_one_kept(confident_joint(labels, probs, counts).T)
    flagged = np.zeros(labels.size, dtype=bool)
    for given in range(k):
        rows = np.flatnonzero(labels == given)
        if rows.size <= 1:
            continue
        own = probs[rows]
        mask = np.zeros(rows.size, dtype=bool)
        for true in np.flatnonzero(prune[:, given] > 0):
            if true == given:
                continue
            margin = own[:, true] - own[:, given]
            mask[np.argsort(-margin)[:prune[true, given]]] = True
        flagged[rows] = mask
    # A row the model predicts as its given label (within the tolerance) is not flagged.
    nudged = probs.copy()
    nudged[np.arange(labels.size), labels] += _TOLERANCE
    flagged[nudged.argmax(axis=1) == labels] = False
    return flagged


def ranked_label_issues(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The indices of the likely label errors, least probable given label first."""
    flagged = np.flatnonzero(label_issues(labels, probs))
    return flagged[np.argsort(probs[flagged, np.asarray(labels)[flagged]])]


def confident_joint(labels: np.ndarray, probs: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """C[given, true]: the calibrated counts of rows labelled ``given`` that the model
    confidently puts in ``true`` (integers; each row sums to the rows with that label)."""
    k = probs.shape[1]
    own = np.array([probs[labels == c, c].sum() for c in range(k)])
    thresholds = np.where(counts > 0, own / np.maximum(counts, 1), 2.0)
    thresholds = np.maximum(thresholds, _MIN_THRESHOLD)
    confident = probs >= thresholds - _TOLERANCE
    n_confident = confident.sum(axis=1)
    # Confident in several classes: the most probable one; in none: not counted.
    guess = np.where(n_confident > 1, probs.argmax(axis=1), confident.argmax(axis=1))
    some = n_confident > 0
    # Counted as [true, given] and transposed: the scaled matrix below then has the
    # reference's memory order, its total is summed in the same order, and the rounding,
    # which breaks ties on the last bits, agrees with it.
    joint = np.bincount(guess[some] * k + labels[some], minlength=k * k).reshape(k, k).T
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    scaled = (joint.T / np.maximum(joint.sum(axis=1), _TINY) * counts).T
    scaled = scaled / max(float(np.sum(scaled)), _TINY) * counts.sum()
    return _round_rows(scaled)


def _at_least_one_kept(prune: np.ndarray) -> np.ndarray:
    """``prune`` (true × given) with at least one row of each given label kept as correct:
    a diagonal raised to 1 is paid for evenly by that column's non-zero noise counts,
    which are then truncated to whole rows."""
    diagonal = prune.diagonal().astype(float)
    raised = np.maximum(diagonal, 1)
    others = np.maximum(np.count_nonzero(prune, axis=0) - 1.0, 1.0)
    out = prune - (raised - diagonal) / others
    out[out < 0] = 0
    np.fill_diagonal(out, raised)
    return out.astype(np.int64)


def _round_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row rounded to integers that keep the row's rounded total: the entries
    rounded furthest from their value move by one until the total is right."""
    out = np.empty(matrix.shape, dtype=np.int64)
    for r, values in enumerate(np.asarray(matrix, dtype=float)):
        ints = values.round()
        target = values.sum().round()
        total = ints.sum().round()
        while abs(total - target) > _TOLERANCE:
            diff = np.round(target - total)
            step = -1 if diff < 0 else 1
            changes = min(int(abs(diff)), values.size)
            ints[np.argsort(values - ints)[::-step][:changes]] += step
            total = ints.sum().round()
        out[r] = ints.astype(np.int64)
    return out
