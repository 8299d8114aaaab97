"""The measured figures of a run: split errors and their decomposition, baselines,
per-class scores and confusions, thresholds, calibration and class balance.

The statistics (``erranalysis.stats``) build these classes directly, and the analysis
assembles the confusion from their parts, so the figures the report shows are the ones
that were computed, without a copy in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .values import Record, plain

#: An interval (low, high) at the report's confidence level.
Interval = tuple[float, float]


@dataclass(frozen=True)
class SplitErrorRate:
    """Error on one split, with its interval and the rows behind it."""

    split: str
    error: float
    ci: Interval | None
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
    ci: Interval | None
    verdict: str
    earlier: str
    later: str
    share_of_gap: float | None = None
    includes: tuple[str, ...] = ()
    rows_to_resolve: dict[str, int] | None = None


@dataclass(frozen=True)
class Decomposition:
    """Goal → avoidable bias → variance → distribution shift → val overfitting."""

    metric: str
    goal: float | None
    final_split: str | None
    final_error: float | None
    gap: float | None
    materiality_threshold: float
    components: dict[str, Component | None]  # None: not measurable
    not_measurable: dict[str, str]  # name -> why and how to measure it

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.metric, "goal": plain(self.goal)}
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
    """The model's error on one split beside two predictors that ignore the input:
    always the most frequent class, and a random class drawn with the class
    frequencies of ``prior_from``."""

    split: str
    model_error: float
    majority_error: float
    stratified_error: float
    majority_class: str
    prior_from: str


@dataclass(frozen=True)
class ReferenceModel:
    """A quick model of another family, fitted on the model's own features and training
    rows (a bounded sample) and scored on the same held-out rows as the model: whether
    a different family closes the gap. ``change`` is the reference's error minus the
    model's on those rows, with its paired interval; ``verdict`` says which is better
    beyond chance (``better`` or ``worse`` for the reference, else ``no different``)."""

    family: str
    name: str
    split: str
    train_rows: int
    rows: int
    error: float
    model_error: float
    change: float
    ci: Interval
    verdict: str


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall, F1, support and predicted count of one class on one split,
    and its one-vs-rest ROC AUC when the probabilities give one."""

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
    rates_by_split: dict[str, float | None] = field(default_factory=dict)  # None: no row of the class


#: A confusion matrix as nested lists, [actual][predicted] (whole numbers without weights).
Matrix = list[list[float]]


@dataclass(frozen=True)
class Confusion:
    """The confusion matrix of the evaluation split, its most confused pairs and the
    per-class scores of every split."""

    split: str
    labels: list[str]
    matrix: Matrix
    most_confused: list[ConfusedPair]
    by_split: dict[str, Matrix]
    never_predicted: list[str]  # class names
    per_class: dict[str, list[ClassMetrics]]

    def to_dict(self) -> dict[str, Any]:
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
    sweep: list[dict[str, float]]  # [{threshold, precision, recall, f1}] at about 100 points
    at_recommended_chosen: dict[str, float]
    before: dict[str, float]  # on evaluated_on: error, precision, recall, f1 of the class
    after: dict[str, float]
    optimistic: bool = False  # chosen and measured on the same split
    flagged: bool = False
    improves: bool = False  # the threshold also lowers the report's metric where it was chosen
    #: Held-out splits the gain is measured on (those it was not chosen on), the error it
    #: removes there (pooled, points of the error rate) with its paired interval, and the
    #: rows it fixes and breaks.
    measured_on: tuple[str, ...] = ()
    gain: float = 0.0
    gain_ci: Interval | None = None
    changed: dict[str, float] = field(default_factory=dict)
    gain_by_split: dict[str, float] = field(default_factory=dict)  # split -> the error it removes there
    #: The class's recall, ROC AUC and rows on the pooled held-out splits (the flag's evidence).
    pooled: Record = field(default_factory=dict)


@dataclass(frozen=True)
class CalibrationResult:
    """The reliability-diagram bins of the evaluation split and the expected calibration
    error, beside the error a calibrated model would show on as many rows by chance."""

    split: str
    kind: str  # "positive_class" | "top_label"
    ece: float
    noise_floor: float
    bins: list[dict[str, float]]  # lower, upper, confidence, frequency, weight
    #: Confidence minus observed frequency, row-weighted over the bins, with its sign:
    #: above 0 over-confident, below 0 under-confident; its interval at the report's level.
    overconfidence: float | None = None
    overconfidence_ci: Interval | None = None


@dataclass(frozen=True)
class LabelShiftTest:
    """Whether a split's class frequencies differ from the reference split's (train)."""

    reference: str
    split: str
    tvd: float
    chi2: float
    p_value: float


@dataclass(frozen=True)
class ClassBalance:
    """The class frequencies of every split, how imbalanced they are, and the tests of
    label shift against train."""

    labels: list[str]
    priors: dict[str, list[float]]  # split -> [share per class]
    imbalance_ratio: float | None
    ratio_split: str
    tests: list[LabelShiftTest]
    #: Largest to smallest class on the evaluation split, and its balanced error (one minus
    #: the mean per-class recall) with its interval: the figure that counts every class alike.
    eval_split: str | None = None
    eval_ratio: float | None = None
    balanced_error: float | None = None
    balanced_error_ci: Interval | None = None
