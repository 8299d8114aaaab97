"""Invariants that hold for any input (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import erranalysis

SPLITS = ["train", "train_val", "val", "test"]

rate = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
goal_rate = st.floats(min_value=0.0, max_value=1.0, exclude_max=True, allow_nan=False)
rows = st.integers(min_value=1, max_value=100_000)


@st.composite
def tables(draw):
    """A random multi-class table with probabilities and a random subset of splits."""
    n = draw(st.integers(min_value=8, max_value=300))
    k = draw(st.integers(min_value=2, max_value=5))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    splits = draw(st.lists(st.sampled_from(SPLITS), min_size=1, max_size=4, unique=True))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)  # every class present
    logits = rng.normal(size=(n, k)) * draw(st.floats(0.1, 3.0))
    logits[np.arange(n), y] += draw(st.floats(0.0, 3.0))
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    frame = pd.DataFrame({"label": y, "split": rng.choice(splits, n)})
    for j in range(k):
        frame[f"proba_{j}"] = p[:, j]
    return frame


@given(train=rate, train_val=rate, val=rate, test=rate, goal=goal_rate,
       n_train=rows, n_tv=rows, n_val=rows, n_test=rows)
def test_components_add_up_and_intervals_contain_the_estimate(train, train_val, val, test, goal,
                                                              n_train, n_tv, n_val, n_test):
    r = erranalysis.analyze(
        errors={"train": train, "train_val": train_val, "val": val, "test": test},
        n={"train": n_train, "train_val": n_tv, "val": n_val, "test": n_test}, goal=goal,
    )
    comps = r.decomposition.components.values()
    assert sum(c.value for c in comps) == pytest.approx(test - goal, abs=1e-9)
    for c in comps:
        assert c.ci[0] <= c.value + 1e-12 and c.value <= c.ci[1] + 1e-12
        assert c.verdict in ("material", "negligible", "too_noisy")
    for e in r.errors.values():
        assert 0.0 <= e.ci[0] <= e.error <= e.ci[1] <= 1.0


@given(train=rate, val=rate, test=rate, goal=goal_rate)
def test_missing_train_val_folds_shift_into_variance(train, val, test, goal):
    r = erranalysis.analyze(errors={"train": train, "val": val, "test": test}, goal=goal)
    c = r.decomposition.components
    assert c["distribution_shift"] is None
    assert c["variance"].value == pytest.approx(val - train)
    assert sum(x.value for x in c.values() if x is not None) == pytest.approx(test - goal)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=tables(), seed=st.integers(0, 1000))
def test_row_order_does_not_matter(frame, seed):
    a = erranalysis.analyze(frame, goal=0.01)
    b = erranalysis.analyze(frame.sample(frac=1.0, random_state=seed).reset_index(drop=True), goal=0.01)
    assert a.errors.keys() == b.errors.keys()
    for s in a.errors:
        assert a.errors[s].error == pytest.approx(b.errors[s].error)
        assert a.errors[s].ci == pytest.approx(b.errors[s].ci)
    assert [(f.kind, f.severity) for f in a.findings] == [(f.kind, f.severity) for f in b.findings]
    assert [s.problem for s in a.next_steps] == [s.problem for s in b.next_steps]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=tables(), data=st.data())
def test_relabelling_classes_does_not_change_the_errors(frame, data):
    k = sum(c.startswith("proba_") for c in frame.columns)
    names = data.draw(st.lists(st.text("abcdefghij", min_size=1, max_size=6), min_size=k, max_size=k, unique=True))
    mapping = dict(enumerate(names))
    renamed = frame.rename(columns={f"proba_{j}": f"proba_{mapping[j]}" for j in range(k)})
    renamed["label"] = renamed["label"].map(mapping)
    a = erranalysis.analyze(frame, goal=0.01)
    b = erranalysis.analyze(renamed, goal=0.01)
    for s in a.errors:
        assert a.errors[s].error == pytest.approx(b.errors[s].error)
    for name, comp in a.decomposition.components.items():
        other = b.decomposition.components[name]
        assert (comp is None) == (other is None)
        if comp is not None:
            assert comp.value == pytest.approx(other.value) and comp.verdict == other.verdict
    assert sorted(f.kind for f in a.findings) == sorted(f.kind for f in b.findings)
    # Which of several tied pairs makes the top list is arbitrary: compare the pairs
    # strictly above the smallest count listed.
    cut = min((p.count for p in a.confusion.most_confused), default=0)
    pairs_a = sorted((mapping[int(p.actual)], mapping[int(p.predicted)], p.count)
                     for p in a.confusion.most_confused if p.count > cut)
    pairs_b = sorted((p.actual, p.predicted, p.count) for p in b.confusion.most_confused if p.count > cut)
    assert pairs_a == pairs_b


@settings(max_examples=30, deadline=None)
@given(frame=tables())
def test_json_is_standard_and_stable(frame):
    import json

    r = erranalysis.analyze(frame, goal=0.01)
    doc = json.loads(r.to_json())
    assert doc["schema_version"] == "1.0"
    assert set(doc["decomposition"]) >= {"goal", "avoidable_bias", "variance", "distribution_shift", "val_overfitting"}
    for split, e in doc["errors"].items():
        assert set(e) >= {"error", "n", "ci"}
    for f in doc["findings"]:
        assert set(f) >= {"kind", "severity", "title", "evidence", "split"}
    for s in doc["next_steps"]:
        assert set(s) >= {"problem", "why", "actions"}
    assert set(doc["confusion"]) >= {"labels", "matrix", "most_confused"}
