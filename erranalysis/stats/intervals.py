"""Confidence intervals for error rates and for differences between them."""

from __future__ import annotations

import math

from statistics import NormalDist

import numpy as np


def z_value(confidence: float) -> float:
    """Two-sided standard-normal quantile for ``confidence`` (1.96 at 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson(p: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``p`` observed on ``n`` (effective) rows.

    Unlike the normal approximation it stays inside [0, 1] and is honest at p = 0 or 1.
    """
    if not (n > 0 and n * n > 0) or not math.isfinite(p):  # no rows, or so few (weighted) that n² underflows
        return (0.0, 1.0)
    z = z_value(confidence)
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0)) / denom
    # min/max guard against rounding for rates within 1e-16 of 0 or 1.
    lo = 0.0 if p <= 0 else min(max(0.0, centre - half), p)
    hi = 1.0 if p >= 1 else max(min(1.0, centre + half), p)
    return (float(lo), float(hi))


def normal_interval(value: float, se: float, confidence: float = 0.95, clip: bool = True) -> tuple[float, float]:
    """Symmetric normal interval ``value ± z·se`` (clipped to [0, 1] when ``clip``)."""
    z = z_value(confidence)
    lo, hi = value - z * se, value + z * se
    if clip:
        lo, hi = max(0.0, lo), min(1.0, hi)
    return (lo, hi)


def difference_interval(
    earlier: float, earlier_ci: tuple[float, float], later: float, later_ci: tuple[float, float]
) -> tuple[float, float]:
    """Interval for ``later - earlier`` from the two (independent) intervals.

    This is Newcombe's hybrid score method (the MOVER construction): with Wilson
    intervals it keeps close to nominal coverage even for rates near 0 or 1, where
    the plain normal interval of a difference does not.
    """
    d = later - earlier
    l1, u1 = earlier_ci
    l2, u2 = later_ci
    lower = d - math.sqrt((later - l2) ** 2 + (u1 - earlier) ** 2)
    upper = d + math.sqrt((u2 - later) ** 2 + (earlier - l1) ** 2)
    return (lower, upper)


def kish_n(weight_sum: float, weight_sq_sum: float) -> float:
    """Kish's effective sample size (equals the row count without weights)."""
    if weight_sq_sum <= 0:
        return 0.0
    return float(weight_sum * weight_sum / weight_sq_sum)


def wilson_array(p: np.ndarray, n: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`wilson` (used for per-slice and per-class rates).

    Element by element it returns what :func:`wilson` returns, clamp included: the
    interval holds ``p`` (``lo <= p <= hi``), starts at exactly 0 when ``p`` is 0 and
    ends at exactly 1 when ``p`` is 1, whatever the rounding of the closed form.
    """
    p, n = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(n, dtype=float))
    z = z_value(confidence)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1.0 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(np.maximum(p * (1 - p) / n + z2 / (4 * n * n), 0.0)) / denom
        # min/max guard against rounding for rates within 1e-16 of 0 or 1, as in wilson().
        lo = np.where(p <= 0, 0.0, np.minimum(np.maximum(0.0, centre - half), p))
        hi = np.where(p >= 1, 1.0, np.maximum(np.minimum(1.0, centre + half), p))
    undefined = ~(n > 0) | ~np.isfinite(p)
    lo = np.where(undefined, 0.0, lo)
    hi = np.where(undefined, 1.0, hi)
    return lo, hi


def paired_difference(better: float, worse: float, n: float, confidence: float = 0.95) -> tuple[float, tuple]:
    """How much lower one error rate is than another measured on the same ``n`` rows.

    ``better`` rows are right under the first rule and wrong under the second, ``worse``
    the reverse. Conditional on the ``d = better + worse`` rows where they disagree,
    ``better`` is binomial (McNemar's argument); the Wilson interval of its share π
    gives the interval of the difference ``(2π − 1)·d / n``. Returns (difference, ci).
    """
    d = better + worse
    if n <= 0 or d <= 0:
        return 0.0, (0.0, 0.0)
    lo, hi = wilson(better / d, d, confidence)
    return (better - worse) / n, ((2 * lo - 1) * d / n, (2 * hi - 1) * d / n)


def paired_change(both: np.ndarray | float, new_only: np.ndarray | float, old_only: np.ndarray | float,
                  n: np.ndarray | float,
                  confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change of an error rate between two models scored on the same ``n`` rows.

    ``both`` rows are wrong under both models, ``new_only`` only under the new one,
    ``old_only`` only under the old one (counts, or weighted sums with ``n`` the
    effective row count). Returns (change, lower, upper) of ``new − old`` by
    Newcombe's score method for paired proportions: the Wilson intervals of the two
    rates combined (as in :func:`difference_interval`) with the correlation φ of the
    two models' errors on the rows. Unlike the interval conditional on the disagreeing
    rows alone, it does not collapse to zero width when the two models agree on every
    row of a small sample. Vectorised over arrays of counts.
    """
    a, b, c, n = (np.asarray(v, dtype=float) for v in (both, new_only, old_only, n))
    d = n - a - b - c
    with np.errstate(divide="ignore", invalid="ignore"):
        p_new, p_old = (a + b) / n, (a + c) / n
        l1, u1 = wilson_array(p_new, n, confidence)
        l2, u2 = wilson_array(p_old, n, confidence)
        margins = (a + b) * (c + d) * (a + c) * (b + d)
        phi = np.where(margins > 0, (a * d - b * c) / np.sqrt(margins), 0.0)
        change = p_new - p_old
        lower = change - np.sqrt(np.maximum(
            (p_new - l1) ** 2 - 2 * phi * (p_new - l1) * (u2 - p_old) + (u2 - p_old) ** 2, 0.0))
        upper = change + np.sqrt(np.maximum(
            (u1 - p_new) ** 2 - 2 * phi * (u1 - p_new) * (p_old - l2) + (p_old - l2) ** 2, 0.0))
    return change, np.maximum(lower, -1.0), np.minimum(upper, 1.0)


def chi_square(table: np.ndarray, pool_sparse: bool = False) -> tuple[float, float]:
    """Pearson chi-square test of equal distributions in the rows of a 2 × k table of
    counts; returns (statistic, p-value), (0, 1) with fewer than two non-empty columns.

    Same figures as ``scipy.stats.chi2_contingency(table, correction=False)``, without
    importing scipy.stats (half a second at start-up). With ``pool_sparse``, columns
    expected fewer than 5 times in either row are pooled into one, so that many sparse
    categories do not make the approximation anti-conservative.
    """
    from scipy.special import chdtrc

    table = np.asarray(table, dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    sparse = expected.min(axis=0) < 5
    if pool_sparse and sparse.any():
        table = np.column_stack([table[:, ~sparse], table[:, sparse].sum(axis=1)])
        return chi_square(table)
    stat = float(((table - expected) ** 2 / np.where(expected > 0, expected, 1)).sum())
    return stat, float(chdtrc(table.shape[1] - 1, stat))

