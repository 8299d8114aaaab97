"""Write a synthetic predictions file for the benchmarks.

Multiclass (default): ``label`` (int 0..K-1), ``proba_0 .. proba_{K-1}`` (softmax of
noisy logits where the true class gets a boost, so the model is ~85% accurate on
val/test and a little better on train), ``pred`` (argmax), ``split`` (text:
train/train_val/val/test at 60/10/15/15 %) and three metadata columns: ``source``
(text, 5 values), ``age_days`` (int) and ``length`` (float).

Binary (``--binary``): ``label`` (0/1, 1% positives), ``score`` (P(label = 1)),
``pred`` (score >= 0.5), the same ``split`` and metadata columns.

The file is written in chunks of ``--chunk-rows`` rows (default 1M, one Parquet row
group each), so memory stays bounded whatever the size: about 0.4 GB for 10 classes.
Each chunk draws from its own random stream, derived from ``--seed`` and the chunk's
index (chunk 0 uses the seed itself, so a file of at most one chunk is the same as one
written in a single piece). Vectorised NumPy: the same arguments always give the same file.

    python benchmarks/generate.py                       # benchmarks/data/preds_1m.parquet
    python benchmarks/generate.py --rows 10m            # benchmarks/data/preds_10m.parquet
    python benchmarks/generate.py --rows 50m --binary   # benchmarks/data/binary_50m.parquet
    python benchmarks/generate.py --rows 100000 --classes 3 out.parquet
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
DATA_DIR = Path(__file__).resolve().parent / "data"
#: Rows per chunk: each chunk is generated, written as one row group and dropped.
CHUNK_ROWS = 1_000_000
_SUFFIXES = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "b": 1_000_000_000}


def parse_rows(text: str | int) -> int:
    """A row count: ``1000000``, ``1_000_000``, ``1e6``, ``200k``, ``10m``, ``1.5M``."""
    value = str(text).strip().lower().replace("_", "").replace(",", "")
    scale = 1
    if value and value[-1] in _SUFFIXES:
        value, scale = value[:-1], _SUFFIXES[value[-1]]
    try:
        rows = float(value) * scale
    except ValueError:
        raise ValueError(f"not a row count: {text!r} (e.g. 1000000, 200k, 10m)") from None
    if rows != int(rows) or rows <= 0:
        raise ValueError(f"not a positive whole number of rows: {text!r}")
    return int(rows)


def _rows_arg(text: str) -> int:
    try:
        return parse_rows(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def size_tag(rows: int) -> str:
    """``1m`` for 1,000,000 rows, ``200k`` for 200,000, else the number."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def default_path(rows: int, classes: int = 10, binary: bool = False, float32: bool = False) -> Path:
    """``benchmarks/data/preds_10m.parquet``, ``binary_1m.parquet``, ``preds_1m_k3.parquet`` ..."""
    if binary:
        name = f"binary_{size_tag(rows)}"
    else:
        name = f"preds_{size_tag(rows)}" + ("" if classes == 10 else f"_k{classes}") + ("_f32" if float32 else "")
    return DATA_DIR / f"{name}.parquet"


def chunk_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of chunk ``index``: the seed itself for chunk 0, a child stream after."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,) if index else ()))


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


def multiclass_boost(k: int, accuracy: float, seed: int) -> float:
    """The true-class logit boost, computed once per file from its own stream."""
    return _boost_for_accuracy(k, accuracy, np.random.default_rng(seed + 1))


def multiclass_table(n: int, k: int, accuracy: float, seed: int | np.random.Generator, dtype=np.float64,
                     boost: float | None = None) -> pa.Table:
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if boost is None:
        boost = multiclass_boost(k, accuracy, seed)
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


def binary_table(n: int, positive_rate: float, seed: int | np.random.Generator) -> pa.Table:
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    y = (rng.random(n) < positive_rate).astype(np.int64)
    split, meta = _common_columns(n, rng)
    # Logit of P(positive): negatives around -5, positives around +0.5 (ROC AUC ~0.99).
    logit = rng.normal(-5.0, 1.6, size=n) + 5.5 * y + TRAIN_EXTRA_BOOST * (split == 0) * (2 * y - 1)
    score = 1.0 / (1.0 + np.exp(-logit))
    pred = (score >= 0.5).astype(np.int64)
    columns = {"label": pa.array(y), "score": pa.array(score), "pred": pa.array(pred)}
    columns.update(meta)
    return pa.table(columns)


def generate(out: Path | None = None, rows: int = 1_000_000, classes: int = 10, binary: bool = False,
             accuracy: float = 0.85, positive_rate: float = 0.01, seed: int = 0,
             float32: bool = False, chunk_rows: int = CHUNK_ROWS) -> Path:
    """Write the file chunk by chunk (one row group per chunk) and return its path."""
    out = Path(out) if out is not None else default_path(rows, classes, binary, float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    dtype = np.float32 if float32 else np.float64
    boost = None if binary else multiclass_boost(classes, accuracy, seed)
    tmp = out.with_name(out.name + ".tmp")
    writer = None
    try:
        for index, start in enumerate(range(0, rows, chunk_rows)):
            n = min(chunk_rows, rows - start)
            rng = chunk_rng(seed, index)
            if binary:
                table = binary_table(n, positive_rate, rng)
            else:
                table = multiclass_table(n, classes, accuracy, rng, dtype, boost=boost)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=chunk_rows)
            del table
        writer.close()
        writer = None
        tmp.replace(out)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path,
                        help="output Parquet path (default benchmarks/data/preds_<rows>.parquet, "
                             "or binary_<rows>.parquet with --binary)")
    parser.add_argument("--rows", type=_rows_arg, default=1_000_000,
                        help="number of rows: 1000000, 200k, 10m, 50m ... (default 1m)")
    parser.add_argument("--classes", type=int, default=10, help="number of classes (default 10; ignored with --binary)")
    parser.add_argument("--binary", action="store_true", help="binary problem: 1%% positives, a 'score' column")
    parser.add_argument("--accuracy", type=float, default=0.85, help="target val/test accuracy (default 0.85)")
    parser.add_argument("--positive-rate", type=float, default=0.01, help="--binary: share of positives (default 0.01)")
    parser.add_argument("--float32", action="store_true", help="store probabilities as float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk-rows", type=_rows_arg, default=CHUNK_ROWS,
                        help="rows generated and written at a time, one row group each (default 1m)")
    args = parser.parse_args(argv)
    if not args.binary and args.classes < 2:
        parser.error("--classes must be at least 2")

    start = time.perf_counter()
    out = generate(args.out, args.rows, args.classes, args.binary, args.accuracy, args.positive_rate,
                   args.seed, args.float32, args.chunk_rows)
    meta = pq.read_metadata(out)
    print(f"wrote {out}: {meta.num_rows:,} rows x {meta.num_columns} columns, "
          f"{out.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
