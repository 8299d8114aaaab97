"""Threshold sweeps: pick a per-class threshold on one split, measure it on another."""

from __future__ import annotations

import numpy as np

from ..io.validate import SPLITS, Predictions
from ..result import ThresholdAnalysis
from ..settings import Settings
from .aggregates import SplitAggregate
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
    present = scores.support > 0
    return {
        "error": float(1 - np.trace(confusion) / total),
        "balanced_error": float(1 - scores.recall[present].mean()),
        "precision": float(scores.precision[k]),
        "recall": float(scores.recall[k]),
        "f1": float(scores.f1[k]),
    }


def _override_state(preds: Predictions, split_name: str, k: int, threshold: float) -> dict:
    """Scores on one split after predicting ``k`` wherever P(k) >= threshold.

    Rows below the threshold keep their prediction, so the rule only adds predictions
    of ``k`` (for binary problems it is exactly "predict k iff P(k) >= threshold").
    """
    mask = preds.split == SPLITS.index(split_name)
    y = preds.y[mask]
    pred = preds.pred[mask]
    pk = preds.proba[mask, k]
    if preds.n_classes == 2:
        new = np.where(pk >= threshold, k, 1 - k)
    else:
        new = np.where(pk >= threshold, k, pred)
    n = preds.n_classes
    w = None if preds.weight is None else preds.weight[mask]
    cm = np.bincount(y.astype(np.int64) * n + new, weights=w, minlength=n * n).reshape(n, n).astype(float)
    return _class_state(cm, k)


def analyse_threshold(
    preds: Predictions,
    aggs: dict[str, SplitAggregate],
    k: int,
    chosen_on: str,
    evaluated_on: str,
    settings: Settings,
    flagged: bool,
    metric: str = "error",
) -> ThresholdAnalysis:
    """Sweep "predict k when P(k) >= t" on ``chosen_on``, pick the best-F1 threshold,
    and compare the class's scores on ``evaluated_on`` before and after it.

    ``improves`` says whether the threshold also lowers ``metric`` on ``chosen_on``:
    a better F1 for a rare class can cost more errors overall.
    """
    hist = aggs[chosen_on].hist
    sweep = sweep_from_hist(hist[k, 1], hist[k, 0])
    j = best_f1_edge(sweep)
    threshold = float(sweep.thresholds[j])
    ev = aggs[evaluated_on]
    auc = roc_auc_from_hist(ev.hist[k, 1], ev.hist[k, 0])
    current = None
    if preds.n_classes == 2:
        current = preds.threshold if k == preds.positive else 1.0 - preds.threshold
    chosen_before = _class_state(aggs[chosen_on].confusion, k)
    chosen_after = _override_state(preds, chosen_on, k, threshold)
    return ThresholdAnalysis(
        label=_label(preds, k),
        chosen_on=chosen_on,
        evaluated_on=evaluated_on,
        criterion=settings.threshold_criterion,
        current_threshold=current,
        recommended_threshold=threshold,
        roc_auc=None if np.isnan(auc) else auc,
        sweep=_display_sweep(sweep),
        at_recommended_chosen=sweep.at(j),
        before=_class_state(ev.confusion, k),
        after=_override_state(preds, evaluated_on, k, threshold),
        optimistic=chosen_on == evaluated_on,
        flagged=flagged,
        improves=chosen_after[metric] < chosen_before[metric] - 1e-12,
    )


def _label(preds: Predictions, k: int) -> str:
    return preds.class_names[k]
