"""The error decomposition against a goal, with intervals and a verdict per term.

Terms (Full Stack Deep Learning): avoidable bias = train − goal; variance =
train_val − train; distribution shift = val − train_val; val overfitting = test − val.
When a split is missing, the difference across the gap is given to the earlier term
and the terms it absorbs are listed in ``includes`` and reported as not measurable.
"""

from __future__ import annotations

import math

from ..result import Component, Decomposition, SplitError
from ..settings import Settings
from .intervals import difference_interval

COMPONENTS = ("avoidable_bias", "variance", "distribution_shift", "val_overfitting")
# The term that starts at each split (the gap from that split to the next one).
_TERM_AFTER = {"train": "variance", "train_val": "distribution_shift", "val": "val_overfitting"}
_ORDER = ("train", "train_val", "val", "test")

HOW_TO_MEASURE = {
    "avoidable_bias": "needs a train split and a goal (--goal): the error you aim for, such as human-level error.",
    "variance": "needs a train split and a held-out split (train_val or val) to compare it with.",
    "distribution_shift": "hold out a train_val split drawn from the training distribution; the gap between "
    "train_val and val is then the shift.",
    "val_overfitting": "needs both a val and a test split.",
}


def materiality_threshold(gap: float | None, settings: Settings) -> float:
    """Smallest size a term must reach to be material: a share of the gap, with a floor.

    When the final error already meets the goal (gap <= 0) nothing is material.
    """
    if gap is None or not math.isfinite(gap):
        return settings.materiality_floor
    if gap <= 0:
        return math.inf
    return max(settings.materiality_share * gap, settings.materiality_floor)


def verdict(value: float, ci: tuple[float, float] | None, threshold: float) -> str:
    """material / negligible / too_noisy, by the rule documented in the README.

    * material: the interval lies above zero and the estimate reaches ``threshold``;
    * too_noisy: the interval spans zero yet reaches ``threshold``;
    * negligible: everything else (small, or confidently below the threshold).

    Without an interval (summary numbers without row counts) only the size counts.
    """
    if ci is None:
        return "material" if value >= threshold else "negligible"
    lo, hi = ci
    if lo > 0 and value >= threshold:
        return "material"
    if lo <= 0 <= hi and hi >= threshold:
        return "too_noisy"
    return "negligible"


def rows_to_resolve(
    value: float, ci: tuple[float, float], threshold: float, rows: dict[str, int | None]
) -> dict | None:
    """Rows per split at which the interval would exclude zero or fall below the threshold.

    Interval widths shrink as 1/sqrt(rows), so the factor is (half-width / room)².
    """
    half = (ci[1] - ci[0]) / 2
    factors = []
    for room in (value, threshold - value):
        # Rooms this small would need more rows than exist; they settle nothing.
        if room > 1e-9:
            factors.append((half / room) ** 2)
    factors = [f for f in factors if f < 1e9]
    if not factors or any(n is None for n in rows.values()):
        return None
    factor = max(min(factors), 1.0)
    return {split: int(math.ceil(n * factor)) for split, n in rows.items()}


def decompose(
    errors: dict[str, SplitError], goal: float | None, metric: str, settings: Settings
) -> Decomposition:
    """Decompose the error of the last available split against ``goal``."""
    present = [s for s in _ORDER if s in errors]
    final = present[-1] if present else None
    final_error = errors[final].error if final else None
    gap = None
    if final_error is not None:
        gap = final_error - (goal if goal is not None else (errors["train"].error if "train" in errors else 0.0))
    threshold = materiality_threshold(gap, settings)

    components: dict[str, Component | None] = {name: None for name in COMPONENTS}
    not_measurable: dict[str, str] = {}

    def make(name, value, ci, earlier, later, includes=(), rows=None):
        v = verdict(value, ci, threshold)
        share = value / gap if gap not in (None, 0) and gap > 0 else None
        resolve = rows_to_resolve(value, ci, threshold, rows) if v == "too_noisy" and rows else None
        return Component(name, value, ci, v, earlier, later, share, tuple(includes), resolve)

    if "train" in errors and goal is not None:
        tr = errors["train"]
        ci = None if tr.ci is None else (tr.ci[0] - goal, tr.ci[1] - goal)
        components["avoidable_bias"] = make(
            "avoidable_bias", tr.error - goal, ci, "goal", "train", rows={"train": tr.n}
        )

    if "train" in present:
        chain = present[present.index("train"):]
        for earlier, later in zip(chain, chain[1:]):
            first = _TERM_AFTER[earlier]
            skipped = _ORDER[_ORDER.index(earlier) + 1: _ORDER.index(later)]
            includes = [_TERM_AFTER[s] for s in skipped]
            a, b = errors[earlier], errors[later]
            ci = None
            if a.ci is not None and b.ci is not None:
                ci = difference_interval(a.error, a.ci, b.error, b.ci)
            components[first] = make(
                first, b.error - a.error, ci, earlier, later, includes, rows={earlier: a.n, later: b.n}
            )
    for name in COMPONENTS:
        if components[name] is None:
            not_measurable[name] = HOW_TO_MEASURE[name]
    # Terms folded into an earlier one are not measurable on their own.
    for comp in components.values():
        if comp is not None:
            for name in comp.includes:
                not_measurable[name] = HOW_TO_MEASURE[name]
    return Decomposition(
        metric=metric,
        goal=goal,
        final_split=final,
        final_error=final_error,
        gap=gap,
        materiality_threshold=threshold,
        components=components,
        not_measurable=not_measurable,
    )
