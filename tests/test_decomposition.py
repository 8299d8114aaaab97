"""Decomposition, verdicts, materiality and the summary-numbers mode."""

from __future__ import annotations

import numpy as np
import pytest

import erranalysis
from erranalysis.settings import Settings
from erranalysis.stats.decomposition import materiality_threshold, rows_to_resolve, verdict


def test_seed_example_gives_the_expected_terms_and_first_step():
    r = erranalysis.analyze(errors={"train": 0.20, "val": 0.27, "test": 0.28}, goal=0.01)
    c = r.decomposition.components
    assert c["avoidable_bias"].value == pytest.approx(0.19)
    assert c["variance"].value == pytest.approx(0.07)
    assert c["val_overfitting"].value == pytest.approx(0.01)
    assert c["distribution_shift"] is None
    assert c["variance"].includes == ("distribution_shift",)
    assert "train_val" in r.decomposition.not_measurable["distribution_shift"]
    assert [c[n].verdict for n in ("avoidable_bias", "variance", "val_overfitting")] == [
        "material", "material", "negligible"]
    assert [s.problem for s in r.next_steps] == ["underfitting", "overfitting"]
    assert r.next_steps[0].actions[0].lower().startswith("make the model bigger")
    assert "19.0 pts" in r.next_steps[0].why
    assert r.headline.startswith("Reduce underfitting")


def test_summary_mode_with_rows_gives_intervals():
    r = erranalysis.analyze(errors={"train": 0.20, "train_val": 0.21, "val": 0.27, "test": 0.28},
                            n={"train": 1000, "train_val": 1000, "val": 1000, "test": 1000}, goal=0.01)
    c = r.decomposition.components
    for comp in c.values():
        assert comp.ci[0] <= comp.value <= comp.ci[1]
    assert c["variance"].verdict in ("negligible", "too_noisy")
    assert c["distribution_shift"].verdict == "material"
    total = sum(comp.value for comp in c.values())
    assert total == pytest.approx(0.28 - 0.01)
    # Wilson 200/1000 by hand: centre 0.20115, half-width 0.02477.
    assert r.errors["train"].ci == pytest.approx((0.17638, 0.22592), abs=1e-5)


def test_chain_without_train_still_measures_later_terms():
    r = erranalysis.analyze(errors={"val": 0.05, "test": 0.30}, n={"val": 5000, "test": 5000}, goal=0.01)
    c = r.decomposition.components
    assert c["avoidable_bias"] is None and c["variance"] is None
    assert c["val_overfitting"].value == pytest.approx(0.25) and c["val_overfitting"].verdict == "material"
    assert "needs a train split" in r.decomposition.not_measurable["avoidable_bias"]
    assert r.next_steps[0].problem == "val_overfitting"


def test_no_goal_makes_avoidable_bias_not_measurable():
    r = erranalysis.analyze(errors={"train": 0.1, "val": 0.2})
    assert r.decomposition.components["avoidable_bias"] is None
    assert "--goal" in r.decomposition.not_measurable["avoidable_bias"]
    assert r.next_steps[0].problem == "overfitting"


@pytest.mark.parametrize("value,ci,threshold,expected", [
    (0.05, (0.03, 0.07), 0.02, "material"),
    (0.01, (0.005, 0.015), 0.02, "negligible"),   # real but small
    (0.03, (-0.01, 0.07), 0.02, "too_noisy"),     # spans zero, could be material
    (0.001, (-0.005, 0.007), 0.02, "negligible"), # spans zero, but confidently small
    (-0.04, (-0.06, -0.02), 0.02, "negligible"),  # negative: no problem
    (0.05, None, 0.02, "material"),
    (0.01, None, 0.02, "negligible"),
])
def test_verdict_rule(value, ci, threshold, expected):
    assert verdict(value, ci, threshold) == expected


def test_materiality_threshold_has_a_floor():
    s = Settings()
    assert materiality_threshold(0.27, s) == pytest.approx(0.027)
    assert materiality_threshold(0.001, s) == s.materiality_floor
    assert materiality_threshold(None, s) == s.materiality_floor


@pytest.mark.parametrize("errors,n", [
    ({"train": 0.10, "val": 0.12}, {"train": 600, "val": 600}),
    ({"train": 0.0, "val": 0.02}, {"train": 90, "val": 50}),       # no train errors: intervals are skewed
    ({"train": 0.05, "val": 0.048}, {"train": 2000, "val": 400}),  # small negative term
])
def test_rows_to_resolve_really_settle_the_verdict(errors, n):
    r = erranalysis.analyze(errors=errors, n=n, goal=0.0)
    comp = r.decomposition.components["variance"]
    assert comp.verdict == "too_noisy"
    rows = comp.rows_to_resolve
    assert rows is not None and all(rows[s] > n[s] for s in n)
    settled = erranalysis.analyze(errors=errors, n=rows, goal=0.0).decomposition.components["variance"]
    assert settled.verdict != "too_noisy"
    # And 10% fewer rows would not have been enough: the estimate is not wildly high.
    fewer = {s: int(v * 0.9) for s, v in rows.items()}
    assert erranalysis.analyze(errors=errors, n=fewer, goal=0.0).decomposition.components["variance"].verdict == "too_noisy"


def test_rows_to_resolve_appears_in_the_next_step():
    r = erranalysis.analyze(errors={"train": 0.10, "val": 0.12}, n={"train": 600, "val": 600}, goal=0.0)
    comp = r.decomposition.components["variance"]
    step = next(s for s in r.next_steps if s.problem == "insufficient_data")
    assert f"{comp.rows_to_resolve['val']:,}" in step.actions[0]


def test_model_meeting_the_goal_has_no_next_step():
    r = erranalysis.analyze(errors={"train": 0.005, "val": 0.006, "test": 0.007},
                            n={"train": 100000, "val": 50000, "test": 50000}, goal=0.01)
    assert r.next_steps == []
    assert r.headline.startswith("No material problem: test error 0.7% (95% interval 0.6% to 0.8%) meets the goal "
                                 "of 1.0%")


def test_goal_is_met_only_when_the_whole_interval_is_below_it():
    # Test error 4.0% on 300 rows: interval about 2.3% to 6.9% straddles the 4.5% goal.
    r = erranalysis.analyze(errors={"train": 0.038, "val": 0.04, "test": 0.04},
                            n={"train": 300, "val": 300, "test": 300}, goal=0.045)
    assert r.next_steps == []
    assert "cannot be told yet whether the goal is met" in r.headline and "meets the goal" not in r.headline
    r = erranalysis.analyze(errors={"train": 0.038, "val": 0.04, "test": 0.04},
                            n={"train": 30000, "val": 30000, "test": 30000}, goal=0.045)
    assert "meets the goal" in r.headline


def test_three_zero_terms_are_rarely_called_material():
    # Simultaneous intervals: with train, train_val, val and test all at 10% error, the
    # three terms are zero; separate 95% intervals call one material in 7.1% of 2,000
    # draws, the simultaneous ones in 1.8%.
    rng = np.random.default_rng(0)
    n = 2000
    material = 0
    runs = 400
    for _ in range(runs):
        errs = {s: rng.binomial(n, 0.10) / n for s in ("train", "train_val", "val", "test")}
        r = erranalysis.analyze(errors=errs, n={s: n for s in errs}, goal=0.10)
        comps = [c for k, c in r.decomposition.components.items() if k != "avoidable_bias" and c is not None]
        material += any(c.ci[0] > 0 for c in comps)
    assert material / runs < 0.035


@pytest.mark.parametrize("errors,message", [
    ({"train": 1.2}, r"^errors\['train'\] must be an error rate within \[0, 1\]\. Got 1\.2 instead\.$"),
    ({"bogus": 0.1}, r"^errors keys must be among train, train_val, val, test\. Got 'bogus' instead\.$"),
    ({}, r"^Give at least one error figure"),
])
def test_summary_mode_bad_numbers(errors, message):
    with pytest.raises(erranalysis.UsageError, match=message):
        erranalysis.analyze(errors=errors, goal=0.01)


def test_a_material_term_stays_at_least_medium_when_a_small_final_split_may_meet_the_goal():
    # 10,000 val rows clearly miss the goal; 10 test rows cannot tell. The term stands.
    r = erranalysis.analyze(errors={"train": 0.01, "val": 0.20, "test": 0.10},
                            n={"train": 20000, "val": 10000, "test": 10}, goal=0.05)
    assert r.verdict.status == "cannot_tell"
    assert next(f for f in r.findings if f.kind == "overfitting").severity in ("high", "medium")
    assert r.fails("medium")


def test_shares_past_100_percent_say_which_term_lowers_the_error():
    r = erranalysis.analyze(errors={"train": 0.01, "val": 0.05}, n={"train": 2000, "val": 600}, goal=0.04)
    assert "variance (4.0 pts, 400%)" in r.verdict.text
    assert r.verdict.text.endswith("Shares pass 100% because avoidable bias (-3.0 pts) lowers the error.")
    plain = erranalysis.analyze(errors={"train": 0.05, "val": 0.09}, n={"train": 2000, "val": 2000}, goal=0.01)
    assert "Shares pass 100%" not in plain.verdict.text


def test_shares_that_pass_100_percent_together_say_which_term_lowers_the_error():
    r = erranalysis.analyze(errors={"train": 0.02, "train_val": 0.06, "val": 0.10},
                            n={"train": 20000, "train_val": 20000, "val": 20000}, goal=0.05)
    assert "(4.0 pts, 80%) and variance (4.0 pts, 80%)" in r.verdict.text
    assert r.verdict.text.endswith("Shares pass 100% because avoidable bias (-3.0 pts) lowers the error.")


def test_two_terms_that_lower_the_error_lower_it_together():
    r = erranalysis.analyze(errors={"train": 0.01, "val": 0.20, "test": 0.10},
                            n={"train": 20000, "val": 10000, "test": 10}, goal=0.05)
    assert r.verdict.text.endswith("because avoidable bias (-4.0 pts) and val overfitting (-10.0 pts) lower the error.")
