"""Which way the probabilities are off: the signed calibration gap, its finding and its text."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import erranalysis

BINS = 15  # Settings().calibration_bins


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def multiclass(temperature: float, seed: int = 0, n: int = 20_000) -> pd.DataFrame:
    """Labels drawn from softmax(logits); the model reports softmax(logits * temperature):
    above 1 sharpened (over-confident), below 1 squashed toward uniform (under-confident)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2.0, (n, 4))
    true = _softmax(logits)
    y = (true.cumsum(1) < rng.random(n)[:, None]).sum(1).clip(max=3)
    shown = _softmax(logits * temperature)
    frame = pd.DataFrame({"label": y, "split": rng.choice(["train", "test"], n)})
    for k in range(4):
        frame[f"proba_{k}"] = shown[:, k]
    return frame


def binary(temperature: float, seed: int = 0, n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    logit = rng.normal(0, 2.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"label": y, "score": 1 / (1 + np.exp(-logit * temperature)),
                         "split": rng.choice(["train", "test"], n)})


def hand_top_label(frame: pd.DataFrame) -> float:
    """Mean probability of the predicted class minus accuracy, on test (the bins add up to it)."""
    test = frame[frame.split == "test"]
    p = test[[f"proba_{k}" for k in range(4)]].to_numpy()
    return float(p.max(1).mean() - (p.argmax(1) == test.label.to_numpy()).mean())


def hand_positive_class(frame: pd.DataFrame) -> float:
    """Per bin of the score: mean score minus positive rate, counted against the bin's
    predicted class (negated below 0.5), weighted by the bin's rows."""
    test = frame[frame.split == "test"]
    p, y = test.score.to_numpy(), test.label.to_numpy()
    b = np.minimum((p * BINS).astype(int), BINS - 1)
    total = 0.0
    for k in range(BINS):
        mine = b == k
        if mine.any():
            conf, freq = p[mine].mean(), y[mine].mean()
            total += mine.sum() / p.size * np.sign(conf - 0.5) * (conf - freq)
    return total


@pytest.mark.parametrize("temperature, way", [(2.5, "over"), (0.4, "under")])
def test_multiclass_gap_has_the_planted_sign_and_matches_a_hand_computation(temperature, way):
    frame = multiclass(temperature)
    r = erranalysis.analyze(frame, goal=0.01)
    cal = r.calibration
    assert cal.kind == "top_label"
    assert cal.overconfidence == pytest.approx(hand_top_label(frame), abs=1e-9)
    assert (cal.overconfidence > 0) == (way == "over")
    assert cal.overconfidence_ci[0] <= cal.overconfidence <= cal.overconfidence_ci[1]
    assert (cal.overconfidence_ci[0] > 0) if way == "over" else (cal.overconfidence_ci[1] < 0)
    found = next(f for f in r.findings if f.kind == "poor_calibration")
    assert found.evidence["direction"] == way and f"{way}-confident" in found.title
    doc = json.loads(r.to_json())
    assert doc["calibration"]["overconfidence"] == pytest.approx(cal.overconfidence)
    assert len(doc["calibration"]["overconfidence_ci"]) == 2
    html = r.to_html()
    assert f"The model is {way}-confident" in html


@pytest.mark.parametrize("temperature, way", [(2.5, "over"), (0.4, "under")])
def test_binary_gap_counts_each_bin_against_its_predicted_class(temperature, way):
    frame = binary(temperature)
    r = erranalysis.analyze(frame, goal=0.01, positive_label=1)
    cal = r.calibration
    assert cal.kind == "positive_class"
    assert cal.overconfidence == pytest.approx(hand_positive_class(frame), abs=1e-9)
    # The plain mean of score minus label is near zero here (the gaps of both tails cancel):
    # only the signed-by-side gap sees the planted direction.
    test = frame[frame.split == "test"]
    assert abs(test.score.mean() - test.label.mean()) < abs(cal.overconfidence) / 3
    assert (cal.overconfidence > 0) == (way == "over")
    found = next(f for f in r.findings if f.kind == "poor_calibration")
    assert found.evidence["direction"] == way and f"{way}-confident" in found.title
    assert f"{way}-confident" in next(s.why for s in r.next_steps if s.problem == "poor_calibration")


def test_a_calibrated_model_is_neither_over_nor_under_confident():
    r = erranalysis.analyze(multiclass(1.0, seed=3), goal=0.01)
    cal = r.calibration
    assert cal.overconfidence_ci[0] < 0 < cal.overconfidence_ci[1]
    assert not any(f.kind == "poor_calibration" for f in r.findings)
    assert "neither over- nor under-confident" in r.to_html()
