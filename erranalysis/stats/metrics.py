"""Metrics computed from per-split aggregates: errors, per-class scores, baselines,
ranking quality, threshold sweeps, calibration and class balance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..result import SPLITS, Baseline, CalibrationResult, ClassMetrics, SplitErrorRate
from .aggregates import SplitAggregate, bin_edges
from .intervals import chi_square, kish_n, normal_interval, wilson, z_value

if TYPE_CHECKING:
    from ..io.validate import Predictions

METRICS = ("error", "balanced_error")


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        from ..errors import UsageError

        raise UsageError(f"--metric must be one of {', '.join(METRICS)}. Got {metric!r} instead.")


def split_error(agg: SplitAggregate, metric: str = "error", confidence: float = 0.95) -> SplitErrorRate:
    """Error of one split in ``metric`` with a ``confidence`` interval.

    ``error`` is the (weighted) misclassification rate with a Wilson interval on the
    Kish effective row count. ``balanced_error`` is one minus the mean recall over the
    classes present, with a normal interval from the per-class binomial variances.
    """
    _check_metric(metric)
    n_eff = kish_n(agg.weight_sum, agg.weight_sq_sum)
    cm = agg.confusion
    total = cm.sum()
    if metric == "error":
        # The wrong share itself (not one minus the right share): 3 of 80 is 0.0375, not
        # 0.03749999999999998, which would show as 3.7%.
        value = float(total - np.trace(cm)) / total if total > 0 else float("nan")
        ci = wilson(value, n_eff, confidence)
    else:
        support = cm.sum(axis=1)
        present = support > 0
        recall = np.diag(cm)[present] / support[present]
        value = 1.0 - float(recall.mean())
        # Per-class effective rows: the class's share of the split's effective rows.
        n_k = support[present] / total * n_eff
        # Agresti–Coull adjusted recalls keep the variance honest when a recall is 0 or 1
        # (the plain plug-in variance would then be zero).
        z2 = z_value(confidence) ** 2
        adjusted = (recall * n_k + z2 / 2) / (n_k + z2)
        var = float(np.sum(adjusted * (1 - adjusted) / (n_k + z2))) / present.sum() ** 2
        ci = normal_interval(value, math.sqrt(var), confidence)
    return SplitErrorRate(agg.split, value, ci, agg.n_rows, n_eff)


def class_scores(
    confusion: np.ndarray,
    labels: Sequence[str] | None = None,
    aucs: Sequence[float | None] | None = None,
    whole: bool = False,
) -> list[ClassMetrics]:
    """Per-class scores, one per row of ``confusion`` in class-code order; an ill-defined
    ratio (0/0) is 0, as scikit-learn's zero_division=0.

    ``labels`` name the classes (their codes as text without it), ``aucs`` give each
    class's ROC AUC, and ``whole`` keeps support and predicted counts as integers, as
    they are without weights.
    """
    tp = np.diag(confusion)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        denom = precision + recall
        f1 = np.where(denom > 0, 2 * precision * recall / denom, 0.0)
    count = int if whole else float
    return [
        ClassMetrics(
            str(k) if labels is None else labels[k], float(precision[k]), float(recall[k]), float(f1[k]),
            count(support[k]), count(predicted[k]), None if aucs is None else aucs[k],
        )
        for k in range(confusion.shape[0])
    ]


def baseline_errors(
    agg: SplitAggregate, prior: np.ndarray, metric: str = "error", labels: Sequence[str] | None = None,
    prior_from: str = "train",
) -> Baseline:
    """The model's error on the split of ``agg`` beside the error of always predicting
    the most common class of ``prior`` and of guessing at random with the class
    frequencies ``prior`` (both usually taken from train: ``prior_from``). ``labels``
    name the classes (their codes as text without it)."""
    support = agg.support
    total = support.sum()
    q = support / total
    # Among classes tied for most frequent, take the strongest baseline on this split,
    # so the choice never depends on class names.
    tied = np.flatnonzero(prior >= prior.max() - 1e-12)
    majority = int(tied[np.argmax(q[tied])])
    if metric == "error":
        maj = 1.0 - float(q[majority])
        strat = 1.0 - float(np.dot(prior, q))
    else:
        present = support > 0
        maj = 1.0 - 1.0 / present.sum()
        strat = 1.0 - float(prior[present].sum()) / present.sum()
    name = str(majority) if labels is None else labels[majority]
    return Baseline(agg.split, split_error(agg, metric).error, maj, strat, name, prior_from)


def roc_auc_from_hist(pos: np.ndarray, neg: np.ndarray) -> float:
    """One-vs-rest ROC AUC from the histograms of positives and negatives.

    Pairs in the same bin count one half, as tied scores do; the difference from the
    exact AUC is bounded by the share of positive-negative pairs that share a bin.
    """
    p_total, n_total = pos.sum(), neg.sum()
    if p_total <= 0 or n_total <= 0:
        return float("nan")
    # As shares of their totals first: weighted totals can be so small (or large) that
    # their product leaves the range of floats.
    pos, neg = pos / p_total, neg / n_total
    pos_below = np.cumsum(pos) - pos  # positives in strictly lower bins
    wins = np.dot(neg, (1.0 - pos_below - pos)) + 0.5 * np.dot(neg, pos)
    return float(min(max(wins, 0.0), 1.0))


def roc_auc_exact(scores: np.ndarray, is_positive: np.ndarray, weights: np.ndarray | None = None) -> float:
    """One-vs-rest ROC AUC from the rows themselves: the (weighted) share of
    positive-negative pairs in which the positive scores higher, tied pairs counting one
    half; ``sklearn.metrics.roc_auc_score(is_positive, scores, sample_weight=weights)``.

    One sort of the scores; rows of equal score form one group, whose positives beat
    the negatives of the groups below and tie with its own. Without weights the pairs
    are counted in integers (exact up to the final division); with weights, on shares
    of each side's total so that no product leaves the range of floats. NaN when either
    side is empty or weighs nothing.
    """
    scores = np.asarray(scores)
    is_positive = np.asarray(is_positive, dtype=bool)
    n = scores.shape[0]
    if n == 0:
        return float("nan")
    order = np.argsort(scores)
    s = scores[order]
    pos = is_positive[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    if weights is None:
        # Positives up to the end of each group, then per group.
        ends = np.append(starts[1:], n) - 1
        pos_upto = np.cumsum(pos, dtype=np.int64)[ends]
        g_pos = np.diff(pos_upto, prepend=0)
        g_neg = np.diff(np.append(starts, n)) - g_pos
        p_total = int(pos_upto[-1])
        n_total = n - p_total
        if p_total == 0 or n_total == 0:
            return float("nan")
        neg_below = np.cumsum(g_neg) - g_neg
        twice_wins = int(np.dot(g_pos, 2 * neg_below + g_neg))
        return twice_wins / (2 * p_total * n_total)
    w = np.asarray(weights, dtype=np.float64)[order]
    w_pos = np.where(pos, w, 0.0)
    w_neg = w - w_pos
    p_total, n_total = w_pos.sum(), w_neg.sum()
    if not (p_total > 0 and n_total > 0):
        return float("nan")
    g_pos = np.add.reduceat(w_pos, starts) / p_total
    g_neg = np.add.reduceat(w_neg, starts) / n_total
    neg_below = np.concatenate([[0.0], np.cumsum(g_neg)[:-1]])
    wins = float(np.dot(g_pos, neg_below) + 0.5 * np.dot(g_pos, g_neg))
    return min(max(wins, 0.0), 1.0)


def per_class_auc(
    aggs: dict[str, SplitAggregate], sample: Predictions | None, splits=None
) -> dict[str, list[float | None]]:
    """Per-class one-vs-rest ROC AUC of each split in ``splits`` (default: every split
    of ``aggs``): ``{split: [AUC of class 0, class 1, ...]}``, None where it is undefined
    (no row of the class, or no other row, or no probabilities).

    Rule: a split's AUCs are exact (:func:`roc_auc_exact`, as scikit-learn computes
    them) when the row sample (:meth:`~.accumulate.Accumulator.sample_predictions`)
    holds every row of that split, that is when it has as many rows of the split as
    ``aggs[split].n_rows``: the sample is a subset of the rows, so equal counts mean
    the same rows. It keeps up to 100,000 val, test and train_val rows together and
    20,000 train rows (fewer with thousands of classes), so a split is exact when it
    and the other held-out splits are that small. Otherwise the AUCs come from the
    split's score histograms (:func:`roc_auc_from_hist`), within 1e-3 of the exact
    value in practice at the default 8192 bins. The sample's order does not matter.
    """
    names = list(aggs) if splits is None else list(splits)
    out = {}
    for name in names:
        agg = aggs[name]
        k_count = agg.confusion.shape[0]
        aucs = [float("nan")] * k_count
        rows = None
        if sample is not None and sample.proba is not None:
            rows = np.flatnonzero(sample.split == SPLITS.index(name))
        if sample is not None and sample.proba is not None and rows is not None and rows.size == agg.n_rows:
            aucs = _exact_aucs(sample, sample.proba, rows)
        elif agg.hist is not None:
            aucs = [roc_auc_from_hist(agg.hist[k, 1], agg.hist[k, 0]) for k in range(k_count)]
        out[name] = [None if math.isnan(a) else float(a) for a in aucs]
    return out


def _exact_aucs(sample: Predictions, proba: np.ndarray, rows: np.ndarray) -> list[float]:
    """Per-class one-vs-rest ROC AUC of the sample's ``rows`` (``proba``: its probabilities)."""
    every = rows.size == sample.n_rows  # no copy of the probabilities then

    def pick(a: np.ndarray) -> np.ndarray:
        return a if every else a[rows]

    y = pick(sample.y)
    w = None if sample.weight is None else pick(sample.weight)
    return [roc_auc_exact(pick(proba[:, k]), y == k, w) for k in range(proba.shape[1])]


@dataclass(frozen=True)
class Sweep:
    """Precision, recall and F1 of "predict k when P(k) >= t" at every bin edge."""

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    positives: float
    negatives: float

    @property
    def recall(self) -> np.ndarray:
        return self.tp / self.positives if self.positives > 0 else np.zeros_like(self.tp)

    @property
    def precision(self) -> np.ndarray:
        pred = self.tp + self.fp
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(pred > 0, self.tp / pred, 1.0)

    @property
    def f1(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            denom = 2 * self.tp + self.fp + (self.positives - self.tp)
            return np.where(denom > 0, 2 * self.tp / denom, 0.0)

    def at(self, j: int) -> dict:
        """Scores at edge ``j``: precision, recall, F1 and the one-vs-rest error."""
        total = self.positives + self.negatives
        fn = self.positives - self.tp[j]
        return {
            "threshold": float(self.thresholds[j]),
            "precision": float(self.precision[j]),
            "recall": float(self.recall[j]),
            "f1": float(self.f1[j]),
            "error": float((self.fp[j] + fn) / total) if total > 0 else float("nan"),
        }


def sweep_from_hist(pos: np.ndarray, neg: np.ndarray) -> Sweep:
    """Threshold sweep at the bin edges; exact, as the edges are the bin boundaries."""
    n_bins = len(pos)
    tp = np.concatenate([np.cumsum(pos[::-1])[::-1], [0.0]])
    fp = np.concatenate([np.cumsum(neg[::-1])[::-1], [0.0]])
    return Sweep(bin_edges(n_bins), tp, fp, float(pos.sum()), float(neg.sum()))


def best_f1_edge(sweep: Sweep) -> int:
    """Edge that maximises F1; among ties, the one in the middle of the tied run."""
    f1 = sweep.f1
    best = np.flatnonzero(f1 >= f1.max() - 1e-12)
    return int(best[len(best) // 2])


def calibration(agg: SplitAggregate, kind: str, confidence: float = 0.95) -> CalibrationResult | None:
    """ECE: the weight-averaged gap between mean probability and observed frequency.

    ``noise_floor`` is the ECE a perfectly calibrated model would show on this many
    rows by chance (the expected absolute deviation of each bin's frequency), so an
    ECE near it is not evidence of miscalibration.

    ``overconfidence`` is the same weighted average without the absolute value, taken on
    the confidence in the predicted class: for the probability of the predicted class
    (``top_label``) that is the bin's mean probability minus its accuracy; for the
    positive-class probability, a bin below 0.5 predicts the other class, so its gap
    counts with the opposite sign (a probability of 0.1 for rows that are positive 30% of
    the time is over-confident, like 0.9 for rows positive 70% of the time). Above zero
    the model claims more certainty than it earns. ``overconfidence_ci`` is its
    ``confidence`` interval, from its standard error given the bins' rows (binomial
    frequencies, at least the calibrated spread).
    """
    if agg.calib is None:
        return None
    w, sum_p, sum_o = agg.calib[:, 0], agg.calib[:, 1], agg.calib[:, 2]
    total = w.sum()
    if total <= 0:
        return None
    n_bins = len(w)
    ratio = kish_n(agg.weight_sum, agg.weight_sq_sum) / agg.weight_sum if agg.weight_sum > 0 else 1.0
    bins, ece, floor, over, var = [], 0.0, 0.0, 0.0, 0.0
    for b in range(n_bins):
        if w[b] <= 0:
            continue
        conf = sum_p[b] / w[b]
        acc = sum_o[b] / w[b]
        ece += w[b] / total * abs(conf - acc)
        side = 1.0 if kind != "positive_class" else float(np.sign(conf - 0.5))
        over += w[b] / total * side * (conf - acc)
        n_b = w[b] * ratio
        floor += w[b] / total * math.sqrt(2 / math.pi) * math.sqrt(max(conf * (1 - conf), 0.0) / max(n_b, 1e-12))
        var += (w[b] / total) ** 2 * max(acc * (1 - acc), conf * (1 - conf)) / max(n_b, 1e-12)
        bins.append({
            "lower": b / n_bins,
            "upper": (b + 1) / n_bins,
            "confidence": float(conf),
            "frequency": float(acc),
            "weight": float(w[b]),
        })
    half = z_value(confidence) * float(math.sqrt(var))
    return CalibrationResult(agg.split, kind, float(ece), float(floor), bins, float(over),
                             (float(over) - half, float(over) + half))


#: Fewest rows in a bin of the reliability diagram. A bin's observed frequency on n rows
#: has a standard error of up to 0.5/√n: 9 points at 30 rows, where one-row bins swing
#: from 0 to 100% and draw a zigzag that says nothing about the model.
MIN_RELIABILITY_BIN_ROWS = 30


def merge_bins(bins: list, min_weight: float) -> list:
    """Adjacent calibration bins merged, from low probability up, until each holds at
    least ``min_weight``; a remainder below it joins the last merged bin.

    Confidence and frequency are weight-averaged, so the merged bins hold the same rows
    and the same sums as the bins they replace. With less than ``min_weight`` in all, a
    single bin holds every row. The ECE is measured on the unmerged bins; this is for
    drawing.
    """
    out: list = []
    group: list = []

    def close():
        if len(group) == 1:  # as it was, to the last bit
            out.append(dict(group[0]))
            return
        w = sum(b["weight"] for b in group)
        out.append({
            "lower": group[0]["lower"],
            "upper": group[-1]["upper"],
            "confidence": sum(b["confidence"] * b["weight"] for b in group) / w,
            "frequency": sum(b["frequency"] * b["weight"] for b in group) / w,
            "weight": w,
        })

    for b in sorted((b for b in bins if b["weight"] > 0), key=lambda b: b["lower"]):
        group.append(b)
        if sum(g["weight"] for g in group) >= min_weight:
            close()
            group = []
    if group:
        if out:  # too few rows left for a bin of their own: into the last one
            last = out.pop()
            group = [last] + group
        close()
    return out


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total-variation distance between two class distributions (0 to 1)."""
    return 0.5 * float(np.abs(p - q).sum())


def label_shift_test(counts_a: np.ndarray, counts_b: np.ndarray) -> tuple[float, float]:
    """Pearson chi-square test of equal class distributions in two splits (classes
    expected fewer than 5 times pooled); returns (statistic, p-value)."""
    return chi_square(np.vstack([counts_a, counts_b]), pool_sparse=True)
