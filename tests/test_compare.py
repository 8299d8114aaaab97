"""Comparison with a previous model: paired intervals, row matching, verdicts, outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom
from sklearn.metrics import balanced_accuracy_score

import erranalysis
from erranalysis.compare import Outcomes, compare_docs, match_rows
from erranalysis.errors import UsageError
from erranalysis.io import SPLITS
from erranalysis.stats.intervals import difference_interval, paired_change, wilson

SPLIT_NAMES = np.array(["train", "train_val", "val", "test"])


def _pair(n=4000, k=3, old_err=0.2, fix=0.0, break_=0.0, seed=0, ids=True):
    """Two models on the same rows: the new one fixes a share ``fix`` of the old one's
    test errors and breaks a share ``break_`` of its right test answers."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    split = SPLIT_NAMES[rng.integers(0, 4, n)]
    wrong = rng.random(n) < old_err
    pred = np.where(wrong, (y + 1 + rng.integers(0, k - 1, n)) % k, y)
    old = pd.DataFrame({"label": y, "pred": pred, "split": split, "meta": rng.integers(0, 3, n).astype(str)})
    if ids:
        old["id"] = np.arange(n)
    new = old.copy()
    test = new.split == "test"
    fixed = test & (new.pred != new.label) & (rng.random(n) < fix)
    broken = test & (new.pred == new.label) & (rng.random(n) < break_)
    new.loc[fixed, "pred"] = new.label[fixed]
    new.loc[broken, "pred"] = (new.label[broken] + 1) % k
    return new, old


def _outcomes(df: pd.DataFrame, classes=(0, 1, 2)) -> Outcomes:
    codes = {s: i for i, s in enumerate(SPLITS)}
    return Outcomes(tuple(classes), df.split.map(codes).to_numpy(), df.label.to_numpy(), df.pred.to_numpy(),
                    None, df["id"].to_numpy() if "id" in df else None)


# ------------------------------------------------------------------------------- the interval

def test_paired_interval_covers_the_true_change():
    """Newcombe's paired score interval holds its level on correlated errors (Gaussian copula)."""
    from scipy.stats import norm

    rng = np.random.default_rng(3)
    for n, p_new, p_old, rho in [(60, 0.1, 0.15, 0.6), (300, 0.2, 0.2, 0.3), (1000, 0.05, 0.07, 0.8)]:
        sims = 2000
        z1 = rng.normal(size=(sims, n))
        z2 = rho * z1 + np.sqrt(1 - rho ** 2) * rng.normal(size=(sims, n))
        w_new, w_old = z1 < norm.ppf(p_new), z2 < norm.ppf(p_old)
        a, b, c = (w_new & w_old).sum(1), (w_new & ~w_old).sum(1), (~w_new & w_old).sum(1)
        change, lo, hi = paired_change(a, b, c, np.full(sims, n))
        coverage = np.mean((lo <= p_new - p_old) & (p_new - p_old <= hi))
        assert 0.93 <= coverage <= 0.985, (n, p_new, p_old, rho, coverage)
        assert np.all((lo <= change) & (change <= hi))


def test_paired_interval_is_narrower_than_the_independent_one_when_models_agree():
    a, b, c, n = 180, 10, 30, 1000  # both wrong on most of their errors
    change, lo, hi = (float(v) for v in paired_change(a, b, c, n))
    ilo, ihi = difference_interval((a + c) / n, wilson((a + c) / n, n), (a + b) / n, wilson((a + b) / n, n))
    assert change == pytest.approx(-0.02)
    assert hi - lo < 0.6 * (ihi - ilo)
    assert hi < 0 < ihi  # paired: a real improvement; independent: within noise


def test_identical_models_have_a_small_interval_around_zero():
    change, lo, hi = (float(v) for v in paired_change(50, 0, 0, 500))
    assert change == 0 and lo < 0 < hi and hi - lo < 0.02


# ------------------------------------------------------------------------------- verdicts

def test_split_change_is_the_exact_mcnemar_test_and_the_paired_counts():
    new, old = _pair(fix=0.3, break_=0.02, seed=1)
    c = compare_docs({"errors": {}, "eval_split": "test"}, {"errors": {}}, previous="old.parquet",
                     source="predictions", new_rows=_outcomes(new), old_rows=_outcomes(old))
    test = next(s for s in c.splits if s.name == "test")
    rows = new.split == "test"
    nw, ow = (new.pred != new.label)[rows], (old.pred != old.label)[rows]
    b, d = int((nw & ~ow).sum()), int((nw ^ ow).sum())
    assert test.old == pytest.approx(ow.mean()) and test.new == pytest.approx(nw.mean())
    assert test.change == pytest.approx(nw.mean() - ow.mean())
    assert test.p_value == pytest.approx(min(1.0, 2 * min(binom.cdf(b, d, 0.5), binom.sf(b - 1, d, 0.5))))
    assert test.verdict == "better" and c.improvement and not c.regression
    assert c.paired and c.matched_by == "id" and c.matched_rows == len(new)
    assert {s.name: s.verdict for s in c.splits if s.name != "test"} == {
        "train": "no_change", "train_val": "no_change", "val": "no_change"}


@pytest.mark.parametrize("fix, break_, verdict", [(0.0, 0.08, "worse"), (0.4, 0.0, "better"), (0.0, 0.0, "no_change")])
def test_planted_changes_get_their_verdict(fix, break_, verdict):
    new, old = _pair(fix=fix, break_=break_, seed=2)
    result = erranalysis.analyze(new, goal=0.05, compare=old)
    c = result.comparison
    assert next(s for s in c.splits if s.name == "test").verdict == verdict
    assert c.regression == (verdict == "worse")
    assert result.to_dict()["comparison"]["regression"] == (verdict == "worse")
    if verdict == "worse":  # the broken rows fall on every class
        assert {x.verdict for x in c.classes} == {"worse"}


def test_null_pairs_rarely_move():
    """Two models of the same quality, errors partly shared: 'better' or 'worse' on the
    test split in about 5% of pairs, as the interval's level says, and classes (many
    comparisons, Bonferroni) almost never."""
    rng = np.random.default_rng(5)
    moved, class_moves = 0, 0
    runs = 200
    for seed in range(runs):
        n, k = 2000, 4
        y = rng.integers(0, k, n)
        shared = rng.random(n) < 0.12
        ow = shared | (rng.random(n) < 0.1)
        nw = shared | (rng.random(n) < 0.1)
        split = np.full(n, SPLITS.index("test"))
        new = Outcomes((0, 1, 2, 3), split, y, np.where(nw, (y + 1) % k, y), None, None)
        old = Outcomes((0, 1, 2, 3), split, y, np.where(ow, (y + 1) % k, y), None, None)
        c = compare_docs({"errors": {}, "eval_split": "test"}, {"errors": {}}, previous="old", source="predictions",
                         new_rows=new, old_rows=old)
        moved += c.splits[0].verdict != "no_change"
        class_moves += bool(c.classes)
    assert moved / runs <= 0.09
    assert class_moves / runs <= 0.06


def test_balanced_error_change_matches_sklearn():
    new, old = _pair(fix=0.3, seed=4)
    c = compare_docs({"errors": {}, "eval_split": "test"}, {"errors": {}}, previous="old", source="predictions",
                     new_rows=_outcomes(new), old_rows=_outcomes(old), metric="balanced_error")
    rows = new.split == "test"
    expected = (1 - balanced_accuracy_score(new.label[rows], new.pred[rows])) - (
        1 - balanced_accuracy_score(old.label[rows], old.pred[rows]))
    test = next(s for s in c.splits if s.name == "test")
    assert test.change == pytest.approx(expected)
    assert test.ci[0] <= test.change <= test.ci[1] and test.ci[1] < 0


# ------------------------------------------------------------------------------- row matching

def test_rows_match_by_id_in_any_order():
    new, old = _pair(fix=0.3, seed=6)
    shuffled = old.sample(frac=1.0, random_state=0)
    a = compare_docs({"errors": {}, "eval_split": "test"}, {"errors": {}}, previous="old", source="predictions",
                     new_rows=_outcomes(new), old_rows=_outcomes(old))
    b = compare_docs({"errors": {}, "eval_split": "test"}, {"errors": {}}, previous="old", source="predictions",
                     new_rows=_outcomes(new), old_rows=_outcomes(shuffled))
    assert b.matched_by == "id" and [s.to_dict() for s in a.splits] == [s.to_dict() for s in b.splits]


def test_rows_match_by_position_without_ids_and_not_when_labels_differ():
    new, old = _pair(fix=0.3, seed=7, ids=False)
    how, i, j, note = match_rows(_outcomes(new), _outcomes(old))
    assert how == "position" and i.size == len(new) and note is None
    other = old.copy()
    other["label"] = np.random.default_rng(0).permutation(other.label.to_numpy())
    how, i, j, note = match_rows(_outcomes(new), _outcomes(other))
    assert how is None and "every row to have the same split and label" in note


def test_a_reordered_file_without_ids_is_not_paired_by_position():
    """At 96:4 two random rows share their label 92% of the time: partial agreement by
    position must not pass for pairing (it would hide a regression)."""
    rng = np.random.default_rng(20)
    n = 20000
    y = (rng.random(n) < 0.04).astype(int)
    split = np.array(["train", "val", "test"])[rng.integers(0, 3, n)]
    ow = rng.random(n) < 0.021
    nw = ow | (rng.random(n) < 0.009)
    old = pd.DataFrame({"label": y, "pred": np.where(ow, 1 - y, y), "split": split})
    new = pd.DataFrame({"label": y, "pred": np.where(nw, 1 - y, y), "split": split})
    paired = erranalysis.analyze(new, goal=0.01, compare=old).comparison
    assert paired.paired and paired.regression
    shuffled = erranalysis.analyze(new, goal=0.01, compare=old.sample(frac=1.0, random_state=1)).comparison
    assert not shuffled.paired and shuffled.matched_by is None
    test = next(s for s in shuffled.splits if s.name == "test")
    assert test.old == pytest.approx(ow[split == "test"].mean()) and test.new == pytest.approx(nw[split == "test"].mean())


def test_repeated_ids_fall_back_to_position_only_when_every_row_has_the_same_id():
    new, old = _pair(fix=0.3, seed=21)
    new["id"] = np.arange(len(new)) // 2
    old["id"] = np.arange(len(old)) // 2
    how, i, j, note = match_rows(_outcomes(new), _outcomes(old.sample(frac=1.0, random_state=0)))
    assert how is None and "ids repeat" in note
    how, i, j, note = match_rows(_outcomes(new), _outcomes(old))  # same layout: same id on every row
    assert how == "position" and i.size == len(new) and "ids repeat" in note


def test_labels_stored_as_text_in_one_run_are_matched():
    new, old = _pair(fix=0.3, seed=22)
    text = old.assign(label=old.label.astype(str), pred=old.pred.astype(str))
    a = erranalysis.analyze(new, goal=0.05, compare=old).comparison
    b = erranalysis.analyze(new, goal=0.05, compare=text).comparison
    assert b.paired and [x.to_dict() for x in a.splits] == [x.to_dict() for x in b.splits]


def test_weighted_classes_follow_the_weights_and_give_no_mcnemar():
    new, old = _pair(fix=0.0, break_=0.0, seed=23)
    test = (new.split == "test") & (new.label == 0) & (new.pred == new.label)
    broken = test & (np.random.default_rng(0).random(len(new)) < 0.05)
    new.loc[broken, "pred"] = 1
    for df in (new, old):
        df["weight"] = np.where(broken, 20.0, 1.0)
    c = erranalysis.analyze(new, goal=0.05, compare=old).comparison
    main = next(s for s in c.splits if s.name == "test")
    assert main.verdict == "worse" and main.p_value is None
    assert [x.name for x in c.classes if x.verdict == "worse"] == ["0"]


def test_runs_in_another_metric_are_refused_and_another_goal_leaves_avoidable_bias_out(tmp_path):
    new, old = _pair(seed=24)
    path = tmp_path / "old.json"
    path.write_text(erranalysis.analyze(old, goal=0.05).to_json())
    with pytest.raises(UsageError, match="previous run is in error, this one in balanced_error"):
        erranalysis.analyze(new, goal=0.05, metric="balanced_error", compare=path)
    c = erranalysis.analyze(old, goal=0.01, compare=path).comparison
    assert "avoidable_bias" not in [x.name for x in c.components]
    assert not c.new_findings and not c.resolved_findings and any("different goals" in n for n in c.notes)


def test_findings_a_run_could_not_check_are_not_resolved(tmp_path):
    new, old = _pair(seed=25)
    previous = erranalysis.analyze(old, goal=0.05)
    assert any(f.kind == "confused_pair" for f in previous.findings)
    c = erranalysis.analyze(errors={"train": 0.2, "val": 0.2}, n={"train": 1000, "val": 1000}, goal=0.05,
                            compare=previous).comparison
    assert not any(f["kind"] == "confused_pair" for f in c.resolved_findings)
    assert any(f["kind"] == "confused_pair" for f in c.unchecked_findings)


def test_partly_matched_rows_say_so_in_the_line():
    new, old = _pair(fix=0.3, seed=26)
    extra = new[new.split == "test"].head(300).assign(id=lambda d: d["id"] + 10 ** 6)
    c = erranalysis.analyze(pd.concat([new, extra]), goal=0.05, compare=old).comparison
    assert c.paired and "matched rows" in c.text


def test_a_json_lines_predictions_file_named_json_is_read_as_predictions(tmp_path):
    new, old = _pair(fix=0.3, seed=27)
    path = tmp_path / "old.json"
    old.to_json(path, orient="records", lines=True)
    c = erranalysis.analyze(new, goal=0.05, compare=path).comparison
    assert c.source == "predictions" and c.paired


def test_class_order_differences_are_remapped():
    new, old = _pair(fix=0.3, seed=8, ids=False)
    flipped = Outcomes((2, 1, 0), _outcomes(old).split, 2 - old.label.to_numpy(), 2 - old.pred.to_numpy(), None, None)
    a = compare_docs({"errors": {}, "eval_split": "test"}, {"errors": {}}, previous="old", source="predictions",
                     new_rows=_outcomes(new), old_rows=_outcomes(old))
    b = compare_docs({"errors": {}, "eval_split": "test"}, {"errors": {}}, previous="old", source="predictions",
                     new_rows=_outcomes(new), old_rows=flipped)
    assert b.paired and [s.to_dict() for s in a.splits] == [s.to_dict() for s in b.splits]


def test_a_different_label_set_is_refused():
    new, old = _pair(seed=9)
    old["label"] = old.label.replace({2: 5})
    old["pred"] = old.pred.replace({2: 5})
    with pytest.raises(UsageError, match="different label sets.*only in the new run: '2'.*only in the previous run: '5'"):
        erranalysis.analyze(new, goal=0.05, compare=old)


# ------------------------------------------------------------------------------- previous JSON

def test_previous_json_is_compared_unpaired_and_findings_are_matched(tmp_path):
    new, old = _pair(fix=0.0, break_=0.1, seed=10)
    previous = erranalysis.analyze(old, goal=0.05)
    path = tmp_path / "old.json"
    path.write_text(previous.to_json())
    result = erranalysis.analyze(new, goal=0.05, compare=path)
    c = result.comparison
    assert c.source == "json" and not c.paired
    test = next(s for s in c.splits if s.name == "test")
    e_old, e_new = previous.errors["test"], result.errors["test"]
    assert test.ci == pytest.approx(difference_interval(e_old.error, e_old.ci, e_new.error, e_new.ci))
    assert test.verdict == "worse"
    kinds_new = {f.kind for f in result.findings}
    assert c.kept_findings + len(c.new_findings) == len(result.findings)
    assert {f["kind"] for f in c.new_findings} <= kinds_new
    # The same run against itself: nothing new, nothing resolved, nothing moved.
    same = erranalysis.analyze(old, goal=0.05, compare=path).comparison
    assert not same.new_findings and not same.resolved_findings
    assert {s.verdict for s in same.splits} == {"no_change"}


def test_json_of_another_schema_is_refused(tmp_path):
    new, old = _pair(seed=11)
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"schema_version": "0.3", "errors": {}}))
    with pytest.raises(UsageError, match="schema version '0.3'"):
        erranalysis.analyze(new, goal=0.05, compare=path)


def test_summary_numbers_compare_with_a_previous_json():
    old = erranalysis.analyze(errors={"train": 0.10, "val": 0.20, "test": 0.21}, n={"train": 5000, "val": 2000,
                                                                                      "test": 2000}, goal=0.05)
    new = erranalysis.analyze(errors={"train": 0.10, "val": 0.15, "test": 0.16}, n={"train": 5000, "val": 2000,
                                                                                      "test": 2000}, goal=0.05,
                              compare=old.to_dict())
    c = new.comparison
    assert c.improvement and next(x for x in c.components if x.name == "variance").verdict == "better"
    assert "independent samples" in c.text


# ------------------------------------------------------------------------------- outputs

def test_report_has_a_what_changed_section_only_with_a_comparison(tmp_path):
    new, old = _pair(fix=0.0, break_=0.08, seed=12)
    new["meta"] = "<b>x</b>"  # data in the report is escaped
    plain = erranalysis.analyze(new, goal=0.05)
    compared = erranalysis.analyze(new, goal=0.05, compare=old)
    assert 'id="comparison"' not in plain.to_html() and plain.to_dict()["comparison"] is None
    html = compared.to_html()
    assert 'id="comparison"' in html and "What changed" in html and "<b>x</b>" not in html
    assert compared.comparison.text in html.replace("&#39;", "'")


def test_cli_fails_on_regression_and_protects_the_previous_json(tmp_path):
    from click.testing import CliRunner

    from erranalysis.cli import cli

    def run_cli(*args):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    new, old = _pair(fix=0.0, break_=0.08, seed=13)
    new.to_parquet(tmp_path / "new.parquet")
    old.to_parquet(tmp_path / "old.parquet")
    args = ["report", str(tmp_path / "new.parquet"), "--goal", "0.05", "--format", "none"]
    worse = run_cli(*args, "--compare", str(tmp_path / "old.parquet"), "--fail-on-regression",
                    "--json", str(tmp_path / "new.json"))
    assert worse.exit_code == 1 and "--fail-on-regression" in worse.stderr
    assert json.loads((tmp_path / "new.json").read_text())["comparison"]["regression"] is True
    better = run_cli("report", str(tmp_path / "old.parquet"), "--goal", "0.05", "--format", "none",
                     "--compare", str(tmp_path / "new.parquet"), "--fail-on-regression", "-q")
    assert better.exit_code == 0
    clash = run_cli(*args, "--compare", str(tmp_path / "new.json"), "--json", str(tmp_path / "new.json"))
    assert clash.exit_code == 2 and "would be overwritten" in clash.stderr
    alone = run_cli(*args, "--fail-on-regression")
    assert alone.exit_code == 2 and "needs --compare" in alone.stderr


def test_summary_numbers_compare_with_previous_predictions():
    new, old = _pair(seed=14)
    result = erranalysis.analyze(errors={"train": 0.2, "val": 0.2, "test": 0.05}, n={"train": 1000, "val": 1000,
                                                                                      "test": 1000},
                                 goal=0.05, compare=old)
    c = result.comparison
    assert c.source == "predictions" and not c.paired and c.improvement
    assert any("not at hand" in note for note in c.notes)
