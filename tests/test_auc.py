"""One-vs-rest ROC AUC: exact from the rows, and from score histograms that cover every
float64 probability; the histogram bins against their own edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st
from hypothesis.extra import numpy as hnp
from sklearn import metrics as skm

from erranalysis.io import validate_frame
from erranalysis.io.validate import SPLITS
from erranalysis.settings import Settings
from erranalysis.stats.accumulate import Accumulator, layout_for
from erranalysis.stats.aggregates import LOGIT_MAX, LOGIT_MIN, bin_edges, compute_aggregates, score_bins
from erranalysis.stats.metrics import per_class_auc, roc_auc_exact, roc_auc_from_hist, sweep_from_hist

TINY = np.nextafter(0.0, 1.0)  # 2**-1074, the smallest subnormal


def _state(frame: pd.DataFrame):
    """Aggregates and row sample as the engine builds them (one batch)."""
    preds = validate_frame(frame)
    acc = Accumulator(layout_for(preds, Settings()))
    acc.add(preds)
    present = [s for s in SPLITS if s in acc.aggs]
    return preds, acc.aggs, acc.sample_predictions(preds), present


def _proba_frame(proba: np.ndarray, y: np.ndarray, split=None, weight=None) -> pd.DataFrame:
    frame = pd.DataFrame({f"proba_{k}": proba[:, k] for k in range(proba.shape[1])})
    frame["label"] = y
    if split is not None:
        frame["split"] = split
    if weight is not None:
        frame["weight"] = weight
    return frame


def _sklearn_aucs(proba, y, weight=None) -> list[float]:
    return [skm.roc_auc_score(y == k, proba[:, k], sample_weight=weight) for k in range(proba.shape[1])]


@pytest.fixture(scope="module")
def digits_nb():
    """Gaussian naive Bayes fitted on the first half of the digits, scored on the second:
    an overconfident model (a third of its probabilities are exactly 0, many below 1e-300)."""
    from sklearn.datasets import load_digits
    from sklearn.naive_bayes import GaussianNB

    x, y = load_digits(return_X_y=True)
    half = len(y) // 2
    proba = GaussianNB().fit(x[:half], y[:half]).predict_proba(x[half:])
    return proba, y[half:]


# ------------------------------------------------------------------ Gaussian NB on digits


def test_gaussian_nb_on_digits_exact_and_from_histograms(digits_nb):
    proba, y = digits_nb
    assert (proba == 0).mean() > 0.3 and ((proba > 0) & (proba < 1e-300)).any()
    expected = _sklearn_aucs(proba, y)
    preds, aggs, sample, present = _state(_proba_frame(proba, y))
    assert present == ["test"] and sample.n_rows == aggs["test"].n_rows  # the sample holds every row
    exact = per_class_auc(aggs, sample, present)["test"]
    np.testing.assert_allclose(exact, expected, rtol=0, atol=1e-12)
    # Without the rows: the histograms, whose bins now reach the smallest subnormal
    # (with bins uniform in logit over ±40 the classes were off by up to 2.5e-2).
    from_hist = per_class_auc(aggs, None, present)["test"]
    np.testing.assert_allclose(from_hist, expected, rtol=0, atol=1e-3)
    assert max(abs(a - b) for a, b in zip(from_hist, expected)) < 1e-4
    assert abs(np.mean(from_hist) - np.mean(expected)) < 1e-4


def test_a_split_of_a_few_hundred_rows(digits_nb):
    proba, y = digits_nb
    split = np.where(np.arange(len(y)) < 300, "val", "test")
    preds, aggs, sample, present = _state(_proba_frame(proba, y, split))
    assert aggs["val"].n_rows == 300
    exact = per_class_auc(aggs, sample, present)
    from_hist = per_class_auc(aggs, None, present)
    for name, rows in (("val", slice(0, 300)), ("test", slice(300, None))):
        expected = _sklearn_aucs(proba[rows], y[rows])
        np.testing.assert_allclose(exact[name], expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(from_hist[name], expected, rtol=0, atol=1e-3)


def test_weights_on_both_paths(digits_nb):
    proba, y = digits_nb
    w = np.random.default_rng(4).uniform(0.1, 3.0, len(y))
    preds, aggs, sample, present = _state(_proba_frame(proba, y, weight=w))
    expected = _sklearn_aucs(proba, y, w)
    np.testing.assert_allclose(per_class_auc(aggs, sample, present)["test"], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(per_class_auc(aggs, None, present)["test"], expected, rtol=0, atol=1e-3)


# ------------------------------------------------------------------ the histogram path


def test_large_split_goes_through_the_histograms_within_1e_3():
    # 150,000 test rows: more than the sample keeps, so the histograms answer. Logits
    # spread over hundreds of units put many probabilities below 1e-18 and near 1.
    rng = np.random.default_rng(2)
    n, k = 150_000, 3
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) * 40
    logits[np.arange(n), y] += 60
    logits -= logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    assert (proba < 1e-18).mean() > 0.3
    split = np.where(np.arange(n) < 1000, "train", "test")
    preds, aggs, sample, present = _state(_proba_frame(proba, y, split))
    assert (sample.split == SPLITS.index("test")).sum() < aggs["test"].n_rows
    got = per_class_auc(aggs, sample, present)
    hist = aggs["test"].hist
    assert got["test"] == [roc_auc_from_hist(hist[c, 1], hist[c, 0]) for c in range(k)]
    np.testing.assert_allclose(got["test"], _sklearn_aucs(proba[1000:], y[1000:]), rtol=0, atol=1e-3)
    # train (1,000 rows) is whole in the sample: exact.
    np.testing.assert_allclose(got["train"], _sklearn_aucs(proba[:1000], y[:1000]), rtol=0, atol=1e-12)


def test_exact_zero_and_one_have_bins_of_their_own():
    n_bins = 8192
    edges = bin_edges(n_bins)
    assert edges[0] == 0.0 and edges[1] == TINY and edges[-2] == 1.0 and edges[-1] == 1.0
    assert np.all(np.diff(edges) >= 0)
    p = np.array([0.0, TINY, 1e-300, 0.5, 1 - 2**-53, 1.0])
    b = score_bins(p, n_bins)
    assert b[0] == 0 and b[-1] == n_bins - 1 and np.all(b[1:-1] > 0) and np.all(b[1:-1] < n_bins - 1)
    assert np.all(np.diff(b) > 0)
    # Scores at 0, 1 and in between, with ties: the histogram AUC is the exact one.
    y = np.array([0, 0, 1, 1, 0, 1, 1, 0, 1, 0])
    s = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1e-300, 1e-200, 0.5, 0.5])
    expected = skm.roc_auc_score(y, s)
    preds = validate_frame(pd.DataFrame({"label": y, "score": s}))
    agg = compute_aggregates(preds)["test"]
    assert roc_auc_from_hist(agg.hist[1, 1], agg.hist[1, 0]) == pytest.approx(expected, abs=1e-15)
    assert roc_auc_exact(s, y == 1) == pytest.approx(expected, abs=1e-15)
    # The threshold sweep counts "p >= edge" exactly at the end bins too.
    sweep = sweep_from_hist(agg.hist[1, 1], agg.hist[1, 0])
    assert sweep.tp[n_bins - 1] == 2 and sweep.fp[n_bins - 1] == 1  # p = 1 exactly
    assert sweep.tp[1] == 4 and sweep.fp[1] == 3  # every p > 0


def test_undefined_aucs_are_none():
    frame = pd.DataFrame({"label": [0, 0, 1, 1, 2, 2], "split": ["train"] * 4 + ["test"] * 2})
    for k in range(3):
        frame[f"proba_{k}"] = 1 / 3
    preds, aggs, sample, present = _state(frame)
    got = per_class_auc(aggs, sample, present)
    assert got["test"] == [None, None, None]  # test holds class 2 only
    assert got["train"][2] is None and got["train"][0] == 0.5
    assert per_class_auc(aggs, None, ["test"])["test"] == [None, None, None]
    assert np.isnan(roc_auc_exact([0.1, 0.2], [True, True]))
    assert np.isnan(roc_auc_exact([0.1, 0.2], [True, False], weights=[0.0, 1.0]))


def test_the_resolution_is_kept_where_scores_usually_are():
    # Bins at least as fine as the former 8192 bins uniform in logit over ±40, for |logit| <= 10.
    for n_bins in (256, 8192):
        edges = bin_edges(n_bins)
        inner = edges[(edges > 1 / (1 + np.exp(10))) & (edges < 1 / (1 + np.exp(-10)))]
        widths = np.diff(np.log(inner / (1 - inner)))
        assert widths.max() <= 80 / n_bins


# ------------------------------------------------------------------ property tests

N_BINS = st.sampled_from([4, 16, 256, 1000, 8192]) | st.integers(4, 9000)


def _check_bins(p: np.ndarray, n_bins: int) -> None:
    edges = bin_edges(n_bins)
    b = score_bins(p, n_bins)
    assert b.shape == p.shape and b.dtype == np.int64
    assert b.min() >= 0 and b.max() <= n_bins - 1
    v = p.astype(np.float64)
    assert np.all(edges[b] <= v)
    last = b == n_bins - 1
    assert np.all(v[~last] < edges[b[~last] + 1])
    assert np.all(v[last] == 1.0)
    # Hence "p >= edge j" counts exactly the rows in bins j and above.
    for j in (0, 1, n_bins // 2, n_bins - 2, n_bins - 1):
        assert np.array_equal(v >= edges[j], b >= j)


@st.composite
def probabilities(draw, n_bins):
    """Probabilities where binning is hard: at, just below and just above edges; 0 and
    1; subnormals; near 1; anywhere in [0, 1]."""
    edges = bin_edges(n_bins)
    near_edge = st.integers(0, n_bins).map(lambda j: edges[j]).flatmap(
        lambda e: st.sampled_from([e, np.nextafter(e, 0.0), np.nextafter(e, 1.0)]))
    special = st.sampled_from([0.0, 1.0, TINY, 2 * TINY, 2.0**-1022, 0.5, 1 - 2**-53, 1 - 2**-52,
                               np.nextafter(0.5, 0), float(np.exp(LOGIT_MIN)), 1 / (1 + np.exp(-LOGIT_MAX))])
    subnormal = st.integers(1, 2**52 - 1).map(lambda m: m * TINY)
    near_one = st.integers(1, 2**40).map(lambda m: 1.0 - m * 2.0**-53)
    anywhere = st.floats(0.0, 1.0, allow_subnormal=True)
    logit = st.floats(-760.0, 40.0).map(lambda x: float(1 / (1 + np.exp(-x))) if x > -700 else float(np.exp(x)))
    values = draw(st.lists(near_edge | special | subnormal | near_one | anywhere | logit, min_size=1, max_size=60))
    return np.clip(np.array(values, dtype=np.float64), 0.0, 1.0)


@hsettings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data(), n_bins=N_BINS)
def test_score_bins_agree_exactly_with_the_edges(data, n_bins):
    p = data.draw(probabilities(n_bins))
    _check_bins(p, n_bins)
    # Float32 inputs: binned by their exact value.
    _check_bins(p.astype(np.float32), n_bins)
    # Blocks of a column-major (n, K) array, as the histograms pass them.
    k = 3
    m = (len(p) // k) * k
    if m:
        block = np.asfortranarray(np.resize(p, (m // k + 2, k)))[1:-1]
        _check_bins(block, n_bins)
        assert score_bins(block, n_bins).flags.f_contiguous


@hsettings(max_examples=100, deadline=None, derandomize=True)
@given(p=hnp.arrays(st.sampled_from([np.float64, np.float32]), hnp.array_shapes(max_dims=3, max_side=6),
                    elements=st.floats(0.0, 1.0, width=32)), n_bins=st.sampled_from([4, 256, 8192]))
def test_score_bins_any_shape_and_dtype(p, n_bins):
    _check_bins(p, n_bins)


@hsettings(max_examples=400, deadline=None, derandomize=True)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.0, 0.25, 0.5, 1e-300, 1 - 2**-53]) | st.floats(0.0, 1.0),
            st.booleans(),
            st.floats(0.0, 10.0) | st.sampled_from([0.0, 1.0, 1e-6]),
        ),
        min_size=2,
        max_size=80,
    ),
    weighted=st.booleans(),
)
def test_roc_auc_exact_equals_sklearn(rows, weighted):
    s = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    w = np.array([r[2] for r in rows]) if weighted else None
    got = roc_auc_exact(s, y, w)
    if w is not None and (w[y].sum() == 0 or w[~y].sum() == 0) or y.all() or not y.any():
        assert np.isnan(got)
        return
    expected = skm.roc_auc_score(y, s, sample_weight=w)
    assert got == pytest.approx(expected, abs=1e-12)
    # Ties, reordering and a common weight factor do not matter.
    order = np.random.default_rng(0).permutation(len(s))
    again = roc_auc_exact(s[order], y[order], None if w is None else 3.0 * w[order])
    assert again == pytest.approx(got, abs=1e-12)
    if w is not None and w[w > 0].min() > 1e-8:  # weights whose products leave the range of floats
        for scale in (1e300, 1e-300):
            assert roc_auc_exact(s, y, w * scale) == pytest.approx(got, abs=1e-12)
