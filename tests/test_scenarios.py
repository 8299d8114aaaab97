"""End to end: a real model with one planted problem → that problem is the first next step.

The scenarios live in ``tests/scenarios.py``. Each test first checks, with
scikit-learn alone, that the planted problem really is in the predictions, then that
``erranalysis.analyze`` puts it first.
"""

from __future__ import annotations

import pytest
from sklearn.metrics import recall_score, roc_auc_score

import scenarios  # tests/scenarios.py (pytest puts tests/ on sys.path)


def error(frame, split) -> float:
    rows = frame[frame["split"] == split]
    return float((rows["pred"] != rows["label"]).mean())


def first(result) -> str:
    assert result.next_steps, "no next steps"
    return result.next_steps[0].problem


@pytest.fixture(scope="module")
def built():
    """Each scenario built and analysed once per test session (they are deterministic;
    test_first_page renders the same results)."""
    return scenarios.analysed


def test_scenarios_are_deterministic():
    a, b = scenarios.threshold(), scenarios.threshold()
    assert a.goal == b.goal
    assert a.frame.equals(b.frame)


def test_underfitting_heavily_regularised_model(built):
    sc, r = built("underfitting")
    # Planted: the model cannot fit its own training set; held-out splits are no worse.
    assert error(sc.frame, "train") > 0.15
    assert abs(error(sc.frame, "test") - error(sc.frame, "train")) < 0.05
    assert first(r) == "underfitting"
    assert r.next_steps[0].actions[0].startswith("Make the model bigger")
    assert r.decomposition.components["avoidable_bias"].verdict == "material"


def test_underfitting_linear_model_on_binary_data(built):
    """A binary linear model that underfits confuses the two classes both ways on
    every split; that is the signature of underfitting, not of ambiguous labels."""
    sc, r = built("underfitting_binary")
    assert error(sc.frame, "train") > 0.07
    assert abs(error(sc.frame, "test") - error(sc.frame, "train")) < 0.02
    assert first(r) == "underfitting"
    assert r.next_steps[0].actions[0].startswith("Make the model bigger")


def test_overfitting_one_nearest_neighbour(built):
    sc, r = built("overfitting")
    assert error(sc.frame, "train") == 0.0
    assert error(sc.frame, "train_val") > 0.10
    assert first(r) == "overfitting"
    assert r.decomposition.components["variance"].verdict == "material"


def test_distribution_shift_between_train_val_and_val(built):
    sc, r = built("distribution_shift")
    assert error(sc.frame, "train_val") < 0.01
    assert error(sc.frame, "val") > error(sc.frame, "train_val") + 0.03
    assert first(r) == "distribution_shift"
    comp = r.decomposition.components["distribution_shift"]
    assert comp.verdict == "material" and comp.earlier == "train_val" and comp.later == "val"


def test_threshold_under_heavy_imbalance(built):
    sc, r = built("threshold")
    test = sc.frame[sc.frame["split"] == "test"]
    assert 0.01 <= test["label"].mean() <= 0.02
    assert roc_auc_score(test["label"], test["score"]) > 0.8
    assert recall_score(test["label"], test["score"] >= 0.5) < 0.2
    assert first(r) == "threshold"
    flagged = [t for t in r.thresholds if t.flagged]
    assert flagged and flagged[0].recommended_threshold < 0.5
    assert flagged[0].after["recall"] > flagged[0].before["recall"]


def test_confused_pair_from_noisy_labels(built):
    sc, r = built("confused_pair")
    assert first(r) == "confused_pair"
    top = r.confusion.most_confused[0]
    assert {top.actual, top.predicted} == {"3", "8"}
    # Confused in both directions on every split: label ambiguity, not a shift.
    assert top.both_directions and top.pattern == "everywhere"
    pair = next(f for f in r.findings if f.kind == "confused_pair")
    assert {pair.evidence["actual"], pair.evidence["predicted"]} == {"3", "8"}
    assert pair.evidence["label_ambiguity"]


def test_shuffled_labels_are_below_baseline(built):
    sc, r = built("shuffled_labels")
    frame = sc.frame
    test = frame[frame["split"] == "test"]
    majority = test["label"].value_counts(normalize=True).max()
    assert error(frame, "test") > 1 - majority - 0.02  # no better than a constant
    assert first(r) == "below_baseline"
