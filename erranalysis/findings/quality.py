"""Findings that make the other figures untrustworthy: input problems and leakage."""

from __future__ import annotations

from ..fmt import pts
from ..result import Finding
from .evidence import Evidence


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
                    blocking=True,
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
                    blocking=True,
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


def leak_move(ev: Evidence, split: str, rows: float) -> tuple[float, bool] | None:
    """How far ``rows`` leaked rows can move the error of ``split`` at most, and whether
    that could take it beyond its interval (the leak then makes the figure untrustworthy).

    Removing k of n rows with error e leaves an error between (e·n − k)/(n − k) and
    e·n/(n − k): it moves by at most k·max(e, 1 − e)/(n − k).
    """
    err = ev.errors.get(split)
    if err is None or not err.n:
        return None
    n, e = float(err.n), err.error
    k = min(float(rows), n)
    move = 1.0 if k >= n else k * max(e, 1.0 - e) / (n - k)
    move = min(move, 1.0)
    if err.ci is None:
        return move, move >= ev.settings.materiality_floor
    half = max(e - err.ci[0], err.ci[1] - e)
    return move, bool(move > half)


def _leak_finding(ev: Evidence, rows: float, split: str, title: str, evidence: dict, train: bool) -> Finding:
    moved = leak_move(ev, split, rows)
    move, blocking = moved if moved is not None else (0.0, True)
    if moved is not None:
        where = "beyond" if blocking else "within"
        title += f": it can move the {split} error by up to {pts(move)}, {where} its interval"
    severity = ("high" if train else "medium") if blocking else "low"
    return Finding(
        kind="leakage",
        severity=severity,
        title=title,
        evidence={**evidence, "max_error_move": move},
        split=split,
        impact=move,
        impact_ci=(0.0, move),
        blocking=blocking,
    )


def leakage(ev: Evidence) -> list[Finding]:
    """Example ids shared between splits: blocking only when so many rows are shared
    that dropping them could move the later split's error beyond its interval."""
    out = []
    for (a, b), count in sorted(ev.leakage.items()):
        if count <= 0:
            continue
        out.append(_leak_finding(ev, count, b, f"{count} example ids appear in both {a} and {b}",
                                 {"splits": [a, b], "shared_ids": count}, train=a == "train"))
    return out
