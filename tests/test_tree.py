"""The cohort tree against scikit-learn's DecisionTreeClassifier as the oracle: the same
splits, thresholds, node numbers and leaves, except where two columns tie exactly (there
scikit-learn picks one at random and the tree the first)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from erranalysis.stats.tree import Tree, fit_tree

tree_module = pytest.importorskip("sklearn.tree")


def _weighted_gini(y: np.ndarray) -> float:
    if y.size == 0:
        return 0.0
    share = y.mean()
    return y.size * (1 - share * share - (1 - share) ** 2)


def _same_or_tied(X: np.ndarray, y: np.ndarray, oracle, ours: Tree) -> bool:
    """Both trees make the same splits; where they differ, the two splits leave the same
    weighted impurity (an exact tie) and the subtrees are not compared."""
    values = X.astype(np.float32)
    t = oracle.tree_

    def same(a: int, b: int, rows: np.ndarray) -> bool:
        fa, fb = t.feature[a], ours.feature[b]
        if fa < 0 or fb < 0:
            return fa < 0 and fb < 0 and a == b
        if fa == fb and t.threshold[a] == ours.threshold[b]:
            left = values[rows, fb] <= ours.threshold[b]
            return (same(t.children_left[a], ours.children_left[b], rows[left])
                    and same(t.children_right[a], ours.children_right[b], rows[~left]))

        def impurity(feature: int, threshold: float) -> float:
            left = values[rows, feature] <= threshold
            return _weighted_gini(y[rows][left]) + _weighted_gini(y[rows][~left])

        return bool(np.isclose(impurity(fa, t.threshold[a]), impurity(fb, ours.threshold[b]), rtol=1e-12, atol=0))

    return same(0, 0, np.arange(y.size))


def _data(seed: int, n: int, columns: int, rounded: bool, categorical: bool, missing: bool):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, columns)) * rng.uniform(0.1, 1e3)
    if rounded:
        X = np.round(X)  # many equal values in a column
    if categorical:
        X[:, 0] = rng.integers(0, 6, n)
    if missing:
        X[rng.random(n) < 0.1, -1] = -1e12  # how the cohorts encode a missing value
    y = (rng.random(n) < 0.1 + 0.3 * (X[:, 0] > np.median(X[:, 0]))).astype(int)
    return X, y


@hsettings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(40, 3000), columns=st.integers(1, 5),
       rounded=st.booleans(), categorical=st.booleans(), missing=st.booleans(), min_leaf=st.integers(1, 80))
def test_splits_are_scikit_learns(seed, n, columns, rounded, categorical, missing, min_leaf):
    X, y = _data(seed, n, columns, rounded, categorical, missing)
    oracle = tree_module.DecisionTreeClassifier(max_depth=3, min_samples_leaf=min_leaf, random_state=0).fit(X, y)
    ours = fit_tree(X, y, max_depth=3, min_samples_leaf=min_leaf)
    assert _same_or_tied(X, y, oracle, ours)


def test_continuous_columns_give_the_very_same_tree():
    X, y = _data(5, 4000, 4, rounded=False, categorical=False, missing=False)
    oracle = tree_module.DecisionTreeClassifier(max_depth=3, min_samples_leaf=50, random_state=0).fit(X, y)
    ours = fit_tree(X, y, max_depth=3, min_samples_leaf=50)
    t = oracle.tree_
    assert np.array_equal(np.where(t.feature < 0, -1, t.feature), ours.feature)
    inner = ours.feature >= 0
    assert np.array_equal(t.threshold[inner], ours.threshold[inner])
    assert np.array_equal(t.children_left, ours.children_left)
    assert np.array_equal(oracle.apply(X), ours.apply(X))


def test_leaves_hold_enough_rows_and_one_class_makes_no_split():
    X, y = _data(9, 2000, 3, rounded=True, categorical=True, missing=True)
    ours = fit_tree(X, y, max_depth=3, min_samples_leaf=120)
    assert np.bincount(ours.apply(X)).max() > 0
    counts = np.bincount(ours.apply(X), minlength=ours.node_count)
    leaves = np.flatnonzero(ours.feature < 0)
    assert counts[leaves].min() >= 120
    assert ours.node_count > 1
    single = fit_tree(X, np.zeros(2000, dtype=int), max_depth=3, min_samples_leaf=1)
    assert single.node_count == 1 and np.all(single.apply(X) == 0)
