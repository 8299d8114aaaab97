"""Where the errors gather in the metadata: weak slices, their decompositions, error
cohorts, features that moved between splits, and the rows worth a look."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .metrics import Interval
from .values import Record, plain


@dataclass(frozen=True)
class SliceStat:
    """The error of one value (or bin) of a metadata column on the pooled held-out rows,
    tested against the rest of those rows."""

    column: str
    value: str
    n: int
    errors: float
    error: float
    ci: Interval
    share_of_errors: float
    excess_errors: float
    p_value: float
    q_value: float
    significant: bool
    by_split: dict[str, tuple[int, float]] = field(default_factory=dict)  # split -> (rows, error)


@dataclass(frozen=True)
class SliceDecomposition:
    """The error decomposition of one slice, told apart as bias, variance or shift."""

    column: str
    value: str
    rows: dict[str, int]  # split -> rows
    errors: dict[str, float]  # split -> error
    components: dict[str, Record | None]  # name -> {value, ci, verdict} or None
    pattern: str  # "bias" | "variance" | "shift" | "val_overfitting" | "none" | "too_small"


@dataclass(frozen=True)
class Cohort:
    """A rule on the metadata under which errors concentrate, found on half the rows and
    confirmed on the other half."""

    rule: str
    n: int
    error: float
    share_of_rows: float
    holdout_n: int
    holdout_error: float
    holdout_ci: Interval


@dataclass(frozen=True)
class FeatureShift:
    """How far one metadata feature moved between train and val/test."""

    column: str
    kind: str  # "numeric" | "categorical"
    statistic: float  # KS statistic or chi-square
    p_value: float
    psi: float
    moved: bool


@dataclass(frozen=True)
class SliceAnalysis:
    """Everything measured on the metadata columns and the example rows of a run."""

    split: str  # the pooled held-out splits the slices are measured on, as "val/test"
    overall_error: float | None
    splits: list[str] = field(default_factory=list)
    columns: list[Record] = field(default_factory=list)  # {column, kind, slices}
    slices: list[SliceStat] = field(default_factory=list)  # ranked by excess errors
    decompositions: list[SliceDecomposition] = field(default_factory=list)
    cohorts: list[Cohort] = field(default_factory=list)
    cohort_rows: int = 0
    domain_auc: float | None = None
    domain_ci: Interval | None = None
    domain_rows: int = 0
    features: list[FeatureShift] = field(default_factory=list)  # most moved first
    top_losses: dict[str, list[Record]] = field(default_factory=dict)  # split -> rows
    label_errors: Record = field(default_factory=dict)
    duplicate_rows: int = 0
    duplicates: Record = field(default_factory=dict)  # see stats.slices.duplicate_metadata()
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return plain({
            "split": self.split, "splits": self.splits, "overall_error": self.overall_error, "columns": self.columns,
            "slices": self.slices, "decompositions": self.decompositions, "cohorts": self.cohorts,
            "cohort_rows": self.cohort_rows, "domain_auc": self.domain_auc, "domain_ci": self.domain_ci,
            "domain_rows": self.domain_rows, "features": self.features, "top_losses": self.top_losses,
            "label_errors": self.label_errors, "duplicate_rows": self.duplicate_rows,
            "duplicates": self.duplicates, "notes": self.notes,
        })
