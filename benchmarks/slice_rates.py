"""False alarms, false discovery rate and power of the weak-slice finding.

Null tables: errors independent of the metadata (four columns of pure noise: a
5-value and a 30-value category, a uniform number, an integer age). Planted tables:
the same, with one value of the 5-value column erring at ``--ratio`` times the rest on
every split. Each table has 4,000 rows (train 40%, train_val, val and test 20% each),
three classes and 15% error. Prints the share of null tables that raise any weak slice
(the family-wise false-alarm rate), and over the planted tables the weak-slice
findings that do not name the planted slice among all raised (the false discovery
rate, per table as Benjamini–Hochberg defines it, and pooled over tables) and the
share of tables that find the planted one (power).

    python benchmarks/slice_rates.py --runs 100
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import erranalysis

PLANTED = ("site", "s0")


def table(seed: int, planted: bool, ratio: float, n: int = 4000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = rng.choice([f"s{i}" for i in range(5)], n)
    p_err = np.full(n, 0.15)
    if planted:
        p_err[site == PLANTED[1]] = min(0.15 * ratio, 0.95)
    y = rng.integers(0, 3, n)
    pred = np.where(rng.random(n) < p_err, (y + rng.integers(1, 3, n)) % 3, y)
    return pd.DataFrame({
        "label": y, "pred": pred,
        "split": rng.choice(["train", "train_val", "val", "test"], n, p=[0.4, 0.2, 0.2, 0.2]),
        "site": site, "device": rng.choice([f"d{i:02d}" for i in range(30)], n),
        "load": rng.uniform(0, 1, n), "age": rng.integers(18, 90, n),
    })


def weak(result) -> list[tuple[str, str]]:
    return [(f.evidence["column"], f.evidence["value"]) for f in result.findings if f.kind == "weak_slice"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--ratio", type=float, default=1.8)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"erranalysis from {Path(erranalysis.__file__).parent}", file=sys.stderr)
    start = time.perf_counter()
    null_alarms = sum(bool(weak(erranalysis.analyze(table(s, False, args.ratio), goal=0.15)))
                      for s in range(args.runs))
    found = false = total = 0
    ratios = []
    for s in range(args.runs):
        slices = weak(erranalysis.analyze(table(10_000 + s, True, args.ratio), goal=0.15))
        total += len(slices)
        false += sum(sl != PLANTED for sl in slices)
        found += PLANTED in slices
        ratios.append(sum(sl != PLANTED for sl in slices) / len(slices) if slices else 0.0)
    print(f"null tables raising a weak slice: {null_alarms}/{args.runs}")
    print(f"planted ({args.ratio:g}x error): found in {found}/{args.runs}; "
          f"false discovery rate (mean over tables of false/raised, the quantity Benjamini-Hochberg controls) "
          f"{np.mean(ratios):.1%}; pooled, {false}/{total} ({false / max(total, 1):.1%}) of the weak slices raised "
          "are false")
    print(f"{2 * args.runs} runs in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
