"""Findings: aggregates and metrics + settings → [Finding] (pure; one module per family)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..result import Finding
from ..settings import Settings


@dataclass(frozen=True)
class Evidence:
    """Everything the finding rules read, computed beforehand by the engine."""

    settings: Settings
    metric: str
    goal: float | None
    eval_split: str | None
    errors: dict
    decomposition: object
    baselines: list = field(default_factory=list)
    confusion: object = None
    thresholds: list = field(default_factory=list)
    calibration: object = None
    class_balance: object = None
    warnings: list = field(default_factory=list)
    leakage: dict = field(default_factory=dict)
    n_rows: int | None = None
    history: object = None
    slices: object = None


def collect(ev: Evidence) -> list[Finding]:
    """All findings, in a stable order (family, then size)."""
    from . import classes, decomposition, history, quality, slices

    found: list[Finding] = []
    found += quality.data_quality(ev)
    found += quality.leakage(ev)
    found += slices.duplicate_rows(ev)
    found += history.history(ev)
    found += classes.threshold(ev)
    found += decomposition.below_baseline(ev, [f for f in found if f.kind == "threshold"])
    found += decomposition.components(ev)
    found = slices.shifted_features(ev, found)
    found += slices.weak_slices(ev)
    found += slices.label_errors(ev)
    found += classes.confused_pairs(ev)
    found += classes.never_predicted(ev)
    found += classes.class_imbalance(ev)
    found += classes.label_shift(ev)
    found += classes.poor_calibration(ev)
    return found
