"""Findings from the training history (loss curves)."""

from __future__ import annotations

from ..result import Finding
from .evidence import Evidence

_SEVERITY = {
    "loss_exploding": "high",
    "loss_oscillating": "high",
    "loss_not_decreasing": "high",
    "loss_overfitting": "medium",
    "loss_initial": "medium",
    "loss_still_decreasing": "medium",
    "loss_plateau": "medium",
}


def _x(analysis, value) -> str:
    return f"{analysis.x_name} {value}"


def _title(d, a) -> str:
    e = d.evidence
    if d.kind == "loss_exploding":
        if e["reason"] == "non_finite" and e.get("curve") == "val":
            return (f"The val loss became {e['value']} at {_x(a, d.at)} while the train loss stayed finite: "
                    "the evaluation failed (NaN or extreme val inputs, labels the model never saw, or log of zero)")
        if e["reason"] == "non_finite":
            return f"The loss became {e['value']} at {_x(a, d.at)}: the run blew up"
        if e["reason"] == "diverged":
            return (f"The loss diverged: it climbed from {e['lowest']:.3g} at {_x(a, d.at)} "
                    f"to {e['peak']:.3g} at {_x(a, e['at_peak'])} instead of falling")
        return (f"The loss exploded: it rose from {e['lowest']:.3g} at {_x(a, d.at)} "
                f"to {e['peak']:.3g} at {_x(a, e['at_peak'])}")
    if d.kind == "loss_oscillating" and not e.get("whole_run", True):
        p0, p1 = e["period"]
        if e["settled"]:
            return (f"The train loss swung between {e['low']:.3g} and {e['high']:.3g} from {_x(a, p0)} to "
                    f"{_x(a, p1)}, then settled: training was unstable for a while")
        return (f"The train loss swings between {e['low']:.3g} and {e['high']:.3g} from {_x(a, p0)} to the end "
                "of the run: training is unstable")
    if d.kind == "loss_oscillating":
        return (f"The train loss swings by about ±{e['relative_swing']:.0%} with no downward trend "
                f"({e['start']:.3g} over the first 5% of the run, {e['last_quarter']:.3g} over the last quarter): "
                "training is not converging")
    if d.kind == "loss_not_decreasing":
        return (f"The train loss does not fall: it starts at {e['first']:.3g} and ends at {e['last']:.3g}: "
                "the model is not learning")
    if d.kind == "loss_initial":
        return (f"The first loss, {e['first']:.3g}, is far above ln({e['classes']}) = {e['expected']:.3g} "
                f"expected for {e['classes']} classes at initialisation")
    if d.kind == "loss_still_decreasing" and e.get("short_run"):
        return (f"The {e['curve']} loss was still falling when training stopped "
                f"(the last step took off {e['share_of_drop']:.0%} of its fall)")
    if d.kind == "loss_still_decreasing":
        after = f" since the last step at {_x(a, e['after_step'])}" if e.get("after_step") is not None else ""
        return (f"The {e['curve']} loss was still falling when training stopped "
                f"({e['share_of_drop']:.0%} of its fall{after} came in the last fifth)")
    if d.kind == "loss_plateau" and e.get("pattern") == "periodic":
        return (f"The train loss repeats the same pattern every {e['period']} {a.x_name}s "
                f"({e['repeats']} times): the data order repeats (one pattern per epoch)")
    if d.kind == "loss_plateau":
        text = f"The loss falls in {e['drops']} sudden steps between flat stretches (first at {_x(a, d.at)})"
        if e.get("lr_logged") and e.get("lr_drops"):
            return text + ", not where the learning rate dropped: the data order repeats"
        if e.get("lr_logged"):
            return text + " while the learning rate stayed the same: the data order repeats"
        return text + ": a step learning-rate schedule, or a data order that repeats (the log has no learning rate)"
    if d.kind == "loss_overfitting":
        return (f"Val loss rose after {_x(a, e['began'])} while train loss kept falling; "
                f"the best checkpoint is at {_x(a, e['best_checkpoint'])} (val loss {e['best_val_loss']:.3g})")
    return d.kind


def history(ev: Evidence) -> list[Finding]:
    a = ev.history
    if a is None:
        return []
    out = []
    for d in a.diagnoses:
        severity = _SEVERITY.get(d.kind, "medium")
        if d.kind == "loss_oscillating" and d.evidence.get("settled"):
            severity = "medium"  # unstable for a while, then converged
        out.append(Finding(
            kind=d.kind,
            severity=severity,
            title=_title(d, a),
            evidence={**d.evidence, "at": d.at, "x_name": a.x_name},
            split=None,
            # A run that blew up (NaN/inf, or a loss that exploded) leaves nothing worth
            # decomposing; a val loss that failed alone leaves the trained model intact.
            blocking=d.kind == "loss_exploding" and d.evidence.get("curve") != "val",
        ))
    return out
