"""Every tunable number of the analysis, in one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Settings:
    """Thresholds and defaults used by the engine and the findings.

    Change one with ``Settings().replace(name=value)`` or ``analyze(..., settings=...)``.
    """

    #: Confidence level of every interval.
    confidence: float = 0.95
    #: A decomposition component is material when its interval excludes zero and it
    #: is at least this share of the gap between the final error and the goal ...
    materiality_share: float = 0.10
    #: ... and at least this many error-rate points (guards against a tiny gap).
    materiality_floor: float = 0.002
    #: Findings about classes need at least this many rows (weighted) of the class.
    min_support: int = 20
    #: A most-confused pair needs this many errors to become a finding ...
    confused_min_count: int = 10
    #: ... and this share of all errors on the split, or this rate within its class.
    confused_min_share: float = 0.10
    confused_min_rate: float = 0.10
    #: Number of most-confused pairs kept in the result.
    top_confused: int = 10
    #: A confused pair that holds this share of errors everywhere is label ambiguity
    #: serious enough to come before the decomposition in the next steps.
    ambiguity_priority_share: float = 0.30
    #: below_baseline: the held-out rows must rule out that the model removes this share
    #: of the majority baseline's errors (the upper end of the improvement's interval).
    baseline_margin: float = 0.25
    #: Threshold problem: recall at or below this while one-vs-rest ROC AUC is at
    #: least ``threshold_min_auc``.
    threshold_max_recall: float = 0.20
    threshold_min_auc: float = 0.75
    #: Criterion used to pick a threshold on val: "f1" (the only one for now).
    threshold_criterion: str = "f1"
    #: Bins of the score histograms (in logit space) behind AUC and threshold sweeps.
    score_bins: int = 8192
    #: Calibration: equal-width confidence bins, and the ECE that counts as poor.
    calibration_bins: int = 15
    ece_threshold: float = 0.05
    #: Imbalance ratio (largest class / smallest class) that raises a finding. At 10:1 two
    #: classes split 91% / 9%: never predicting the rare class already errs on under 9% of
    #: the rows, so the error rate hides a useless model and the report turns to the
    #: balanced error. Milder ratios (3:1, 5:1) are common in ordinary data and still
    #: leave the rare class a sixth or more of the rows.
    imbalance_ratio: float = 10.0
    #: Label shift: total-variation distance between class priors and the p-value.
    label_shift_tvd: float = 0.05
    label_shift_alpha: float = 0.01
    #: pred disagreeing with argmax(proba) on more than this share is data quality.
    argmax_disagreement: float = 0.01
    #: Tolerance on probability rows summing to one.
    proba_sum_tolerance: float = 0.01
    #: More distinct labels than this is taken as a column that holds no classes.
    max_classes: int = 2000
    #: Weak slices: false discovery rate over all slices tested, and the effect a slice
    #: needs (its error at least this ratio of the overall error, this many excess errors).
    slice_fdr: float = 0.05
    slice_min_ratio: float = 1.25
    slice_min_excess: float = 5.0
    #: Error cohorts: rows a rule needs, in the fitting half and in the held-out half, and
    #: the family-wise error rate over the tree's leaves (Bonferroni). On null data with
    #: 4,000 rows the rate gives no cohort in 200 runs; a planted 3x cohort is found in 2/3.
    cohort_min_rows: int = 50
    cohort_alpha: float = 0.01
    #: A feature moved between train and val/test when its PSI reaches this (and its test
    #: is significant); the shift is real when the domain classifier's AUC interval
    #: lies above this.
    shift_min_psi: float = 0.1
    shift_min_auc: float = 0.55
    #: Likely label errors become a finding from this share of the examined rows beyond
    #: what labels drawn from the model's own probabilities give ...
    label_error_share: float = 0.02
    #: ... when that excess is significant at this one-sided level ...
    label_error_alpha: float = 0.01
    #: ... and the model is not overconfident (confidence above accuracy by more than this,
    #: on the rows not flagged) ...
    overconfidence_margin: float = 0.02
    #: ... nor mostly certain (this share of rows with a probability within 1e-9 of 1).
    sharp_share: float = 0.5
    #: Val/test rows repeating a train row's metadata are leakage when chance gives that
    #: many with probability below this (Poisson), and at least twice as many as chance.
    duplicate_alpha: float = 1e-3
    #: Severity: high from this share of the gap to the goal (medium from materiality_share).
    severity_high_share: float = 0.3

    def __post_init__(self):
        from .errors import UsageError

        checks = {
            "confidence": 0 < self.confidence < 1,
            "materiality_share": 0 <= self.materiality_share <= 1,
            "materiality_floor": self.materiality_floor >= 0,
            "score_bins": self.score_bins >= 16 and self.score_bins % 2 == 0,
            "calibration_bins": self.calibration_bins >= 2,
            "top_confused": self.top_confused >= 1,
            "max_classes": self.max_classes >= 2,
            "proba_sum_tolerance": self.proba_sum_tolerance >= 0,
            "cohort_alpha": 0 < self.cohort_alpha < 1,
            "label_error_alpha": 0 < self.label_error_alpha < 1,
            "duplicate_alpha": 0 < self.duplicate_alpha < 1,
            "severity_high_share": 0 < self.severity_high_share <= 1,
            "baseline_margin": 0 <= self.baseline_margin <= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise UsageError(f"setting {name} is out of range. Got {getattr(self, name)!r} instead.")

    def replace(self, **changes) -> "Settings":
        """Return a copy with ``changes`` applied."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            from .errors import UsageError

            raise UsageError(f"unknown setting {unknown[0]!r}. Known settings: {', '.join(sorted(known))}.")
        return replace(self, **changes)

