"""The typed result of an analysis: plain frozen dataclasses, display-ready and serialisable."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np

from .kinds import KINDS

SCHEMA_VERSION = "1.0"
SEVERITIES = ("high", "medium", "low", "info")


def plain(value: Any) -> Any:
    """Convert dataclasses, tuples and NumPy scalars/arrays into JSON-ready values.

    Non-finite floats become ``None`` so the JSON stays standard.
    """
    if is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


@dataclass(frozen=True)
class SplitErrorRate:
    """Error on one split, with its interval and the rows behind it."""

    split: str
    error: float
    ci: tuple[float, float] | None
    n: int | None
    n_effective: float | None = None


#: The former name of :class:`SplitErrorRate`, kept so that existing imports work.
SplitError = SplitErrorRate


@dataclass(frozen=True)
class Component:
    """One term of the error decomposition, in the units of the metric.

    ``verdict`` is ``material``, ``negligible`` or ``too_noisy`` (the interval spans
    zero and reaches a material size). ``includes`` lists terms folded into this one
    because the split that separates them is missing. ``rows_to_resolve`` gives, for
    a too-noisy term, the rows per split at which its interval would settle it.
    """

    name: str
    value: float
    ci: tuple[float, float] | None
    verdict: str
    earlier: str
    later: str
    share_of_gap: float | None = None
    includes: tuple[str, ...] = ()
    rows_to_resolve: dict | None = None


@dataclass(frozen=True)
class Decomposition:
    """Goal → avoidable bias → variance → distribution shift → val overfitting."""

    metric: str
    goal: float | None
    final_split: str | None
    final_error: float | None
    gap: float | None
    materiality_threshold: float
    components: dict  # name -> Component | None (None: not measurable)
    not_measurable: dict  # name -> why and how to measure it

    def to_dict(self) -> dict:
        out = {"metric": self.metric, "goal": plain(self.goal)}
        for name, comp in self.components.items():
            out[name] = None if comp is None else plain(comp)
        out.update({
            "final_split": self.final_split,
            "final_error": plain(self.final_error),
            "gap": plain(self.gap),
            "materiality_threshold": plain(self.materiality_threshold),
            "not_measurable": plain(self.not_measurable),
        })
        return out


@dataclass(frozen=True)
class Baseline:
    split: str
    model_error: float
    majority_error: float
    stratified_error: float
    majority_class: str
    prior_from: str


@dataclass(frozen=True)
class ClassMetrics:
    label: str
    precision: float
    recall: float
    f1: float
    support: float
    predicted: float
    roc_auc: float | None = None


@dataclass(frozen=True)
class ConfusedPair:
    """An (actual, predicted) pair of classes and how often it happens."""

    actual: str
    predicted: str
    count: float  # weighted count
    rows: float  # the count in rows (weights rescaled to sum to the row count)
    rate: float  # share of the actual class predicted as `predicted`
    share_of_errors: float
    both_directions: bool = False
    pattern: str = "unknown"  # "everywhere" | "eval_only" | "held_out" | "unknown"
    rates_by_split: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Confusion:
    split: str | None
    labels: list
    matrix: list
    most_confused: list  # [ConfusedPair]
    by_split: dict  # split -> matrix
    never_predicted: list  # class names
    per_class: dict  # split -> [ClassMetrics]

    def to_dict(self) -> dict:
        return {
            "split": self.split,
            "labels": self.labels,
            "matrix": plain(self.matrix),
            "most_confused": plain(self.most_confused),
            "never_predicted": self.never_predicted,
            "by_split": plain(self.by_split),
            "per_class": plain(self.per_class),
        }


@dataclass(frozen=True)
class ThresholdAnalysis:
    """Threshold sweep for one class ("predict k when P(k) >= t") and its recommendation."""

    label: str
    chosen_on: str
    evaluated_on: str
    criterion: str
    current_threshold: float | None
    recommended_threshold: float
    roc_auc: float | None
    sweep: list  # [{threshold, precision, recall, f1}] at about 100 points
    at_recommended_chosen: dict
    before: dict  # on evaluated_on: error, precision, recall, f1 of the class
    after: dict
    optimistic: bool = False  # chosen and measured on the same split
    flagged: bool = False
    improves: bool = False  # the threshold also lowers the report's metric where it was chosen
    #: Held-out splits the gain is measured on (those it was not chosen on), the error it
    #: removes there (pooled, points of the error rate) with its paired interval, and the
    #: rows it fixes and breaks.
    measured_on: tuple = ()
    gain: float = 0.0
    gain_ci: tuple | None = None
    changed: dict = field(default_factory=dict)
    gain_by_split: dict = field(default_factory=dict)  # split -> the error it removes there
    #: The class's recall, ROC AUC and rows on the pooled held-out splits (the flag's evidence).
    pooled: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CalibrationResult:
    split: str
    kind: str  # "positive_class" | "top_label"
    ece: float
    noise_floor: float
    bins: list
    #: Confidence minus observed frequency, row-weighted over the bins, with its sign:
    #: above 0 over-confident, below 0 under-confident; its interval at the report's level.
    overconfidence: float | None = None
    overconfidence_ci: tuple | None = None


@dataclass(frozen=True)
class LabelShiftTest:
    reference: str
    split: str
    tvd: float
    chi2: float
    p_value: float


@dataclass(frozen=True)
class ClassBalance:
    labels: list
    priors: dict  # split -> [share per class]
    imbalance_ratio: float | None
    ratio_split: str | None
    tests: list  # [LabelShiftTest]
    #: Largest to smallest class on the evaluation split, and its balanced error (one minus
    #: the mean per-class recall) with its interval: the figure that counts every class alike.
    eval_split: str | None = None
    eval_ratio: float | None = None
    balanced_error: float | None = None
    balanced_error_ci: tuple | None = None


@dataclass(frozen=True)
class Finding:
    """One diagnosis: a stable kind, a severity, a title, the evidence and the split."""

    kind: str
    severity: str
    title: str
    evidence: dict
    split: str | None = None
    #: Points of the error rate that fixing it would recover (or by which it can move a
    #: held-out figure), on the rows it is measured on: the evaluation split for the
    #: decomposition terms, the pooled held-out rows for thresholds, slices and label
    #: errors; with its interval when one can be given.
    impact: float = 0.0
    impact_ci: tuple[float, float] | None = None
    #: Established beyond chance and making every other figure untrustworthy: such
    #: findings come first in the plan, whatever their size.
    blocking: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}: register it in erranalysis/kinds.py")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r} (known: {', '.join(SEVERITIES)})")

    def to_dict(self) -> dict:
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
    actions: list
    severity: str
    findings: list = field(default_factory=list)  # titles of the findings behind it
    impact: float | None = None  # points of the metric the step would recover
    impact_ci: tuple[float, float] | None = None
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
    ci: tuple[float, float] | None
    goal: float | None
    status: str
    text: str
    sources: tuple = ()


@dataclass(frozen=True)
class Provenance:
    input: str | None
    sha256: str | None
    rows: int | None
    rows_by_split: dict
    columns: dict
    tool_version: str
    command: str | None
    created: str
    metric: str
    goal: float | None
    settings: dict
    history: str | None = None  # the training-history file, when one was given


@dataclass(frozen=True)
class ResultData:
    """Everything erranalysis concluded; ``to_dict``/``to_json`` give the JSON document.

    The data alone: :class:`erranalysis.Result` adds the methods that write the report.
    """

    headline: str
    errors: dict  # split -> SplitErrorRate
    decomposition: Decomposition
    findings: list
    next_steps: list
    baselines: list
    confusion: Confusion | None
    thresholds: list
    calibration: CalibrationResult | None
    class_balance: ClassBalance | None
    warnings: list
    provenance: Provenance
    eval_split: str | None = None
    history: object = None  # HistoryAnalysis of the training curves, when given
    slices: object = None  # SliceAnalysis of the metadata columns, when there are any
    comparison: object = None  # compare.Comparison with a previous run, when one was given
    #: The evaluation error against the goal and where the gap comes from (None without
    #: any error figure, as for a training history alone).
    verdict: Verdict | None = None

    def to_dict(self) -> dict:
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
