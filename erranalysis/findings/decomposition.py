"""Findings from the error decomposition and the input-independent baselines."""

from __future__ import annotations

import numpy as np

from ..fmt import pts
from ..result import SEVERITIES, Component, Finding, Interval
from ..stats.decomposition import family_confidence
from ..stats.intervals import paired_difference
from .evidence import Evidence, severity_for

KIND_OF_COMPONENT = {
    "avoidable_bias": "underfitting",
    "variance": "overfitting",
    "distribution_shift": "distribution_shift",
    "val_overfitting": "val_overfitting",
}
_TITLES = {
    "underfitting": "Underfitting: train error is {v} above the goal",
    "overfitting": "Overfitting: {later} error is {v} above train",
    "distribution_shift": "Distribution shift: {later} error is {v} above {earlier}",
    "val_overfitting": "Overfitting to val: test error is {v} above val",
}


def components(ev: Evidence) -> list[Finding]:
    dec = ev.decomposition
    out = []
    noisy: list[tuple[Component, Interval]] = []
    # The terms' intervals are simultaneous: each holds at this level.
    level = family_confidence(ev.settings.confidence, sum(c is not None for c in dec.components.values()))
    for name, comp in dec.components.items():
        if comp is None:
            continue
        if comp.verdict == "too_noisy":
            if comp.ci is not None:  # a term is too noisy by its interval
                noisy.append((comp, comp.ci))
            continue
        if comp.verdict != "material":
            continue
        kind = KIND_OF_COMPONENT[name]
        share = comp.share_of_gap
        out.append(Finding(
            kind=kind,
            # A material term is at least medium: materiality already weighs it against the
            # gap, on the rows of its own two splits, whatever the final split's interval.
            severity=min(severity_for(ev, comp.value, comp.ci), "medium", key=SEVERITIES.index)
            if comp.ci is not None else
            ("high" if share is None or share >= ev.settings.severity_high_share else "medium"),
            title=_TITLES[kind].format(v=pts(comp.value), earlier=comp.earlier, later=comp.later),
            evidence={
                "component": name,
                "value": comp.value,
                "ci": comp.ci,
                "ci_level": level,
                "share_of_gap": share,
                "earlier": comp.earlier,
                "later": comp.later,
                "includes": list(comp.includes),
                "errors": {s: ev.errors[s].error for s in (comp.earlier, comp.later) if s in ev.errors},
                "goal": dec.goal,
            },
            split=comp.later,
            impact=comp.value,
            impact_ci=comp.ci,
        ))
    if noisy:
        worst, (low, high) = max(noisy, key=lambda pair: pair[1][1])
        out.append(Finding(
            kind="insufficient_data",
            severity="low",
            title=f"Too few rows to tell whether {worst.name.replace('_', ' ')} matters "
                  f"({pts(worst.value)}, interval {pts(low)} to {pts(high)})",
            evidence={
                "component": worst.name,
                "value": worst.value,
                "ci": worst.ci,
                "rows_to_resolve": worst.rows_to_resolve,
            },
            split=worst.later,
            impact=max(worst.value, 0.0),
        ))
    return out


def _learned(ev: Evidence, split: str) -> float | None:
    """Support-weighted one-vs-rest ROC AUC on ``split`` (None without probabilities)."""
    conf = ev.confusion
    if conf is None or split not in conf.per_class:
        return None
    rows = [(m.support, m.roc_auc) for m in conf.per_class[split] if m.roc_auc is not None and m.support > 0]
    total = sum(w for w, _ in rows)
    return sum(w * a for w, a in rows) / total if total else None


def constant_comparison(matrix, rows: float | None = None) -> dict:
    """The model against the best constant prediction on one split's confusion matrix.

    The constant is the split's own most frequent class (the strongest input-independent
    rule there, so chance differences between the splits' class frequencies cannot make
    a model that learned nothing look better). Returns the rows where only the model is
    right (``better``), only the constant is (``worse``), the rows and both errors.
    """
    cm = np.asarray(matrix, dtype=float)
    if rows and cm.sum() > 0:  # weighted counts, in (effective) rows
        cm = cm * (rows / cm.sum())
    n = float(cm.sum())
    support = cm.sum(axis=1)
    diag = np.diag(cm)
    # Among classes tied for the most rows, the one the model gets most right: the
    # comparison then does not depend on the classes' names or order.
    tied = np.flatnonzero(support == support.max())
    c = int(tied[np.argmax(diag[tied])])
    return {"better": float(diag.sum() - diag[c]), "worse": float(support[c] - diag[c]), "rows": n,
            "model_error": 1 - diag.sum() / n if n else float("nan"),
            "constant_error": 1 - support[c] / n if n else float("nan")}


def below_baseline(ev: Evidence, threshold_findings: list) -> list[Finding]:
    """The model does no better than a constant prediction: it learned nothing.

    Raised only when all of these hold:

    1. On no held-out split (train_val, val, test) is the model significantly better
       than the best constant prediction there (a paired test on the same rows, the
       splits' intervals simultaneous). A model that beats it on train_val and loses
       only after a shift has learned; its problem is the shift.
    2. The held-out rows together rule out a real improvement: the upper end of the
       interval of (constant − model) is below ``baseline_margin`` of the constant's
       error, so a handful of rows or a tie within a wide interval raises nothing.
    3. The model does not rank the classes well (support-weighted ROC AUC below
       ``threshold_min_auc``), and no threshold fix brings it below the baseline: a
       model that ranks well but thresholds badly has signal; its fix is the threshold.
    """
    s = ev.settings
    conf = ev.confusion
    if conf is None:
        return []
    held = [sp for sp in ("train_val", "val", "test") if sp in conf.by_split and sp in ev.errors]
    if not held:
        return []
    family = 1 - (1 - s.confidence) / len(held)
    comps = {sp: constant_comparison(conf.by_split[sp], ev.errors[sp].n_effective) for sp in held}
    for sp, c in comps.items():
        _, ci = paired_difference(c["better"], c["worse"], c["rows"], family)
        if ci[0] > 0:
            return []  # significantly better somewhere held out
    better = sum(c["better"] for c in comps.values())
    worse = sum(c["worse"] for c in comps.values())
    rows = sum(c["rows"] for c in comps.values())
    if rows < s.min_support:
        return []
    gain, gain_ci = paired_difference(better, worse, rows, s.confidence)
    model = sum(c["model_error"] * c["rows"] for c in comps.values()) / rows
    base = sum(c["constant_error"] * c["rows"] for c in comps.values()) / rows
    if gain_ci[1] >= s.baseline_margin * base:
        return []
    auc = max((a for a in (_learned(ev, sp) for sp in held) if a is not None), default=None)
    if auc is not None and auc >= s.threshold_min_auc:
        return []
    majority = {b.split: b for b in ev.baselines}
    if ev.eval_split in majority and any(f.evidence["after"][ev.metric] < majority[ev.eval_split].majority_error
                                         for f in threshold_findings):
        return []
    b = (majority.get(ev.eval_split) if ev.eval_split else None) or next(iter(majority.values()), None)
    where = "/".join(held)
    name = b.majority_class if b is not None else "the most frequent class"
    return [Finding(
        kind="below_baseline",
        severity="high",
        title=(f"The model does not beat a constant prediction on any held-out split: {model:.1%} error on {where} "
               f"against {base:.1%} for always predicting the most frequent class"),
        evidence={
            "model_error": model,
            "majority_error": base,
            "improvement": gain,
            "improvement_ci": gain_ci,
            "by_split": {sp: {"model_error": c["model_error"], "constant_error": c["constant_error"],
                              "model_ci": ev.errors[sp].ci} for sp, c in comps.items()},
            "stratified_error": None if b is None else b.stratified_error,
            "majority_class": name,
            "roc_auc": auc,
            "splits": held,
        },
        split=where,
        impact=max(-gain, 0.0),
        impact_ci=(-gain_ci[1], -gain_ci[0]),
        blocking=True,
    )]
