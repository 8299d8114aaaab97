"""Findings from the error decomposition and the input-independent baselines."""

from __future__ import annotations

from ..fmt import pts
from ..result import Finding
from . import Evidence

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
    noisy = []
    for name, comp in dec.components.items():
        if comp is None:
            continue
        if comp.verdict == "too_noisy":
            noisy.append(comp)
            continue
        if comp.verdict != "material":
            continue
        kind = KIND_OF_COMPONENT[name]
        share = comp.share_of_gap
        out.append(Finding(
            kind=kind,
            severity="high" if share is None or share >= 0.3 else "medium",
            title=_TITLES[kind].format(v=pts(comp.value), earlier=comp.earlier, later=comp.later),
            evidence={
                "component": name,
                "value": comp.value,
                "ci": comp.ci,
                "share_of_gap": share,
                "earlier": comp.earlier,
                "later": comp.later,
                "includes": list(comp.includes),
                "errors": {s: ev.errors[s].error for s in (comp.earlier, comp.later) if s in ev.errors},
                "goal": dec.goal,
            },
            split=comp.later,
            impact=comp.value,
        ))
    if noisy:
        worst = max(noisy, key=lambda c: c.ci[1])
        out.append(Finding(
            kind="insufficient_data",
            severity="low",
            title=f"Too few rows to tell whether {worst.name.replace('_', ' ')} matters "
                  f"({pts(worst.value)}, interval {pts(worst.ci[0])} to {pts(worst.ci[1])})",
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


def below_baseline(ev: Evidence, threshold_findings: list) -> list[Finding]:
    """The model's error is at or above that of always predicting the majority class.

    Not raised when a threshold fix brings the error below the baseline: a model that
    ranks well but thresholds badly has signal, and its fix is the threshold.
    """
    out = []
    for b in ev.baselines:
        if b.split != ev.eval_split:
            continue
        err = ev.errors[b.split]
        if err.error < b.majority_error:
            continue
        rescued = any(f.split == b.split and f.evidence["after"][ev.metric] < b.majority_error
                      for f in threshold_findings)
        if rescued:
            continue
        out.append(Finding(
            kind="below_baseline",
            severity="high",
            title=(
                f"The model does not beat always predicting {b.majority_class!r} on {b.split}: "
                f"{err.error:.1%} error against {b.majority_error:.1%}"
            ),
            evidence={
                "model_error": err.error,
                "model_ci": err.ci,
                "majority_error": b.majority_error,
                "stratified_error": b.stratified_error,
                "majority_class": b.majority_class,
            },
            split=b.split,
            impact=max(err.error - b.majority_error, 0.0),
        ))
    return out
