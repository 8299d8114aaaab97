"""Findings: aggregates and metrics + settings → [Finding] (pure; one module per family)."""

from __future__ import annotations

from ..result import Finding
from . import classes, decomposition, history, quality, slices
from .evidence import Evidence, evaluation_pool, severity_for

__all__ = ["Evidence", "collect", "evaluation_pool", "severity_for"]


def collect(ev: Evidence) -> list[Finding]:
    """All findings, in a stable order (family, then size)."""
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
