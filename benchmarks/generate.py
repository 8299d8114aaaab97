"""Write a synthetic predictions file for the benchmarks.

Multiclass (default): ``label`` (int 0..K-1), ``proba_0 .. proba_{K-1}`` (softmax of
noisy logits where the true class gets a boost, so the model is ~85% accurate on
val/test and a little better on train), ``pred`` (argmax), ``split`` (text:
train/train_val/val/test at 60/10/15/15 %) and three metadata columns: ``source``
(text, 5 values), ``age_days`` (int) and ``length`` (float).

Binary (``--binary``): ``label`` (0/1, 1% positives), ``score`` (P(label = 1)),
``pred`` (score >= 0.5), the same ``split`` and metadata columns.

Vectorised NumPy, fixed seed: the same arguments always give the same file.

    python benchmarks/generate.py                       # 1M rows x 10 classes
    python benchmarks/generate.py --rows 100000 --classes 3 out.parquet
    python benchmarks/generate.py --binary benchmarks/data/binary_1m.parquet
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SPLITS = ("train", "train_val", "val", "test")
SPLIT_SHARES = (0.60, 0.10, 0.15, 0.15)
SOURCES = ("web", "mobile", "partner", "batch", "manual")
SOURCE_SHARES = (0.40, 0.25, 0.15, 0.15, 0.05)
#: Extra logit boost of the true class on train (mild overfitting: train error < val error).
TRAIN_EXTRA_BOOST = 0.3
DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "preds_1m.parquet"


def _text_column(codes: np.ndarray, values: tuple[str, ...]) -> pa.Array:
    """A plain string column (what pandas writes for object columns), built without Python loops."""
    dictionary = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(list(values)))
    return dictionary.cast(pa.string())


def _boost_for_accuracy(k: int, accuracy: float, rng: np.random.Generator, sample: int = 50_000) -> float:
    """Logit boost of the true class that gives ``accuracy`` with N(0, 1) noise (bisection, common noise)."""
    noise = rng.standard_normal((sample, k))
    true = noise[:, 0]
    best_other = noise[:, 1:].max(axis=1)
    lo, hi = 0.0, 20.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if np.mean(true + mid > best_other) < accuracy:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _common_columns(n: int, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, pa.Array]]:
    split = rng.choice(len(SPLITS), size=n, p=SPLIT_SHARES).astype(np.int8)
    source = rng.choice(len(SOURCES), size=n, p=SOURCE_SHARES)
    meta = {
        "split": _text_column(split, SPLITS),
        "source": _text_column(source, SOURCES),
        "age_days": pa.array(rng.integers(0, 3650, size=n, dtype=np.int64)),
        "length": pa.array(rng.lognormal(mean=5.0, sigma=1.0, size=n)),
    }
    return split, meta


def multiclass_table(n: int, k: int, accuracy: float, seed: int, dtype=np.float64) -> pa.Table:
    rng = np.random.default_rng(seed)
    boost = _boost_for_accuracy(k, accuracy, np.random.default_rng(seed + 1))
    # Mildly imbalanced classes: prior proportional to 1 / (1 + 0.2 k).
    prior = 1.0 / (1.0 + 0.2 * np.arange(k))
    prior /= prior.sum()
    y = rng.choice(k, size=n, p=prior)
    split, meta = _common_columns(n, rng)

    logits = rng.standard_normal((n, k))
    rows = np.arange(n)
    logits[rows, y] += boost + TRAIN_EXTRA_BOOST * (split == 0)
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    proba = logits.astype(dtype, copy=False)
    pred = proba.argmax(axis=1)

    columns: dict[str, pa.Array] = {"label": pa.array(y.astype(np.int64))}
    for j in range(k):
        columns[f"proba_{j}"] = pa.array(np.ascontiguousarray(proba[:, j]))
    columns["pred"] = pa.array(pred.astype(np.int64))
    columns.update(meta)
    return pa.table(columns)


def binary_table(n: int, positive_rate: float, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_rate).astype(np.int64)
    split, meta = _common_columns(n, rng)
    # Logit of P(positive): negatives around -5, positives around +0.5 (ROC AUC ~0.99).
    logit = rng.normal(-5.0, 1.6, size=n) + 5.5 * y + TRAIN_EXTRA_BOOST * (split == 0) * (2 * y - 1)
    score = 1.0 / (1.0 + np.exp(-logit))
    pred = (score >= 0.5).astype(np.int64)
    columns = {"label": pa.array(y), "score": pa.array(score), "pred": pa.array(pred)}
    columns.update(meta)
    return pa.table(columns)


def generate(out: Path, rows: int = 1_000_000, classes: int = 10, binary: bool = False,
             accuracy: float = 0.85, positive_rate: float = 0.01, seed: int = 0,
             float32: bool = False) -> Path:
    """Write the file and return its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if binary:
        table = binary_table(rows, positive_rate, seed)
    else:
        table = multiclass_table(rows, classes, accuracy, seed, np.float32 if float32 else np.float64)
    tmp = out.with_name(out.name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT,
                        help="output Parquet path (default benchmarks/data/preds_1m.parquet)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="number of rows (default 1,000,000)")
    parser.add_argument("--classes", type=int, default=10, help="number of classes (default 10; ignored with --binary)")
    parser.add_argument("--binary", action="store_true", help="binary problem: 1%% positives, a 'score' column")
    parser.add_argument("--accuracy", type=float, default=0.85, help="target val/test accuracy (default 0.85)")
    parser.add_argument("--positive-rate", type=float, default=0.01, help="--binary: share of positives (default 0.01)")
    parser.add_argument("--float32", action="store_true", help="store probabilities as float32")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.rows <= 0 or (not args.binary and args.classes < 2):
        parser.error("--rows must be positive and --classes at least 2")

    start = time.perf_counter()
    out = generate(args.out, args.rows, args.classes, args.binary, args.accuracy, args.positive_rate,
                   args.seed, args.float32)
    meta = pq.read_metadata(out)
    print(f"wrote {out}: {meta.num_rows:,} rows x {meta.num_columns} columns, "
          f"{out.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
