"""What the training curves show: the diagnoses read from a loss history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .values import Record, plain


@dataclass(frozen=True)
class Diagnosis:
    """One thing the curves show: a finding kind, where it shows, and its figures."""

    kind: str
    at: float | None
    evidence: Record = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryAnalysis:
    """The diagnoses of one training history, its summary sentence and the curves to draw."""

    source: str
    format: str
    x_name: str
    n_train: int
    n_val: int
    expected_initial: float | None
    diagnoses: list[Diagnosis]
    healthy: bool
    summary: str
    plot: dict[str, list[float | None]]  # downsampled curves: train_x, train, val_x, val

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "format": self.format, "x_name": self.x_name,
            "n_train": self.n_train, "n_val": self.n_val, "expected_initial": plain(self.expected_initial),
            "healthy": self.healthy, "summary": self.summary,
            "diagnoses": [{"kind": d.kind, "at": plain(d.at), "evidence": plain(d.evidence)} for d in self.diagnoses],
        }
