"""Confident learning against cleanlab, the reference implementation, as the oracle: the
same rows flagged and in the same order, ties and rounding included."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from erranalysis.stats.confident import confident_joint, label_issues, ranked_label_issues

cleanlab_filter = pytest.importorskip("cleanlab.filter")
cleanlab_count = pytest.importorskip("cleanlab.count")


def _oracle(labels: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cleanlab warns about classes with one row
        mask = cleanlab_filter.find_label_issues(labels, probs, n_jobs=1)
        ranked = cleanlab_filter.find_label_issues(labels, probs, return_indices_ranked_by="self_confidence", n_jobs=1)
    return mask, ranked


def _problem(seed: int, n: int, k: int, spread: float, decimals: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Noisy labels and softmax probabilities; ``decimals`` rounds them to make ties."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * spread
    labels = rng.integers(0, k, n)
    logits[np.arange(n), labels] += rng.uniform(0, 3)
    labels[:k] = np.arange(k)  # every class occurs
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    if decimals is not None:
        probs = np.round(probs, decimals)
        probs /= probs.sum(axis=1, keepdims=True)
    return labels, probs


@hsettings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 600), k=st.integers(2, 9),
       spread=st.floats(0.1, 5.0), decimals=st.sampled_from([None, 1, 2]))
def test_same_rows_and_order_as_cleanlab(seed, n, k, spread, decimals):
    labels, probs = _problem(seed, max(n, k), k, spread, decimals)
    mask, ranked = _oracle(labels, probs)
    assert np.array_equal(label_issues(labels, probs), mask)
    assert np.array_equal(ranked_label_issues(labels, probs), ranked)


def test_calibrated_confident_joint_is_cleanlabs():
    labels, probs = _problem(7, 3000, 6, 2.0, 2)
    counts = np.bincount(labels, minlength=6)
    joint = confident_joint(labels, probs, counts)
    assert np.array_equal(joint, cleanlab_count.compute_confident_joint(labels, probs))
    assert np.array_equal(joint.sum(axis=1), counts)  # each label's rows, whole


def test_planted_flips_are_found_and_predicted_labels_never_flagged():
    rng = np.random.default_rng(3)
    n, k = 6000, 4
    true = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), true] += 4.0
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    flipped = rng.random(n) < 0.05
    labels = np.where(flipped, (true + rng.integers(1, k, n)) % k, true)
    found = label_issues(labels, probs)
    precision = (found & flipped).sum() / found.sum()
    recall = (found & flipped).sum() / flipped.sum()
    assert precision > 0.8 and recall > 0.8
    assert not (found & (probs.argmax(axis=1) == labels)).any()
    ranked = ranked_label_issues(labels, probs)
    assert np.all(np.diff(probs[ranked, labels[ranked]]) >= 0)  # least probable label first


@pytest.mark.parametrize("seed", range(5))
def test_a_label_without_kept_rows_keeps_one_as_cleanlab_does(seed):
    from erranalysis.stats.confident import _at_least_one_kept

    rng = np.random.default_rng(seed)
    prune = rng.integers(0, 9, size=(5, 5))
    prune[np.arange(5), np.arange(5)] = rng.integers(0, 2, 5)  # zero diagonals to raise
    expected = cleanlab_filter._keep_at_least_n_per_class(prune, 1)
    assert np.array_equal(_at_least_one_kept(prune), expected)
