"""The typed result of an analysis: plain frozen dataclasses, display-ready and serialisable.

:class:`ResultData` is the top of the tree; its parts live in the submodules by subject
(``metrics``, ``history``, ``slices``, ``comparison``), and the statistics that measure
them build them directly. Every class here is frozen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..kinds import KINDS
from .comparison import BriefFinding, Change, Comparison
from .history import Diagnosis, HistoryAnalysis
from .metrics import (
    Baseline,
    CalibrationResult,
    ClassBalance,
    ClassMetrics,
    Component,
    ConfusedPair,
    Confusion,
    Decomposition,
    Interval,
    LabelShiftTest,
    Matrix,
    ReferenceModel,
    SplitError,
    SplitErrorRate,
    ThresholdAnalysis,
)
from .slices import Cohort, FeatureShift, SliceAnalysis, SliceDecomposition, SliceStat
from .values import Record, plain

#: The four splits, in the order the decomposition walks them.
SPLITS = ("train", "train_val", "val", "test")

SCHEMA_VERSION = "1.0"
SEVERITIES = ("high", "medium", "low", "info")

__all__ = [
    "SCHEMA_VERSION", "SEVERITIES", "Baseline", "BriefFinding", "CalibrationResult", "Change", "ClassBalance",
    "ClassMetrics", "Cohort", "Comparison", "Component", "ConfusedPair", "Confusion", "Decomposition", "Diagnosis",
    "FeatureShift", "Finding", "HistoryAnalysis", "InputWarning", "Interval", "LabelShiftTest", "Matrix",
    "NextStep", "Provenance", "Record", "ReferenceModel", "ResultData", "SliceAnalysis", "SliceDecomposition",
    "SliceStat",
    "SplitError", "SplitErrorRate", "ThresholdAnalysis", "Verdict", "plain",
]


@dataclass(frozen=True)
class InputWarning:
    """Suspicious but usable input, kept in the result and shown in the report.

    ``text`` says what was found. A warning about some of the rows also counts them:
    ``count`` of the ``rows`` checked, the first at ``first_row`` (None where rows have
    no order); its message then ends "on <count> of <rows> rows (<share>), first at row
    <first_row>." Batches' warnings merge (:meth:`merged`) and move (:meth:`shifted`)
    through these fields, and :attr:`message` is written from them once.
    """

    code: str
    text: str
    count: int | None = None
    rows: int | None = None
    first_row: int | None = None

    @property
    def message(self) -> str:
        """The warning as the user reads it."""
        if self.rows is None:
            return self.text
        count = self.count or 0
        first = "" if self.first_row is None else f", first at row {self.first_row}"
        return f"{self.text} on {count} of {self.rows} rows ({count / self.rows:.2%}){first}."

    def shifted(self, offset: int) -> InputWarning:
        """The warning of a batch with its first row counted from ``offset`` rows earlier."""
        if self.first_row is None or not offset:
            return self
        return replace(self, first_row=self.first_row + offset)

    def without_row(self) -> InputWarning:
        """The warning among rows that have no order: no first row is named."""
        return self if self.first_row is None else replace(self, first_row=None)

    def merged(self, other: InputWarning) -> InputWarning:
        """The same warning over the rows of two batches: counts and rows added, the
        earlier first row kept."""
        firsts = [r for r in (self.first_row, other.first_row) if r is not None]
        return replace(self, count=_sum_known(self.count, other.count), rows=_sum_known(self.rows, other.rows),
                       first_row=min(firsts) if firsts else None)

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "count": self.count}


def _sum_known(a: int | None, b: int | None) -> int | None:
    """``a + b``, either of which may be unknown (None); None when both are."""
    if a is None or b is None:
        return a if b is None else b
    return a + b


@dataclass(frozen=True)
class Finding:
    """One diagnosis: a stable kind, a severity, a title, the evidence and the split."""

    kind: str
    severity: str
    title: str
    evidence: Record
    split: str | None = None
    #: Points of the error rate that fixing it would recover (or by which it can move a
    #: held-out figure), on the rows it is measured on: the evaluation split for the
    #: decomposition terms, the pooled held-out rows for thresholds, slices and label
    #: errors; with its interval when one can be given.
    impact: float = 0.0
    impact_ci: Interval | None = None
    #: Established beyond chance and making every other figure untrustworthy: such
    #: findings come first in the plan, whatever their size.
    blocking: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}: register it in erranalysis/kinds.py")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r} (known: {', '.join(SEVERITIES)})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "evidence": plain(self.evidence),
            "split": self.split,
            "impact": plain(self.impact),
            "impact_ci": plain(self.impact_ci),
            "blocking": bool(self.blocking),
        }


@dataclass(frozen=True)
class NextStep:
    """A finding turned into advice: the problem, why (with the figure), what to try."""

    problem: str
    why: str
    actions: list[str]
    severity: str
    findings: list[str] = field(default_factory=list)  # titles of the findings behind it
    impact: float | None = None  # points of the metric the step would recover
    impact_ci: Interval | None = None
    name: str = ""  # the problem's short name, as the headline shows it


@dataclass(frozen=True)
class Verdict:
    """The evaluation split's error against the goal, in one sentence with its figures.

    ``status`` is ``met`` (the whole interval at or below the goal), ``not_met`` (the
    whole interval above it), ``cannot_tell`` (the interval spans it) or ``no_goal``.
    ``sources`` are the material terms of the decomposition, largest first, each with
    its value and its share of the gap.
    """

    split: str
    error: float
    ci: Interval | None
    goal: float | None
    status: str
    text: str
    sources: tuple[Record, ...] = ()


@dataclass(frozen=True)
class Provenance:
    """What the run read and how it was set up: the input, its rows, the tool and the settings."""

    input: str | None
    sha256: str | None
    rows: int | None
    rows_by_split: dict[str, int | None]
    columns: Record  # role -> the input column(s) read for it
    tool_version: str
    command: str | None
    created: str
    metric: str
    goal: float | None
    settings: Record
    history: str | None = None  # the training-history file, when one was given
    #: The model, when the predictions were made here from it (``from_estimator``).
    model: str | None = None
    #: The family the next steps' actions are fitted to (``kinds.MODEL_FAMILIES``), when known.
    model_family: str | None = None


@dataclass(frozen=True)
class ResultData:
    """Everything erranalysis concluded; ``to_dict``/``to_json`` give the JSON document.

    The data alone: :class:`erranalysis.Result` adds the methods that write the report.
    """

    headline: str
    errors: dict[str, SplitErrorRate]
    decomposition: Decomposition
    findings: list[Finding]
    next_steps: list[NextStep]
    baselines: list[Baseline]
    confusion: Confusion | None
    thresholds: list[ThresholdAnalysis]
    calibration: CalibrationResult | None
    class_balance: ClassBalance | None
    warnings: list[InputWarning]
    provenance: Provenance
    eval_split: str | None = None
    history: HistoryAnalysis | None = None  # of the training curves, when given
    slices: SliceAnalysis | None = None  # of the metadata columns, when there are any
    comparison: Comparison | None = None  # with a previous run, when one was given
    #: The evaluation error against the goal and where the gap comes from (None without
    #: any error figure, as for a training history alone).
    verdict: Verdict | None = None
    #: Quick models of other families on the same features and rows, when asked for
    #: (``from_estimator(..., reference_models=True)``).
    references: list[ReferenceModel] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document as plain Python values (stable schema, ``schema_version``)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "headline": self.headline,
            "verdict": plain(self.verdict),
            "eval_split": self.eval_split,
            "errors": {
                name: {"error": plain(e.error), "n": e.n, "ci": plain(e.ci), "n_effective": plain(e.n_effective)}
                for name, e in self.errors.items()
            },
            "decomposition": self.decomposition.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "next_steps": plain(self.next_steps),
            "baselines": plain(self.baselines),
            "confusion": None if self.confusion is None else self.confusion.to_dict(),
            "thresholds": plain(self.thresholds),
            "calibration": plain(self.calibration),
            "class_balance": plain(self.class_balance),
            "warnings": plain(self.warnings),
            "history": None if self.history is None else self.history.to_dict(),
            "slices": None if self.slices is None else self.slices.to_dict(),
            "provenance": plain(self.provenance),
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
            "references": plain(self.references),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The JSON document as text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def worst_severity(self) -> str | None:
        """The most severe finding's severity, or None without findings."""
        ranks = [SEVERITIES.index(f.severity) for f in self.findings]
        return SEVERITIES[min(ranks)] if ranks else None

    def fails(self, severity: str) -> bool:
        """True when a finding of ``severity`` or worse exists (the ``--fail-on`` gate)."""
        limit = SEVERITIES.index(severity)
        return any(SEVERITIES.index(f.severity) <= limit for f in self.findings)
