"""Training-history diagnosis: readers for every format, every diagnosis, no false alarms."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import erranalysis
from erranalysis import InputError
from erranalysis.io.history import History, read_history
from erranalysis.stats.history import diagnose

import curves


def H(train, val=None, x=None):
    x = np.arange(1, len(train) + 1, dtype=float) if x is None else np.asarray(x, float)
    v = np.empty(0) if val is None else np.asarray(val, float)
    return History("t", "table", "epoch", x, np.asarray(train, float), x if val is not None else np.empty(0), v)


def kinds(analysis):
    return [d.kind for d in analysis.diagnoses]


# ----------------------------------------------------------------------- no false alarms

@pytest.mark.parametrize("n", [10, 30, 100, 1000, 20000])
@pytest.mark.parametrize("noise", [0.0, 0.01, 0.03, 0.08])
def test_ideal_noisy_curves_raise_nothing(n, noise):
    for seed in range(3):
        train = curves.ideal(n, noise, seed)
        val = curves.ideal(n, noise, seed + 100, floor=0.25)
        for a in (diagnose(H(train), 10), diagnose(H(train, val), 10)):
            assert kinds(a) == [], (seed, a.diagnoses)
            assert a.healthy and "healthy" in a.summary


# ----------------------------------------------------------------------- each diagnosis

@pytest.mark.parametrize("n", [40, 300, 5000])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_shape_gives_its_diagnosis(n, seed):
    assert "loss_oscillating" in kinds(diagnose(H(curves.oscillating(n, seed=seed)), 10))
    a = diagnose(H(curves.exploding(n, seed=seed)), 10)
    assert kinds(a) == ["loss_exploding"] and a.diagnoses[0].evidence["reason"] == "sudden_rise"
    assert abs(a.diagnoses[0].at - 0.6 * n) <= 0.05 * n + 2
    a = diagnose(H(curves.exploding(n, seed=seed, nan=True)), 10)
    assert a.diagnoses[0].evidence["reason"] == "non_finite" and a.diagnoses[0].at == int(0.6 * n) + 1
    a = diagnose(H(curves.steps(n, seed=seed)), 10)
    assert kinds(a) == ["loss_plateau"]
    # Five drops; on 40 points (plateaus of 7) the ends of the run hide one at most.
    assert a.diagnoses[0].evidence["drops"] == 5 if n >= 300 else a.diagnoses[0].evidence["drops"] >= 3
    a = diagnose(H(curves.ideal(n, seed=seed), curves.overfitting_val(n, seed=seed)), 10)
    assert kinds(a) == ["loss_overfitting"]
    began = a.diagnoses[0].evidence["began"]
    assert 0.3 * n <= began <= 0.5 * n
    assert a.diagnoses[0].evidence["best_checkpoint"] <= 0.55 * n
    a = diagnose(H(curves.ideal(n, seed=seed, tau=0.6)), 10)
    assert kinds(a) == ["loss_still_decreasing"]
    a = diagnose(H(curves.ideal(n, seed=seed, start=6.0)), 10)
    assert kinds(a) == ["loss_initial"] and a.diagnoses[0].evidence["direction"] == "high"


def test_initial_loss_needs_the_number_of_classes():
    assert kinds(diagnose(H(curves.ideal(100, start=6.0)), None)) == []
    assert kinds(diagnose(H(curves.ideal(100, start=2.2)), 10)) == []  # ln(10) = 2.30


def test_too_short_a_curve_is_not_judged():
    a = diagnose(H([2.3, 1.0, 0.8]), 10)
    assert a.diagnoses == [] and not a.healthy and "too few" in a.summary
