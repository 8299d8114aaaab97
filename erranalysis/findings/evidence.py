"""What the finding rules read (:class:`Evidence`) and how a finding's severity follows
from its effect."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..result import (
    Baseline,
    CalibrationResult,
    ClassBalance,
    Confusion,
    Decomposition,
    HistoryAnalysis,
    InputWarning,
    Interval,
    SliceAnalysis,
    SplitErrorRate,
    ThresholdAnalysis,
)
from ..settings import Settings


@dataclass(frozen=True)
class Evidence:
    """Everything the finding rules read, measured beforehand by the analysis."""

    settings: Settings
    metric: str
    goal: float | None
    eval_split: str | None
    errors: dict[str, SplitErrorRate]
    decomposition: Decomposition
    baselines: list[Baseline] = field(default_factory=list)
    confusion: Confusion | None = None
    thresholds: list[ThresholdAnalysis] = field(default_factory=list)
    calibration: CalibrationResult | None = None
    class_balance: ClassBalance | None = None
    warnings: list[InputWarning] = field(default_factory=list)
    leakage: dict[tuple[str, str], int] = field(default_factory=dict)  # pair of splits -> shared ids
    n_rows: int | None = None
    history: HistoryAnalysis | None = None
    slices: SliceAnalysis | None = None

    @property
    def scale(self) -> float | None:
        """What an effect is measured against: the gap from the goal to the final error,
        or the final error itself without a goal (or when the goal is met)."""
        dec = self.decomposition
        if dec is None or dec.final_error is None:
            return None
        if dec.gap is not None and dec.gap > 0 and self.goal is not None:
            return dec.gap
        return dec.final_error

    @property
    def pool(self) -> list[str]:
        return evaluation_pool(self.errors, self.decomposition)


def evaluation_pool(errors: dict[str, SplitErrorRate], decomposition: Decomposition | None) -> list[str]:
    """Held-out splits that share the evaluation distribution, whose rows are pooled as
    evidence: train_val, val and test when no distribution shift is material; val and
    test otherwise; the last split when nothing is held out."""
    held: list[str] = [s for s in ("train_val", "val", "test") if s in errors]
    comp = None if decomposition is None else decomposition.components.get("distribution_shift")
    if comp is not None and comp.verdict == "material":
        held = [s for s in held if s != "train_val"]
    return held or list(errors)[-1:]


def severity_for(ev: Evidence, impact: float, ci: Interval | None) -> str:
    """Severity from the size of an effect and how sure it is.

    Low whenever the final error's interval reaches down to the goal (it is met, or may
    be). Otherwise high: the interval lies above zero and the effect is at least
    ``severity_high_share`` (30%) of the gap to the goal (of the error without a goal);
    medium: the interval lies above zero and the effect is material
    (``materiality_share`` of that scale, at least ``materiality_floor``); low: anything
    smaller or less certain.
    """
    lo = impact if ci is None else ci[0]
    scale = ev.scale
    if lo <= 0 or impact <= 0:
        return "low"
    dec = ev.decomposition
    if ev.goal is not None and dec is not None and dec.gap is not None:
        final = ev.errors.get(dec.final_split) if dec.final_split else None
        reached = final.ci[0] if final is not None and final.ci is not None else dec.final_error
        if dec.gap <= 0 or (reached is not None and reached <= ev.goal):
            return "low"  # the goal is met, or may be: nothing is material
    floor = ev.settings.materiality_floor
    if scale is None or scale <= 0:
        return "medium" if impact >= floor else "low"
    if impact >= max(ev.settings.severity_high_share * scale, floor):
        return "high"
    if impact >= max(ev.settings.materiality_share * scale, floor):
        return "medium"
    return "low"
