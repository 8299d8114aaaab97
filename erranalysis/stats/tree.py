"""A shallow classification tree (CART, Gini impurity) for the error cohorts.

The cohorts need a depth-3 tree that says which rows are errors from a few metadata
columns. This is that tree in NumPy: it makes the splits scikit-learn's
``DecisionTreeClassifier(max_depth=..., min_samples_leaf=...)`` makes, on the same
float32 values, with the same thresholds (midway between two neighbouring values), the
same Gini arithmetic and the same node numbering (depth first, left child first). One
difference is deliberate: where two columns give exactly the same best split, the first
column wins, where scikit-learn picks one at random. The tests compare both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Values closer than this (in float32) are one value: no split between them.
_SAME_VALUE = np.float32(1e-7)
#: A node with impurity up to this is pure.
_PURE = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Tree:
    """The fitted tree, node by node (arrays named as scikit-learn's ``tree_``).

    ``feature`` and ``threshold`` are -1 / NaN at the leaves; a row goes left when its
    value is at or below the threshold.
    """

    feature: np.ndarray
    threshold: np.ndarray
    children_left: np.ndarray
    children_right: np.ndarray

    @property
    def node_count(self) -> int:
        return int(self.feature.size)

    def apply(self, X: np.ndarray) -> np.ndarray:
        """The leaf of each row of ``X``."""
        values = np.asarray(X, dtype=np.float32)
        node = np.zeros(values.shape[0], dtype=np.int64)
        for _ in range(self.node_count):  # at most one step per level
            inner = self.feature[node] >= 0
            if not inner.any():
                break
            rows = np.flatnonzero(inner)
            at = node[rows]
            left = values[rows, self.feature[at]] <= self.threshold[at]
            node[rows] = np.where(left, self.children_left[at], self.children_right[at])
        return node


def fit_tree(X: np.ndarray, y: np.ndarray, max_depth: int, min_samples_leaf: int) -> Tree:
    """A tree telling ``y`` (0/1) from the columns of ``X``, grown to ``max_depth`` with
    at least ``min_samples_leaf`` rows in every leaf."""
    values = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    nodes: list[list] = []  # feature, threshold, left, right
    both = np.unique(y).size > 1

    def grow(rows: np.ndarray, depth: int) -> int:
        node = len(nodes)
        nodes.append([-1, np.nan, -1, -1])
        n = rows.size
        split = None
        if both and depth < max_depth and n >= 2 and n >= 2 * min_samples_leaf and _gini(y[rows]) > _PURE:
            split = _best_split(values[rows], y[rows], min_samples_leaf)
        if split is not None:
            feature, threshold = split
            left = values[rows, feature] <= threshold
            nodes[node][:2] = [feature, threshold]
            nodes[node][2] = grow(rows[left], depth + 1)
            nodes[node][3] = grow(rows[~left], depth + 1)
        return node

    grow(np.arange(values.shape[0]), 0)
    table = np.array(nodes, dtype=object).reshape(-1, 4)
    return Tree(feature=table[:, 0].astype(np.int64), threshold=table[:, 1].astype(np.float64),
                children_left=table[:, 2].astype(np.int64), children_right=table[:, 3].astype(np.int64))


def _gini(y: np.ndarray) -> float:
    n = float(y.size)
    ones = float(y.sum())
    zeros = n - ones
    return 1.0 - (zeros * zeros + ones * ones) / (n * n)


def _best_split(values: np.ndarray, y: np.ndarray, min_leaf: int) -> tuple[int, float] | None:
    """The column and threshold with the lowest weighted Gini impurity of the two sides
    (the first column and the lowest threshold among equals), or None when no split
    leaves ``min_leaf`` rows on each side."""
    n = y.size
    ones = float(y.sum())
    zeros = n - ones
    best: tuple[float, int, float] | None = None
    for feature in range(values.shape[1]):
        order = np.argsort(values[:, feature], kind="stable")
        v = values[order, feature]
        if v[-1] <= v[0] + _SAME_VALUE:
            continue  # constant here
        # Candidate cuts: before position p where v[p] is a new value, both sides big enough.
        p = np.flatnonzero(v[1:] > v[:-1] + _SAME_VALUE) + 1
        p = p[(p >= min_leaf) & (n - p >= min_leaf)]
        if p.size == 0:
            continue
        n_left = p.astype(np.float64)
        n_right = n - n_left
        left_ones = np.cumsum(y[order])[p - 1].astype(np.float64)
        left_zeros = n_left - left_ones
        right_ones, right_zeros = ones - left_ones, zeros - left_zeros
        gini_left = 1.0 - (left_zeros * left_zeros + left_ones * left_ones) / (n_left * n_left)
        gini_right = 1.0 - (right_zeros * right_zeros + right_ones * right_ones) / (n_right * n_right)
        proxy = -n_right * gini_right - n_left * gini_left
        at = int(np.argmax(proxy))
        if best is None or proxy[at] > best[0]:
            low, high = float(v[p[at] - 1]), float(v[p[at]])
            threshold = low / 2.0 + high / 2.0
            if threshold == high or not np.isfinite(threshold):
                threshold = low
            best = (float(proxy[at]), feature, threshold)
    return None if best is None else (best[1], best[2])
