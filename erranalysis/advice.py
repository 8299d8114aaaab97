"""Findings → an ordered plan of next steps. All advice wording lives here.

Order: first what makes the other figures untrustworthy (data quality, leakage, a
model below the majority baseline, a wrong threshold, labels so ambiguous that the
error is mostly label noise), then the material decomposition terms in the order
to address them (underfitting, overfitting, distribution shift, val overfitting),
then everything else by the error it explains.
"""

from __future__ import annotations

from .fmt import pct as _pct
from .fmt import pts as _pts
from .result import SEVERITIES, Finding, NextStep

#: An unstable run (exploding or oscillating loss) comes before the decomposition:
#: the error figures of such a run are not yet worth decomposing.
FIRST = ("data_quality", "leakage", "loss_exploding", "loss_oscillating", "loss_not_decreasing", "below_baseline",
         "threshold")
DECOMPOSITION = ("underfitting", "overfitting", "distribution_shift", "val_overfitting")

#: Short names of the problems, used in headlines.
PROBLEM_NAMES = {
    "data_quality": "Fix the input data",
    "leakage": "Remove leakage between splits",
    "below_baseline": "Find the bug: the model does not beat a constant prediction",
    "threshold": "Fix the decision threshold",
    "underfitting": "Reduce underfitting (avoidable bias)",
    "overfitting": "Reduce overfitting (variance)",
    "distribution_shift": "Close the distribution shift",
    "val_overfitting": "Get a fresh validation set",
    "confused_pair": "Resolve the most confused classes",
    "never_predicted": "Make the model predict every class",
    "class_imbalance": "Deal with the class imbalance",
    "label_shift": "Align class frequencies across splits",
    "poor_calibration": "Calibrate the probabilities",
    "insufficient_data": "Collect more evaluation rows",
    "weak_slice": "Fix the weakest slice",
    "label_errors": "Review the likely mislabelled rows",
    "loss_exploding": "Stabilise training: the loss exploded",
    "loss_oscillating": "Make training converge: the loss oscillates",
    "loss_not_decreasing": "Make the model learn: the loss does not fall",
    "loss_initial": "Check the initial loss",
    "loss_still_decreasing": "Train longer",
    "loss_plateau": "Shuffle the training data",
    "loss_overfitting": "Stop at the best checkpoint and regularise",
}

#: What to try for each problem, most promising first.
ACTIONS = {
    "underfitting": [
        "Make the model bigger: more capacity (more or wider layers, a larger backbone, deeper trees, more features per split).",
        "Reduce regularization: lower weight decay and dropout, weaken the augmentation.",
        "Do error analysis on the training errors: which classes and inputs the model cannot fit.",
        "Move to a stronger, more modern architecture for this kind of input (mind the new problems it brings).",
        "Tune the hyperparameters that matter most: learning rate and its schedule, then layer sizes.",
        "Add features or richer inputs that carry the signal the model is missing.",
    ],
    "overfitting": [
        "Add more training data; it is the most reliable regularizer.",
        "Normalize the inputs (feature scaling; batch or layer normalization in a network).",
        "Augment the training data.",
        "Regularize: weight decay, dropout, label smoothing.",
        "Do error analysis on the held-out errors the training set does not show.",
        "Choose an architecture that suits the data better.",
        "Tune hyperparameters, regularization strength first.",
        "Stop training early, at the best held-out epoch.",
        "Remove features that may carry spurious signal.",
        "As a last resort, make the model smaller.",
    ],
    "distribution_shift": [
        "Analyse the val errors that train_val does not have: what differs in those inputs?",
        "Collect, or synthesize, training data that looks like val/test.",
        "Adapt to the target domain, e.g. fine-tune a pretrained model on data from it.",
    ],
    "val_overfitting": [
        "Collect a fresh validation set: the current one has been used for too many decisions.",
        "Use a larger validation set or cross-validation for model selection.",
        "Check that val and test are drawn the same way, from the same distribution.",
    ],
    "data_quality": [
        "Check that pred and the probabilities come from the same model, run and threshold.",
        "Re-export the predictions and re-run; fix the export before trusting any figure.",
        "For classes absent from train: add training examples or drop them from evaluation.",
    ],
    "leakage": [
        "Remove examples shared between splits (by id, and look for near duplicates).",
        "Split by group (user, site, time) so related examples stay in one split.",
        "Re-measure every error once the splits are disjoint.",
    ],
    "below_baseline": [
        "Check that labels and inputs line up (row order, joins, sorted file listings).",
        "Overfit a handful of examples; a model that cannot is wired wrongly.",
        "Check the loss and the label column the model was trained on.",
        "Compare with an input-independent model (all inputs zeroed): the real one must beat it.",
    ],
    "threshold": [
        "Move the decision threshold to the recommended value (chosen on val) and re-measure on test.",
        "Compare models with threshold-free metrics (ROC AUC, PR AUC) until the threshold is settled.",
        "If scores must be used as probabilities, rebalance or reweight the classes in training, then calibrate.",
    ],
    "confused_pair": [
        "Look at examples of the pair side by side; decide whether the labels are right.",
        "If the classes are ambiguous, tighten the labelling guideline and relabel, or merge the two classes.",
        "If the labels are right, collect more examples near the boundary between the two classes.",
        "Add features or inputs that tell the two classes apart.",
    ],
    "never_predicted": [
        "Check that these classes have enough training examples, and that their labels are right.",
        "Weight or resample the classes in training.",
        "Lower the per-class threshold for these classes (see the threshold sweep).",
    ],
    "class_imbalance": [
        "Weight the loss by class or resample so the rare classes count in training.",
        "Judge the model by per-class recall or balanced error (--metric balanced_error), not accuracy alone.",
        "Tune per-class thresholds on val.",
        "Collect more examples of the rare classes.",
    ],
    "label_shift": [
        "Check how the splits were drawn; make val and test match the deployment population.",
        "If deployment priors differ from train, reweight training or adjust the outputs to the new priors.",
    ],
    "poor_calibration": [
        "Fit temperature scaling or isotonic regression on a held-out split (scikit-learn's CalibratedClassifierCV).",
        "Read the reliability diagram: points below the diagonal mean overconfidence (common after overfitting), above it underconfidence (common with averaged ensembles such as random forests).",
        "Do not pick thresholds on raw probabilities before calibrating them.",
    ],
    "insufficient_data": [
        "Collect more labelled rows in the splits this term compares before acting on it.",
        "Meanwhile act on the terms that are material.",
    ],
    "weak_slice": [
        "Look at the errors of this slice by hand: what do its inputs have in common?",
        "Collect or label more training data from this slice.",
        "Check whether the slice is labelled or pre-processed differently from the rest.",
        "Add features that describe what sets the slice apart, or weight it more in training.",
    ],
    "label_errors": [
        "Review the listed rows (highest confidence first) and fix the labels that are wrong.",
        "If many are wrong, audit the labelling guideline and the annotators for those classes.",
        "Re-train on the corrected labels and re-measure; noisy labels also inflate the measured error.",
    ],
    "loss_exploding": [
        "Look for anomalous inputs in the batches around the blow-up: NaNs, huge values, division by zero, log of zero.",
        "Lower the learning rate (try a factor of 10), or add warm-up.",
        "Clip the gradient norm.",
        "Shuffle the data so that outliers spread across batches.",
    ],
    "loss_oscillating": [
        "Lower the learning rate.",
        "Check that the features can predict the labels: train on a handful of examples until the loss is near zero.",
        "Simplify the model until it beats a simple baseline, then add complexity back one piece at a time.",
        "Check the data pipeline for shuffled or misaligned labels.",
    ],
    "loss_not_decreasing": [
        "Overfit a handful of examples: if even that fails, the model, the loss or the labels are wired wrongly.",
        "Check that the optimiser updates the weights (learning rate not zero or tiny, parameters not frozen).",
        "Try learning rates a factor of 10 apart.",
        "Check that inputs and labels line up and that the features can predict the labels.",
    ],
    "loss_initial": [
        "Check the output layer: with K classes and an unbiased start the loss should begin near ln(K).",
        "Initialise the last layer's bias to the class log-frequencies, and its weights small.",
        "Check that the loss takes logits or probabilities as the model produces them, not both.",
    ],
    "loss_still_decreasing": [
        "Train longer, until train and val loss both flatten.",
        "If time is short, raise the learning rate a little or use a schedule that decays later.",
    ],
    "loss_plateau": [
        "Shuffle the training data every epoch: repeated steps point to a data order that repeats.",
        "Check the learning-rate schedule: scheduled drops also look like steps.",
        "Look for batches sorted by class or source.",
    ],
    "loss_overfitting": [
        "Keep the best checkpoint (early stopping at the lowest val loss).",
        "Add more training data or augmentation.",
        "Regularise: weight decay, dropout; or reduce model capacity.",
        "Check that the train and val splits come from the same distribution.",
    ],
}




def why(f: Finding) -> str:
    """One sentence with the figure that justifies acting on ``f`` (its title when the
    evidence lacks the figures this kind needs)."""
    try:
        text = _why(f)
    except (KeyError, TypeError, AttributeError):
        text = f.title + "."
    if text.split(" ", 1)[0] in ("train", "train_val", "val", "test") or f.kind == "weak_slice":
        return text  # a split or column name is an identifier: keep it as written
    return text[:1].upper() + text[1:]


def _why(f: Finding) -> str:
    e = f.evidence
    k = f.kind
    if k in DECOMPOSITION:
        share = e.get("share_of_gap")
        share_txt = f", {share:.0%} of the gap to the goal" if share is not None and 0 < share <= 1 else ""
        ci = e.get("ci")
        ci_txt = f" (95% interval {_pts(ci[0])} to {_pts(ci[1])})" if ci else ""
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
    if k == "below_baseline":
        return (f"Error {_pct(e['model_error'])} on {f.split} against {_pct(e['majority_error'])} for always "
                f"predicting {e['majority_class']!r}.")
    if k == "confused_pair":
        if e["both_directions"]:
            where = {"everywhere": " on every split", "eval_only": " only on val/test"}.get(e["pattern"], "")
            return (f"{e['actual']!r} and {e['predicted']!r} are mistaken for each other{where}, "
                    f"{e['share_of_errors']:.0%} of all errors on {f.split}.")
        return (f"{e['rate']:.0%} of {e['actual']!r} rows are predicted as {e['predicted']!r} on {f.split}, "
                f"{e['share_of_errors']:.0%} of all errors.")
    if k == "never_predicted":
        return f"{len(e['classes'])} class(es) holding {e['share_of_rows']:.1%} of rows on {f.split} are never predicted."
    if k == "class_imbalance":
        rec = e.get("minority_recall")
        rec_txt = f"; the rare classes have recall {rec:.0%}" if rec is not None else ""
        return f"The largest class is {e['ratio']:.0f} times the smallest on {e['split']}{rec_txt}."
    if k == "label_shift":
        return (f"Class frequencies on {f.split} differ from {e['reference']} by {e['tvd']:.1%} "
                f"(total variation, p = {e['p_value']:.2g}).")
    if k == "poor_calibration":
        return (f"Expected calibration error is {e['ece']:.1%} on {f.split} "
                f"(a calibrated model would show about {e['noise_floor']:.1%} here by chance).")
    if k == "weak_slice" and e.get("where"):
        return f"{f.title}; {e['where']}."
    if k.startswith("loss_") or k in ("weak_slice", "label_errors"):
        return f.title + "."
    if k == "insufficient_data":
        return (f"{e['component'].replace('_', ' ').capitalize()} is {_pts(e['value'])} with an interval from "
                f"{_pts(e['ci'][0])} to {_pts(e['ci'][1])}: too wide to tell whether it matters.")
    return f.title + "."


def _rank(f: Finding) -> tuple:
    if f.kind == "threshold" and f.evidence.get("improves_error") is False:
        return (3, -f.impact, SEVERITIES.index(f.severity))  # a trade-off, not a misleading error rate
    if f.kind in FIRST:
        return (0, FIRST.index(f.kind), -f.impact)
    if f.kind == "confused_pair" and f.evidence.get("label_ambiguity"):
        return (1, 0, -f.impact)
    if f.kind in DECOMPOSITION and "component" in f.evidence:
        return (2, DECOMPOSITION.index(f.kind), -f.impact)
    return (3, -f.impact, SEVERITIES.index(f.severity))


def plan(findings: list[Finding]) -> list[NextStep]:
    """One next step per problem kind, in the order documented in this module."""
    ordered = sorted(findings, key=_rank)
    steps: list[NextStep] = []
    by_kind: dict[str, list[Finding]] = {}
    for f in ordered:
        by_kind.setdefault(f.kind, []).append(f)
    for kind, group in sorted(by_kind.items(), key=lambda kv: _rank(kv[1][0])):
        top = group[0]
        actions = list(ACTIONS.get(kind, []))
        if kind == "threshold" and "recommended_threshold" in top.evidence:
            t = top.evidence
            rule = (f"predict {t['class']!r} whenever P({t['class']}) >= {t['recommended_threshold']:.3g}, "
                    "otherwise keep the usual prediction")
            actions[0] = (f"Set the threshold of class {t['class']!r} to {t['recommended_threshold']:.3g} "
                          f"(best F1 on {t['chosen_on']}): {rule}; then re-measure on test.")
        if kind == "data_quality" and top.evidence.get("positive_guessed"):
            actions.insert(0, "Check which class the score column is the probability of, and pass "
                              "--positive-label (positive_label=) if it is not the one assumed.")
        if kind == "insufficient_data" and top.evidence.get("rows_to_resolve"):
            need = ", ".join(f"{n:,} {s}" for s, n in top.evidence["rows_to_resolve"].items())
            actions[0] = (f"Collect labelled rows until the splits hold about {need} rows, then re-run; "
                          "until then do not act on this term.")
        severity = SEVERITIES[min(SEVERITIES.index(f.severity) for f in group)]
        steps.append(NextStep(
            problem=kind,
            why=why(top),
            actions=actions,
            severity=severity,
            findings=[f.title for f in group],
        ))
    return steps


def headline(steps: list[NextStep], final_split: str | None, final_error: float | None, goal: float | None,
             measured: bool = True) -> str:
    """The one thing to do next, with its figure.

    ``measured`` is False when no decomposition term could be computed (one split only):
    then the absence of findings says little, and the headline says what is missing.
    """
    if not steps and not measured and final_error is not None:
        gap = f", {_pts(final_error - goal)} above the goal of {_pct(goal)}" if goal is not None else ""
        return (f"Only the {final_split} error is known ({_pct(final_error)}{gap}): give the train error "
                "(and val, train_val) to find where the error comes from.")
    if steps:
        s = steps[0]
        return f"{PROBLEM_NAMES.get(s.problem, s.problem)}. {s.why} First: {s.actions[0][0].lower()}{s.actions[0][1:]}"
    if final_error is not None and goal is not None and final_error <= goal:
        return f"No material problem: {final_split} error {_pct(final_error)} meets the goal of {_pct(goal)}."
    if final_error is not None:
        return f"No material problem found; {final_split} error is {_pct(final_error)}."
    return "No material problem found."
