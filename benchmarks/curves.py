"""Training-curve benchmark: does the history diagnosis name the shape of a loss curve?

Synthetic curves. Every curve is drawn from the written description of its shape (below),
with its own seeded generator, and diagnosed with
``erranalysis.stats.history.diagnose``. Across the curves of every shape the length is
log-uniform from the shape's minimum to 20,000 points, the multiplicative noise
``y * (1 + noise * N(0, 1))`` is uniform on 0-10% (exactly 0 for about one curve in
seven), and the whole curve, train and val, is multiplied by a scale log-uniform on
1e-6..1e3 (not for ``initial``, nor for the ideal curves that start near ln K, since ln K
is absolute). ``n_classes`` is None except where said. A curve is logged per step
(``x_name="step"``) or per epoch as a run of its length would be: under 200 points per
epoch, from 2,000 per step, between the two either way at random; a per-step curve
has its val loss every n/20 to n/200 steps. ``repetitive`` curves are per step by
definition.

    shape             min. length  expected               what is generated
    ideal                 10       no diagnosis at all    exponential or power-law fall to a floor, flat by the end,
                                                          val a little above it (80% of curves); one curve in five
                                                          converges to zero (a geometric fall over 4-6 orders of
                                                          magnitude, val flat at a floor); one in ten starts near
                                                          ln K with n_classes=K
    exploding             12       loss_exploding         a normal fall, then at 30-85% of the run either a rise within
                                                          1-5% of the run to 1.2-10x the starting level that stays high
                                                          (or keeps rising), or NaN / inf from there on
    oscillating           20       loss_oscillating       no trend: (a) log-normal point noise of 20-50% around a level,
                                                          (b) runs of 2-3 points alternating between 0.6-0.9 and 1.5-1.8
                                                          (30-200 points), (c) a sinusoid of period 5-20% of the run
                                                          (at least 8 points) and amplitude 20-50%; (c) needs 40 points
    not_decreasing        10       loss_not_decreasing    flat at ln K for the whole run; in 30% the 2nd point is
                                                          20-50% above the rest
    still_decreasing      10       loss_still_decreasing  exponential with time constant 0.6-2x the run, or a linear
                                                          fall by 30-80%
    step_like             40       loss_plateau           5-9 flat levels (4-8 drops of 15-50%, one point each),
                                                          every level at least 8 points long; no lr column
    repetitive           250       loss_plateau           per-step logs of at least 5 epochs of 50-500 steps; every
                                                          epoch repeats the same pattern (a rise then a fall, or 2-5
                                                          class blocks that each jump up and decay), flat or on a slow
                                                          downward trend; val (half the curves) once per epoch
    overfitting           20       loss_overfitting       train falls to a floor that keeps sinking slowly; val falls,
                                                          bottoms out at 20-60% of the run and rises by 15-100% of its
                                                          fall
    initial               10       loss_initial           an ideal curve starting at 3-10x ln K, n_classes=K (2..100)
    schedule              50       nothing                a fall to a plateau, then 3-5 sudden drops right at the
                                                          milestones of a step learning-rate schedule given as the lr
                                                          curve, flat between drops and after the last (<= 85% of
                                                          the run)
    noisy_ideal          500       nothing                a healthy per-step run (an exponential fall to 5-40% of the
                                                          start, or a fine-tune that falls by only 20-50%) with
                                                          minibatch noise: log-normal or gamma, a coefficient of
                                                          variation of 20-60% that is even, falls or rises to 5-20%
                                                          over the run, or drops to it part-way; val (half the
                                                          curves) smooth, a little above
    unstable              60       loss_oscillating       a falling run with a period of swings by a factor of 1.5-3
                                                          (random sign, every point per epoch, runs of 3-20 steps
                                                          per step: from 2,000 points) starting at 20-60% of the
                                                          run and lasting 10-25% of it, then settling

A curve is right when the expected kind is among the kinds raised; for ``ideal`` and
``schedule`` and ``noisy_ideal`` when nothing at all is raised (any kind there is a false alarm, a
``loss_plateau`` on a schedule curve above all). The output: a confusion matrix (curves
of each shape raising each kind; a curve can count in several columns), the share right
per variant, per length band and per noise band, the false-alarm rates on ideal and
schedule curves, and up to 10 failing curves per shape with the command that reproduces
one.

Real curves. scikit-learn's MLPClassifier (one hidden layer of 64, minibatches of 64)
is trained epoch by epoch with ``partial_fit`` (rows shuffled by a seeded generator each
epoch; the model's own shuffling off) on digits, breast_cancer and wine (features
standardised on the train rows, a stratified 75/25 split), at two seeds, with a good
setting (adam, learning rate 1e-3; 80, 60 and 150 epochs) and a too-high one: SGD with
momentum 0.9 at 1.0 (digits) or 2.0 (breast_cancer, wine). Each epoch logs
``model.loss_`` (the mean minibatch loss of the epoch) as the train loss and
``log_loss(labels=...)`` on the val rows. Digits at the good setting is also run one
minibatch per ``partial_fit`` call and logged per step (60 epochs of 22 steps).

What the too-high setting does, printed while choosing it: the weights grow without
bound from the first epoch on, so the logged loss (which includes the L2 penalty) never
falls: the first epoch is its lowest, and it climbs by 30 to 190 orders of magnitude by
the last epoch, while the val loss jumps between about 1 and 25. At still higher rates
(5 and more) sklearn stops on non-finite weights within a few epochs; such a run is
logged as NaN from then on. Adam at 0.1-3 was not used: on these small data sets it is
erratic for 10-40 epochs and then settles on a flat, often poor, level, or simply
converges, so it does not show one shape.

Every run is written as a Keras CSVLogger file, a Lightning metrics.csv (sparse rows,
an ``lr-Adam``/``lr-SGD`` column) and a Hugging Face trainer_state.json (per-step runs:
the latter two only) in a temporary directory, read back with ``read_history`` and
diagnosed with n_classes. A good run is right when it raises none of loss_exploding,
loss_oscillating, loss_not_decreasing and loss_plateau (other kinds are printed, not
scored); a too-high run when it raises loss_oscillating or loss_exploding. The layouts
of one run should agree: where they do not, a reader is at fault.

    python benchmarks/curves.py                      # 60 curves per shape + real runs, about 40 s on 2 cores
    python benchmarks/curves.py --curves 200 --no-real --markdown
    python benchmarks/curves.py --only step_like --seed 7    # one curve: its diagnoses and values
    python benchmarks/curves.py --only real --json real.json

The exit code is always 0: this is a measurement, not a gate.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import collections  # noqa: E402
import csv  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import erranalysis  # noqa: E402
from erranalysis.io.history import History, read_history  # noqa: E402
from erranalysis.stats import history as history_stats  # noqa: E402
from erranalysis.stats.history import diagnose  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tables import pct, table  # noqa: E402

KINDS = ("loss_exploding", "loss_oscillating", "loss_not_decreasing", "loss_still_decreasing", "loss_plateau",
         "loss_overfitting", "loss_initial")
SHORT = {"loss_exploding": "exploding", "loss_oscillating": "oscillating", "loss_not_decreasing": "not_decr",
         "loss_still_decreasing": "still_decr", "loss_plateau": "plateau", "loss_overfitting": "overfitting",
         "loss_initial": "initial"}
MAX_LEN = 20_000
ZERO_NOISE_SHARE = 0.15


# ----------------------------------------------------------------------- drawing helpers

def loglen(rng, lo: int, hi: int = MAX_LEN) -> int:
    """A length log-uniform on [lo, hi]."""
    return int(min(hi, max(lo, math.floor(math.exp(rng.uniform(math.log(lo), math.log(hi + 1)))))))


def fall(t: np.ndarray, tau: float) -> np.ndarray:
    """exp(-t / tau): 1 at the start, towards 0."""
    return np.exp(-t / max(tau, 1e-9))


def follow(rng, clean: np.ndarray) -> np.ndarray:
    """A val curve a little above a train curve of the same shape."""
    return clean * rng.uniform(1.05, 1.3)


# ----------------------------------------------------------------------- the shapes
# Each draws its own variant and length and returns the curve before noise and scale:
# train (at x = 1..n), val (None, or on the same x, or on val_x), lr (None or on x).

def ideal(rng) -> dict:
    u = rng.random()
    variant = "exp" if u < 0.4 else "power" if u < 0.7 else "to_zero" if u < 0.9 else "near_lnK"
    n = loglen(rng, 10)
    t = np.arange(n, dtype=float)
    out = {"variant": variant, "n": n}
    if variant == "to_zero":
        decades = rng.uniform(4, 6)
        y = 10.0 ** (-decades * t / (n - 1))
        floor = rng.uniform(0.05, 0.3)
        val = floor + (1 - floor) * fall(t, rng.uniform(0.03, 0.1) * n)
        out.update(train=y, val=val, params={"decades": round(decades, 2), "val_floor": round(floor, 3)})
        return out
    start, floor = 1.0, rng.uniform(0.02, 0.5)
    if variant == "near_lnK":
        k = int(rng.integers(2, 101))
        start = math.log(k) * rng.uniform(0.85, 1.1)
        floor *= start
        out.update(n_classes=k, absolute=True)
    if variant == "power":
        p, t0 = rng.uniform(1, 2.5), max(0.5, rng.uniform(0.003, 0.02) * n)
        shape = lambda s: (1 + t / (t0 * s)) ** (-p)  # noqa: E731
        out["params"] = {"power": round(p, 2), "t0": round(t0, 1)}
    else:
        tau = rng.uniform(0.03, 0.15) * n
        shape = lambda s: fall(t, tau * s)  # noqa: E731
        out["params"] = {"tau_share": round(tau / n, 3)}
    out["train"] = floor + (start - floor) * shape(1.0)
    if rng.random() < 0.8:
        vfloor = floor * rng.uniform(1.05, 1.4)
        out["val"] = vfloor + (start * rng.uniform(0.9, 1.1) - vfloor) * shape(rng.uniform(0.8, 1.25))
    return out


def exploding(rng) -> dict:
    variant = "rise" if rng.random() < 0.5 else str(rng.choice(["nan", "inf", "huge_then_nan"]))
    n = loglen(rng, 12)
    t = np.arange(n, dtype=float)
    at = int(np.clip(round(rng.uniform(0.3, 0.85) * n), 5, n - 4))
    floor = rng.uniform(0.02, 0.5)
    y = floor + (1 - floor) * fall(t, rng.uniform(0.05, 0.2) * at)
    params = {"at": at}
    if variant == "rise":
        r = max(1, round(rng.uniform(0.01, 0.05) * n))
        high, growth = rng.uniform(1.2, 10), rng.uniform(0, 2)
        base = y[at]
        ramp = np.arange(1, r + 1) / r
        y[at:at + r] = base * (high / base) ** ramp[: n - at]
        after = t[at + r:] - (at + r)
        y[at + r:] = high * (1 + growth * after / n)
        params.update(rise_points=r, high=round(high, 2), growth=round(growth, 2))
    elif variant == "nan":
        y[at:] = np.nan
    elif variant == "inf":
        y[at:] = np.inf
    else:
        k = int(rng.integers(1, 4))
        y[at:at + k] = y[at] * 100.0 ** np.arange(1, k + 1)[: n - at]
        y[at + k:] = np.nan
        params["huge_points"] = k
    out = {"variant": variant, "n": n, "train": y, "params": params}
    if rng.random() < 0.5:
        out["val"] = follow(rng, y)
    return out


def oscillating(rng) -> dict:
    variant = str(rng.choice(["noise", "two_levels", "sine"]))
    out = {"variant": variant}
    if variant == "noise":
        n = loglen(rng, 20)
        s = rng.uniform(0.2, 0.5)
        make = lambda: np.exp(s * rng.normal(size=n) - s * s / 2)  # noqa: E731
        out["params"] = {"swing": round(s, 3)}
        out["train"] = make()
        if rng.random() < 0.5:
            out["val"] = make() * rng.uniform(1.05, 1.3)
    elif variant == "two_levels":
        n = int(rng.integers(30, 201))
        runs, high = np.empty(0, dtype=bool), False
        while runs.size < n:
            runs = np.append(runs, np.full(int(rng.integers(2, 4)), high))
            high = not high
        runs = runs[:n]
        make = lambda: np.where(runs, rng.uniform(1.5, 1.8, n), rng.uniform(0.6, 0.9, n))  # noqa: E731
        out["train"] = make()
        if rng.random() < 0.5:
            out["val"] = make() * rng.uniform(1.05, 1.2)
    else:
        n = loglen(rng, 40)
        t = np.arange(n, dtype=float)
        period = rng.uniform(max(0.05, 8 / n), 0.2) * n
        amp, phase = rng.uniform(0.2, 0.5), rng.uniform(0, 2 * math.pi)
        y = 1 + amp * np.sin(2 * math.pi * t / period + phase)
        out["params"] = {"period": round(period, 1), "amplitude": round(amp, 3)}
        out["train"] = y
        if rng.random() < 0.5:
            out["val"] = follow(rng, y)
    out["n"] = n
    return out


def not_decreasing(rng) -> dict:
    variant = "early_high" if rng.random() < 0.3 else "flat"
    n = loglen(rng, 10)
    k = int(rng.integers(2, 101))
    y = np.full(n, math.log(k))
    if variant == "early_high":
        y[1] *= rng.uniform(1.2, 1.5)
    out = {"variant": variant, "n": n, "train": y, "params": {"level": f"ln {k}"}}
    if rng.random() < 0.5:
        out["val"] = np.full(n, math.log(k) * rng.uniform(1.0, 1.1))
    return out


def still_decreasing(rng) -> dict:
    variant = "exp" if rng.random() < 0.6 else "linear"
    n = loglen(rng, 10)
    t = np.arange(n, dtype=float)
    if variant == "exp":
        tau, floor = rng.uniform(0.6, 2.0), rng.uniform(0, 0.3)
        y = floor + (1 - floor) * fall(t, tau * (n - 1))
        params = {"tau_share": round(tau, 2)}
    else:
        d = rng.uniform(0.3, 0.8)
        y = 1 - d * t / (n - 1)
        params = {"fall": round(d, 2)}
    out = {"variant": variant, "n": n, "train": y, "params": params}
    if rng.random() < 0.5:
        out["val"] = follow(rng, y)
    return out


def _segments(rng, n: int, parts: int, least: int) -> np.ndarray:
    """Lengths of ``parts`` stretches filling n points, each at least ``least`` long."""
    spare = n - parts * least
    share = rng.dirichlet(np.full(parts, 3.0))
    lengths = least + np.floor(share * spare).astype(int)
    lengths[-1] += n - lengths.sum()
    return lengths


def step_like(rng) -> dict:
    n = loglen(rng, 40)
    drops = int(rng.integers(4, min(8, n // 8 - 1) + 1))
    lengths = _segments(rng, n, drops + 1, 8)
    levels = np.cumprod(np.concatenate([[1.0], rng.uniform(0.5, 0.85, drops)]))
    y = np.repeat(levels, lengths)
    out = {"variant": f"{drops}_drops", "n": n, "train": y,
           "params": {"drops": drops, "at": np.cumsum(lengths)[:-1].tolist()[:8]}}
    if rng.random() < 0.5:
        out["val"] = follow(rng, y)
    return out


def repetitive(rng) -> dict:
    total = loglen(rng, 250)
    period = int(round(math.exp(rng.uniform(math.log(50), math.log(min(500, total // 5))))))
    epochs = max(5, total // period)
    n = epochs * period
    t = np.arange(n, dtype=float)
    pattern = str(rng.choice(["rise_fall", "class_blocks"]))
    u = (t % period) / period  # position within the epoch
    if pattern == "rise_fall":
        peak, amp = rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.8)
        wave = 1 + amp * np.where(u < peak, u / peak, (1 - u) / (1 - peak))
        params = {"period": period, "epochs": epochs, "peak": round(peak, 2), "amplitude": round(amp, 2)}
    else:
        blocks = int(rng.integers(2, 6))
        jumps, decay = rng.uniform(0.3, 1.0, blocks), rng.uniform(0.1, 0.4)
        which = np.minimum((u * blocks).astype(int), blocks - 1)
        within = u * blocks - which
        wave = 1 + jumps[which] * fall(within, decay)
        params = {"period": period, "epochs": epochs, "blocks": blocks}
    trend = rng.random() < 0.5
    if trend:
        floor = rng.uniform(0.3, 0.7)
        base = floor + (1 - floor) * fall(t, rng.uniform(0.3, 1.0) * n)
    else:
        base = np.ones(n)
    out = {"variant": pattern + ("+trend" if trend else ""), "n": n, "train": base * wave, "params": params,
           "x_name": "step"}
    if rng.random() < 0.5:
        ends = np.arange(period - 1, n, period)
        out["val_at"] = ends
        out["val"] = base[ends] * rng.uniform(1.05, 1.2)
    return out


def overfitting(rng) -> dict:
    n = loglen(rng, 20)
    t = np.arange(n, dtype=float)
    floor, sink = rng.uniform(0.05, 0.3), rng.uniform(0.1, 0.4)
    train = floor * (1 - sink * t / n) + (1 - floor) * fall(t, rng.uniform(0.05, 0.2) * n)
    turn = int(np.clip(round(rng.uniform(0.2, 0.6) * n), 2, n - 3))
    v0 = rng.uniform(0.9, 1.1)
    vmin = v0 * rng.uniform(0.2, 0.67)
    rise, q = rng.uniform(0.15, 1.0) * (v0 - vmin), rng.uniform(1, 2)
    tau = turn * rng.uniform(0.2, 0.4)
    edge = math.exp(-turn / tau)
    val = np.where(t <= turn, vmin + (v0 - vmin) * (fall(t, tau) - edge) / (1 - edge),
                   vmin + rise * (np.maximum(t - turn, 0) / (n - 1 - turn)) ** q)
    return {"variant": "overfitting", "n": n, "train": train, "val": val,
            "params": {"turn": turn, "rise_share_of_fall": round(rise / (v0 - vmin), 2)}}


def initial(rng) -> dict:
    n = loglen(rng, 10)
    t = np.arange(n, dtype=float)
    k = int(round(math.exp(rng.uniform(math.log(2), math.log(100)))))
    times = rng.uniform(3, 10)
    start = times * math.log(k)
    floor = math.log(k) * rng.uniform(0.02, 0.5)
    tau = rng.uniform(0.03, 0.15) * n
    out = {"variant": "high_start", "n": n, "train": floor + (start - floor) * fall(t, tau), "n_classes": k,
           "absolute": True, "params": {"classes": k, "start_over_lnK": round(times, 2)}}
    if rng.random() < 0.5:
        vfloor = floor * rng.uniform(1.05, 1.4)
        out["val"] = vfloor + (start - vfloor) * fall(t, tau * rng.uniform(0.8, 1.25))
    return out


def schedule(rng) -> dict:
    n = loglen(rng, 50)
    first, end, least = int(rng.uniform(0.15, 0.3) * n), int(0.85 * n), max(8, n // 20)
    milestones = int(np.clip(rng.integers(3, 6), 3, (end - first) // least))
    lengths = _segments(rng, end - first, milestones, least)
    at = first + np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(n, dtype=float)
    plateau = rng.uniform(0.3, 0.6)
    y = plateau + (1 - plateau) * fall(t, rng.uniform(0.02, 0.04) * n)
    gamma = float(rng.choice([0.1, 0.1, 0.2, 0.5]))
    lr = np.full(n, 10 ** rng.uniform(-3, -1))
    quick = max(0.5, rng.uniform(0.002, 0.01) * n)
    for m in at:
        factor = rng.uniform(0.4, 0.8)
        level = y[m - 1]
        # from the milestone on, the level falls quickly to factor x its value before
        y[m:] = y[m:] - level * (1 - factor) * (1 - fall(t[m:] - m + 1, quick))
        lr[m:] *= gamma
    out = {"variant": f"{at.size}_milestones", "n": n, "train": y, "lr": lr,
           "params": {"milestones": at.tolist(), "gamma": gamma}}
    if rng.random() < 0.5:
        out["val"] = follow(rng, y)
    return out


def _minibatch_noise(rng, n: int, level: np.ndarray) -> np.ndarray:
    """Multiplicative noise of mean 1 and coefficient of variation ``level`` (per point):
    log-normal or gamma (a minibatch's mean loss is skewed to the right)."""
    if rng.random() < 0.5:
        s = np.sqrt(np.log1p(level ** 2))
        return np.exp(s * rng.normal(size=n) - s * s / 2)
    shape = 1 / level ** 2
    return rng.gamma(shape, 1 / shape)


def noisy_ideal(rng) -> dict:
    """A healthy per-step run with heavy minibatch noise (20-60%), even or uneven."""
    n = loglen(rng, 500)
    t = np.arange(n, dtype=float)
    variant = str(rng.choice(["exp", "fine_tune"]))
    if variant == "exp":
        start, floor = 1.0, rng.uniform(0.05, 0.4)
    else:  # a fine-tune: the loss falls only by 20-50%
        start, floor = 1.0, rng.uniform(0.5, 0.8)
    clean = floor + (start - floor) * fall(t, rng.uniform(0.05, 0.15) * n)
    noise = str(rng.choice(["even", "falling", "rising", "two_levels"]))
    hi, lo = rng.uniform(0.2, 0.6), rng.uniform(0.05, 0.2)
    level = {"even": np.full(n, hi), "falling": np.linspace(hi, lo, n), "rising": np.linspace(lo, hi, n),
             "two_levels": np.where(t < rng.uniform(0.3, 0.7) * n, hi, lo)}[noise]
    out = {"variant": f"{variant}+{noise}_noise", "n": n, "x_name": "step",
           "train": clean * _minibatch_noise(rng, n, level),
           "params": {"cv": round(hi, 2), "cv_low": round(lo, 2) if noise != "even" else None}}
    if rng.random() < 0.5:
        out["val"] = clean * rng.uniform(1.05, 1.3)  # a val loss over many rows is smooth
    return out


def unstable(rng) -> dict:
    """A falling run with a period of large swings (a factor of 1.5-3 between neighbouring
    points) over 10-25% of the run, after which it settles and converges."""
    n = loglen(rng, 60)
    t = np.arange(n, dtype=float)
    floor = rng.uniform(0.05, 0.4)
    y = floor + (1 - floor) * fall(t, rng.uniform(0.05, 0.15) * n)
    a = int(rng.uniform(0.2, 0.6) * n)
    b = a + max(6, int(rng.uniform(0.1, 0.25) * n))
    swing = rng.uniform(math.log(1.5), math.log(3))
    # Per epoch every point swings on its own; per step a swing lasts 3-20 steps (a
    # spike of single steps is minibatch noise).
    per_step = n >= 2000
    run = int(rng.integers(3, 21)) if per_step else 1
    signs = np.repeat(np.where(rng.random((b - a) // run + 1) < 0.5, 1.0, -1.0), run)[: b - a]
    y[a:b] *= np.exp(signs * swing * rng.uniform(0.6, 1.0, b - a))
    out = {"variant": "settles", "n": n, "train": y, "x_name": "step" if per_step else "epoch",
           "params": {"from": a, "to": b, "swing": round(math.exp(swing), 2), "run": run}}
    if rng.random() < 0.5:
        out["val"] = follow(rng, floor + (1 - floor) * fall(t, rng.uniform(0.05, 0.15) * n))
    return out


SHAPES = {
    # name: (generator, expected kind; None = nothing at all may be raised, minimum length)
    "ideal": (ideal, None, 10),
    "exploding": (exploding, "loss_exploding", 12),
    "oscillating": (oscillating, "loss_oscillating", 20),
    "not_decreasing": (not_decreasing, "loss_not_decreasing", 10),
    "still_decreasing": (still_decreasing, "loss_still_decreasing", 10),
    "step_like": (step_like, "loss_plateau", 40),
    "repetitive": (repetitive, "loss_plateau", 250),
    "overfitting": (overfitting, "loss_overfitting", 20),
    "initial": (initial, "loss_initial", 10),
    "schedule": (schedule, None, 50),
    "noisy_ideal": (noisy_ideal, None, 500),
    "unstable": (unstable, "loss_oscillating", 60),
}


def make_curve(shape: str, seed: int) -> dict:
    """One curve of ``shape``: the generator's draws, then noise and scale. The seed and
    the shape's name fix every draw."""
    rng = np.random.default_rng([zlib.crc32(shape.encode()), seed])
    noise = 0.0 if rng.random() < ZERO_NOISE_SHARE else float(rng.uniform(0, 0.10))
    scale = float(10 ** rng.uniform(-6, 3))
    c = SHAPES[shape][0](rng)
    if c.get("absolute"):
        scale = 1.0
    n = c["train"].size
    x = np.arange(1, n + 1, dtype=float)

    def noisy(y):
        y = np.asarray(y, dtype=float).copy()
        ok = np.isfinite(y)
        y[ok] *= 1 + noise * rng.normal(size=int(ok.sum()))
        return y * scale

    train = noisy(c["train"])
    if c.get("val") is not None:
        val = noisy(c["val"])
        val_x = x[c["val_at"]] if "val_at" in c else x.copy()
    else:
        val, val_x = np.empty(0), np.empty(0)
    lr_x, lr = (x.copy(), np.asarray(c["lr"], float)) if c.get("lr") is not None else (np.empty(0), np.empty(0))
    # How the run was logged: short runs per epoch, long ones per step (val then every
    # n/20 to n/200 steps), between the two either way.
    x_name = c.get("x_name") or ("step" if n >= 2000 or (n >= 200 and rng.random() < 0.5) else "epoch")
    if x_name == "step" and "val_at" not in c and val.size:
        every = max(1, n // int(rng.integers(20, 201)))
        keep = np.arange(every - 1, n, every)
        val, val_x = val[keep], val_x[keep]
    return {"shape": shape, "variant": c["variant"], "seed": seed, "n": n, "noise": noise, "scale": scale,
            "n_classes": c.get("n_classes"), "params": c.get("params", {}), "x_name": x_name,
            "train_x": x, "train": train, "val_x": val_x, "val": val, "lr_x": lr_x, "lr": lr}


def history_of(c: dict) -> History:
    # Releases whose History has no learning-rate fields are measured without them (to
    # compare with an earlier release).
    lr = {"lr_x": c["lr_x"], "lr": c["lr"]} if "lr" in {f.name for f in dataclasses.fields(History)} else {}
    return History(source="gen", format="table", x_name=c["x_name"], train_x=c["train_x"], train=c["train"],
                   val_x=c["val_x"], val=c["val"], columns={}, **lr)


def score(shape: str, kinds: list[str]) -> bool:
    expected = SHAPES[shape][1]
    return not kinds if expected is None else expected in kinds


#: With --margins, the staircase margin of every staircase fit that passed all its other
#: checks, whether or not it reached the threshold (one list per curve being diagnosed).
_MARGINS: list[float] = []


def _staircase_recording_margins(u, jumps=None):
    """history._staircase, recording the margin of fits that pass every other check."""
    threshold = history_stats.STAIRCASE_MARGIN
    history_stats.STAIRCASE_MARGIN = -math.inf
    try:
        found = _REAL_STAIRCASE(u, jumps)
    finally:
        history_stats.STAIRCASE_MARGIN = threshold
    if found is None:
        return None
    _MARGINS.append(found["staircase_margin"])
    return found if found["staircase_margin"] >= threshold else None


_REAL_STAIRCASE = history_stats._staircase


def run_curve(shape: str, seed: int) -> tuple[dict, object]:
    c = make_curve(shape, seed)
    row = {k: c[k] for k in ("shape", "variant", "seed", "n", "noise", "scale", "n_classes", "x_name", "params")}
    row["val"] = int(c["val"].size)
    t0 = time.perf_counter()
    _MARGINS.clear()
    try:
        a = diagnose(history_of(c), c["n_classes"])
        row["kinds"] = [d.kind for d in a.diagnoses]
        row["right"] = score(shape, row["kinds"])
    except Exception as e:  # a crash is a result too
        a = None
        row.update(kinds=["error"], right=False, error=f"{type(e).__name__}: {e}")
    row["seconds"] = round(time.perf_counter() - t0, 4)
    if history_stats._staircase is _staircase_recording_margins:
        row["staircase_margin"] = max(_MARGINS) / history_stats.STAIRCASE_MARGIN if _MARGINS else None
    return row, (c, a)


def margin_summary(rows: list[dict], markdown: bool) -> None:
    """Per shape: the staircase margin (as a share of the threshold) of the curves whose
    staircase passed every other check."""
    out = []
    for shape in dict.fromkeys(r["shape"] for r in rows):
        margins = sorted(r["staircase_margin"] for r in rows if r["shape"] == shape
                         and r.get("staircase_margin") is not None)
        seeds = [r["seed"] for r in rows if r["shape"] == shape]
        out.append([shape, f"{min(seeds)}-{max(seeds)}", len(margins),
                    f"{margins[0]:.2f}" if margins else "-", f"{margins[-1]:.2f}" if margins else "-",
                    sum(m < 1 for m in margins), sum(m >= 1 for m in margins)])
    table("Staircase margin / threshold, where the staircase passed every other check "
          "(>= 1 reads as steps)", ["shape", "seeds", "curves", "lowest", "highest", "below 1", "at or above 1"],
          out, markdown)


# ----------------------------------------------------------------------- tables

def short(kinds) -> str:
    return ", ".join(SHORT.get(k, k) for k in kinds) or "none"


def synthetic_summary(rows: list[dict], markdown: bool) -> None:
    by_shape = collections.defaultdict(list)
    for r in rows:
        by_shape[r["shape"]].append(r)
    extra = sorted({k for r in rows for k in r["kinds"] if k not in KINDS})
    columns = list(KINDS) + extra
    out = []
    for shape, rs in by_shape.items():
        counts = collections.Counter(k for r in rs for k in set(r["kinds"]))
        out.append([shape] + [counts.get(k, 0) for k in columns] + [sum(not r["kinds"] for r in rs),
                                                                     pct(sum(r["right"] for r in rs), len(rs))])
    n_right = sum(r["right"] for r in rows)
    out.append(["all"] + [""] * (len(columns) + 1) + [pct(n_right, len(rows))])
    expect = "; ".join(f"{s}: {SHORT.get(e, e) if e else 'none'}" for s, (_, e, _) in SHAPES.items()
                       if s in by_shape)
    table(f"Confusion matrix: curves of each shape raising each kind (expected: {expect})",
          ["shape"] + [SHORT.get(k, k) for k in columns] + ["none", "right"], out, markdown)

    variants = collections.defaultdict(list)
    for r in rows:
        variants[(r["shape"], r["variant"])].append(r)
    out = []
    for (shape, variant), rs in variants.items():
        wrong = collections.Counter(short(r["kinds"]) for r in rs if not r["right"])
        out.append([shape, variant, pct(sum(r["right"] for r in rs), len(rs)),
                    "; ".join(f"{k} x{n}" for k, n in wrong.most_common(3)) or "-"])
    table("Right per variant", ["shape", "variant", "right", "raised instead (most common)"], out, markdown)

    bands = [("10-99", 10, 100), ("100-999", 100, 1000), ("1000-20000", 1000, MAX_LEN + 1)]
    noises = [("0", -1, 0), ("<=2%", 0, 0.02), ("2-5%", 0.02, 0.05), ("5-10%", 0.05, 0.11)]
    scales = [("<1e-3", 0, 1e-3), ("1e-3..1", 1e-3, 1), (">=1", 1, 1e4)]
    units = ("epoch", "step")
    out = []
    for shape, rs in by_shape.items():
        cells = [shape]
        for _, lo, hi in bands:
            sub = [r["right"] for r in rs if lo <= r["n"] < hi]
            cells.append(f"{sum(sub)}/{len(sub)}" if sub else "-")
        for _, lo, hi in noises:
            sub = [r["right"] for r in rs if (r["noise"] == 0 if lo < 0 else lo < r["noise"] <= hi)]
            cells.append(f"{sum(sub)}/{len(sub)}" if sub else "-")
        for _, lo, hi in scales:
            sub = [r["right"] for r in rs if lo <= r["scale"] < hi]
            cells.append(f"{sum(sub)}/{len(sub)}" if sub else "-")
        for unit in units:
            sub = [r["right"] for r in rs if r["x_name"] == unit]
            cells.append(f"{sum(sub)}/{len(sub)}" if sub else "-")
        out.append(cells)
    table("Right per length (points), noise, scale and logging unit",
          ["shape"] + [f"n {b}" for b, _, _ in bands] + [f"noise {b}" for b, _, _ in noises]
          + [f"scale {b}" for b, _, _ in scales] + [f"per {u}" for u in units], out, markdown)

    lines = []
    for shape, label, forbidden in (("ideal", "any diagnosis", None), ("noisy_ideal", "any diagnosis", None),
                                    ("schedule", "loss_plateau", "loss_plateau"),
                                    ("schedule", "any diagnosis", None)):
        rs = by_shape.get(shape, [])
        if not rs:
            continue
        hit = [r for r in rs if (forbidden in r["kinds"] if forbidden else r["kinds"])]
        kinds = collections.Counter(k for r in hit for k in r["kinds"])
        lines.append([f"{shape} curves raising {label}", pct(len(hit), len(rs)),
                      ", ".join(f"{SHORT.get(k, k)} x{n}" for k, n in kinds.most_common()) or "-"])
    if lines:
        table("False alarms", ["", "rate", "kinds"], lines, markdown)


def print_failures(rows: list[dict], per_shape: int = 10) -> None:
    by_shape = collections.defaultdict(list)
    for r in rows:
        if not r["right"]:
            by_shape[r["shape"]].append(r)
    if not by_shape:
        return
    print("\nFailing curves (at most %d per shape; reproduce one with --only SHAPE --seed N)" % per_shape)
    for shape, rs in by_shape.items():
        print(f"  {shape}: {len(rs)} wrong")
        for r in rs[:per_shape]:
            print(f"    seed {r['seed']:<4d} {r['variant']:<20s} n={r['n']:<6d} per {r['x_name']:<5s} "
                  f"noise={r['noise']:.1%}  "
                  f"scale={r['scale']:.2g}  val={'yes' if r['val'] else 'no'}  raised: {short(r['kinds'])}"
                  + (f"  ({r['error']})" if r.get("error") else ""))


def _show(values: np.ndarray, k: int = 6) -> str:
    fmt = lambda v: f"{v:.4g}"  # noqa: E731
    if values.size <= 2 * k:
        return " ".join(map(fmt, values))
    return " ".join(map(fmt, values[:k])) + " ... " + " ".join(map(fmt, values[-k:]))


def print_one(row: dict, c: dict, a) -> None:
    expected = SHAPES[row["shape"]][1]
    print(f"{row['shape']} seed {row['seed']}: variant {row['variant']}, {row['n']} points per {row['x_name']}, "
          f"noise {row['noise']:.2%}, "
          f"scale {row['scale']:.3g}, n_classes {row['n_classes']}, params {row['params']}")
    print(f"  expected: {expected or 'no diagnosis'}; raised: {short(row['kinds'])}; "
          f"{'right' if row['right'] else 'WRONG'}")
    print(f"  train x: {_show(c['train_x'])}\n  train:   {_show(c['train'])}")
    if c["val"].size:
        print(f"  val x:   {_show(c['val_x'])}\n  val:     {_show(c['val'])}")
    if c["lr"].size:
        print(f"  lr:      {_show(c['lr'])}")
    if a is not None:
        for d in a.diagnoses:
            print(f"  {d.kind} at {d.at}: {json.dumps(d.evidence, default=str)}")
        print(f"  summary: {a.summary}")
    else:
        print(f"  error: {row.get('error')}")


# ----------------------------------------------------------------------- real runs

REAL_SETS = {
    # name: (loader, epochs, too-high setting)
    "digits": ("load_digits", 80, ("sgd", 1.0)),
    "breast_cancer": ("load_breast_cancer", 60, ("sgd", 2.0)),
    "wine": ("load_wine", 150, ("sgd", 2.0)),
}
GOOD = ("adam", 1e-3)
BATCH = 64
MUST_NOT_GOOD = ("loss_exploding", "loss_oscillating", "loss_not_decreasing", "loss_plateau")
MUST_HIGH = ("loss_oscillating", "loss_exploding")


def train_run(name: str, solver: str, lr: float, seed: int, epochs: int, per_step: bool) -> dict:
    """Train an MLP epoch by epoch and log the losses (NaN once the weights overflow)."""
    import sklearn.datasets
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(sklearn.datasets, REAL_SETS[name][0])(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xva = scaler.transform(Xtr), scaler.transform(Xva)
    classes = np.unique(y)
    model = MLPClassifier(hidden_layer_sizes=(64,), solver=solver, learning_rate_init=lr, batch_size=BATCH,
                          momentum=0.9, shuffle=False, random_state=seed)
    rng = np.random.default_rng(seed)
    steps_per_epoch = math.ceil(len(ytr) / BATCH)
    train, val, step_loss = [], [], []
    broken = False
    for _ in range(epochs):
        if broken:
            train.append(math.nan)
            val.append(math.nan)
            step_loss.extend([math.nan] * steps_per_epoch)
            continue
        order = rng.permutation(len(ytr))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow in the too-high runs
            warnings.simplefilter("ignore", UserWarning)  # the last minibatch of an epoch is short
            try:
                if per_step:
                    sizes = []
                    for b in range(steps_per_epoch):
                        idx = order[b * BATCH:(b + 1) * BATCH]
                        model.partial_fit(Xtr[idx], ytr[idx], classes=classes)
                        step_loss.append(float(model.loss_))
                        sizes.append(idx.size)
                    train.append(float(np.average(step_loss[-steps_per_epoch:], weights=sizes)))
                else:
                    model.partial_fit(Xtr[order], ytr[order], classes=classes)
                    train.append(float(model.loss_))
                proba = model.predict_proba(Xva)
            except ValueError:  # sklearn refuses non-finite weights: the run has blown up
                broken = True
                last = float(getattr(model, "loss_", math.nan))
                if per_step:  # the step that blew up, then NaN to the end of the epoch
                    step_loss.append(last)
                    step_loss.extend([math.nan] * (-len(step_loss) % steps_per_epoch))
                train.append(last)
                val.append(math.nan)
                continue
        val.append(float(log_loss(yva, proba, labels=classes)) if np.isfinite(proba).all() else math.nan)
    return {"train": np.array(train), "val": np.array(val), "step_loss": np.array(step_loss),
            "steps_per_epoch": steps_per_epoch, "classes": int(classes.size), "lr": lr, "solver": solver}


def _num(v) -> str:
    return repr(float(v))  # nan, inf and 1e+200 as a training library writes them


def write_layouts(run: dict, folder: Path, per_step: bool) -> dict[str, Path]:
    """The run as a Keras CSVLogger file, a Lightning metrics.csv and a trainer_state.json."""
    folder.mkdir(parents=True, exist_ok=True)
    spe, train, val, lr = run["steps_per_epoch"], run["train"], run["val"], run["lr"]
    lr_col = "lr-Adam" if run["solver"] == "adam" else "lr-SGD"
    paths = {}
    if not per_step:
        paths["keras"] = folder / "training.log"
        with paths["keras"].open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["epoch", "loss", "val_loss", "lr"])
            for e in range(train.size):
                w.writerow([e, _num(train[e]), _num(val[e]), _num(lr)])
    paths["lightning"] = folder / "metrics.csv"
    train_col = "train_loss_step" if per_step else "train_loss_epoch"
    cols = ["epoch", "step", lr_col, train_col, "val_loss"]
    with paths["lightning"].open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, restval="")
        w.writeheader()
        for e in range(train.size):
            if per_step:
                for s in range(spe):
                    step = e * spe + s
                    w.writerow({"epoch": e, "step": step, lr_col: _num(lr), train_col: _num(run["step_loss"][step])})
            else:
                w.writerow({"epoch": e, "step": (e + 1) * spe - 1, lr_col: _num(lr)})
                w.writerow({"epoch": e, "step": (e + 1) * spe - 1, train_col: _num(train[e])})
            w.writerow({"epoch": e, "step": (e + 1) * spe - 1, "val_loss": _num(val[e])})
    logs = []
    for e in range(train.size):
        if per_step:
            for s in range(spe):
                step = e * spe + s + 1
                logs.append({"epoch": round(step / spe, 4), "learning_rate": lr,
                             "loss": float(run["step_loss"][step - 1]), "step": step})
        else:
            logs.append({"epoch": float(e + 1), "learning_rate": lr, "loss": float(train[e]), "step": (e + 1) * spe})
        logs.append({"epoch": float(e + 1), "eval_loss": float(val[e]), "eval_runtime": 0.01, "step": (e + 1) * spe})
    paths["huggingface"] = folder / "trainer_state.json"
    paths["huggingface"].write_text(json.dumps({"log_history": logs, "global_step": train.size * spe}, indent=1))
    return paths


def _trace(y: np.ndarray) -> str:
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return "all NaN"
    bad = y.size - finite.size
    return (f"{y[0]:.3g}>{finite.min():.3g}>{y[-1]:.3g}" + (f" ({bad} NaN/inf)" if bad else ""))


def real_runs(seeds: int, markdown: bool, workdir: Path) -> list[dict]:
    plan = []
    for name, (_, epochs, high) in REAL_SETS.items():
        for seed in range(seeds):
            plan.append((name, "good", GOOD, seed, epochs, False))
            plan.append((name, "too high", high, seed, epochs, False))
    for seed in range(seeds):
        plan.append(("digits", "good", GOOD, seed, 60, True))
    rows = []
    for name, label, (solver, lr), seed, epochs, per_step in plan:
        t0 = time.perf_counter()
        try:
            run = train_run(name, solver, lr, seed, epochs, per_step)
            tag = f"{name}-{solver}{lr:g}-s{seed}{'-step' if per_step else ''}"
            paths = write_layouts(run, workdir / tag, per_step)
            kinds, errors = {}, {}
            for layout, path in paths.items():
                try:
                    kinds[layout] = [d.kind for d in diagnose(read_history(path), run["classes"]).diagnoses]
                except Exception as e:
                    kinds[layout], errors[layout] = ["error"], f"{type(e).__name__}: {e}"
        except Exception as e:  # a failed run must not stop the measurement
            print(f"  !  {name} {label} seed {seed}: {type(e).__name__}: {e}")
            continue
        if label == "good":
            right = {k: not any(x in MUST_NOT_GOOD or x == "error" for x in v) for k, v in kinds.items()}
        else:
            right = {k: any(x in MUST_HIGH for x in v) for k, v in kinds.items()}
        rows.append({"dataset": name, "label": label, "solver": solver, "lr": lr, "seed": seed, "epochs": epochs,
                     "logged": "per step" if per_step else "per epoch", "classes": run["classes"],
                     "train": _trace(run["step_loss"] if per_step else run["train"]), "val": _trace(run["val"]),
                     "kinds": kinds, "errors": errors, "right": right,
                     "agree": len({tuple(sorted(v)) for v in kinds.values()}) == 1,
                     "seconds": round(time.perf_counter() - t0, 2)})
    out = []
    for r in rows:
        layouts = [short(r["kinds"][k]) if k in r["kinds"] else "n/a" for k in ("keras", "lightning", "huggingface")]
        out.append([r["dataset"], f"{r['label']} ({r['solver']} {r['lr']:g})", r["seed"],
                    f"{r['epochs']} ep" + (" / step" if r["logged"] == "per step" else ""),
                    r["train"], r["val"], *layouts, "yes" if r["agree"] else "NO",
                    f"{sum(r['right'].values())}/{len(r['right'])}"])
    table("Real runs (MLPClassifier): kinds raised per layout; train/val as first>min>last",
          ["data set", "setting", "seed", "logged", "train loss", "val loss", "keras", "lightning", "huggingface",
           "layouts agree", "right"], out, markdown)
    for r in rows:
        for layout, err in r["errors"].items():
            print(f"  error reading/diagnosing {r['dataset']} {r['label']} seed {r['seed']} ({layout}): {err}")
    lines = []
    for label in ("good", "too high"):
        rs = [r for r in rows if r["label"] == label]
        pairs = [v for r in rs for v in r["right"].values()]
        other = collections.Counter(k for r in rs for v in r["kinds"].values() for k in set(v))
        lines.append([label, pct(sum(all(r["right"].values()) for r in rs), len(rs)), pct(sum(pairs), len(pairs)),
                      ", ".join(f"{SHORT.get(k, k)} x{n}" for k, n in other.most_common()) or "-"])
    lines.append(["layouts agree", pct(sum(r["agree"] for r in rows), len(rows)), "", ""])
    table(f"Real runs: good = none of {', '.join(SHORT[k] for k in MUST_NOT_GOOD)}; "
          f"too high = {' or '.join(SHORT[k] for k in MUST_HIGH)}",
          ["setting", "runs right (every layout)", "run-layouts right", "kinds raised (run-layouts)"], lines, markdown)
    return rows


# ----------------------------------------------------------------------- main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--curves", type=int, default=60, help="synthetic curves per shape (default 60)")
    parser.add_argument("--only", help="one shape (" + ", ".join(SHAPES) + "), or 'real' for the real runs only")
    parser.add_argument("--seed", type=int, help="only the curve with this seed (of each shape run): print its "
                                                 "diagnoses and values")
    parser.add_argument("--no-real", action="store_true", help="skip the real training runs")
    parser.add_argument("--real-seeds", type=int, default=2, help="seeds per real setting (default 2)")
    parser.add_argument("--markdown", action="store_true", help="print the summary tables as Markdown")
    parser.add_argument("--json", help="write one row per curve and per real run to this file")
    parser.add_argument("--margins", action="store_true",
                        help="also show, per shape, the staircase margin of every staircase fit that passed its "
                             "other checks (as a share of the threshold)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds run from this one (default 0)")
    args = parser.parse_args(argv)
    if args.margins:
        history_stats._staircase = _staircase_recording_margins
    if args.only and args.only != "real" and args.only not in SHAPES:
        parser.error(f"--only: unknown shape {args.only!r} (known: {', '.join(SHAPES)}, real)")
    start = time.perf_counter()
    print(f"erranalysis {erranalysis.__version__} from {erranalysis.__file__}")

    shapes = [] if args.only == "real" else [args.only] if args.only else list(SHAPES)
    rows = []
    if args.seed is not None:
        for shape in shapes:
            row, (c, a) = run_curve(shape, args.seed)
            print_one(row, c, a)
            rows.append(row)
    elif shapes:
        print(f"{len(shapes)} shapes x {args.curves} curves; lengths log-uniform from each shape's minimum to "
              f"{MAX_LEN:,}, noise 0-10%, scale 1e-6..1e3")
        print("minimum lengths: " + ", ".join(f"{s} {SHAPES[s][2]}" for s in shapes))
        run_curve("ideal", 0)  # the first call pays for imports: keep it out of the timings
        for shape in shapes:
            for seed in range(args.first_seed, args.first_seed + args.curves):
                rows.append(run_curve(shape, seed)[0])
        synthetic_summary(rows, args.markdown)
        if args.margins:
            margin_summary(rows, args.markdown)
        print_failures(rows)
        slow = sorted(rows, key=lambda r: -r["seconds"])[:1]
        print(f"\n{len(rows)} curves in {sum(r['seconds'] for r in rows):.1f} s of diagnosis "
              f"(slowest: {slow[0]['n']} points, {slow[0]['seconds']:.2f} s)")

    real = []
    if not args.no_real and args.seed is None and (args.only in (None, "real")):
        print(f"\nReal runs: {', '.join(REAL_SETS)} x (good, too high) x {args.real_seeds} seeds, "
              f"plus digits logged per step")
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="erranalysis-curves-") as tmp:
            real = real_runs(args.real_seeds, args.markdown, Path(tmp))
        print(f"{len(real)} real runs in {time.perf_counter() - t0:.0f} s")

    elapsed = time.perf_counter() - start
    print(f"\n{len(rows)} curves and {len(real)} real runs in {elapsed:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"erranalysis": erranalysis.__file__, "curves_per_shape": args.curves,
                                               "seconds": elapsed, "curves": rows, "real": real},
                                              indent=1, default=str))
        print(f"rows written to {args.json}")
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception:  # still exit 0: a measurement, not a gate
        traceback.print_exc()
    sys.exit(0)
