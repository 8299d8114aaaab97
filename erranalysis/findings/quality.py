"""Findings that make the other figures untrustworthy: input problems and leakage."""

from __future__ import annotations

from ..result import Finding
from . import Evidence


def data_quality(ev: Evidence) -> list[Finding]:
    out = []
    for w in ev.warnings:
        if w.code == "pred_disagrees_with_proba" and ev.n_rows:
            share = (w.count or 0) / ev.n_rows
            if share > ev.settings.argmax_disagreement:
                out.append(Finding(
                    kind="data_quality",
                    severity="high" if share > 0.10 else "medium",
                    title=f"pred disagrees with the probabilities on {share:.1%} of rows",
                    evidence={"rows": w.count, "share": share, "detail": w.message},
                    split=None,
                    impact=share,
                ))
        elif w.code == "positive_guessed" and ev.eval_split in ev.errors:
            err = ev.errors[ev.eval_split].error
            if err > 0.5:
                out.append(Finding(
                    kind="data_quality",
                    severity="high",
                    title=(f"{err:.0%} of predictions on {ev.eval_split} are wrong: the score probably "
                           "belongs to the other class (pass --positive-label)"),
                    evidence={"error": err, "detail": w.message, "positive_guessed": True},
                    split=ev.eval_split,
                    impact=err,
                ))
        elif w.code == "class_unseen_in_train":
            out.append(Finding(
                kind="data_quality",
                severity="medium",
                title="Some classes in val/test never appear in train",
                evidence={"classes": w.count, "detail": w.message},
                split=None,
            ))
    return out


def leakage(ev: Evidence) -> list[Finding]:
    out = []
    for (a, b), count in sorted(ev.leakage.items()):
        if count <= 0:
            continue
        out.append(Finding(
            kind="leakage",
            severity="high" if a == "train" else "medium",
            title=f"{count} example ids appear in both {a} and {b}",
            evidence={"splits": [a, b], "shared_ids": count},
            split=b,
        ))
    return out
