"""Diagnose loss curves: wrong start, not converged, oscillating, exploding, step-like, overfitting.

Every test compares a change in the curve with the curve's own noise, estimated
robustly from first differences (median absolute deviation), so a noisy but healthy
curve raises nothing. Curves are smoothed with a centred rolling median, which keeps
steps and jumps sharp where a moving average would blur them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..io.history import History

MAX_PLOT_POINTS = 1500


@dataclass(frozen=True)
class Diagnosis:
    """One thing the curves show: a finding kind, where it shows, and its figures."""

    kind: str
    at: float | None
    evidence: dict = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryAnalysis:
    source: str
    format: str
    x_name: str
    n_train: int
    n_val: int
    expected_initial: float | None
    diagnoses: list
    healthy: bool
    summary: str
    plot: dict  # downsampled curves: train_x, train, val_x, val

    def to_dict(self) -> dict:
        from ..result import plain

        return {
            "source": self.source, "format": self.format, "x_name": self.x_name,
            "n_train": self.n_train, "n_val": self.n_val, "expected_initial": plain(self.expected_initial),
            "healthy": self.healthy, "summary": self.summary,
            "diagnoses": [{"kind": d.kind, "at": plain(d.at), "evidence": plain(d.evidence)} for d in self.diagnoses],
        }


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


def _exploding(x, y) -> Diagnosis | None:
    finite = np.isfinite(y)
    if not finite.all():
        first_bad = int(np.flatnonzero(~finite)[0])
        last_good = y[:first_bad][np.isfinite(y[:first_bad])]
        return Diagnosis("loss_exploding", _fmt_x(x[first_bad]), {
            "reason": "non_finite",
            "value": "nan" if np.isnan(y[first_bad]) else "inf",
            "last_finite": float(last_good[-1]) if last_good.size else None,
            "non_finite_points": int((~finite).sum()),
        })
    if y.size < 6:
        return None
    sigma = noise_scale(y)
    sm = smooth(y, 3 if y.size < 30 else None)
    run_min = np.minimum.accumulate(sm)
    start = sm[0]
    rise = sm - run_min
    fell = start - run_min
    limit = np.maximum(0.5 * fell, 6 * sigma)
    cond = (fell > 3 * sigma) & (rise > limit) & (sm > run_min + np.maximum(0.5 * np.abs(run_min), 1e-12))
    if not cond.any():
        return None
    t = int(np.flatnonzero(cond)[0])
    began = int(np.argmin(y[: t + 1]))  # the lowest logged value before the rise
    return Diagnosis("loss_exploding", _fmt_x(x[began]), {
        "reason": "sudden_rise",
        "lowest": float(y[began]),
        "peak": float(np.max(y[t:])),
        "at_peak": _fmt_x(x[t + int(np.argmax(y[t:]))]),
        "noise": sigma,
    })


def _oscillating(x, y) -> Diagnosis | None:
    if y.size < 8:
        return None
    q = max(2, y.size // 4)
    head = max(3, y.size // 20)
    # The start (first 5%) against the end (last quarter): a fast fall early on is a fall.
    first, last = float(np.median(y[:head])), float(np.median(y[-q:]))
    decrease = first - last
    resid = y - smooth(y)
    spread = float(1.4826 * np.median(np.abs(resid - np.median(resid))))
    swings = max(spread, noise_scale(y))
    level = float(np.median(np.abs(y))) or 1.0
    if decrease < 2 * swings and swings > 0.05 * level:
        return Diagnosis("loss_oscillating", None, {
            "start": first, "last_quarter": last, "swing": swings, "relative_swing": swings / level,
        })
    return None


def _tail_trend(x, y) -> tuple[float, float, float, int]:
    """Theil–Sen slope of the last fifth of a curve: (slope, lower, upper, points)."""
    from scipy.stats import theilslopes

    m = max(4, y.size // 5)
    xs, ys = x[-m:], y[-m:]
    if m > 400:  # Theil–Sen takes all pairs: an even subsample keeps it fast
        pick = np.linspace(0, m - 1, 400).astype(int)
        xs, ys = xs[pick], ys[pick]
    slope, _, lo, hi = theilslopes(ys, xs, alpha=0.95)
    return float(slope), float(lo), float(hi), m


def _still_decreasing(x, y) -> Diagnosis | None:
    if y.size < 8:
        return None
    slope, lo, hi, m = _tail_trend(x, y)
    span = float(x[-1] - x[-m])
    tail_drop = -slope * span
    sm = smooth(y)
    total_drop = float(sm[0] - np.min(sm))
    if hi < 0 and total_drop > 0 and tail_drop >= 0.05 * total_drop:
        return Diagnosis("loss_still_decreasing", _fmt_x(x[-1]), {
            "slope": slope, "slope_ci": (lo, hi), "drop_over_last_fifth": tail_drop, "total_drop": total_drop,
            "share_of_drop": tail_drop / total_drop, "last": float(sm[-1]),
        })
    return None


def _plateaus(x, y) -> Diagnosis | None:
    """Repeated flat stretches separated by sudden drops (a step-like curve).

    A drop is a shift of level: the median of the ``k`` points after a point against
    the median of the ``k`` points before it, less the local trend of such shifts, and
    large against their local spread. Single noisy points do not shift medians,
    and the steep start of a healthy curve is trend, so neither counts.
    """
    n = y.size
    if n < 20:
        return None
    total = float(smooth(y)[0] - np.min(smooth(y)))
    if total <= 0:
        return None
    k = int(np.clip(n // 40, 3, 25))
    series = pd.Series(y)
    before = series.rolling(k, min_periods=k).median().to_numpy()  # ends at i
    after = series[::-1].rolling(k, min_periods=k).median().to_numpy()[::-1]  # starts at i
    shift = np.full(n, np.nan)
    shift[k - 1:n - k] = before[k - 1:n - k] - after[k:n - k + 1]  # level before i+1 minus level from i+1
    # The local trend moves every shift alike; a step moves only the ~2k shifts around
    # it, so the rolling median of the shifts over a wider window is the trend.
    w = int(np.clip(n // 8, 4 * k, 8 * k)) | 1
    shifts = pd.Series(shift)
    trend = shifts.rolling(w, center=True, min_periods=w).median()
    # Near the ends a window is cut short and would be mostly step: use the nearest full one.
    trend = trend.bfill().ffill()
    spread = (shifts - trend).abs().rolling(w, center=True, min_periods=w).median().bfill().ffill() * 1.4826
    excess = (shifts - trend).to_numpy()
    floor = float(np.nanmedian(spread)) if np.isfinite(spread).any() else 0.0
    limit = np.maximum(6 * np.maximum(spread.to_numpy(), floor * 0.25), 0.03 * total)
    drops = np.flatnonzero(np.nan_to_num(excess - limit, nan=-1.0) > 0)
    if drops.size == 0:
        return None
    events, current = [], [drops[0]]
    for i in drops[1:]:
        if i - current[-1] <= k:
            current.append(i)
        else:
            events.append(current)
            current = [i]
    events.append(current)
    # Drops during the initial fall (the first 10% of the run) are the normal steep start.
    events = [e for e in events if e[0] >= 0.1 * n]
    # A step learning-rate schedule has a few milestones (ResNet: 3); a repeating data
    # order steps again and again.
    if len(events) < 5:
        return None
    sizes = [float(np.nanmax(shift[e])) for e in events]
    in_jumps = float(sum(sizes))
    # Between the drops the curve must be flat: most of the fall happens in the jumps.
    if in_jumps < 0.6 * total:
        return None
    steps = [_fmt_x(x[e[int(np.nanargmax(shift[e]))] + 1]) for e in events]
    return Diagnosis("loss_plateau", steps[0], {"drops": len(events), "at": steps[:20],
                                                "share_of_fall_in_drops": min(in_jumps / total, 1.0)})


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
    if rise <= max(3 * sigma, 0.05 * max(fall_before, 0.0), 0.01 * abs(v_min)):
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
    if train_end >= train_at_turn - max(2 * noise_scale(ty), 1e-12):
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
    first = float(finite[0])
    # Only a start far above ln(K) is a sure sign: most loggers write the first value
    # after some training (Keras logs epoch 0 at its end), so a low first value is normal.
    if first > 1.5 * expected + 0.1:
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

    exploding = _exploding(tx, ty)
    if exploding is None and vy.size and not np.isfinite(vy).all():
        # A rising val loss is overfitting, not a blow-up; only NaN/inf in val counts here.
        exploding = _exploding(vx, vy)
    if exploding is not None:
        found.append(exploding)
    initial = _initial(tx, ty, n_classes)
    if initial is not None:
        found.append(initial)

    finite = np.isfinite(ty)
    fx, fy = tx[finite], ty[finite]
    # A blow-up disrupts the shape of the train curve, but not what val loss says.
    over = _overfitting(tx, ty, vx, vy) if vy.size else None
    if exploding is not None and over is not None:
        found.append(over)
    if exploding is None:
        osc = _oscillating(fx, fy)
        if osc is not None:
            found.append(osc)
        else:
            plateau = _plateaus(fx, fy)
            if plateau is not None:
                found.append(plateau)
            if over is not None:
                found.append(over)
            elif plateau is None:  # a last step would read as "still falling"
                curve_x, curve_y = (vx[np.isfinite(vy)], vy[np.isfinite(vy)]) if vy.size >= 8 else (fx, fy)
                still = _still_decreasing(curve_x, curve_y)
                if still is not None:
                    still.evidence["curve"] = "val" if curve_y is not fy else "train"
                    found.append(still)

    if not found and fy.size >= 4:
        sm = smooth(fy, 3 if fy.size < 30 else None)
        fall = float(np.max(sm[: max(2, fy.size // 10)]) - np.median(fy[-max(2, fy.size // 4):]))
        if fall <= max(3 * noise_scale(fy), 0.02 * abs(float(np.median(fy)))):
            found.append(Diagnosis("loss_not_decreasing", None, {
                "first": float(fy[0]), "last": float(fy[-1]), "noise": noise_scale(fy),
            }))
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
        summary = f"Only {fy.size} train-loss values: too few to judge the curve."
    else:
        names = {"loss_not_decreasing": "a loss that does not fall", "loss_exploding": "an exploding loss", "loss_oscillating": "an oscillating loss",
                 "loss_initial": "a wrong initial loss", "loss_still_decreasing": "a loss still falling at the end",
                 "loss_plateau": "step-like plateaus", "loss_overfitting": "val loss rising while train loss falls"}
        summary = "The training curves show " + ", ".join(names.get(d.kind, d.kind) for d in found) + "."
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
