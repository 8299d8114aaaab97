"""How the splits compare with each other: class priors and label shift, and the ids
two splits share (leakage)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..io.validate import SPLITS
from ..result import ClassBalance, LabelShiftTest
from ..settings import Settings
from .aggregates import SplitAggregate
from .metrics import label_shift_test, split_error, total_variation
from .rows import DistinctSketch

#: Ids shared by two splits are reported from this many (the sketch estimates fractions).
MIN_SHARED_IDS = 0.5


def imbalance_ratio(support: np.ndarray) -> float | None:
    """Largest class over smallest among the classes present; None with fewer than two."""
    nonzero = support[support > 0]
    return float(nonzero.max() / nonzero.min()) if nonzero.size >= 2 else None


def class_balance(aggs: dict[str, SplitAggregate], present: list[str], labels: list, settings: Settings,
                  eval_split: str | None = None) -> ClassBalance:
    """Class priors per split, the imbalance ratio (on train when there is one), the
    balanced error of the evaluation split, and a label-shift test of each split against train."""
    priors = {s: (aggs[s].support / aggs[s].support.sum()).tolist() for s in present}
    ratio_split = "train" if "train" in aggs else present[-1]
    balance = ClassBalance(labels, priors, imbalance_ratio(aggs[ratio_split].support), ratio_split,
                           label_shift_tests(aggs, present, priors))
    if eval_split is None or eval_split not in aggs:
        return balance
    est = split_error(aggs[eval_split], "balanced_error", settings.confidence)
    return replace(balance, eval_split=eval_split, eval_ratio=imbalance_ratio(aggs[eval_split].support),
                   balanced_error=est.error, balanced_error_ci=est.ci)


def label_shift_tests(aggs: dict[str, SplitAggregate], present: list[str], priors: dict[str, list]) -> list:
    """Each split's class counts tested against train's (none without a train split)."""
    if "train" not in aggs:
        return []
    tests = []
    for s in present:
        if s == "train":
            continue
        chi2, p = label_shift_test(aggs["train"].class_counts, aggs[s].class_counts)
        tvd = total_variation(np.asarray(priors["train"]), np.asarray(priors[s]))
        tests.append(LabelShiftTest("train", s, tvd, chi2, p))
    return tests


def shared_ids(sketch: DistinctSketch | None) -> dict[tuple[str, str], int]:
    """Ids shared between splits, per pair of splits (estimated beyond the sketch's capacity)."""
    if sketch is None:
        return {}
    present = sorted(sketch.settle().hashes)
    out = {}
    for i, a in enumerate(present):
        for b in present[i + 1:]:
            shared, _ = sketch.shared(a, b)
            if shared >= MIN_SHARED_IDS:
                out[(SPLITS[a], SPLITS[b])] = int(round(shared))
    return out
