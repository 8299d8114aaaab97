"""The new run against a previous one: the figures that moved and the findings that
came, went or stayed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .metrics import Interval
from .values import plain

#: A finding of either run in brief: its kind, severity, title and split.
BriefFinding = dict[str, str | None]


@dataclass(frozen=True)
class Change:
    """One figure of the new run against the previous one: ``change = new - old``."""

    name: str
    old: float | None
    new: float | None
    change: float | None
    ci: Interval | None
    verdict: str  # "better" | "worse" | "no_change" | "not_comparable"
    paired: bool = False
    n: float | None = None  # rows the change is measured on (paired: matched rows)
    p_value: float | None = None  # McNemar's exact test, paired split errors only

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "old": plain(self.old), "new": plain(self.new), "change": plain(self.change),
                "ci": plain(self.ci), "verdict": self.verdict, "paired": self.paired, "n": plain(self.n),
                "p_value": plain(self.p_value)}


@dataclass(frozen=True)
class Comparison:
    """The new run against a previous one (the ``comparison`` of the JSON)."""

    previous: str  # the previous run's input, as given
    source: str  # "predictions" | "json"
    paired: bool
    matched_by: str | None  # "id" | "position" | None
    matched_rows: int | None
    eval_split: str | None
    splits: list[Change]  # error per split
    components: list[Change]  # decomposition terms
    classes: list[Change]  # per-class error (1 - recall) on the evaluation split, moved ones
    slices: list[Change]  # slice error, moved ones
    new_findings: list[BriefFinding]
    resolved_findings: list[BriefFinding]
    kept_findings: int
    regression: bool  # the evaluation split's error rose beyond its interval
    improvement: bool
    text: str
    confidence: float = 0.95
    notes: list[str] = field(default_factory=list)
    metric: str = "error"
    unchecked_findings: list[BriefFinding] = field(default_factory=list)  # gone, but this run could not have raised them

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous": self.previous, "source": self.source, "paired": self.paired,
            "matched_by": self.matched_by, "matched_rows": self.matched_rows, "eval_split": self.eval_split,
            "confidence": self.confidence,
            "splits": [c.to_dict() for c in self.splits],
            "components": [c.to_dict() for c in self.components],
            "classes": [c.to_dict() for c in self.classes],
            "slices": [c.to_dict() for c in self.slices],
            "metric": self.metric,
            "new_findings": plain(self.new_findings), "resolved_findings": plain(self.resolved_findings),
            "unchecked_findings": plain(self.unchecked_findings),
            "kept_findings": self.kept_findings, "regression": self.regression, "improvement": self.improvement,
            "text": self.text, "notes": list(self.notes),
        }
