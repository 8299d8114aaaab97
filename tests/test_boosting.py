"""The domain classifier of the feature-shift check: scikit-learn's histogram gradient
boosting (without early stopping on small folds, with it on large ones) and stratified
folds as the oracles, a planted shift found, null data left at 0.5. The AUC of its scores is ``roc_auc_exact``, checked
against scikit-learn in test_auc.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from erranalysis.stats.boosting import cross_fitted_scores, domain_auc, two_folds


def sklearn_auc(X, domain, categorical):
    model = HistGradientBoostingClassifier(max_iter=60, max_depth=4, categorical_features=categorical,
                                           early_stopping=False, random_state=0)
    return roc_auc_score(domain, cross_val_predict(model, X, domain, cv=2, method="predict_proba")[:, 1])


def planted(seed: int, n: int, shift: float = 0.0, missing: bool = False, category_shift: float = 0.0):
    """``n`` rows of each domain: a normal feature moved by ``shift`` sd in domain 1, an
    exponential one (missing in 10% of the rows when ``missing``), a categorical one
    whose second category gains ``category_shift`` of the rows in domain 1."""
    rng = np.random.default_rng(seed)
    domain = np.repeat([0.0, 1.0], n)
    a = rng.normal(size=2 * n) + shift * domain
    b = rng.exponential(size=2 * n)
    if missing:
        b[rng.random(2 * n) < 0.1] = np.nan
    p = np.array([0.4, 0.3, 0.2, 0.1])
    q = p + category_shift * np.array([-1, 1, 0, 0])
    c = np.where(domain == 0, rng.choice(4, 2 * n, p=p), rng.choice(4, 2 * n, p=q)).astype(float)
    return np.column_stack([a, b, c]), domain, np.array([False, False, True])


@hsettings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from([0, 1, 7]), min_size=2, max_size=40))
def test_folds_are_those_of_stratified_kfold(labels):
    y = np.array(labels)
    counts = np.bincount(y)
    if counts[counts > 0].min() < 2:  # a class in one fold only
        return
    expected = np.empty(y.size, dtype=np.int64)
    for k, (_, test) in enumerate(StratifiedKFold(2).split(np.zeros(y.size), y)):
        expected[test] = k
    assert (two_folds(y) == expected).all()


@pytest.mark.parametrize("seed, shift, missing, category_shift", [
    (0, 0.3, True, 0.0),
    (1, 0.0, False, 0.1),
    (2, 0.5, True, 0.05),
])
def test_same_auc_as_scikit_learn(seed, shift, missing, category_shift):
    X, domain, categorical = planted(seed, 300, shift, missing, category_shift)
    # Few distinct values: bins at midpoints rather than quantiles.
    X[:, 1] = np.round(X[:, 1], 1)
    # scikit-learn sums float32 gradients: a near-tie between two splits may go the
    # other way, which moves the AUC in its fourth decimal at most here.
    assert domain_auc(X, domain, categorical) == pytest.approx(sklearn_auc(X, domain, categorical), abs=1e-3)


def test_finds_a_feature_moved_by_two_sd():
    X, domain, categorical = planted(0, 500, shift=2.0)
    assert domain_auc(X, domain, categorical) > 0.8


def test_null_data_stays_near_one_half():
    covered = 0
    for seed in range(6):
        X, domain, categorical = planted(seed, 400, missing=True)
        auc = domain_auc(X, domain, categorical)
        # The Hanley–McNeil interval the feature-shift check reports, at 95%.
        n = 400
        q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
        se = math.sqrt((auc * (1 - auc) + (n - 1) * (q1 - auc * auc) + (n - 1) * (q2 - auc * auc)) / (n * n))
        covered += abs(auc - 0.5) <= 1.96 * se
        assert abs(auc - 0.5) < 0.08
    assert covered >= 5


def test_same_input_same_auc():
    X, domain, categorical = planted(3, 200, shift=0.3, missing=True, category_shift=0.1)
    assert domain_auc(X, domain, categorical) == domain_auc(X.copy(), domain.copy(), categorical)


def test_a_constant_feature_tells_nothing():
    domain = np.repeat([0.0, 1.0], 100)
    assert domain_auc(np.ones((200, 1)), domain, np.array([False])) == 0.5


def test_unseen_categories_and_missing_values_follow_a_child():
    # Category 5 and missing values occur only in the rows of fold 1: the model fitted
    # on fold 0 never saw them and sends them to its larger child.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, 400).astype(float)
    y = (x == 2).astype(float)
    fold = np.arange(400) % 2
    x[(fold == 1) & (np.arange(400) < 40)] = 5.0
    v = rng.normal(size=400) + y
    v[(fold == 1) & (np.arange(400) >= 360)] = np.nan
    s = cross_fitted_scores(np.column_stack([x, v]), y, np.array([True, False]), fold)
    assert np.isfinite(s).all()
    assert roc_auc_score(y, s) > 0.9


@pytest.mark.parametrize("seed", range(3))
def test_the_stopping_rule_is_scikit_learns(seed):
    from erranalysis.stats.boosting import _PATIENCE, _TOLERANCE, _no_progress

    rng = np.random.default_rng(seed)
    losses = list(0.69 - np.cumsum(rng.choice([0.0, 1e-8, 1e-3], size=40, p=[0.6, 0.2, 0.2])))
    oracle = HistGradientBoostingClassifier(n_iter_no_change=_PATIENCE, tol=_TOLERANCE)
    for end in range(1, len(losses) + 1):
        assert _no_progress(losses[:end]) == oracle._should_stop([-x for x in losses[:end]])


def test_checking_rows_are_a_tenth_of_each_class_of_each_model():
    from erranalysis.stats.boosting import _checking_rows

    y = np.r_[np.zeros(3000), np.ones(1000), np.zeros(17)]
    model_of = np.arange(y.size) % 2
    checking = _checking_rows(y, model_of)
    for m in (0, 1):
        for c in (0, 1):
            group = (model_of == m) & (y == c)
            assert checking[group].sum() == round(0.1 * group.sum())
    assert np.array_equal(checking, _checking_rows(y, model_of))


def test_many_rows_stop_early_as_scikit_learn_does():
    # Above 10,000 rows per fold both stop early, each on its own random tenth of the
    # rows: the AUCs agree within 0.01.
    X, domain, categorical = planted(4, 11000, shift=0.15)
    ours = domain_auc(X, domain, categorical)
    model = HistGradientBoostingClassifier(max_iter=60, max_depth=4, categorical_features=categorical,
                                           random_state=0)
    theirs = roc_auc_score(domain, cross_val_predict(model, X, domain, cv=2, method="predict_proba")[:, 1])
    assert ours == pytest.approx(theirs, abs=0.01)
    assert ours > 0.52


def test_null_data_on_many_rows_stops_well_before_sixty_trees(monkeypatch):
    from erranalysis.stats import boosting

    grown = []
    real = boosting._grow_trees
    monkeypatch.setattr(boosting, "_grow_trees", lambda *args: grown.append(1) or real(*args))
    X, domain, categorical = planted(5, 11000)  # 11,000 fitting rows per model: above the limit
    boosting.domain_auc(X, domain, categorical)
    assert len(grown) < 40  # one call grows the trees of both models
