"""Threshold sweeps: pick a per-class threshold on one split, measure it on another."""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass, field, replace

import numpy as np

from ..io.validate import SPLITS, Predictions
from ..result import ThresholdAnalysis
from ..settings import Settings
from .aggregates import SplitAggregate, bin_edges
from .intervals import paired_difference
from .metrics import best_f1_edge, class_scores, roc_auc_from_hist, sweep_from_hist

#: Points kept for the sweep shown in the report (thresholds 0.01, 0.02, ... 0.99).
_DISPLAY_GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)


def _display_sweep(sweep) -> list[dict]:
    edges = sweep.thresholds
    idx = np.unique(np.clip(np.searchsorted(edges, _DISPLAY_GRID), 0, len(edges) - 1))
    return [
        {
            "threshold": float(edges[j]),
            "precision": float(sweep.precision[j]),
            "recall": float(sweep.recall[j]),
            "f1": float(sweep.f1[j]),
        }
        for j in idx
    ]


def _class_state(confusion: np.ndarray, k: int) -> dict:
    scores = class_scores(confusion)
    total = confusion.sum()
    recalls = np.array([c.recall for c in scores if c.support > 0])
    return {
        "error": float((total - np.trace(confusion)) / total),
        "balanced_error": float(1 - recalls.mean()),
        "precision": scores[k].precision,
        "recall": scores[k].recall,
        "f1": scores[k].f1,
    }


def _total(matrices: list[np.ndarray]) -> np.ndarray:
    """The sum of the matrices, added in order."""
    return functools.reduce(operator.add, matrices)


def recommended(aggs: dict[str, SplitAggregate], k: int, chosen_on: str) -> tuple[float, int]:
    """The best-F1 threshold on P(k) on ``chosen_on``, and its bin edge index."""
    hist = aggs[chosen_on].score_hist
    j = best_f1_edge(sweep_from_hist(hist[k, 1], hist[k, 0]))
    return float(bin_edges(hist.shape[-1])[j]), j


def binary_override(agg: SplitAggregate, k: int, j: int) -> np.ndarray:
    """Confusion matrix of "predict k iff P(k) >= edge j" on a binary split, from its histogram.

    ``p >= edges[j]`` holds exactly for the rows in bins ``j, j+1, ...``, so the counts are exact.
    """
    hist = agg.score_hist
    above_k, above_other = hist[k, 1, j:].sum(), hist[k, 0, j:].sum()
    cm = np.zeros((2, 2))
    cm[k, k], cm[k, 1 - k] = above_k, hist[k, 1].sum() - above_k
    cm[1 - k, k], cm[1 - k, 1 - k] = above_other, hist[k, 0].sum() - above_other
    return cm


@dataclass
class OverrideCounts:
    """Confusion matrices per split after predicting class k wherever P(k) >= t.

    Rows below the threshold keep their prediction, so the rule only adds predictions
    of k. Mergeable, for a second pass over the rows when several classes are tuned.
    """

    specs: tuple  # ((k, t), ...)
    n_classes: int
    counts: dict = field(default_factory=dict)  # (k, t) -> [split, actual, predicted]

    def add(self, preds: Predictions, offset: int = 0, row_numbers: bool = True) -> None:
        n, s_count = self.n_classes, len(SPLITS)
        assert preds.proba is not None  # thresholds are tuned only on predictions with probabilities
        base = preds.split.astype(np.int64) * n * n + preds.y.astype(np.int64) * n
        for k, t in self.specs:
            new = np.where(preds.proba[:, k] >= t, k, preds.pred)
            cm = np.bincount(base + new, weights=preds.weight, minlength=s_count * n * n).reshape(s_count, n, n)
            self.counts[(k, t)] = cm if (k, t) not in self.counts else self.counts[(k, t)] + cm

    def merge(self, other: "OverrideCounts") -> "OverrideCounts":
        out = OverrideCounts(self.specs, self.n_classes, dict(self.counts))
        for key, cm in other.counts.items():
            out.counts[key] = cm if key not in out.counts else out.counts[key] + cm
        return out


def paired_gain(before: np.ndarray, after: np.ndarray, confidence: float) -> dict:
    """The error a one-directional threshold change removes, with a paired interval.

    The rule moves rows into one class (or, for a raised binary threshold, out of it),
    so each class's correct count only rises or only falls: the rows it fixes and the
    rows it breaks are the rises and falls of the diagonal. Conditional on the
    ``d = fixed + broken`` rows that change, ``fixed`` is binomial (McNemar's
    argument); the Wilson interval of its share π gives the interval of the gain
    ``(2π − 1)·d / n`` in error-rate points.
    """
    diff = np.diag(after) - np.diag(before)
    fixed, broken = float(diff[diff > 0].sum()), float(-diff[diff < 0].sum())
    n = float(before.sum())
    gain, ci = paired_difference(fixed, broken, n, confidence)
    return {"gain": gain, "ci": ci, "fixed": fixed, "broken": broken, "rows": n}


def threshold_analysis(
    base: Predictions,
    aggs: dict[str, SplitAggregate],
    k: int,
    chosen_on: str,
    evaluated_on: str,
    settings: Settings,
    flagged: bool,
    after: dict[str, np.ndarray],
    metric: str = "error",
    measured_on: tuple = (),
    pooled: dict | None = None,
) -> ThresholdAnalysis:
    """Sweep "predict k when P(k) >= t" on ``chosen_on``, pick the best-F1 threshold,
    and compare the class's scores on ``evaluated_on`` before and after it.

    ``after`` holds the confusion matrix of each of the two splits under the new
    threshold. ``improves`` says whether the threshold also lowers ``metric`` on
    ``chosen_on``: a better F1 for a rare class can cost more errors overall.
    """
    hist = aggs[chosen_on].score_hist
    sweep = sweep_from_hist(hist[k, 1], hist[k, 0])
    j = best_f1_edge(sweep)
    threshold = float(sweep.thresholds[j])
    ev = aggs[evaluated_on]
    auc = roc_auc_from_hist(ev.score_hist[k, 1], ev.score_hist[k, 0])
    current = None
    if base.n_classes == 2 and base.threshold is not None:
        current = base.threshold if k == base.positive else 1.0 - base.threshold
    chosen_before = _class_state(aggs[chosen_on].confusion, k)
    chosen_after = _class_state(after[chosen_on], k)
    # The gain is measured on the held-out splits it was not chosen on, pooled (on the
    # split it was chosen on only when there is no other: then it is optimistic).
    measured = tuple(measured_on) or (evaluated_on,)
    scale = {s: aggs[s].row_scale for s in measured}
    gain = paired_gain(_total([aggs[s].confusion * scale[s] for s in measured]),
                       _total([after[s] * scale[s] for s in measured]), settings.confidence)
    return ThresholdAnalysis(
        label=base.class_names[k],
        chosen_on=chosen_on,
        evaluated_on=evaluated_on,
        criterion=settings.threshold_criterion,
        current_threshold=current,
        recommended_threshold=threshold,
        roc_auc=None if np.isnan(auc) else auc,
        sweep=_display_sweep(sweep),
        at_recommended_chosen=sweep.at(j),
        before=_class_state(ev.confusion, k),
        after=_class_state(after[evaluated_on], k),
        optimistic=chosen_on == evaluated_on,
        flagged=flagged,
        improves=chosen_after[metric] < chosen_before[metric] - 1e-12,
        measured_on=measured,
        gain=gain["gain"],
        gain_ci=gain["ci"],
        changed={"fixed": gain["fixed"], "broken": gain["broken"], "rows": gain["rows"]},
        gain_by_split={s: paired_gain(aggs[s].confusion, after[s], settings.confidence)["gain"]
                       for s in after if s in aggs},
        pooled=pooled or {},
    )


#: Where a threshold is chosen, first present wins (else the evaluation split).
CHOOSE_ON = ("val", "train_val", "train")


def chosen_split(aggs: dict[str, SplitAggregate], eval_split: str) -> str:
    """The split a threshold is chosen on: val, else train_val, else train."""
    return next((s for s in CHOOSE_ON if s in aggs), eval_split)


def pooled_class_scores(aggs: dict[str, SplitAggregate], pool: list[str], n_classes: int) -> dict[int, dict]:
    """Per class on the pooled held-out splits ``pool``: its rows, recall and one-vs-rest ROC AUC."""
    cm = _total([aggs[s].confusion * aggs[s].row_scale for s in pool])
    hist = _total([aggs[s].score_hist * aggs[s].row_scale for s in pool])
    support = cm.sum(axis=1)
    pooled = {}
    for k in range(n_classes):
        auc = roc_auc_from_hist(hist[k, 1], hist[k, 0])
        pooled[k] = {"splits": list(pool), "rows": float(support[k]),
                     "recall": float(cm[k, k] / support[k]) if support[k] > 0 else None,
                     "roc_auc": None if math.isnan(auc) else auc}
    return pooled


def flagged_classes(pooled: dict[int, dict], settings: Settings) -> list[int]:
    """The threshold rule: a class whose pooled recall is at most ``threshold_max_recall``
    while its ROC AUC is at least ``threshold_min_auc``, on at least ``min_support`` rows
    of the class, ranks well but is rarely predicted: its threshold is the problem."""
    return [
        k for k, p in pooled.items()
        if p["rows"] >= settings.min_support and p["recall"] is not None
        and p["recall"] <= settings.threshold_max_recall
        and p["roc_auc"] is not None and p["roc_auc"] >= settings.threshold_min_auc
    ]


def confirmed(analysis: ThresholdAnalysis, settings: Settings) -> ThresholdAnalysis:
    """``analysis`` unflagged when its threshold does not lift the class's recall above
    ``threshold_max_recall`` on the split it was chosen on: such a threshold is no fix."""
    if analysis.flagged and analysis.at_recommended_chosen["recall"] <= settings.threshold_max_recall:
        return replace(analysis, flagged=False)
    return analysis
