"""Findings → an ordered plan of next steps. All advice wording lives here.

The order (SPEC, "Findings and next steps"), implemented by :func:`order`:

1. **Blocking** findings first: those that make every other figure untrustworthy and
   are established beyond chance (``Finding.blocking``): input data that contradict
   themselves, leakage that can move a held-out error beyond its interval, a model
   that beats no constant prediction on any held-out split, a training run that blew
   up; in ``BLOCKING_ORDER``.
2. **Everything else by the error it explains** (``Finding.impact``, points of the
   metric on the evaluation split). A decomposition term is ranked net of what the
   findings that explain it account for (:func:`explains`): a threshold fix and the
   errors of an ambiguous pair lower the train error; likely label errors (found on
   held-out rows) raise the held-out error; a weak slice explains the term its own decomposition
   points to. Where the step ranked first cannot be shown to explain more error than
   the next (the one-sided bound of their difference at ``Settings.confidence`` does
   not exceed zero), ``TIE_ORDER`` decides: a measured threshold fix, then Full
   Stack Deep Learning's order (underfitting, overfitting, distribution shift, val
   overfitting).
3. Findings without an effect of their own (calibration, imbalance, curve shapes no
   term takes up), then the terms too noisy to tell, by severity.

A finding explained by another joins that step instead of competing with it
(:func:`_join_target`):

- val loss rising in the training history: the first action of overfitting; a loss
  still falling at the end, flat or oscillating: of underfitting;
- class imbalance and classes never predicted: a threshold fix for them (never
  predicted, else underfitting);
- label errors that sit in a weak slice, in the class of a threshold fix or in an
  ambiguous pair: that step;
- with a material distribution shift: label shift, threshold problems that train_val
  does not show and likely label errors (a model is confidently wrong on shifted rows,
  whatever their labels);
- a confused pair whose labels are not ambiguous: the term it falls in (everywhere:
  underfitting; held-out rows only: overfitting; only after the shift: the shift).
"""

from __future__ import annotations

from dataclasses import replace

from .fmt import pct as _pct
from .fmt import pts as _pts
from .kinds import FAMILY_ACTIONS, KINDS
from .result import SEVERITIES, Finding, NextStep
from .stats.intervals import difference_interval, z_value

BLOCKING_ORDER = ("data_quality", "leakage", "below_baseline", "loss_exploding")
DECOMPOSITION = ("underfitting", "overfitting", "distribution_shift", "val_overfitting")
#: History findings that a decomposition term explains: (joins this step, its action).
JOINS = {
    "loss_overfitting": "overfitting",
    "loss_still_decreasing": "underfitting",
    "loss_not_decreasing": "underfitting",
    "loss_oscillating": "underfitting",
    # The rare classes that a threshold fix finds are the imbalance's symptom.
    "class_imbalance": "threshold",
}

#: Short names of the problems, used in headlines.
PROBLEM_NAMES = {name: kind.problem for name, kind in KINDS.items()}

_LOWER_LR = "Lower the learning rate (try a factor of 10), or add warm-up."
_CHECK_SCHEDULE = "Check the learning-rate schedule: scheduled drops also look like steps."
#: A val loss that became NaN/inf while the train loss stayed finite.
_VAL_BLOWUP_ACTIONS = [
    "Check the val inputs for NaN, inf or extreme values, and the val labels for classes the model never saw.",
    "Check the loss for log of zero: compute it from logits, or clip the probabilities away from 0 and 1.",
    "Re-run the evaluation on the val rows alone to find the first row whose loss is not finite.",
]

#: The models of each family worth trying when its reference model wins.
_FAMILY_MODELS = {
    "tree": "gradient-boosted trees (HistGradientBoostingClassifier, LightGBM, XGBoost)",
    "linear": "a regularised linear model (LogisticRegression on scaled, one-hot encoded features)",
}

#: What to try for each problem, most promising first.
ACTIONS = {name: list(kind.actions) for name, kind in KINDS.items()}


def problem_name(kind: str, top: Finding | None = None) -> str:
    """The short name of a step's problem, as headlines show it: the kind's, or a more
    exact one where the evidence of the step's first finding tells which case it is."""
    e = top.evidence if top is not None else {}
    if kind == "loss_exploding" and e.get("curve") == "val":
        return f"Fix the evaluation: the val loss became {e.get('value', 'non-finite')}"
    if kind == "loss_exploding" and e.get("reason") == "diverged":
        return "Stabilise training: the loss diverged"
    if kind == "loss_oscillating" and not e.get("whole_run", True):
        return ("Stabilise training: the loss was unstable for a while" if e.get("settled")
                else "Stabilise training: the loss swings until the end")
    return PROBLEM_NAMES.get(kind, kind)


def why(f: Finding, confidence: float = 0.95) -> str:
    """One sentence with the figure that justifies acting on ``f`` (its title when the
    evidence lacks the figures this kind needs)."""
    try:
        text = _why(f, confidence)
    except (KeyError, TypeError, AttributeError):
        text = f.title + "."
    if text.split(" ", 1)[0] in ("train", "train_val", "val", "test") or f.kind == "weak_slice":
        return text  # a split or column name is an identifier: keep it as written
    return text[:1].upper() + text[1:]


def _why(f: Finding, confidence: float = 0.95) -> str:
    e = f.evidence
    k = f.kind
    if k in DECOMPOSITION:
        share = e.get("share_of_gap")
        share_txt = f", {share:.0%} of the gap to the goal" if share is not None and 0 < share <= 1 else ""
        ci = e.get("ci")
        ci_txt = f" ({confidence * 100:g}% interval {_pts(ci[0])} to {_pts(ci[1])})" if ci else ""
        moved = [m["column"] for m in e.get("features", [])]
        if k == "distribution_shift" and moved:
            share_txt += f". Features that moved: {', '.join(moved[:5])}"
        if k == "underfitting":
            return (f"Train error {_pct(e['errors'].get('train'))} is {_pts(e['value'])} above the goal of "
                    f"{_pct(e['goal'])}{ci_txt}{share_txt}.")
        return (f"{e['later']} error {_pct(e['errors'].get(e['later']))} is {_pts(e['value'])} above "
                f"{e['earlier']} error {_pct(e['errors'].get(e['earlier']))}{ci_txt}{share_txt}.")
    if k == "threshold":
        b, a = e["before"], e["after"]
        return (f"Class {e['class']!r} has recall {b['recall']:.0%} on {f.split} with ROC AUC {e['roc_auc']:.2f}; "
                f"a threshold of {e['recommended_threshold']:.3g} (chosen on {e['chosen_on']}) gives recall "
                f"{a['recall']:.0%} and F1 {a['f1']:.2f} instead of {b['f1']:.2f}.")
    if k == "reference_model":
        ci = e["ci"]
        return (f"A {e['kind_of_model']} reference model ({e['name']}, default settings, "
                f"{e['train_rows']:,} training rows) has {_pct(e['error'])} error on {f.split} against "
                f"{_pct(e['model_error'])} for the model, on the same {e['rows']:,} rows: {_pts(-e['change'])} better ({e['confidence'] * 100:g}% interval "
                f"{_pts(-ci[1])} to {_pts(-ci[0])}).")
    if k == "below_baseline":
        return (f"Error {_pct(e['model_error'])} on {f.split} against {_pct(e['majority_error'])} for always "
                "predicting the most frequent class; the model is significantly better on no held-out split.")
    if k == "confused_pair":
        if e["both_directions"]:
            where = {"everywhere": " on every split", "eval_only": " only after the shift to val/test",
                     "held_out": " on held-out rows (train_val too) but not on train"}.get(e["pattern"], "")
            return (f"{e['actual']!r} and {e['predicted']!r} are mistaken for each other{where}, "
                    f"{e['share_of_errors']:.0%} of all errors on {f.split}.")
        return (f"{e['rate']:.0%} of {e['actual']!r} rows are predicted as {e['predicted']!r} on {f.split}, "
                f"{e['share_of_errors']:.0%} of all errors.")
    if k == "never_predicted":
        return f"{len(e['classes'])} class(es) holding {e['share_of_rows']:.1%} of rows on {f.split} are never predicted."
    if k == "class_imbalance":
        rec = e.get("minority_recall")
        rec_txt = f"; the rare classes have recall {rec:.0%}" if rec is not None else ""
        balanced = ""
        if e.get("error_rate_misleads"):
            balanced = (f" On {e['eval_split']} the error rate of {_pct(e['error'])} mostly counts the frequent "
                        f"classes; the balanced error is {_pct(e['balanced_error'])}.")
        return f"The largest class is {e['ratio']:.0f} times the smallest on {e['split']}{rec_txt}.{balanced}"
    if k == "label_shift":
        return (f"Class frequencies on {f.split} differ from {e['reference']} by {e['tvd']:.1%} "
                f"(total variation, p = {e['p_value']:.2g}).")
    if k == "poor_calibration":
        way = {"over": f"; confidence in the predicted class runs {_pts(e['overconfidence'])} above how often it is right "
                       "(over-confident)",
               "under": f"; confidence in the predicted class runs {_pts(-e['overconfidence'])} below how often it is right "
                        "(under-confident)"}.get(e.get("direction", ""), "")
        return (f"Expected calibration error is {e['ece']:.1%} on {f.split} "
                f"(a calibrated model would show about {e['noise_floor']:.1%} here by chance){way}.")
    if k == "weak_slice" and e.get("where"):
        return f"{f.title}; {e['where']}."
    if k.startswith("loss_") or k in ("weak_slice", "label_errors"):
        return f.title + "."
    if k == "insufficient_data":
        return (f"{e['component'].replace('_', ' ').capitalize()} is {_pts(e['value'])} with an interval from "
                f"{_pts(e['ci'][0])} to {_pts(e['ci'][1])}: too wide to tell whether it matters.")
    return f.title + "."


def _established(f: Finding) -> bool:
    return f.impact > 0 and (f.impact_ci is None or f.impact_ci[1] > 0)


def _tier(f: Finding) -> int:
    if f.blocking:
        return 0
    if f.kind == "insufficient_data":
        return 3
    if f.kind == "threshold" and not f.evidence.get("improves_error", True):
        return 2  # a trade-off, not a fix
    return 1 if _established(f) else 2


#: The decomposition term a pair of classes' errors fall in, from where the pair shows.
_PAIR_TERM = {"everywhere": "underfitting", "held_out": "overfitting", "eval_only": "distribution_shift"}
#: The decomposition term a weak slice explains, from the slice's own decomposition.
_SLICE_TERM = {"bias": "underfitting", "variance": "overfitting", "shift": "distribution_shift",
               "val_overfitting": "val_overfitting"}


def explains(g: Finding) -> tuple[str, ...]:
    """The decomposition terms (finding kinds) part of whose error ``g`` accounts for."""
    e = g.evidence
    if g.kind == "threshold" and e.get("improves_error"):
        return ("underfitting",)  # a better threshold lowers the train error too
    if g.kind == "confused_pair" and e.get("label_ambiguity"):
        # Labels swapped between two classes: a model that fits them anyway memorises
        # noise (the pair shows on held-out rows only); one that does not, cannot fit them.
        return ("overfitting",) if e.get("pattern") == "held_out" else ("underfitting",)
    if g.kind == "weak_slice" and _SLICE_TERM.get(e.get("pattern", "")):
        return (_SLICE_TERM[e["pattern"]],)
    if g.kind == "label_errors":
        return ("overfitting",)  # found on held-out rows: wrong labels there raise the held-out error
    return ()


def _explained(f: Finding, findings: list[Finding]) -> float:
    if f.kind not in DECOMPOSITION:
        return 0.0
    return sum(g.impact for g in findings if g is not f and f.kind in explains(g))


def rank_impact(f: Finding, findings: list[Finding]) -> float:
    """The error ``f`` explains once the findings that explain part of it are counted:
    a decomposition term less what the findings that explain it account for (see
    :func:`explains`)."""
    return f.impact - _explained(f, findings)


#: Among findings whose effects cannot be told apart: a measured threshold fix first (a
#: one-line change that also lowers the train error), then Full Stack Deep Learning's order.
TIE_ORDER = ("threshold",) + DECOMPOSITION


def _scaled(f: Finding, shift: float, z: float, confidence: float) -> tuple[float, float, float]:
    """``f``'s effect less ``shift``, with its interval's half-widths rescaled to the
    two-sided quantile ``z`` (the interval was computed at ``evidence["ci_level"]``,
    else at ``confidence``)."""
    zf = z_value(f.evidence.get("ci_level", confidence))
    lo, hi = f.impact_ci or (f.impact, f.impact)
    v = f.impact - shift
    return v, v - (f.impact - lo) * z / zf, v + (hi - f.impact) * z / zf


def _tied(a: Finding, b: Finding, findings: list[Finding], confidence: float) -> bool:
    """Whether ``a``, ranked above ``b``, cannot be shown to explain more error: the
    one-sided lower bound at ``confidence`` of their difference (net of what explains
    them; Newcombe's MOVER from the two intervals) does not exceed 0. The question is
    directional (is the step ranked first the larger one?), so the bound is one-sided."""
    if a.impact_ci is None or b.impact_ci is None:
        return False
    z = z_value(2 * confidence - 1)  # a two-sided interval at 2c - 1 has one-sided bounds at c
    va, la, _ = _scaled(a, _explained(a, findings), z, confidence)
    vb, _, ub = _scaled(b, _explained(b, findings), z, confidence)
    lower, _ = difference_interval(vb, (vb, ub), va, (la, va))
    return lower <= 0


def order(findings: list[Finding], explainers: list[Finding] | None = None,
          confidence: float = 0.95) -> list[Finding]:
    """The findings in the order of the plan (see the module docstring). ``explainers``
    (default: ``findings``) are the findings whose effects count against the terms they
    explain, joined ones included."""
    explainers = findings if explainers is None else explainers

    def key(f):
        tier = _tier(f)
        if tier == 0:
            return (0, BLOCKING_ORDER.index(f.kind) if f.kind in BLOCKING_ORDER else len(BLOCKING_ORDER), -f.impact)
        if tier == 1:
            return (1, -rank_impact(f, explainers), 0)
        return (tier, SEVERITIES.index(f.severity), -f.impact)

    ranked = sorted(findings, key=key)
    # Neighbours that cannot be told apart keep TIE_ORDER.
    changed = True
    while changed:
        changed = False
        for i in range(len(ranked) - 1):
            a, b = ranked[i], ranked[i + 1]
            if (a.kind in TIE_ORDER and b.kind in TIE_ORDER and _tier(a) == _tier(b) == 1
                    and TIE_ORDER.index(b.kind) < TIE_ORDER.index(a.kind) and _tied(a, b, explainers, confidence)):
                ranked[i], ranked[i + 1] = b, a
                changed = True
    return ranked


def _joined_action(f: Finding) -> str:
    e = f.evidence
    x = e.get("x_name", "epoch")
    if f.kind == "loss_overfitting":
        return (f"Keep the checkpoint of {x} {e['best_checkpoint']} (lowest val loss, {e['best_val_loss']:.3g}): "
                f"val loss rose after {x} {e['began']} while train loss kept falling.")
    if f.kind == "loss_still_decreasing":
        return f"Train longer: {f.title[0].lower()}{f.title[1:]}."
    if f.kind == "reference_model":
        return _reference_action(f)
    return f"First make training work: {f.title[0].lower()}{f.title[1:]}."


def _reference_action(f: Finding) -> str:
    """What to try when a reference model of another family beat the model."""
    e = f.evidence
    return (f"Try {_FAMILY_MODELS.get(e['family'], e['name'])}: a reference {e['name']} with default settings "
            f"beat the model by {_pts(-e['change'])} on {f.split} ({_pct(e['error'])} against "
            f"{_pct(e['model_error'])}); tune it before comparing again.")


def _join_target(f: Finding, kinds: set, weak: set) -> str | None:
    """The step ``f`` joins instead of standing on its own (None: its own step)."""
    e = f.evidence
    if f.kind == "label_errors" and e.get("in_weak_slice"):
        s = e["in_weak_slice"]
        return "weak_slice" if (s["column"], s["value"]) in weak else None
    if f.kind == "label_errors" and e.get("explained_by") and e["explained_by"]["kind"] in kinds:
        return e["explained_by"]["kind"]
    if f.kind == "never_predicted":  # a symptom: of a wrong threshold, else of underfitting
        return next((k for k in ("threshold", "underfitting") if k in kinds), None)
    if f.kind == "reference_model":  # another family is a way to close the gap the terms measure
        return next((k for k in ("underfitting", "overfitting") if k in kinds), None)
    if f.kind == "below_baseline" and e.get("reference_learns"):
        # Another family learned from the same inputs: the model's capacity, not a bug.
        return next((k for k in ("underfitting", "reference_model") if k in kinds), None)
    if "distribution_shift" in kinds and (
            f.kind in ("label_shift", "label_errors")
            or (f.kind == "threshold" and e.get("shift_induced"))):
        return "distribution_shift"  # what changed with the shift is the shift's evidence
    if f.kind == "confused_pair" and not e.get("label_ambiguity"):
        # Where the errors of a term live, not a cause of its own: it joins that term.
        term = _PAIR_TERM.get(e.get("pattern", ""))
        return term if term in kinds else None
    return JOINS.get(f.kind)


def plan(findings: list[Finding], confidence: float = 0.95, family: str | None = None) -> list[NextStep]:
    """One next step per problem kind, in the order documented in this module; with the
    model's ``family`` (``kinds.MODEL_FAMILIES``), actions fitted to it where it has its own."""
    kinds = {f.kind for f in findings}
    weak = {(f.evidence.get("column"), f.evidence.get("value")) for f in findings if f.kind == "weak_slice"}
    # A finding joins a step only if that step stands: when every finding of the target
    # kind has joined another step itself, the finding keeps a step of its own.
    targets = {id(f): _join_target(f, kinds, weak) for f in findings}
    standing = {f.kind for f in findings if targets[id(f)] not in kinds or targets[id(f)] == f.kind}
    while True:
        more = {f.kind for f in findings if f.kind not in standing and targets[id(f)] not in standing}
        if not more:
            break
        standing |= more
    joined: dict[str, list[Finding]] = {}
    kept = []
    for f in findings:
        target = targets[id(f)]
        if target in standing and target != f.kind:
            joined.setdefault(target, []).append(f)
        else:
            kept.append(f)
    # Label errors inside an ambiguous pair are that pair's swapped labels: the pair then
    # accounts for the larger of the two effects (the same errors, counted once).
    inside = [f for f in joined.get("confused_pair", []) if f.kind == "label_errors"]
    if inside:
        top = max(inside, key=lambda f: f.impact)
        kept = [replace(f, impact=top.impact, impact_ci=top.impact_ci)
                if f.kind == "confused_pair" and f.evidence.get("label_ambiguity") and top.impact > f.impact else f
                for f in kept]
    by_kind: dict[str, list[Finding]] = {}
    for f in order(kept, confidence=confidence):
        by_kind.setdefault(f.kind, []).append(f)
    steps: list[NextStep] = []
    for kind, group in by_kind.items():
        top = group[0]
        actions = list(FAMILY_ACTIONS.get(family or "", {}).get(kind) or ACTIONS.get(kind, []))
        if kind == "threshold" and "recommended_threshold" in top.evidence:
            t = top.evidence
            rule = (f"predict {t['class']!r} whenever P({t['class']}) >= {t['recommended_threshold']:.3g}, "
                    "otherwise keep the usual prediction")
            actions[0] = (f"Set the threshold of class {t['class']!r} to {t['recommended_threshold']:.3g} "
                          f"(best F1 on {t['chosen_on']}): {rule}; then re-measure on test.")
        if kind == "reference_model":
            actions[0] = _reference_action(top)
        if kind == "loss_exploding" and top.evidence.get("first_suspect") == "learning_rate":
            # A climb over several steps (or after the learning rate rose) is the optimiser
            # diverging: the learning rate first, the inputs after.
            why_lr = (f"the learning rate rose at {top.evidence.get('x_name', 'step')} {top.evidence['lr_rose_at']} "
                      "just before" if top.evidence.get("lr_rose_at") is not None else
                      "the loss climbed over several steps rather than jumping in one")
            actions.remove(_LOWER_LR)
            actions.insert(0, f"{_LOWER_LR[:-1]}: {why_lr}.")
        if kind == "loss_exploding" and top.evidence.get("curve") == "val":
            actions = list(_VAL_BLOWUP_ACTIONS)
        if kind == "loss_plateau" and top.evidence.get("lr_logged"):
            actions.remove(_CHECK_SCHEDULE)
        if kind == "data_quality" and top.evidence.get("positive_guessed"):
            actions.insert(0, "Check which class the score column is the probability of, and pass "
                              "--positive-label (positive_label=) if it is not the one assumed.")
        if kind == "insufficient_data" and top.evidence.get("rows_to_resolve"):
            need = ", ".join(f"{n:,} {s}" for s, n in top.evidence["rows_to_resolve"].items())
            actions[0] = (f"Collect labelled rows until the splits hold about {need} rows, then re-run; "
                          "until then do not act on this term.")
        extra = joined.get(kind, [])
        # Inserted first each: the reference that gains most ends up first.
        for g in sorted(extra, key=lambda g: g.impact if g.kind == "reference_model" else 0.0):
            if g.kind.startswith("loss_") or g.kind == "reference_model":
                actions.insert(0, _joined_action(g))
        if kind == "weak_slice" and any(g.kind == "label_errors" for g in extra):
            actions.insert(1, "Most rows that look mislabelled are in this slice: check its inputs before "
                              "its labels.")
        group = group + extra
        severity = SEVERITIES[min(SEVERITIES.index(f.severity) for f in group)]
        steps.append(NextStep(
            problem=kind,
            name=problem_name(kind, top),
            why=why(top, confidence),
            actions=actions,
            severity=severity,
            findings=[f.title for f in group],
            impact=top.impact if top.impact or top.impact_ci else None,
            impact_ci=top.impact_ci,
        ))
    return steps


def headline(steps: list[NextStep], final_split: str | None, final_error: float | None, goal: float | None,
             measured: bool = True, final_ci: tuple[float, float] | None = None, confidence: float = 0.95) -> str:
    """The one thing to do next, with its figure.

    ``measured`` is False when no decomposition term could be computed (one split only):
    then the absence of findings says little, and the headline says what is missing.
    The goal is met only when the whole interval of the final error is at or below it.
    """
    if not steps and not measured and final_error is not None:
        gap = f", {_pts(final_error - goal)} above the goal of {_pct(goal)}" if goal is not None else ""
        return (f"Only the {final_split} error is known ({_pct(final_error)}{gap}): give the train error "
                "(and val, train_val) to find where the error comes from.")
    if steps:
        s = steps[0]
        return f"{s.name or PROBLEM_NAMES.get(s.problem, s.problem)}. {s.why} First: {s.actions[0][0].lower()}{s.actions[0][1:]}"
    if final_error is not None and goal is not None:
        verdict = goal_verdict(final_error, final_ci, goal)
        interval = (f" ({confidence * 100:g}% interval {_pct(final_ci[0])} to {_pct(final_ci[1])})"
                    if final_ci is not None else "")
        if verdict == "met":
            return f"No material problem: {final_split} error {_pct(final_error)}{interval} meets the goal of {_pct(goal)}."
        if verdict == "cannot_tell":
            return (f"No material problem found, but it cannot be told yet whether the goal is met: {final_split} "
                    f"error {_pct(final_error)}{interval} against the goal of {_pct(goal)}. More {final_split} rows "
                    "would narrow the interval.")
        return (f"No material problem found, yet {final_split} error {_pct(final_error)}{interval} is above the goal "
                f"of {_pct(goal)}.")
    if final_error is not None:
        return f"No material problem found; {final_split} error is {_pct(final_error)}."
    return "No material problem found."


def goal_verdict(error: float, ci: tuple[float, float] | None, goal: float) -> str:
    """``met`` (the interval lies at or below the goal), ``not_met`` (above it) or
    ``cannot_tell`` (it straddles the goal). Without an interval the estimate decides."""
    lo, hi = ci if ci is not None else (error, error)
    if hi <= goal:
        return "met"
    if lo > goal:
        return "not_met"
    return "cannot_tell"
