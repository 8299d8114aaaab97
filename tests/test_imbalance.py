"""Heavy class imbalance: the error rate counts the frequent classes, the balanced error every class."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

import erranalysis


def imbalanced(ratio: float, seed: int = 0, n: int = 12_000, test_ratio: float | None = None) -> pd.DataFrame:
    """Three classes, the largest ``ratio`` times the smallest; the model gets 97% of the
    frequent class right and only 40% of the rare ones. ``test_ratio`` gives test its own."""
    rng = np.random.default_rng(seed)

    def labels(r, size):
        p = np.array([r, 1.0, 1.0]) / (r + 2.0)
        return rng.choice(3, size, p=p)

    split = rng.choice(["train", "test"], n, p=[0.6, 0.4])
    y = labels(ratio, n)
    if test_ratio is not None:
        test = split == "test"
        y[test] = labels(test_ratio, test.sum())
    right = rng.random(n) < np.where(y == 0, 0.97, 0.40)
    pred = np.where(right, y, (y + rng.integers(1, 3, n)) % 3)
    return pd.DataFrame({"label": y, "pred": pred, "split": split})


def test_heavy_imbalance_names_the_balanced_error_as_the_figure_to_judge_by():
    frame = imbalanced(18)
    r = erranalysis.analyze(frame, goal=0.01)
    test = frame[frame.split == "test"]
    expected = 1 - balanced_accuracy_score(test.label, test.pred)
    bal = r.class_balance
    assert bal.eval_split == "test" and bal.eval_ratio > 10
    assert bal.balanced_error == pytest.approx(expected, abs=1e-12)
    assert bal.balanced_error_ci[0] < expected < bal.balanced_error_ci[1]
    assert r.errors["test"].error < 0.2 < expected  # the error rate hides the rare classes' misses
    found = next(f for f in r.findings if f.kind == "class_imbalance")
    assert "mostly counts the frequent classes" in found.title and "balanced error" in found.title
    assert found.evidence["balanced_error"] == pytest.approx(expected) and found.evidence["error_rate_misleads"]
    doc = json.loads(r.to_json())
    assert doc["class_balance"]["balanced_error"] == pytest.approx(expected)
    assert doc["class_balance"]["eval_ratio"] == pytest.approx(bal.eval_ratio)
    html = r.to_html()
    section = html[html.index('<section id="class-balance">'):]
    section = section[:section.index("</section>")]
    assert "wrong single figure" in section and "balanced error (one minus the mean recall" in section


def test_imbalance_on_the_evaluation_split_alone_raises_the_finding():
    frame = imbalanced(1.0, test_ratio=18)
    r = erranalysis.analyze(frame, goal=0.01)
    assert r.class_balance.imbalance_ratio < 2 and r.class_balance.eval_ratio > 10
    found = next(f for f in r.findings if f.kind == "class_imbalance")
    assert found.split == "test" and "mostly counts the frequent classes" in found.title


def test_mild_imbalance_states_the_balanced_error_without_the_warning():
    frame = imbalanced(3)
    r = erranalysis.analyze(frame, goal=0.01)
    test = frame[frame.split == "test"]
    assert r.class_balance.balanced_error == pytest.approx(1 - balanced_accuracy_score(test.label, test.pred))
    assert "class_imbalance" not in [f.kind for f in r.findings]
    html = r.to_html()
    assert "wrong single figure" not in html and "balanced error (one minus the mean recall" in html


def test_a_report_already_in_balanced_error_does_not_call_its_metric_wrong():
    r = erranalysis.analyze(imbalanced(18), goal=0.01, metric="balanced_error")
    found = next(f for f in r.findings if f.kind == "class_imbalance")
    assert not found.evidence["error_rate_misleads"] and "mostly counts" not in found.title
    html = r.to_html()
    assert "wrong single figure" not in html and "Every figure of this report is in balanced error" in html
