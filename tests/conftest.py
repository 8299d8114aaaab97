"""Shared fixtures: small literal prediction tables and the examples' rendered reports."""

from __future__ import annotations

import os

# Two test processes share the machine's two cores; scikit-learn's, LightGBM's and
# XGBoost's OpenMP threads (the oracles, the reference models) would each want both,
# and spin while they wait. One thread each, set before any of them loads OpenMP.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
import pytest

import shared  # tests/shared.py


def multiclass_frame(n_per_split: int = 200, k: int = 3, seed: int = 0) -> pd.DataFrame:
    """A 3-class table with probabilities, four splits and a metadata column."""
    rng = np.random.default_rng(seed)
    n = n_per_split * 4
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"label": y, "split": np.repeat(["train", "train_val", "val", "test"], n_per_split)})
    for j in range(k):
        frame[f"proba_{j}"] = p[:, j]
    frame["region"] = rng.choice(["north", "south"], n)
    return frame


@pytest.fixture
def frame3() -> pd.DataFrame:
    return multiclass_frame()


@pytest.fixture
def binary_frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 2000
    y = (rng.random(n) < 0.3).astype(int)
    score = 1 / (1 + np.exp(-(rng.normal(size=n) + 2.0 * y - 1.0)))
    return pd.DataFrame({"label": y, "score": score, "split": rng.choice(["train", "val", "test"], n)})


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path, monkeypatch):
    """Every test runs in its own empty folder, so default report files land there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def example_report(tmp_path_factory):
    """``example_report(name)``: the bundled example's result rendered as HTML and as an A4
    PDF once per session (see ``shared.render``), for every test that reads them."""
    rendered = {}

    def get(name: str) -> shared.Rendered:
        if name not in rendered:
            rendered[name] = shared.render(shared.example(name).result, tmp_path_factory.mktemp(name))
        return rendered[name]

    return get
