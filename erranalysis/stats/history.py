"""Diagnose loss curves: wrong start, not converged, oscillating, exploding, step-like, overfitting.

Every test compares a change in the curve with the curve's own noise, estimated
robustly from first differences (median absolute deviation) and, where a level is
compared with a level, with a standard error measured on the curve itself (blocks
around a monotone fit, or resampled noise), so a noisy but healthy curve raises
nothing, however heavy its minibatch noise. Curves are smoothed with a centred rolling median, which keeps
steps and jumps sharp where a moving average would blur them.

Rises and swings are judged on the curve's own scale: in log space for a positive loss
(a fall from 1e-3 to 1e-6 is as large as one from 1 to 1e-3, and noise is proportional
to the level), so a loss that approaches zero is converging, not exploding. Falls that
decide whether training is worth continuing (still decreasing, not decreasing) are
judged in the loss itself, where a fall from 1e-5 to 1e-6 is worth nothing.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..io.history import History
from ..result import Diagnosis, HistoryAnalysis

MAX_PLOT_POINTS = 1500


def noise_scale(y: np.ndarray) -> float:
    """Robust standard deviation of the point-to-point noise of a curve."""
    if y.size < 3:
        return 0.0
    d = np.diff(y)
    mad = np.median(np.abs(d - np.median(d)))
    return float(1.4826 * mad / math.sqrt(2))


def smooth(y: np.ndarray, window: int | None = None) -> np.ndarray:
    """Centred rolling median (the window grows with the length of the curve)."""
    n = y.size
    if window is None:
        window = int(np.clip(n // 15, 3, 51))
    window = max(1, min(window, n))
    if window % 2 == 0:
        window -= 1
    if window <= 1:
        return y.astype(float)
    return pd.Series(y).rolling(window, center=True, min_periods=1).median().to_numpy()


def _fmt_x(x: float) -> float | int:
    return int(x) if float(x).is_integer() else float(x)


#: Swings in log space (natural log: about the relative size) beyond which a curve with
#: no downward trend oscillates rather than sits flat with noise.
OSCILLATION_SWING = 0.15
#: A rise that is an explosion at least doubles the loss (log 2) from its lowest value.
EXPLOSION_RISE = math.log(2.0)
#: Local swings that mark an unstable period: about a factor of 1.5 each way.
UNSTABLE_SWING = math.log(1.5)
#: A level shift that is a step lies at least this many standard errors beyond the local
#: trend of the shifts; more on long curves, where more shifts are compared (four steps,
#: flat between, are needed besides).
STEP_Z = 3.0
#: Once four steps are found, a smaller drop beyond this many standard errors also
#: counts as a step when the fall between steps is measured (see _plateaus).
SMALL_STEP_Z = 2.5
#: Curves up to this long are also fitted as a whole staircase (see _staircase).
STAIRCASE_MAX_POINTS = 1000
#: A staircase beats a smooth curve with as many parameters by at least this many times
#: 2 log n residual variances per change of level (see _staircase).
STAIRCASE_MARGIN = 1.0
#: A learning rate that falls to at most this share of its value dropped (a step schedule).
LR_DROP = 0.7


def on_scale(y: np.ndarray) -> tuple[np.ndarray, bool]:
    """The curve on the scale its rises and swings are judged: natural log for a
    positive loss, else the loss over its median absolute level."""
    if y.size and np.all(y > 0):
        return np.log(y), True
    level = float(np.median(np.abs(y))) if y.size else 1.0
    return y / (level or 1.0), False


def trend(u: np.ndarray) -> np.ndarray:
    """The slow course of a curve: a centred rolling median over a tenth of the run (at
    least 7 points), wide enough to span runs of a few high or low points."""
    window = int(np.clip(u.size // 10, 7, 201)) | 1
    return smooth(u, min(window, u.size if u.size % 2 else u.size - 1))


def _robust_sd(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    return float(1.4826 * np.median(np.abs(v - np.median(v)))) if v.size else 0.0


def lr_changes(history, factor: float = LR_DROP) -> tuple[np.ndarray, np.ndarray]:
    """Where the learning rate dropped to at most ``factor`` of its value, and where it
    rose by at least 1/``factor`` (x values at the first point with the new rate)."""
    lr, lx = history.lr, history.lr_x
    if lr.size < 2:
        return np.empty(0), np.empty(0)
    prev, nxt = lr[:-1], lr[1:]
    drops = lx[1:][(nxt <= factor * prev) & (prev > 0)]
    rises = lx[1:][(nxt * factor >= prev) & (nxt > prev)]
    return drops, rises


def _exploding(x, y, history=None) -> Diagnosis | None:
    """A loss that became NaN/inf, or rose far above its lowest value and stayed there.

    The rise is judged in log space (at least a doubling, beyond the noise and more than
    half the fall before it), and the run must end without recovering: a loss that
    swings up and comes back down is unstable, not exploded (see :func:`_unstable`).
    """
    finite = np.isfinite(y)
    rises = lr_changes(history)[1] if history is not None else np.empty(0)
    if not finite.all():
        first_bad = int(np.flatnonzero(~finite)[0])
        good = y[:first_bad][np.isfinite(y[:first_bad])]
        # A loss that climbed before it overflowed was driven there by the optimiser (the
        # learning rate); one that jumped from a normal value in one step, by an input.
        climbed = False
        if good.size >= 4:
            g, _ = on_scale(np.abs(good) + 1e-300)
            climbed = bool(g[-1] - np.min(g) > EXPLOSION_RISE and g[-1] > g[-2])
        lr_rose = _lr_rise_before(rises, x, first_bad)
        return Diagnosis("loss_exploding", _fmt_x(x[first_bad]), {
            "reason": "non_finite",
            "value": "nan" if np.isnan(y[first_bad]) else "inf",
            "last_finite": float(good[-1]) if good.size else None,
            "non_finite_points": int((~finite).sum()),
            "onset": "run_up" if climbed else "jump",
            "lr_rose_at": lr_rose,
            "first_suspect": "learning_rate" if climbed or lr_rose is not None else "data",
        })
    if y.size < 6:
        return None
    u, _ = on_scale(y)
    sigma = noise_scale(u)
    sm = smooth(u, 3 if y.size < 30 else None)
    run_min = np.minimum.accumulate(sm)
    fell = sm[0] - run_min
    rise = sm - run_min
    limit = np.maximum(np.maximum(0.5 * fell, 6 * sigma), EXPLOSION_RISE)
    cond = (fell > 3 * sigma) & (rise > limit)
    if not cond.any():
        return _diverged(x, y, u)
    t = int(np.flatnonzero(cond)[0])
    # Stayed up: the end of the run is still above the lowest value by half the rise.
    end = float(np.median(u[-max(2, y.size // 20):]))
    if end - run_min[t] < 0.5 * rise[t]:
        return None
    began = int(np.argmin(y[: t + 1]))  # the lowest logged value before the rise
    peak_at = t + int(np.argmax(y[t:]))
    # One step from the lowest value to most of the peak is a jump (an input); a climb
    # over several steps is the optimiser diverging (the learning rate).
    half = run_min[t] + 0.5 * (u[peak_at] - run_min[t])
    reached = began + 1 + int(np.argmax(u[began + 1: peak_at + 1] >= half)) if peak_at > began else began
    onset = "jump" if reached - began <= 1 else "run_up"
    lr_rose = _lr_rise_before(rises, x, began + 1)
    return Diagnosis("loss_exploding", _fmt_x(x[began]), {
        "reason": "sudden_rise",
        "lowest": float(y[began]),
        "peak": float(np.max(y[t:])),
        "at_peak": _fmt_x(x[peak_at]),
        "noise": sigma,
        "onset": onset,
        "lr_rose_at": lr_rose,
        "first_suspect": "data" if onset == "jump" and lr_rose is None else "learning_rate",
    })


def _diverged(x, y, u) -> Diagnosis | None:
    """A loss that climbs from the start of the run: its level over the last quarter is
    at least twice (log 2) its level over the first 5%, and beyond twice its swings."""
    n = u.size
    head, q = max(3, n // 20), max(2, n // 4)
    start, end = float(np.median(u[:head])), float(np.median(u[-q:]))
    swings = max(_robust_sd(u - trend(u)), noise_scale(u))
    if end - start <= max(EXPLOSION_RISE, 2 * swings):
        return None
    lowest = int(np.argmin(y[: max(head, n // 2)]))
    return Diagnosis("loss_exploding", _fmt_x(x[lowest]), {
        "reason": "diverged",
        "lowest": float(y[lowest]),
        "peak": float(np.max(y)),
        "at_peak": _fmt_x(x[int(np.argmax(y))]),
        "noise": noise_scale(u),
        "onset": "run_up",
        "lr_rose_at": None,
        "first_suspect": "learning_rate",
    })


def _lr_rise_before(rises: np.ndarray, x: np.ndarray, i: int) -> float | int | None:
    """The last learning-rate rise within the tenth of the run before point ``i``."""
    if rises.size == 0 or x.size == 0:
        return None
    at = x[min(i, x.size - 1)]
    window = max(0.1 * (x[-1] - x[0]), float(np.median(np.diff(x))) if x.size > 1 else 0.0)
    near = rises[(rises <= at) & (rises >= at - window)]
    return _fmt_x(near[-1]) if near.size else None


def _level_change(u: np.ndarray, head: int, tail: int) -> tuple[float, float, float]:
    """The fall from the start of a curve to its end, with its standard error and the
    size of the curve's swings: (level of the first ``head`` points less the level of
    the last ``tail`` (:func:`_level`), standard error, swings), all on the scale of ``u``.

    The swings are the robust spread of the curve around its slow course (over a tenth
    and over a quarter of the run: a slow swing hides from the shorter window). The
    standard error is measured, not assumed: the curve less the closest monotone curve
    (isotonic regression) is cut into blocks of ``head`` points, and the standard
    deviation of the block levels is the error of the level of ``head`` points, whatever
    the swings' period (a loss that stays high for several epochs and then low for several is not
    read as a fall); the tail's error is that over sqrt(tail / head). Neither is
    smaller than for independent noise.
    """
    from scipy.optimize import isotonic_regression

    n = u.size
    quarter = min(max(n // 4, 7) | 1, n if n % 2 else n - 1)
    noise = noise_scale(u)
    swings = max(_robust_sd(u - trend(u)), _robust_sd(u - smooth(u, quarter)), noise)
    change = float(_level(u[:head]) - _level(u[-tail:]))
    blocks = n // head
    if blocks >= 5:
        # Around the closest monotone curve in the direction of the change: it follows a
        # fall (or a climb) of any shape, but not swings, which stay in the residual.
        resid = u - isotonic_regression(u, increasing=change < 0).x
        # The plain spread (a robust one would ignore the rare blocks that sit at one
        # of two levels), less the block furthest out.
        m = _level(resid[:blocks * head].reshape(blocks, head), axis=1)
        se_head = float(np.std(np.delete(m, np.argmax(np.abs(m - np.median(m))))))
    else:
        se_head = swings
    se_head = max(se_head, 1.2533 * noise / math.sqrt(head))
    se_tail = max(se_head * math.sqrt(head / tail), 1.2533 * noise / math.sqrt(tail))
    return change, math.hypot(se_head, se_tail), swings


def _level(v: np.ndarray, axis=None):
    """The level of a stretch of curve: its 20% trimmed mean (robust to spikes like a
    median, but it does not flip between two levels the curve alternates between); the
    median for fewer than 5 points, where trimming 20% leaves the mean."""
    from scipy.stats import trim_mean

    if (v.size if axis is None else v.shape[axis]) < 5:
        return np.median(v, axis=axis)
    return trim_mean(v, 0.2, axis=axis)


def _oscillating(x, y, vx=None, vy=None) -> Diagnosis | None:
    """Large swings and no trend over the whole run: the loss is not converging.

    Swings are measured in log space (relative to the level) around the curve's slow
    course, so a loss that switches between two levels in runs of a few epochs swings as
    much as one that alternates every point. The run has a trend when the change from
    its start (first 5%) to its end (last quarter) is beyond three standard errors and
    5%, or beyond twice the swings: a noisy per-step log that falls is converging, however
    large its minibatch noise. A val loss that falls by the same test also says the model
    is learning.
    """
    if y.size < 8:
        return None
    u, logged = on_scale(y)
    q = max(2, y.size // 4)
    head = max(3, y.size // 20)
    change, se, swings = _level_change(u, head, q)
    if swings <= OSCILLATION_SWING or abs(change) > min(max(3 * se, 0.05), 2 * swings):
        return None  # calm, or a trend (a loss that climbs over the run diverges: see _exploding)
    if vy is not None and np.isfinite(vy).sum() >= 8:
        v, _ = on_scale(vy[np.isfinite(vy)])
        v_change, v_se, _ = _level_change(v, max(3, v.size // 20), max(2, v.size // 4))
        if v_change > max(3 * v_se, 0.05):
            return None  # the val loss falls: the model is learning
    return Diagnosis("loss_oscillating", None, {
        "start": float(np.median(y[:head])), "last_quarter": float(np.median(y[-q:])),
        "relative_swing": math.expm1(swings) if logged else swings, "change": change, "change_se": se,
        "whole_run": True,
    })


def _unstable(x, y, per_step: bool = False) -> Diagnosis | None:
    """A period of large swings inside a run that otherwise falls: the loss jumps up and
    down by a factor of 1.5 or more between neighbouring points for a twentieth of the
    run or longer, far more than it swings elsewhere, and by 5% of its starting level or
    more within a tenth of the run (large log swings of a loss near zero are noise).

    In a per-step log the swings must last: the curve is first smoothed over 5 steps, so
    minibatch noise, however large in one part of the run, is not instability.
    """
    n = y.size
    if n < 16 or not np.all(y > 0):
        return None
    u = smooth(np.log(y), 5) if per_step else np.log(y)
    window = int(np.clip(n // 10, 5, 201)) | 1
    # Around a rolling mean: swings of random sign make a rolling median flip between
    # the high and the low points, and the residual with it.
    resid = u - pd.Series(u).rolling(window, center=True, min_periods=1).mean().to_numpy()
    local = pd.Series(np.abs(resid)).rolling(window, center=True, min_periods=3).median().to_numpy() * 1.4826
    level = np.exp(u)  # the loss itself (smoothed, per step)
    roll = pd.Series(level).rolling(window, center=True, min_periods=3)
    lin = (roll.max() - roll.min()).to_numpy()  # the swings' size in the loss itself
    calm = float(np.median(local))
    start = float(max(y[0], np.median(y[:3])))
    big = (local > max(3 * calm, UNSTABLE_SWING)) & (lin > 0.05 * start)
    if not big.any():
        return None
    # The longest stretch of such swings.
    edges = np.diff(np.concatenate([[0], big.astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    i = int(np.argmax(ends - starts))
    a, b = int(starts[i]), int(ends[i])  # [a, b)
    if b - a < max(5, 0.05 * n):
        return None
    settled = b < n - max(3, window // 2)
    # Back at or below the level before the swings by the end (a loss that swung up and
    # stayed there has exploded instead).
    before = float(np.median(y[max(0, a - window):a])) if a > 0 else float(y[0])
    recovered = settled and float(np.median(y[-max(3, n // 20):])) <= 1.25 * before
    return Diagnosis("loss_oscillating", _fmt_x(x[a]), {
        "start": float(y[a]), "last_quarter": float(np.median(y[-max(2, n // 4):])),
        "swing": float(np.median(lin[a:b])) / 2, "relative_swing": math.expm1(float(np.median(local[a:b]))),
        "whole_run": False, "period": [_fmt_x(x[a]), _fmt_x(x[b - 1])], "settled": bool(settled),
        "recovered": bool(recovered), "low": float(np.min(level[a:b])), "high": float(np.max(level[a:b])),
    })


def _periodic(x, y) -> Diagnosis | None:
    """The same pattern repeating at a fixed period in a per-step log: what a data order
    that repeats every epoch (e.g. rows sorted by class) gives.

    The curve less its slow course (a rolling median over a fifth of the run) must
    correlate with itself at one lag L and again at 2L (autocorrelation at least 0.3 and
    0.2; white noise gives about 1/sqrt(n)), over at least three periods, L beyond the
    first lag where the correlation falls below 0, and fall by 0.3 or more in between (a
    smooth residual correlates at every short lag); the pattern must hold through the
    run (in most pairs of neighbouring periods, a correlation of at least 0.2 and a
    spread of at least half the overall spread). The first 15% of the run, the initial
    fall, is left out.
    """
    if y.size < 70:
        return None
    # After the initial fall (the first 15% of the run), whose curvature a rolling median
    # cannot follow and which would correlate with itself at every lag.
    skip = int(0.15 * y.size)
    x, y = x[skip:], y[skip:]
    n = y.size
    u, _ = on_scale(y)
    slow = smooth(u, int(np.clip(n // 5, 7, 4001)) | 1)
    r = u - slow
    r = r - r.mean()
    if not np.any(r):
        return None
    size = 1 << int(2 * n - 1).bit_length()
    f = np.fft.rfft(r, size)
    acf = np.fft.irfft(f * np.conj(f), size)[:n]
    acf = acf / acf[0]
    # The period is a peak after the correlation of neighbouring points has died away
    # (the first lag where it falls below 0): a smooth pattern also correlates highly at
    # the shortest lags, where chance makes small peaks.
    below = np.flatnonzero(acf[:n // 3] < 0)
    lags = np.arange(max(5, int(below[0]) if below.size else n), n // 3)
    if lags.size < 3:
        return None
    a = acf[lags]
    peaks = lags[1:-1][(a[1:-1] >= a[:-2]) & (a[1:-1] >= a[2:])]
    if peaks.size == 0:
        return None
    lag = int(peaks[np.argmax(acf[peaks])])
    second = float(acf[2 * lag]) if 2 * lag < n else -1.0
    if acf[lag] < 0.3 or second < 0.2:
        return None
    # A repeat, not a slowly fading correlation: the curve must decorrelate in between.
    if float(np.min(acf[1:lag])) > acf[lag] - 0.3:
        return None
    # A data order repeats through the whole run, not only in a period of swings that
    # happen to line up: most pairs of neighbouring periods correlate, and the pattern
    # keeps its size (the typical pair's spread at least half the overall spread).
    pairs = r[:n // (2 * lag) * 2 * lag].reshape(-1, 2, lag)
    spread = pairs.reshape(pairs.shape[0], -1).std(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        together = [np.corrcoef(p[0], p[1])[0, 1] for p in pairs]
    if (float(np.median(np.nan_to_num(together))) < 0.2
            or float(np.median(spread)) < 0.5 * float(np.sqrt(np.mean(spread ** 2)))):
        return None
    dx = float(np.median(np.diff(x)))
    return Diagnosis("loss_plateau", _fmt_x(x[0]), {
        "pattern": "periodic", "period": _fmt_x(lag * dx), "autocorrelation": float(acf[lag]),
        "repeats": int(n // lag), "amplitude": float(np.ptp(np.percentile(r, [10, 90]))),
    })


TAIL_SHARE = 0.6


def theil_sen(x: np.ndarray, y: np.ndarray, alpha: float = 0.95, most: int = 400) -> tuple[float, float, float]:
    """Theil–Sen slope of ``y`` on ``x`` with its two-sided ``alpha`` interval: (slope,
    lower, upper). It takes all pairs of points, so a long curve is thinned evenly to
    ``most`` points first."""
    from scipy.stats import theilslopes

    if y.size > most:
        pick = np.linspace(0, y.size - 1, most).astype(int)
        x, y = x[pick], y[pick]
    slope, _, lo, hi = theilslopes(y, x, alpha=alpha)
    return float(slope), float(lo), float(hi)


def _tail(x, y, share: float) -> tuple[np.ndarray, np.ndarray]:
    m = max(4, int(y.size * share))
    return x[-m:], y[-m:]


def _still_decreasing(x, y) -> Diagnosis | None:
    """The end of the run still falls.

    Three conditions: the slope over the last 60% is significantly negative (Theil–Sen,
    95% interval); at the slope of the last fifth, the last fifth takes off at least 5%
    of the curve's fall (a curve that stepped down and then stayed flat is not still
    falling; where the last fifth has 8 points or more and its interval reaches the
    steeper slope of the last 60%, that slope is used, the last fifth's own being
    noisy); and the last tenth is not significantly flatter than a quarter of the last
    fifth's slope (a late step, such as unfreezing layers at 85% of the run, followed by
    a flat stretch is over, not still falling).
    """
    if y.size < 8:
        return None
    slope, lo, hi = theil_sen(*_tail(x, y, TAIL_SHARE))
    x5, y5 = _tail(x, y, 0.2)
    slope5, lo5, _ = theil_sen(x5, y5)
    # The last fifth's own slope is noisy: where its interval reaches the slope of the
    # last 60%, that slope measures the last fifth's fall.
    if y5.size >= 8 and slope5 < 0 and slope < 0 and lo5 <= slope:
        slope5 = min(slope5, slope)
    tail_drop = -slope5 * float(x5[-1] - x5[0])
    sm = smooth(y)
    total_drop = float(sm[0] - np.min(sm))
    # The run must have fallen beyond its noise: a flat noisy curve has no fall to continue.
    fell = total_drop > max(3 * noise_scale(y), 0.02 * abs(float(np.median(y))))
    if not (hi < 0 and fell and tail_drop >= 0.05 * total_drop):
        return None
    x10, y10 = _tail(x, y, 0.1)
    if y10.size >= 8 and theil_sen(x10, y10)[1] > 0.25 * slope5:
        return None
    return Diagnosis("loss_still_decreasing", _fmt_x(x[-1]), {
        "slope": slope, "slope_ci": (lo, hi), "slope_window_share": TAIL_SHARE, "slope_last_fifth": slope5,
        "drop_over_last_fifth": tail_drop, "total_drop": total_drop, "share_of_drop": tail_drop / total_drop,
        "last": float(sm[-1]),
    })


def _level_shifts(u: np.ndarray, k: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The shift of level at every point (the median of the ``k`` points before it less
    the median of the ``k`` points from it, NaN near the ends) and its drift, the local
    trend of such shifts: a rolling median over ``w`` points, which a step moves only
    in its ~2k shifts (near the ends the nearest full window is used)."""
    n = u.size
    series = pd.Series(u)
    before = series.rolling(k, min_periods=k).median().to_numpy()  # ends at i
    after = series[::-1].rolling(k, min_periods=k).median().to_numpy()[::-1]  # starts at i
    shift = np.full(n, np.nan)
    shift[k - 1:n - k] = before[k - 1:n - k] - after[k:n - k + 1]  # level before i+1 minus level from i+1
    drift = pd.Series(shift).rolling(w, center=True, min_periods=w).median().bfill().ffill().to_numpy()
    return shift, drift


def _drift_window(n: int, k: int) -> int:
    return int(np.clip(n // 8, 4 * k, 8 * k)) | 1


def _shift_se(u: np.ndarray, k: int) -> np.ndarray:
    """Standard error of a shift of level less its drift (see :func:`_level_shifts`), at
    every point, measured on the curve's own noise rather than assumed.

    The shape of the point noise is each point less the median of its four neighbours
    (which keeps steps; residuals beyond 4 robust standard deviations are left out),
    rescaled to the noise of first differences. A noise-only curve of 8,000 points drawn
    from it (fixed seed) goes through the same shifts and drift, and the spread of the
    result is the standard error, whatever the noise's shape, ``k`` or the window; it is
    scaled by the local spread of the noise against its overall spread, so noise that
    is larger early in a run than late is judged where it is.
    """
    n = u.size
    if n < 5:
        return np.zeros(n)
    near = np.median(np.stack([u[:-4], u[1:-3], u[3:-1], u[4:]]), axis=0)
    e = u[2:-2] - near
    e = e[np.isfinite(e)]
    mad = float(np.median(np.abs(e - np.median(e)))) if e.size else 0.0
    if mad <= 0:
        return np.zeros(n)
    # Steps leave a few large residuals that are not noise: beyond 4 robust standard
    # deviations they are left out (a median of k barely feels the tails of the noise).
    e = e[np.abs(e - np.median(e)) <= 4 * 1.4826 * mad]
    shape = e * (noise_scale(u) / (1.4826 * mad))
    w = _drift_window(n, k)
    shift, drift = _level_shifts(np.random.default_rng(0).choice(shape, size=8000), k, w)
    se = float(np.nanstd(shift - drift))
    spread = np.full(n, np.nan)
    spread[2:-2] = np.abs(u[2:-2] - near)
    local = pd.Series(spread).rolling(w, center=True, min_periods=k).median()
    return se * (local.bfill().ffill().to_numpy() / mad)


def _shift_events(index: np.ndarray, k: int) -> list[np.ndarray]:
    """Runs of indexes no more than ``k`` apart: the shifts of one step."""
    if index.size == 0:
        return []
    return np.split(index, np.flatnonzero(np.diff(index) > k) + 1)


def _plateaus(x, y, history=None, staircase: bool = True) -> Diagnosis | None:
    """Repeated flat stretches separated by sudden drops (a step-like curve).

    A drop is a shift of level: the median of the ``k`` points after a point against
    the median of the ``k`` points before it, less the local trend of such shifts, and
    beyond z standard errors of such a difference (z grows with the number of
    independent shifts tested, n/k, so a long curve is not searched into a false step).
    Single noisy points do not shift medians, and the steep start of a healthy curve is
    trend, so neither counts. Rises are counted the same way: noise shifts both ways, a
    step-like curve only down, so rises must be fewer than half the drops. When the log
    has the learning rate and the steps away from its drops are too few to make a
    pattern of their own, the steps are the schedule's (``schedule=True`` in the
    evidence; not a finding). ``staircase=False`` leaves out the whole-curve staircase fit
    of short curves (see _staircase).
    """
    n = y.size
    if n < 20:
        return None
    u, _ = on_scale(y)  # log space: a drop of 30% is as large at any level
    total = float(smooth(u)[0] - np.min(smooth(u)))
    if total <= 0:
        return None
    k = int(np.clip(n // 40, 3, 25))
    shift, drift = _level_shifts(u, k, _drift_window(n, k))
    excess = shift - drift
    se_shift = _shift_se(u, k)
    if total <= max(0.05, 8 * float(np.median(se_shift))):
        return None  # no fall worth the name: steps in noise are chance
    z = max(STEP_Z, float(_norm_isf(0.01 / max(1.0, n / k))))
    limit = np.maximum(z * se_shift, 0.03 * total)
    events = _shift_events(np.flatnonzero(np.nan_to_num(excess - limit, nan=-1.0) > 0), k)
    # A rise against the trend of a falling curve, not against a drift that nearby
    # drops have pushed up.
    rise = -(shift - np.minimum(drift, 0.0))
    rises = _shift_events(np.flatnonzero(np.nan_to_num(rise - limit, nan=-1.0) > 0), k)
    # A step learning-rate schedule has a few milestones (ResNet: 3); a repeating data
    # order steps again and again. Drops during the initial fall (the first 10% of the
    # run) may be the normal steep start: at least three must come later.
    found = None
    if len(events) >= 4 and sum(e[0] >= 0.1 * n for e in events) >= 3 and 2 * len(rises) < len(events):
        def cuts_of(evs):  # the first point after each drop
            return [int(e[int(np.nanargmax(shift[e]))]) + 1 for e in evs]

        cuts = cuts_of(events)
        # Between the drops the curve must be flat: most of the fall after the first drop
        # happens in the drops. Smaller drops (beyond SMALL_STEP_Z standard errors) count
        # as drops here too when they are few (at most one per step found): a step too
        # small to be found on its own is then not read as a fall between steps, while
        # noise, which crosses the lower bar again and again, is not cut into steps.
        small = _shift_events(np.flatnonzero(np.nan_to_num(
            excess - np.maximum(SMALL_STEP_Z * se_shift, 0.03 * total), nan=-1.0) > 0), k)
        in_drops = _share_in_drops(u, cuts_of(small) if len(small) <= 2 * len(events) else cuts, k)
        if in_drops >= 0.75:
            found = {"pattern": "steps", "drops": len(events), "rises": len(rises), "cuts": cuts,
                     "share_of_fall_in_drops": in_drops, "fit": "windows"}
    lr_drops = lr_changes(history)[0] if history is not None and history.has_lr else np.empty(0)
    if found is None and staircase and n <= STAIRCASE_MAX_POINTS:
        # Windows of a few points are weak on a short curve: there the whole curve is fitted
        # as a staircase instead, each level measured over its full length.
        found = _staircase(u, np.unique(np.searchsorted(x, lr_drops)))
    if found is None:
        return None
    cuts = found.pop("cuts")
    steps = [_fmt_x(x[c]) for c in cuts]
    evidence = {**found, "steps_at": steps[:20], "last_step": steps[-1], "lr_logged": False}
    if history is not None and history.has_lr:
        # Steps where the learning rate dropped are the schedule at work, not a data order.
        tol = max(k * float(np.median(np.diff(x))), 0.01 * float(x[-1] - x[0]))
        at_drop = [lr_drops.size > 0 and np.min(np.abs(lr_drops - x[c])) <= tol for c in cuts]
        # The schedule's when the steps away from learning-rate drops are too few to be a
        # step pattern of their own (three after the initial fall).
        others = sum(not d and c >= 0.1 * n for d, c in zip(at_drop, cuts))
        evidence.update(lr_logged=True, lr_drops=int(lr_drops.size), at_lr_drops=int(sum(at_drop)),
                        schedule=others < 3)
    return Diagnosis("loss_plateau", steps[0], evidence)


def _staircase_fits(u: np.ndarray, least: int, most: int) -> dict[int, tuple[float, list[int]]]:
    """The least-squares staircase of ``u`` with m = 1..``most`` flat levels, each at
    least ``least`` points long (the exact optimum, by dynamic programming over where
    each level ends): {m: (residual sum of squares, the first point of every level but
    the first)}."""
    n = u.size
    s1 = np.concatenate([[0.0], np.cumsum(u)])
    s2 = np.concatenate([[0.0], np.cumsum(u * u)])
    end, start = np.arange(n + 1)[:, None], np.arange(n + 1)[None, :]  # rows: where a level ends
    length = (end - start).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = s2[end] - s2[start] - (s1[end] - s1[start]) ** 2 / length  # u[start:end] about its mean
    cost[length < least] = np.inf
    best = cost[:, 0].copy()  # best[j]: the best fit of u[:j] with m levels
    back = []
    fits: dict[int, tuple[float, list[int]]] = {1: (float(best[n]), [])}
    rows = np.arange(n + 1)
    for m in range(2, most + 1):
        total = cost + best[None, :]
        arg = np.argmin(total, axis=1)
        best = total[rows, arg]
        back.append(arg)
        if not np.isfinite(best[n]):
            break
        cuts = [n]
        for arg_m in reversed(back):
            cuts.append(int(arg_m[cuts[-1]]))
        fits[m] = (float(best[n]), sorted(cuts[1:]))
    return fits


def _smooth_rss(u: np.ndarray, df: int, jumps: np.ndarray | None = None) -> float:
    """Residual sum of squares of a least-squares cubic spline with ``df`` coefficients
    (evenly spaced knots): a smooth curve with as many parameters as a staircase. With
    ``jumps`` (point indexes), the curve may also jump at each of them."""
    from scipy.interpolate import BSpline

    t = np.arange(u.size, dtype=float)
    inner = np.linspace(0.0, t[-1], max(df - 4, 0) + 2)[1:-1]
    knots = np.concatenate([[0.0] * 4, inner, [t[-1]] * 4])
    design = BSpline.design_matrix(t, knots, 3).toarray()
    if jumps is not None and jumps.size:
        design = np.hstack([design, (t[:, None] >= jumps[None, :]).astype(float)])
    coef = np.linalg.lstsq(design, u, rcond=None)[0]
    r = u - design @ coef
    return float(r @ r)


def _staircase(u: np.ndarray, jumps: np.ndarray | None = None) -> dict | None:
    """A short curve that is a staircase: flat levels separated by drops.

    The best staircase (levels of at least 5 points, or n/50) is chosen by a penalised
    fit, each further level costing 3 log n noise variances; its levels must step down
    at least four times by 3 standard errors (three of them after the first 10% of the
    run), rise fewer than half as often, and lie flat (their pooled slope within 3
    standard errors of 0, and at least 75% of the fall in the drops). A smooth fall is
    fitted well by a staircase too, so the staircase must also fit better than a cubic
    spline with as many parameters (2m - 1), by more than 2 log n residual variances per
    change of level: the price of searching where the changes are. Where the learning
    rate dropped (``jumps``, point indexes) the spline may jump too, so the drops of a
    step schedule do not make a staircase of their own. On the curve benchmark's seeds
    200-599, which were not used to choose the rule (``benchmarks/curves.py --curves 400
    --first-seed 200 --margins``), no smooth curve (ideal, noisy, overfitting, still
    falling, wrong start) reaches 0.6 of that margin; one step-like curve falls short
    of it (0.92).
    """
    n = u.size
    sigma = noise_scale(u)
    least = max(5, n // 50)
    if sigma <= 0 or n < 5 * least:
        return None
    fits = _staircase_fits(u, least, min(12, n // least))
    penalty = 3 * math.log(n)
    m = min(fits, key=lambda m: fits[m][0] / sigma ** 2 + penalty * (m - 1))
    rss, cuts = fits[m]
    if m < 5:
        return None
    bounds = [0, *cuts, n]
    levels = np.array([u[a:b].mean() for a, b in zip(bounds[:-1], bounds[1:])])
    lengths = np.diff(bounds)
    t = (levels[:-1] - levels[1:]) / (sigma * np.sqrt(1 / lengths[:-1] + 1 / lengths[1:]))
    drops, rises = np.flatnonzero(t >= 3), np.flatnonzero(t <= -3)
    if drops.size < 4 or sum(cuts[i] >= 0.1 * n for i in drops) < 3 or 2 * rises.size >= drops.size:
        return None
    sxy = sxx = 0.0
    for a, b in zip(bounds[:-1], bounds[1:]):
        pos = np.arange(b - a) - (b - a - 1) / 2
        sxy += float(pos @ (u[a:b] - u[a:b].mean()))
        sxx += float(pos @ pos)
    slope = sxy / sxx
    fall = float(np.sum(np.maximum(levels[:-1] - levels[1:], 0.0)))
    in_drops = fall / (fall + max(-slope, 0.0) * n)
    if slope / (sigma / math.sqrt(sxx)) < -3 or in_drops < 0.75:
        return None
    variance = rss / (n - (2 * m - 1))
    margin = (_smooth_rss(u, 2 * m - 1, jumps) - rss) / variance / (2 * (m - 1) * math.log(n))
    if margin < STAIRCASE_MARGIN:
        return None
    return {"pattern": "steps", "drops": int(drops.size), "rises": int(rises.size),
            "cuts": [cuts[i] for i in drops], "share_of_fall_in_drops": in_drops,
            "fit": "staircase", "staircase_margin": margin}


def _share_in_drops(u: np.ndarray, cuts: list[int], k: int) -> float:
    """The share of the fall after the first cut that happens at the cuts rather than
    between them. Each stretch between cuts, less ``k // 2`` points at either end (where
    a step's position is uncertain), gives its level at its start and its end (medians
    of its first and last thirds); a drop is the end level of one stretch less the
    start level of the next, and a stretch's own fall counts against the drops."""
    trim = max(1, k // 2)
    bounds = [0, *cuts, u.size]
    ends: list[tuple[float, float] | None] = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        seg = u[a + trim:b - trim]
        if seg.size < 3:
            ends.append(None)
            continue
        third = max(1, seg.size // 3)
        ends.append((float(np.median(seg[:third])), float(np.median(seg[-third:]))))
    drops = sum(max(p[1] - q[0], 0.0) for p, q in zip(ends[:-1], ends[1:]) if p and q)
    within = sum(max(p[0] - p[1], 0.0) for p in ends[1:] if p)
    return drops / (drops + within) if drops + within > 0 else 0.0


def _norm_isf(p: float) -> float:
    from scipy.stats import norm

    return float(norm.isf(p))


def _not_decreasing(x: np.ndarray, y: np.ndarray) -> Diagnosis | None:
    """No fall over the run: the start (the first value, or the median of the first 5%
    when that is higher: one early swing does not make a fall) is within the noise of
    the end (median of the last quarter), the level of the first 5% is not above that of
    the last quarter by three standard errors (see :func:`_level_change`), and the run as
    a whole has no significant downward trend (Theil–Sen slope, 95% interval) worth 5%
    of its level."""
    n = y.size
    start = float(max(y[0], np.median(y[:max(3, n // 20)])))
    end = float(np.median(y[-max(2, n // 4):]))
    noise = noise_scale(y)
    if start - end > max(3 * noise, 0.02 * abs(end)):
        return None
    if n >= 8:
        u, _ = on_scale(y)
        change, se, _ = _level_change(u, max(3, n // 20), max(2, n // 4))
        if change > max(3 * se, 0.02):
            return None  # the level fell beyond its standard error (a noisy per-step log)
        _, _, hi = theil_sen(x, y)
        if hi < 0 and -hi * float(x[-1] - x[0]) > 0.05 * abs(end):
            return None  # a slow but steady fall
    return Diagnosis("loss_not_decreasing", None, {"first": float(y[0]), "last": float(y[-1]), "noise": noise})


def _trend_sign(x: np.ndarray, y: np.ndarray, alpha: float = 0.99) -> int:
    """+1 or -1 when the Theil–Sen slope's ``alpha`` interval lies above or below zero
    (0 otherwise, or with fewer than 5 points)."""
    if y.size < 5:
        return 0
    _, lo, hi = theil_sen(x, y, alpha)
    return 1 if lo > 0 else (-1 if hi < 0 else 0)


def _overfitting(tx, ty, vx, vy) -> Diagnosis | None:
    ok = np.isfinite(vy)
    vx, vy = vx[ok], vy[ok]
    if vy.size < 5:
        return None
    sm = smooth(vy, 3 if vy.size < 30 else None)
    t = int(np.argmin(sm))
    if t >= vy.size - 2:
        return None
    sigma = max(noise_scale(vy), 1e-12)
    v_min = float(sm[t])
    tail = float(np.median(vy[-max(2, vy.size // 10):]))
    rise = tail - v_min
    fall_before = float(sm[0] - v_min)
    material = max(0.05 * max(fall_before, 0.0), 0.01 * abs(v_min))
    # A rise beyond the noise of single points, or a steady one: every val point after
    # the turn rises (Theil–Sen slope, 99% interval above zero).
    if rise <= max(3 * sigma, material) and not (
            rise > max(sigma, material) and _trend_sign(vx[t:], vy[t:]) > 0):
        return None
    # Train loss still falls after val turned.
    okt = np.isfinite(ty)
    tx, ty = tx[okt], ty[okt]
    after = tx >= vx[t]
    if after.sum() < 2:
        return None
    tsm = smooth(ty)
    train_at_turn = float(np.interp(vx[t], tx, tsm))
    train_end = float(tsm[-1])
    if train_end >= train_at_turn - max(2 * noise_scale(ty), 1e-12) and _trend_sign(tx[after], ty[after]) >= 0:
        return None
    best = int(np.argmin(vy))
    # Onset: the lowest logged val loss near the smoothed minimum (within the smoothing window).
    half = max(1, (3 if vy.size < 30 else int(np.clip(vy.size // 15, 3, 51))) // 2)
    lo = max(0, t - half)
    began = lo + int(np.argmin(vy[lo:t + half + 1]))
    return Diagnosis("loss_overfitting", _fmt_x(vx[began]), {
        "began": _fmt_x(vx[began]), "best_checkpoint": _fmt_x(vx[best]), "best_val_loss": float(vy[best]),
        "val_loss_at_end": float(vy[-1]), "val_rise": rise, "train_loss_at_turn": train_at_turn,
        "train_loss_at_end": train_end,
    })


def _initial(x, y, n_classes: int | None) -> Diagnosis | None:
    if not n_classes or n_classes < 2:
        return None
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return None
    expected = math.log(n_classes)
    # A long per-step log starts with a few points at about the same loss: their median
    # is the start, and one noisy minibatch is not.
    head = int(np.clip(finite.size // 100, 1, 5))
    first = float(np.median(finite[:head]))
    se = 1.2533 * noise_scale(finite[:max(20, finite.size // 20)]) / math.sqrt(head)
    # Only a start far above ln(K), beyond three standard errors of the start, is a sure
    # sign: most loggers write the first value after some training (Keras logs epoch 0 at
    # its end), so a low first value is normal.
    if first - 3 * se > 1.5 * expected + 0.1:
        return Diagnosis("loss_initial", _fmt_x(x[0]), {"first": first, "expected": expected, "direction": "high",
                                                        "classes": n_classes})
    return None


def _downsample(x: np.ndarray, y: np.ndarray, keep: list) -> tuple[list, list]:
    if x.size <= MAX_PLOT_POINTS:
        return x.tolist(), [None if not np.isfinite(v) else float(v) for v in y]
    idx = np.unique(np.concatenate([np.linspace(0, x.size - 1, MAX_PLOT_POINTS).astype(int),
                                    np.searchsorted(x, keep).clip(0, x.size - 1)]))
    return x[idx].tolist(), [None if not np.isfinite(v) else float(v) for v in y[idx]]


def diagnose(history: History, n_classes: int | None = None) -> HistoryAnalysis:
    """Run every loss-curve diagnosis on ``history``."""
    tx, ty = history.train_x, history.train
    vx, vy = history.val_x, history.val
    found: list[Diagnosis] = []
    notes: list[str] = []
    finite = np.isfinite(ty)
    fx, fy = tx[finite], ty[finite]
    complete = bool(finite.all()) and fy.size > 0
    periodic = _periodic(fx, fy) if history.x_name == "step" and complete else None
    # Swings with no trend over the whole run are oscillation, even when the run happens
    # to end on a high swing; a periodic curve with no trend is both (the data order
    # repeats, and the run does not converge).
    osc = _oscillating(fx, fy, vx, vy) if complete else None
    # A period of swings that settled and came back down is not an explosion, though it
    # has sudden rises in it.
    unstable = _unstable(fx, fy, history.x_name == "step") if osc is None and complete else None
    calm_again = unstable is not None and unstable.evidence["recovered"]
    exploding = _exploding(tx, ty, history) if osc is None and ty.size and not calm_again else None
    if exploding is None and vy.size and not np.isfinite(vy).all():
        # Only NaN/inf counts in val (a rising val loss is overfitting); with a finite
        # train loss it is the evaluation that failed, not the run.
        exploding = _exploding(vx, vy, history)
        if exploding is not None:
            exploding.evidence["curve"] = "val"
    for d in (exploding, _initial(tx, ty, n_classes)):
        if d is not None:
            found.append(d)
    # A blow-up of the train loss disrupts the shape of the train curve, but not what
    # val loss says about overfitting.
    over = _overfitting(tx, ty, vx, vy) if vy.size else None
    if exploding is None or exploding.evidence.get("curve") == "val":
        found += [d for d in (periodic, osc) if d is not None]
        if periodic is None and osc is None and fy.size:
            last_step = None
            # A period of swings is a run of changes of level of its own: a staircase
            # fitted through it would read the swings as steps.
            plateau = _plateaus(fx, fy, history, staircase=unstable is None)
            if plateau is not None:
                last_step = plateau.evidence["last_step"]
                if plateau.evidence.get("schedule"):
                    notes.append(f"The loss falls in steps where the learning rate drops "
                                 f"({plateau.evidence['at_lr_drops']} of {plateau.evidence['drops']} steps): "
                                 "the schedule at work, not a repeating data order.")
                else:
                    found.append(plateau)
            if unstable is not None:
                found.append(unstable)
            if over is None and (unstable is None or unstable.evidence["settled"]):
                still = _still_falling(fx, fy, vx, vy, last_step)
                if still is not None:
                    found.append(still)
    if over is not None:
        found.append(over)

    if not found and fy.size >= 4:
        flat = _not_decreasing(fx, fy)
        if flat is not None:
            found.append(flat)
        elif fy.size < 8 and (fy[-2] - fy[-1]) > 0.1 * (fy[0] - np.min(fy)):
            found.append(Diagnosis("loss_still_decreasing", _fmt_x(fx[-1]), {
                "curve": "train", "share_of_drop": float((fy[-2] - fy[-1]) / (fy[0] - np.min(fy))),
                "last": float(fy[-1]), "short_run": True,
            }))
    healthy = not found and fy.size >= 4
    if healthy:
        sm = smooth(fy)
        summary = (f"The training curve looks healthy: the loss fell from {sm[0]:.3g} to {sm[-1]:.3g} "
                   "and had flattened by the end.")
    elif fy.size < 4 and not found:
        summary = (f"Only {fy.size} finite train-loss value{'s' if fy.size != 1 else ''}: "
                   "too few to judge the curve.")
    else:
        summary = "The training curves show " + ", ".join(_name(d) for d in found) + "."
    if notes:
        summary += " " + " ".join(notes)
    keep = [d.at for d in found if isinstance(d.at, (int, float))]
    ptx, pty = _downsample(tx, ty, keep)
    pvx, pvy = _downsample(vx, vy, keep) if vy.size else ([], [])
    return HistoryAnalysis(
        source=history.source,
        format=history.format,
        x_name=history.x_name,
        n_train=int(ty.size),
        n_val=int(vy.size),
        expected_initial=math.log(n_classes) if n_classes and n_classes >= 2 else None,
        diagnoses=found,
        healthy=healthy,
        summary=summary,
        plot={"train_x": ptx, "train": pty, "val_x": pvx, "val": pvy},
    )


def _still_falling(fx, fy, vx, vy, last_step) -> Diagnosis | None:
    """Still decreasing, judged on val when it has 8 points or more (a val loss that is
    flat while train falls says that more training will not help), else on train; after
    the last step of a step-like curve when there is one (a fall after the last
    learning-rate milestone is still a fall; the step itself is not)."""
    ok = np.isfinite(vy)
    x, y, curve = (vx[ok], vy[ok], "val") if ok.sum() >= 8 else (fx, fy, "train")
    if last_step is not None:
        after = x >= last_step
        x, y = x[after], y[after]
    still = _still_decreasing(x, y)
    if still is not None:
        still.evidence["curve"] = curve
        if last_step is not None:
            still.evidence["after_step"] = last_step
    return still


_NAMES = {"loss_not_decreasing": "a loss that does not fall", "loss_exploding": "an exploding loss",
          "loss_oscillating": "an oscillating loss", "loss_initial": "a wrong initial loss",
          "loss_still_decreasing": "a loss still falling at the end", "loss_plateau": "step-like plateaus",
          "loss_overfitting": "val loss rising while train loss falls"}


def _name(d: Diagnosis) -> str:
    """What a diagnosis is called in the one-line summary."""
    e = d.evidence
    if d.kind == "loss_plateau" and e.get("pattern") == "periodic":
        return "a pattern that repeats at a fixed period"
    if d.kind == "loss_oscillating" and not e.get("whole_run", True):
        return "a period of unstable training" + (" that settled" if e.get("settled") else "")
    if d.kind == "loss_exploding" and e.get("curve") == "val":
        return f"a val loss that became {e.get('value', 'non-finite')}"
    if d.kind == "loss_exploding" and e.get("reason") == "diverged":
        return "a loss that diverged"
    return _NAMES.get(d.kind, d.kind)
