"""Synthetic loss curves of known shape, with noise (for the history tests)."""

from __future__ import annotations

import numpy as np


def ideal(n: int, noise: float = 0.03, seed: int = 0, start: float = 2.3, floor: float = 0.2,
          tau: float = 0.15) -> np.ndarray:
    """Exponential fall to a floor, flat by the end (tau as a share of the run)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = floor + (start - floor) * np.exp(-t / (tau * n))
    return y * (1 + noise * rng.normal(size=n))


def oscillating(n: int, noise: float = 0.03, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 1.2 + 0.35 * np.sin(t / 1.7) + 0.25 * rng.normal(size=n) + noise * rng.normal(size=n)


def exploding(n: int, noise: float = 0.03, seed: int = 0, nan: bool = False) -> np.ndarray:
    y = ideal(n, noise, seed)
    at = int(0.6 * n)
    if nan:
        y[at:] = np.nan
    else:
        y[at:] = y[at:] * np.linspace(3, 30, n - at)
    return y


def steps(n: int, noise: float = 0.01, seed: int = 0,
          levels=(2.3, 1.8, 1.4, 1.1, 0.85, 0.65, 0.5, 0.4)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.repeat(levels, int(np.ceil(n / len(levels))))[:n].astype(float)
    return y * (1 + noise * rng.normal(size=n))


def overfitting_val(n: int, noise: float = 0.02, seed: int = 1) -> np.ndarray:
    """Falls, bottoms out at 40% of the run, then rises."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 0.5 + 1.8 * np.exp(-t / (0.12 * n)) + 0.6 * np.maximum(0, t - 0.4 * n) / n
    return y * (1 + noise * rng.normal(size=n))
