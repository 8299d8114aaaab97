"""Each decision rule on small literal inputs: when a finding is raised, how strong it
is, and where it lands in the plan."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, norm

import erranalysis
from erranalysis.findings.decomposition import constant_comparison
from erranalysis.stats.intervals import paired_difference
from erranalysis.stats.slices import slice_p_values


def kinds(r):
    return [f.kind for f in r.findings]


def labelled(split_errors: dict, n: int, k: int = 3, majority: float = 0.5, seed: int = 0) -> pd.DataFrame:
    """``n`` rows per split with ``k`` classes (class 0 holds ``majority`` of them) and
    exactly the given error per split; the wrong rows are predicted as the next class."""
    rng = np.random.default_rng(seed)
    parts = []
    for split, err in split_errors.items():
        y = np.where(rng.random(n) < majority, 0, rng.integers(1, k, n))
        pred = y.copy()
        wrong = rng.permutation(n)[: int(round(err * n))]
        pred[wrong] = (y[wrong] + 1) % k
        parts.append(pd.DataFrame({"label": y, "pred": pred, "split": split}))
    return pd.concat(parts, ignore_index=True)


def test_paired_difference_matches_an_exact_mcnemar_test():
    # 37 rows fixed, 22 broken among 5,000: the interval excludes 0 exactly when the
    # exact two-sided McNemar (binomial) test rejects at the same level.
    diff, (lo, hi) = paired_difference(37, 22, 5000, 0.95)
    assert diff == pytest.approx(15 / 5000)
    assert (lo > 0) == (binomtest(37, 59).pvalue < 0.05)
    diff, (lo, hi) = paired_difference(60, 22, 5000, 0.95)
    assert lo > 0 and binomtest(60, 82).pvalue < 0.05


def test_constant_comparison_counts_the_rows_only_one_rule_gets_right():
    cm = [[50, 10, 0], [20, 15, 5], [5, 0, 25]]
    c = constant_comparison(cm)
    assert c["better"] == 15 + 25 and c["worse"] == 10 and c["rows"] == 130
    assert c["constant_error"] == pytest.approx(1 - 60 / 130)
    assert c["model_error"] == pytest.approx(1 - 90 / 130)


def test_a_model_at_the_baseline_on_every_held_out_split_is_below_baseline():
    # Error equal to the majority baseline (50%) on 3 x 3,000 held-out rows: it learned nothing.
    r = erranalysis.analyze(labelled({"train": 0.45, "train_val": 0.5, "val": 0.5, "test": 0.5}, 3000), goal=0.05)
    f = next(f for f in r.findings if f.kind == "below_baseline")
    assert f.blocking and f.severity == "high" and r.next_steps[0].problem == "below_baseline"
    lo, hi = f.evidence["improvement_ci"]
    assert lo < 0 < hi and hi < 0.25 * f.evidence["majority_error"]


def test_a_tie_on_test_is_not_below_baseline_when_train_val_beats_it():
    # 44.2% against a 44.2% baseline on test, but 25% on train_val: the model learned, and
    # lost its edge only after the shift.
    r = erranalysis.analyze(labelled({"train": 0.2, "train_val": 0.25, "val": 0.44, "test": 0.442}, 2000,
                                     majority=0.558), goal=0.05)
    assert "below_baseline" not in kinds(r)
    assert "distribution_shift" in kinds(r)


def test_too_few_rows_to_tell_is_not_below_baseline():
    # 30 held-out rows at the baseline: the interval cannot rule out a real improvement.
    r = erranalysis.analyze(labelled({"train": 0.3, "test": 0.5}, 30), goal=0.05)
    assert "below_baseline" not in kinds(r)


def test_slice_p_value_is_exact_for_small_slices():
    # 9 errors in a 16-row slice where the rest errs at 7.7%: the binomial tail, not the
    # normal approximation (which understates it).
    e, n, rate = np.array([9.0]), np.array([16.0]), np.array([0.077])
    p = slice_p_values(e, n, rate, np.array([0.0]))
    assert p[0] == pytest.approx(binomtest(9, 16, 0.077, alternative="greater").pvalue, rel=1e-9)
    z = (9 / 16 - 0.077) / np.sqrt(0.077 * 0.923 / 16)
    assert p[0] > norm.sf(z)  # the z test alone would be over-confident
    # The z p-value is kept when it is the larger (a large slice, an uncertain rest).
    assert slice_p_values(np.array([3.0]), n, rate, np.array([0.9]))[0] == 0.9


def _rare_group(seed: int = 0) -> pd.DataFrame:
    """A group of 16 rows per held-out split (about 50 in all) at about 31% error against
    about 7.7% for the rest; pure-noise metadata besides."""
    rng = np.random.default_rng(seed)
    parts = []
    for split, n in (("train", 1200), ("train_val", 200), ("val", 200), ("test", 200)):
        y = rng.integers(0, 3, n)
        group = np.zeros(n, dtype=bool)
        group[:16] = True
        err = np.where(group, 0.31, 0.075)
        pred = np.where(rng.random(n) < err, (y + 1) % 3, y)
        parts.append(pd.DataFrame({"label": y, "pred": pred, "split": split,
                                   "site": np.where(group, "site_x", rng.choice(["a", "b", "c", "d"], n)),
                                   "noise": rng.choice(["p", "q", "r"], n)}))
    return pd.concat(parts, ignore_index=True)


def test_a_weak_slice_is_judged_on_the_pooled_held_out_rows():
    r = erranalysis.analyze(_rare_group(), goal=0.05)
    assert r.slices.splits == ["train_val", "val", "test"]
    f = next(f for f in r.findings if f.kind == "weak_slice")
    assert (f.evidence["column"], f.evidence["value"]) == ("site", "site_x")
    assert f.evidence["rows"] == 48 and set(f.evidence["by_split"]) == {"train_val", "val", "test"}
    assert all(v["rows"] == 16 for v in f.evidence["by_split"].values())
    assert not any(f.evidence["column"] == "noise" for f in r.findings if f.kind == "weak_slice")


def _rare_positives(seed: int = 0, n: int = 240, positives: int = 12) -> pd.DataFrame:
    """Binary, 5% positives, each held-out split with 12 of them: scores rank them well
    (ROC AUC about 0.98) but nearly all sit below 0.5, so recall is about 8%."""
    rng = np.random.default_rng(seed)
    parts = []
    for split in ("train", "train_val", "val", "test"):
        y = np.zeros(n, dtype=int)
        y[:positives] = 1
        score = np.where(y == 1, rng.uniform(0.15, 0.45, n), rng.beta(1, 40, n))
        score[0] = 0.7  # one positive found
        parts.append(pd.DataFrame({"label": y, "score": score, "split": split}))
    return pd.concat(parts, ignore_index=True)


def test_a_threshold_problem_is_found_when_test_alone_holds_too_few_positives():
    r = erranalysis.analyze(_rare_positives(), goal=0.01)
    t = next(t for t in r.thresholds if t.label == "1")
    assert t.pooled["rows"] == 36 and t.pooled["recall"] == pytest.approx(3 / 36)
    assert t.flagged and t.measured_on == ("train_val", "test")
    f = next(f for f in r.findings if f.kind == "threshold")
    assert f.impact > 0.02 and f.impact_ci[0] > 0
    assert r.next_steps[0].problem == "threshold"
    assert "below_baseline" not in kinds(r)


def test_every_interval_follows_the_confidence_setting():
    frame = labelled({"train": 0.1, "train_val": 0.12, "val": 0.2, "test": 0.21}, 1500)
    wide = erranalysis.analyze(frame, goal=0.05, settings=erranalysis.Settings(confidence=0.99))
    narrow = erranalysis.analyze(frame, goal=0.05)
    w, n = wide.errors["test"].ci, narrow.errors["test"].ci
    assert w[0] < n[0] and w[1] > n[1]
    html = wide.to_html()
    assert "99% interval" in html and "95% interval" not in html


def test_a_finding_never_drops_out_of_the_plan_when_its_target_joined_elsewhere():
    from erranalysis.advice import plan
    from erranalysis.result import Finding

    def F(kind, impact=0.0, **evidence):
        return Finding(kind=kind, severity="medium", title=kind, evidence=evidence, impact=impact,
                       impact_ci=(impact * 0.8, impact * 1.2) if impact else None)

    # The threshold joins the shift; the imbalance and the never-predicted class that
    # would join the threshold keep steps of their own instead of vanishing.
    findings = [F("distribution_shift", 0.2, component="distribution_shift"),
                F("threshold", 0.05, improves_error=True, shift_induced=True),
                F("class_imbalance"), F("never_predicted")]
    steps = plan(findings)
    listed = [t for s in steps for t in s.findings]
    assert sorted(listed) == sorted(f.title for f in findings)


def test_labels_drawn_for_the_clean_null_follow_the_probabilities_of_identical_rows():
    from erranalysis.stats.slices import _draw_labels

    drawn = _draw_labels(np.tile([0.7, 0.3], (1000, 1)))
    assert np.bincount(drawn).tolist() == [700, 300]
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1], 20000)
    perm = [2, 0, 1]
    assert (np.array(perm)[_draw_labels(p[:, perm])] == _draw_labels(p)).all()  # blind to class order
