"""Findings about classes: thresholds, confusions, never-predicted classes, balance, calibration."""

from __future__ import annotations

from ..fmt import ci_pct, pct, pts
from ..result import CalibrationResult, ClassBalance, Finding
from .evidence import Evidence, severity_for


def threshold(ev: Evidence) -> list[Finding]:
    """A class the model ranks well but almost never predicts (judged on the pooled
    held-out rows). The effect is the error the recommended threshold removes on the
    held-out splits it was not chosen on, with a paired interval; a threshold whose gain
    is not beyond chance, or that costs errors where it was chosen, is a trade-off
    (low), not a fix."""
    out = []
    for t in ev.thresholds:
        if not t.flagged:
            continue
        pooled = t.pooled or {}
        where = "/".join(pooled.get("splits", [])) or t.evaluated_on
        recall = pooled.get("recall", t.before["recall"])
        auc = pooled.get("roc_auc", t.roc_auc)
        found = (f"Class {t.label!r} is almost never found (recall {recall:.0%} on {where}) although the model "
                 f"ranks it well (ROC AUC {auc:.2f})")
        ci = t.gain_ci
        # The claim (rare recall, good ranking) stands on the pooled rows; it is a fix when
        # the threshold lowers the error where it was chosen and where it was not, or
        # beyond chance where it was not (a small val can hide a real gain).
        fix = (t.improves and t.gain > 0) or (ci is not None and ci[0] > 0)
        if fix:
            title = found + ": the threshold is wrong, not the model"
        elif not t.improves:
            title = found + "; a lower threshold finds it, at the cost of more errors overall"
        else:
            title = found + "; a new threshold helps where it was chosen, but not on " + "/".join(t.measured_on)
        measured = "/".join(t.measured_on)
        # After a material shift, a class that train_val still finds lost its recall with
        # the shift: the threshold is the shift's symptom.
        shift = ev.decomposition.components.get("distribution_shift") if ev.decomposition else None
        tv = None
        if ev.confusion is not None and "train_val" in ev.confusion.per_class:
            tv = next((m for m in ev.confusion.per_class["train_val"] if m.label == t.label), None)
        # So is a fix that removes little error on train_val: it adapts to the shift
        # (a class grown frequent after it) rather than repairing the model.
        tv_gain = t.gain_by_split.get("train_val")
        shift_induced = bool(shift is not None and shift.verdict == "material" and tv is not None
                             and tv.support >= ev.settings.min_support
                             and (tv.recall > ev.settings.threshold_max_recall
                                  or (tv_gain is not None and tv_gain < 0.5 * t.gain)))
        severity = "low"
        if fix:
            severity = severity_for(ev, t.gain, ci)
            severity = "medium" if severity == "low" else severity
        out.append(Finding(
            kind="threshold",
            severity=severity,
            title=title,
            evidence={
                "class": t.label,
                "recall": recall,
                "roc_auc": auc,
                "pooled": pooled,
                "current_threshold": t.current_threshold,
                "recommended_threshold": t.recommended_threshold,
                "chosen_on": t.chosen_on,
                "measured_on": measured,
                "gain": t.gain,
                "gain_ci": ci,
                "changed": t.changed,
                "before": t.before,
                "after": t.after,
                "optimistic": t.optimistic,
                "improves_error": bool(fix),
                "shift_induced": shift_induced,
                "metric": ev.metric,
            },
            split=measured,
            impact=max(t.gain, 0.0) if fix else 0.0,
            impact_ci=ci,
        ))
    return out


def confused_pairs(ev: Evidence) -> list[Finding]:
    conf = ev.confusion
    # With two classes every error is in the one pair: naming it says nothing.
    if conf is None or len(conf.labels) <= 2:
        return []
    s = ev.settings
    out = []
    seen = set()
    index = {name: i for i, name in enumerate(conf.labels)}

    def pooled_rows(a: str, b: str) -> float:
        """Rows of the pair over the pooled held-out splits (weights rescaled to rows)."""
        total = 0.0
        for sp in ev.pool:
            m = conf.by_split.get(sp)
            n = ev.errors[sp].n if sp in ev.errors else None
            if m is None or not n:
                continue
            size = sum(map(sum, m))
            total += m[index[a]][index[b]] * n / size if size else 0.0
        return total

    support = {m.label: m.support for m in conf.per_class.get(conf.split, [])}
    total = sum(support.values())

    def pair_rows(p) -> float:
        """Share of the evaluated rows in the pair's two classes."""
        return (support.get(p.actual, 0) + support.get(p.predicted, 0)) / total if total else 1.0

    for p in conf.most_confused:
        rows = max(p.rows, pooled_rows(p.actual, p.predicted))
        if rows < s.confused_min_count:
            continue
        if p.share_of_errors < s.confused_min_share and p.rate < s.confused_min_rate:
            continue
        key = frozenset((p.actual, p.predicted))
        if p.both_directions and key in seen:
            continue
        seen.add(key)
        reverse = next((q for q in conf.most_confused if q.actual == p.predicted and q.predicted == p.actual), None)
        share = p.share_of_errors + (reverse.share_of_errors if (p.both_directions and reverse) else 0.0)
        # Label ambiguity comes before the decomposition only when the pair holds far more
        # errors than an even spread over all ordered pairs would give it (a pair's even
        # share is 2 / (K(K-1))): in a binary problem every error is in the one pair.
        k = len(conf.labels)
        even_share = 2.0 / (k * (k - 1)) if k > 1 else 1.0
        # A pair that every held-out split shows (train too, or train alone spared because
        # the model memorised the swapped labels) is ambiguity in the labels themselves.
        ambiguity = (
            p.both_directions
            and p.pattern in ("everywhere", "held_out")
            and share >= max(s.ambiguity_priority_share, 3 * even_share)
        )
        # Only the pair's errors beyond the goal's allowance for its two classes count (a
        # goal set at a strong model's error already holds the data's own ambiguity), the
        # goal's errors taken as spread over the classes in proportion to their rows.
        impact = max(share * ev.errors[conf.split].error - (ev.goal or 0.0) * pair_rows(p), 0.0)
        if p.both_directions:
            title = f"{p.actual!r} and {p.predicted!r} are confused both ways ({share:.0%} of errors on {conf.split})"
        else:
            title = f"{p.actual!r} is predicted as {p.predicted!r} in {p.rate:.0%} of its rows on {conf.split}"
        out.append(Finding(
            kind="confused_pair",
            severity=severity_for(ev, impact, None),
            title=title,
            evidence={
                "actual": p.actual,
                "predicted": p.predicted,
                "count": p.count,
                "rate": p.rate,
                "share_of_errors": share,
                "both_directions": p.both_directions,
                "pattern": p.pattern,
                "rates_by_split": p.rates_by_split,
                "pooled_rows": rows,
                "label_ambiguity": ambiguity,
            },
            split=conf.split,
            impact=impact,
        ))
    return out


def never_predicted(ev: Evidence) -> list[Finding]:
    conf = ev.confusion
    if conf is None or not conf.never_predicted:
        return []
    rows = {m.label: m.support for m in conf.per_class[conf.split]}
    total = sum(rows.values())
    names = conf.never_predicted
    support = sum(rows[n] for n in names)
    share = support / total if total else 0.0
    listed = ", ".join(repr(n) for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return [Finding(
        kind="never_predicted",
        severity="medium" if share >= 0.01 else "low",
        title=f"{len(names)} class{'es are' if len(names) > 1 else ' is'} never predicted on {conf.split}: {listed}",
        evidence={"classes": names, "rows": support, "share_of_rows": share},
        split=conf.split,
        impact=0.0,  # a symptom (of a threshold or of underfitting): no effect of its own
    )]


def heavy_imbalance(bal: ClassBalance | None, limit: float) -> tuple[bool, bool]:
    """Whether the ratio split (train) and the evaluation split reach the imbalance ratio."""
    if bal is None:
        return False, False
    return (bal.imbalance_ratio is not None and bal.imbalance_ratio >= limit,
            bal.eval_ratio is not None and bal.eval_ratio >= limit)


def class_imbalance(ev: Evidence) -> list[Finding]:
    bal = ev.class_balance
    conf = ev.confusion
    on_ratio_split, on_eval = heavy_imbalance(bal, ev.settings.imbalance_ratio)
    if bal is None or not (on_ratio_split or on_eval):
        return []
    ratio, split = (bal.imbalance_ratio, bal.ratio_split) if on_ratio_split else (bal.eval_ratio, bal.eval_split)
    assert split is not None  # the evaluation split has a ratio only when it is named
    prior = bal.priors[split]
    # Minority classes: within the imbalance ratio of the smallest class present.
    smallest = min(p for p in prior if p > 0)
    minority = [i for i, p in enumerate(prior) if 0 < p <= smallest * ev.settings.imbalance_ratio ** 0.5]
    impact, severity, minority_recall, overall_recall = 0.0, "low", None, None
    if conf is not None and minority:
        metrics = conf.per_class[conf.split]
        total = sum(m.support for m in metrics)
        impact = sum(metrics[i].support * (1 - metrics[i].recall) for i in minority) / total if total else 0.0
        sup = sum(metrics[i].support for i in minority)
        minority_recall = sum(metrics[i].support * metrics[i].recall for i in minority) / sup if sup else None
        overall_recall = sum(m.support * m.recall for m in metrics) / total if total else None
        if minority_recall is not None and overall_recall is not None and minority_recall < overall_recall - 0.2:
            severity = "medium"
    names = [bal.labels[i] for i in minority]
    title = f"Classes are imbalanced {ratio:.0f}:1 on {split}"
    if on_eval and split != bal.eval_split:
        title += f" and {bal.eval_ratio:.0f}:1 on {bal.eval_split}"
    error = ev.errors[bal.eval_split].error if on_eval and bal.eval_split and bal.eval_split in ev.errors else None
    # The error rate counts rows, so on a heavily imbalanced split it mostly counts the
    # frequent classes; the balanced error counts every class alike.
    misleads = error is not None and bal.balanced_error is not None and ev.metric == "error"
    if misleads:
        title += (f": the error rate ({pct(error)}) mostly counts the frequent classes; balanced error "
                  f"{pct(bal.balanced_error)} ({ci_pct(bal.balanced_error_ci)}) weighs every class alike")
    return [Finding(
        kind="class_imbalance",
        severity=severity,
        title=title,
        evidence={
            "ratio": ratio,
            "split": split,
            "minority_classes": names[:20],
            "minority_recall": minority_recall,
            "overall_recall": overall_recall,
            "minority_error_share": impact,
            "eval_split": bal.eval_split,
            "eval_ratio": bal.eval_ratio,
            "error": error,
            "balanced_error": bal.balanced_error,
            "balanced_error_ci": bal.balanced_error_ci,
            "error_rate_misleads": misleads,
        },
        split=split,
        # The imbalance is a property of the data, not an error a fix recovers: no effect
        # of its own; the errors on its rare classes show up in thresholds and pairs.
        impact=0.0,
    )]


def label_shift(ev: Evidence) -> list[Finding]:
    bal = ev.class_balance
    if bal is None:
        return []
    s = ev.settings
    out = []
    alpha = s.label_shift_alpha / max(len(bal.tests), 1)  # Bonferroni over the splits compared
    for t in bal.tests:
        if t.p_value < alpha and t.tvd >= s.label_shift_tvd:
            out.append(Finding(
                kind="label_shift",
                # Medium at most (a shift of frequencies, not an error by itself), and only
                # when large and when the error it comes with matters (the goal is not met).
                severity="medium" if t.tvd >= 2 * s.label_shift_tvd and severity_for(
                    ev, t.tvd * (ev.errors[t.split].error if t.split in ev.errors else 0.0), None) != "low"
                else "low",
                title=f"Class frequencies differ between {t.reference} and {t.split} "
                      f"(total variation {t.tvd:.1%})",
                evidence={"reference": t.reference, "tvd": t.tvd, "chi2": t.chi2, "p_value": t.p_value,
                          "priors": {t.reference: bal.priors[t.reference], t.split: bal.priors[t.split]}},
                split=t.split,
                impact=t.tvd * (ev.errors[t.split].error if t.split in ev.errors else 0.0),
            ))
    return out


def calibration_direction(cal: CalibrationResult) -> str:
    """ "over" or "under" when the signed calibration gap's interval excludes zero, else
    "mixed" (gaps of both signs that cancel on average, or too few rows to tell)."""
    ci = cal.overconfidence_ci
    if cal.overconfidence is None or ci is None:
        return "mixed"
    if ci[0] > 0:
        return "over"
    if ci[1] < 0:
        return "under"
    return "mixed"


def poor_calibration(ev: Evidence) -> list[Finding]:
    cal = ev.calibration
    if cal is None:
        return []
    limit = max(ev.settings.ece_threshold, 2 * cal.noise_floor)
    if cal.ece <= limit:
        return []
    direction = calibration_direction(cal)
    ece = f"expected calibration error {cal.ece:.1%}"
    if direction == "over":
        title = (f"Probabilities are over-confident on {cal.split}: confidence in the predicted class runs "
                 f"{pts(cal.overconfidence)} above how often it is right, on average ({ece})")
    elif direction == "under":
        title = (f"Probabilities are under-confident on {cal.split}: confidence in the predicted class runs "
                 f"{pts(-(cal.overconfidence or 0.0))} below how often it is right, on average ({ece})")
    else:
        title = (f"Probabilities are miscalibrated on {cal.split} ({ece}), neither over- nor under-confident "
                 "on average")
    return [Finding(
        kind="poor_calibration",
        severity="medium" if cal.ece >= 2 * ev.settings.ece_threshold else "low",
        title=title,
        evidence={"ece": cal.ece, "noise_floor": cal.noise_floor, "kind": cal.kind, "direction": direction,
                  "overconfidence": cal.overconfidence, "overconfidence_ci": cal.overconfidence_ci},
        split=cal.split,
        impact=0.0,
    )]
