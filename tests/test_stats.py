"""Every metric against scikit-learn / SciPy or a hand-computed value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

import erranalysis
from erranalysis.io import validate_frame
from erranalysis.stats.aggregates import compute_aggregates
from erranalysis.stats.intervals import difference_interval, wilson
from erranalysis.stats.metrics import (
    baseline_errors,
    class_scores,
    roc_auc_from_hist,
    split_error,
    sweep_from_hist,
)

from conftest import multiclass_frame


def test_wilson_matches_hand_computed_values():
    # Newcombe (1998), example: 81/263 -> 0.2553 to 0.3662 (score method).
    lo, hi = wilson(81 / 263, 263)
    assert lo == pytest.approx(0.2553, abs=5e-5) and hi == pytest.approx(0.3662, abs=5e-5)
    # 0 of 10: the interval starts exactly at 0 and reaches 0.2775.
    lo, hi = wilson(0.0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=5e-5)


def test_difference_interval_matches_newcombe_example():
    # Newcombe (1998) method 10, example (a): 56/70 - 48/80 = 0.2, interval 0.0524 to 0.3339.
    p1, p2 = 56 / 70, 48 / 80
    lo, hi = difference_interval(p2, wilson(p2, 80), p1, wilson(p1, 70))
    assert lo == pytest.approx(0.0524, abs=5e-4) and hi == pytest.approx(0.3339, abs=5e-4)


def test_wilson_coverage_is_close_to_nominal():
    rng = np.random.default_rng(3)
    p, n = 0.05, 200
    k = rng.binomial(n, p, 4000)
    covered = [lo <= p <= hi for lo, hi in (wilson(x / n, n) for x in k)]
    assert 0.93 <= np.mean(covered) <= 0.97


@pytest.fixture
def preds3():
    return validate_frame(multiclass_frame(n_per_split=500, k=4, seed=7), name="t")


def test_confusion_and_class_scores_match_sklearn(preds3):
    aggs = compute_aggregates(preds3)
    for s, agg in aggs.items():
        mask = preds3.split == ["train", "train_val", "val", "test"].index(s)
        y, p = preds3.y[mask], preds3.pred[mask]
        expected = skm.confusion_matrix(y, p, labels=range(4))
        np.testing.assert_array_equal(agg.confusion, expected)
        prec, rec, f1, sup = skm.precision_recall_fscore_support(y, p, labels=range(4), zero_division=0)
        sc = class_scores(agg.confusion)
        np.testing.assert_allclose([c.precision for c in sc], prec)
        np.testing.assert_allclose([c.recall for c in sc], rec)
        np.testing.assert_allclose([c.f1 for c in sc], f1)
        np.testing.assert_allclose([c.support for c in sc], sup)
        assert split_error(agg, "error").error == pytest.approx(1 - skm.accuracy_score(y, p))
        assert split_error(agg, "balanced_error").error == pytest.approx(1 - skm.balanced_accuracy_score(y, p))


def test_weighted_errors_match_sklearn():
    frame = multiclass_frame(n_per_split=300, seed=2)
    frame["weight"] = np.random.default_rng(0).uniform(0.1, 3.0, len(frame))
    preds = validate_frame(frame)
    aggs = compute_aggregates(preds)
    mask = preds.split == 3
    y, p, w = preds.y[mask], preds.pred[mask], preds.weight[mask]
    assert split_error(aggs["test"]).error == pytest.approx(1 - skm.accuracy_score(y, p, sample_weight=w))
    assert split_error(aggs["test"], "balanced_error").error == pytest.approx(
        1 - skm.balanced_accuracy_score(y, p, sample_weight=w))
    # Kish effective n is below the row count with unequal weights.
    est = split_error(aggs["test"])
    assert est.n == 300 and est.n_effective < 300


def test_zero_division_class_never_predicted_gives_zero_like_sklearn():
    cm = np.array([[5, 0, 1], [2, 0, 3], [0, 0, 4]], dtype=float)
    sc = class_scores(cm)
    y = np.repeat([0, 0, 1, 1, 2], [5, 1, 2, 3, 4])
    p = np.repeat([0, 2, 0, 2, 2], [5, 1, 2, 3, 4])
    prec, rec, f1, _ = skm.precision_recall_fscore_support(y, p, labels=[0, 1, 2], zero_division=0)
    np.testing.assert_allclose([c.precision for c in sc], prec)
    np.testing.assert_allclose([c.f1 for c in sc], f1)


def test_roc_auc_and_sweep_match_sklearn():
    rng = np.random.default_rng(5)
    n = 20000
    y = rng.random(n) < 0.1
    s = 1 / (1 + np.exp(-(rng.normal(size=n) * 1.5 + 2.5 * y - 3)))
    preds = validate_frame(pd.DataFrame({"label": y.astype(int), "score": s}))
    agg = compute_aggregates(preds)["test"]
    auc = roc_auc_from_hist(agg.hist[1, 1], agg.hist[1, 0])
    assert auc == pytest.approx(skm.roc_auc_score(y, s), abs=1e-3)
    sweep = sweep_from_hist(agg.hist[1, 1], agg.hist[1, 0])
    for j in (500, 1800, 2048, 2300, 3000):
        t = sweep.thresholds[j]
        pred = s >= t
        assert sweep.precision[j] == pytest.approx(skm.precision_score(y, pred, zero_division=1))
        assert sweep.recall[j] == pytest.approx(skm.recall_score(y, pred))
        assert sweep.f1[j] == pytest.approx(skm.f1_score(y, pred))


def test_per_class_auc_is_one_vs_rest_auc(preds3):
    r = erranalysis.analyze(multiclass_frame(n_per_split=500, k=4, seed=7))
    mask = preds3.split == 3
    for k, m in enumerate(r.confusion.per_class["test"]):
        expected = skm.roc_auc_score(preds3.y[mask] == k, preds3.proba[mask, k])
        assert m.roc_auc == pytest.approx(expected, abs=1e-3)


def test_tied_scores_auc_is_exact():
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.5, 0.5, 0.5, 0.9, 0.1, 0.5])
    preds = validate_frame(pd.DataFrame({"label": y, "score": s}))
    agg = compute_aggregates(preds)["test"]
    assert roc_auc_from_hist(agg.hist[1, 1], agg.hist[1, 0]) == pytest.approx(skm.roc_auc_score(y, s))


def test_binary_calibration_bins_match_calibration_curve():
    rng = np.random.default_rng(9)
    n = 5000
    s = rng.random(n)
    y = (rng.random(n) < s ** 2).astype(int)  # miscalibrated on purpose
    r = erranalysis.analyze(pd.DataFrame({"label": y, "score": s}))
    prob_true, prob_pred = calibration_curve(y, s, n_bins=15, strategy="uniform")
    bins = r.calibration.bins
    np.testing.assert_allclose([b["frequency"] for b in bins], prob_true)
    np.testing.assert_allclose([b["confidence"] for b in bins], prob_pred)
    counts = np.array([b["weight"] for b in bins])
    ece = np.sum(counts / n * np.abs(prob_true - prob_pred))
    assert r.calibration.ece == pytest.approx(ece)
    assert r.calibration.kind == "positive_class"
    assert "poor_calibration" in [f.kind for f in r.findings]


def test_calibrated_scores_raise_no_calibration_finding():
    rng = np.random.default_rng(10)
    n = 5000
    s = rng.random(n)
    y = (rng.random(n) < s).astype(int)
    r = erranalysis.analyze(pd.DataFrame({"label": y, "score": s}))
    assert r.calibration.ece < 0.05
    assert "poor_calibration" not in [f.kind for f in r.findings]


def test_top_label_calibration_by_hand():
    frame = pd.DataFrame({
        "label": [0, 1, 2, 2],
        "proba_0": [0.7, 0.1, 0.2, 0.05], "proba_1": [0.2, 0.8, 0.5, 0.05], "proba_2": [0.1, 0.1, 0.3, 0.9],
    })
    r = erranalysis.analyze(frame)
    # confidences 0.7 (right), 0.8 (right), 0.5 (wrong), 0.9 (right); 15 bins of width 1/15.
    bins = {round(b["confidence"], 3): b["frequency"] for b in r.calibration.bins}
    assert bins == {0.7: 1.0, 0.8: 1.0, 0.5: 0.0, 0.9: 1.0}
    assert r.calibration.ece == pytest.approx((0.3 + 0.2 + 0.5 + 0.1) / 4)


def test_log_loss_sum_matches_sklearn(preds3):
    aggs = compute_aggregates(preds3)
    mask = preds3.split == 2
    expected = skm.log_loss(preds3.y[mask], preds3.proba[mask], labels=range(4))
    assert aggs["val"].loss_sum / aggs["val"].weight_sum == pytest.approx(expected)


def test_baselines_by_hand():
    frame = pd.DataFrame({
        "label": [0, 0, 0, 1, 0, 1, 1, 1], "pred": [0] * 8,
        "split": ["train"] * 4 + ["test"] * 4,
    })
    aggs = compute_aggregates(validate_frame(frame))
    prior = aggs["train"].support / aggs["train"].support.sum()  # 0.75, 0.25
    b = baseline_errors(aggs["test"], prior)
    assert b.majority_class == "0"
    assert b.majority_error == pytest.approx(0.75)  # test is 25% class 0
    assert b.stratified_error == pytest.approx(1 - (0.75 * 0.25 + 0.25 * 0.75))
    bb = baseline_errors(aggs["test"], prior, "balanced_error")
    assert bb.majority_error == pytest.approx(0.5)


def test_label_shift_matches_scipy():
    from scipy.stats import chi2_contingency

    rng = np.random.default_rng(4)
    y_train = rng.choice(3, 3000, p=[0.6, 0.3, 0.1])
    y_test = rng.choice(3, 1000, p=[0.3, 0.3, 0.4])
    frame = pd.DataFrame({
        "label": np.concatenate([y_train, y_test]), "split": ["train"] * 3000 + ["test"] * 1000,
    })
    frame["pred"] = frame["label"]
    r = erranalysis.analyze(frame)
    test = r.class_balance.tests[0]
    table = np.vstack([np.bincount(y_train), np.bincount(y_test)])
    stat, p, _, _ = chi2_contingency(table, correction=False)
    assert test.chi2 == pytest.approx(stat) and test.p_value == pytest.approx(p)
    assert test.tvd == pytest.approx(0.5 * np.abs(table[0] / 3000 - table[1] / 1000).sum())
    assert "label_shift" in [f.kind for f in r.findings]


def test_balanced_error_interval_contains_the_value(preds3):
    agg = compute_aggregates(preds3)["val"]
    est = split_error(agg, "balanced_error")
    assert est.ci[0] < est.error < est.ci[1]
    assert math.isfinite(est.ci[1] - est.ci[0]) and est.ci[1] - est.ci[0] < 0.2


def test_block_histograms_equal_a_direct_count(monkeypatch):
    from erranalysis.stats import aggregates
    from erranalysis.stats.aggregates import bin_edges, score_bins

    monkeypatch.setattr(aggregates, "_BLOCK_ROWS", 97)  # many uneven blocks
    frame = multiclass_frame(n_per_split=250, k=3, seed=11)
    frame["weight"] = np.random.default_rng(1).uniform(0, 2, len(frame))
    preds = validate_frame(frame)
    aggs = compute_aggregates(preds, score_bin_count=512)
    bins = score_bins(preds.proba, 512)
    for s_code, name in enumerate(["train", "train_val", "val", "test"]):
        m = preds.split == s_code
        for k in range(3):
            for is_k in (0, 1):
                rows = m & ((preds.y == k) == bool(is_k))
                expected = np.bincount(bins[rows, k], weights=preds.weight[rows], minlength=512)
                np.testing.assert_allclose(aggs[name].hist[k, is_k], expected)
    # p >= edge[j] holds exactly for the rows in bins j and above.
    edges = bin_edges(512)
    p = preds.proba.ravel()
    b = score_bins(p, 512)
    for j in (1, 100, 256, 400, 511):
        assert np.array_equal(p >= edges[j], b >= j)


# -------------------------------------------------- vectorised Wilson intervals

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402

from erranalysis.stats.intervals import wilson_array  # noqa: E402


@hsettings(max_examples=200, deadline=None)
@given(n=st.integers(1, 200), confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_array_equals_the_scalar_wilson_everywhere(n, confidence):
    # Every rate k/n (0 and 1 included) on n rows, element by element.
    p = np.arange(n + 1) / n
    lo, hi = wilson_array(p, np.full(n + 1, n), confidence)
    expected = np.array([wilson(float(x), n, confidence) for x in p])
    np.testing.assert_allclose(lo, expected[:, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(hi, expected[:, 1], rtol=0, atol=1e-15)
    assert np.all(lo <= p) and np.all(hi >= p)
    assert lo[0] == 0.0 and hi[-1] == 1.0


def test_wilson_array_holds_the_rate_at_every_size_up_to_200():
    # At 0% and 100% the closed form misses 0 or 1 by one rounding step for sizes such
    # as 5, 10, 13, 17 and 20: the interval must still start at 0 and end at 1 exactly.
    for n in range(1, 201):
        p = np.arange(n + 1) / n
        lo, hi = wilson_array(p, np.full(n + 1, float(n)))
        assert lo[0] == 0.0 and hi[-1] == 1.0, n
        assert np.all(lo <= p) and np.all(hi >= p), n
        assert np.all(lo >= 0.0) and np.all(hi <= 1.0), n


def test_wilson_array_matches_scipy():
    from scipy.stats import binomtest

    for n in (1, 2, 5, 10, 13, 17, 20, 34, 100, 199, 200):
        p = np.arange(n + 1) / n
        lo, hi = wilson_array(p, np.full(n + 1, n))
        for k in range(n + 1):
            ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
            assert lo[k] == pytest.approx(ci.low, abs=1e-12) and hi[k] == pytest.approx(ci.high, abs=1e-12)


def test_wilson_array_undefined_rates_and_sizes_give_the_whole_range():
    lo, hi = wilson_array(np.array([0.5, np.nan, 0.2, 0.3]), np.array([0.0, 3.0, -1.0, np.nan]))
    assert lo.tolist() == [0.0] * 4 and hi.tolist() == [1.0] * 4
    assert [wilson(x, m) for x, m in ((0.5, 0), (float("nan"), 3), (0.2, -1))] == [(0.0, 1.0)] * 3
    # Newcombe (1998): 81/263 -> 0.2553 to 0.3662, as for the scalar.
    lo, hi = wilson_array(np.array([81 / 263]), np.array([263]))
    assert lo[0] == pytest.approx(0.2553, abs=5e-5) and hi[0] == pytest.approx(0.3662, abs=5e-5)


# ------------------------------------------------- reliability bins merged for drawing

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402

from erranalysis.stats.metrics import MIN_RELIABILITY_BIN_ROWS, merge_bins  # noqa: E402


def _bins(weights, seed=0):
    rng = np.random.default_rng(seed)
    k = len(weights)
    return [{"lower": b / k, "upper": (b + 1) / k, "confidence": (b + rng.random()) / k,
             "frequency": float(rng.random()), "weight": float(w)} for b, w in enumerate(weights) if w > 0]


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 200), min_size=1, max_size=20).filter(any), st.integers(1, 100))
def test_merged_bins_hold_every_row_and_the_minimum(weights, minimum):
    bins = _bins(weights)
    merged = merge_bins(bins, minimum)
    total = sum(weights)
    assert sum(b["weight"] for b in merged) == total
    if total >= minimum:
        assert all(b["weight"] >= minimum for b in merged)
    else:
        assert len(merged) == 1
    # the same sums: merging moves no row and no probability
    for key in ("confidence", "frequency"):
        assert sum(b[key] * b["weight"] for b in merged) == pytest.approx(sum(b[key] * b["weight"] for b in bins))
    # contiguous, in order, covering the bins it replaces
    assert merged[0]["lower"] == bins[0]["lower"] and merged[-1]["upper"] == bins[-1]["upper"]
    assert all(a["upper"] <= b["lower"] for a, b in zip(merged, merged[1:]))
    # bins already holding the minimum stay as they are when their neighbours do too
    if all(w >= minimum for w in weights):
        assert merged == bins


def test_sparse_bins_merge_but_ece_is_measured_on_the_bins():
    weights = [1, 0, 2, 1, 0, 3, 40, 1, 2, 80, 120, 500]
    bins = _bins(weights)
    merged = merge_bins(bins, MIN_RELIABILITY_BIN_ROWS)
    assert [b["weight"] for b in merged] == [47, 83, 120, 500]
    assert merged[0]["lower"] == 0.0 and merged[0]["upper"] == 7 / 12
    assert merge_bins(bins[:3], MIN_RELIABILITY_BIN_ROWS) == [
        {"lower": 0.0, "upper": 4 / 12, "weight": 4.0,
         "confidence": pytest.approx(sum(b["confidence"] * b["weight"] for b in bins[:3]) / 4),
         "frequency": pytest.approx(sum(b["frequency"] * b["weight"] for b in bins[:3]) / 4)}]
    assert merge_bins([], 30) == []


def test_reliability_figure_leaves_the_json_bins_alone():
    rng = np.random.default_rng(0)
    n = 600
    y = (rng.random(n) < 0.5).astype(int)
    s = np.clip(rng.beta(0.3, 0.3, n), 0, 1)
    r = erranalysis.analyze(pd.DataFrame({"label": y, "score": s, "split": "test"}))
    before = [dict(b) for b in r.calibration.bins]
    assert min(b["weight"] for b in before) < MIN_RELIABILITY_BIN_ROWS  # sparse middle bins
    from erranalysis import figures

    svg = figures.reliability(r)
    assert r.calibration.bins == before
    assert r.to_dict()["calibration"]["bins"] == before
    assert svg.startswith("<svg")
    assert len(merge_bins(before, MIN_RELIABILITY_BIN_ROWS)) < len(before)


def test_an_error_rate_is_the_wrong_share_itself():
    # 3 wrong of 80: 0.0375 exactly, shown as 3.8% (one minus the right share would be
    # 0.03749999999999998, shown as 3.7%).
    y = np.zeros(80, dtype=int)
    y[40:] = 1
    pred = y.copy()
    pred[:3] = 1
    r = erranalysis.analyze(y_true=y, y_pred=pred)
    assert r.errors["test"].error == 3 / 80
