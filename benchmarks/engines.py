"""The core aggregates in NumPy (as erranalysis computes them) against DuckDB SQL and Ibis.

    pip install duckdb 'ibis-framework[duckdb]'      # only for this script
    python benchmarks/engines.py                     # benchmarks/data/preds_10m.parquet, 3 repeats
    python benchmarks/engines.py FILE --repeats 5 --write benchmarks/ENGINES.md

erranalysis computes every aggregate once, in NumPy, on Arrow record batches, and runs
the same code inside Spark through ``mapInArrow``. The alternative is to write the
aggregates once as Ibis expressions (or SQL) and let DuckDB, Spark, BigQuery ... run
them. This script measures that choice on the aggregates both approaches can express,
the ones every report needs, on a generated file (``label``, ``proba_0..K-1``, ``pred``,
text ``split``):

* the confusion matrix and the summed cross-entropy per split;
* for every class k and split, the histogram of P(class k) on 8192 logit bins, apart for
  the rows of class k and the others (what ROC AUC, PR curves and threshold sweeps come
  from).

Methods, each in a fresh process, 2 threads, round-robin, median of ``--repeats``:

* ``numpy``: Parquet read in batches of 2^18 rows, two threads each folding batches
  into their own arrays with the package's arithmetic, the arrays summed at the end;
* ``duckdb``: one ``GROUP BY`` for the confusion matrix and loss, and a ``UNION ALL`` of
  one ``GROUP BY`` per class for the histograms, on ``read_parquet`` (DuckDB streams
  the file itself). The fastest of seven SQL formulations tried (``UNPIVOT``,
  ``unnest`` of a list, a packed key, ``GROUPING SETS``, ``histogram()``);
* ``duckdb-arrow``: the same SQL on an Arrow table already in memory (what a Spark task
  hands to ``mapInArrow``);
* ``ibis``: the same aggregates as Ibis expressions compiled for DuckDB.

Every method's arrays are checked against ``numpy``'s: the confusion matrices and
histograms must be identical, the loss sums equal to 1e-9 relative.

Not covered here, because SQL has no direct form for them: the metadata tables on
fine bins, the bottom-k row sample, the top-loss heap and the distinct-value sketches
that the same NumPy pass also fills.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

SPLITS = ("train", "train_val", "val", "test")
BINS = 8192
LOGIT_RANGE = 40.0
THREADS = 2
BATCH_ROWS = 1 << 18
METHODS = ("numpy", "duckdb", "duckdb-arrow", "ibis")


def _columns(path: str) -> tuple[list[str], int]:
    import pyarrow.parquet as pq

    names = pq.ParquetFile(path).schema_arrow.names
    proba = sorted((c for c in names if c.startswith("proba_")), key=lambda c: int(c[6:]))
    if not proba or not {"label", "pred", "split"} <= set(names):
        raise SystemExit(f"{path}: needs label, pred, split and proba_0..K-1 columns (a file from generate.py)")
    return proba, len(proba)


# ----------------------------------------------------------------------------- methods


def score_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """``erranalysis.stats.aggregates.score_bins``, repeated so this process does not
    import pandas (which the package's modules do): only the arithmetic is timed."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.subtract(1.0, p)
        np.divide(p, x, out=x)
        np.log(x, out=x)
    x += LOGIT_RANGE
    x /= 2.0 * LOGIT_RANGE / n_bins
    np.floor(x, out=x)
    np.clip(x, 0, n_bins - 1, out=x)
    return x.astype(np.int64)


def run_numpy(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    proba_cols, k = _columns(path)
    s_count = len(SPLITS)
    size = s_count * k * 2 * BINS
    split_values = pa.array(SPLITS)
    class_offset = (np.arange(k, dtype=np.int64) * 2 * BINS)[None, :]
    local = threading.local()
    states: list[list[np.ndarray]] = []
    lock = threading.Lock()

    def fold(batch) -> None:
        if not hasattr(local, "state"):
            local.state = [np.zeros(s_count * k * k), np.zeros(size), np.zeros(s_count)]
            with lock:
                states.append(local.state)
        conf, hist, loss = local.state
        n = batch.num_rows
        y = batch.column("label").to_numpy().astype(np.int64)
        pred = batch.column("pred").to_numpy().astype(np.int64)
        split = pc.index_in(batch.column("split"), value_set=split_values).to_numpy().astype(np.int64)
        proba = np.empty((n, k), order="F")
        for j, name in enumerate(proba_cols):
            proba[:, j] = batch.column(name).to_numpy()
        conf += np.bincount((split * k + y) * k + pred, minlength=s_count * k * k)
        for start in range(0, n, 65536):
            stop = min(start + 65536, n)
            idx = score_bins(proba[start:stop], BINS)
            idx += class_offset
            idx += (split[start:stop] * (k * 2 * BINS))[:, None]
            idx[np.arange(stop - start), y[start:stop]] += BINS
            hist += np.bincount(idx.ravel(order="K"), minlength=size)
        p_true = np.take_along_axis(proba, y[:, None], axis=1)[:, 0]
        eps = np.finfo(np.float64).eps
        loss += np.bincount(split, weights=-np.log(np.clip(p_true, eps, 1.0)), minlength=s_count)

    needed = ["label", *proba_cols, "pred", "split"]
    reader = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        pending = []
        for batch in reader.iter_batches(batch_size=BATCH_ROWS, columns=needed):
            pending.append(pool.submit(fold, batch))
            if len(pending) > THREADS + 1:
                pending.pop(0).result()
        for job in pending:
            job.result()
    conf = sum(s[0] for s in states).reshape(s_count, k, k)
    hist = sum(s[1] for s in states).reshape(s_count, k, 2, BINS)
    loss = sum(s[2] for s in states)
    return conf, hist, loss


def _bin_sql(column: str) -> str:
    # DuckDB follows IEEE here: ln(0) = -inf and p / 0 = inf, which greatest/least clip.
    step = 2 * LOGIT_RANGE / BINS
    return (f"least(greatest(floor((ln({column} / (1 - {column})) + {LOGIT_RANGE}) / {step}), 0), "
            f"{BINS - 1})::INTEGER")


def _sql(source: str, proba_cols: list[str]) -> tuple[str, str]:
    eps = float(np.finfo(np.float64).eps)
    p_true = "CASE label " + " ".join(f"WHEN {j} THEN {c}" for j, c in enumerate(proba_cols)) + " END"
    confusion = (f"SELECT split AS s, label, pred, count(*) AS n, sum(-ln(greatest({p_true}, {eps!r}))) AS loss "
                 f"FROM {source} GROUP BY ALL")
    hist = "\nUNION ALL\n".join(
        f"SELECT split AS s, {j} AS k, (label = {j}) AS is_k, {_bin_sql(c)} AS b, count(*) AS n "
        f"FROM {source} GROUP BY ALL"
        for j, c in enumerate(proba_cols))
    return confusion, hist


def _codes(values) -> np.ndarray:
    index = {name: i for i, name in enumerate(SPLITS)}
    return np.array([index[v] for v in values], dtype=np.int64)


def _fill(k: int, conf_rows: dict, hist_rows: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    conf = np.zeros((len(SPLITS), k, k))
    loss = np.zeros(len(SPLITS))
    s = _codes(conf_rows["s"])
    np.add.at(conf, (s, np.asarray(conf_rows["label"], dtype=np.int64), np.asarray(conf_rows["pred"], dtype=np.int64)),
              np.asarray(conf_rows["n"], dtype=float))
    np.add.at(loss, s, np.asarray(conf_rows["loss"], dtype=float))
    hist = np.zeros((len(SPLITS), k, 2, BINS))
    idx = (_codes(hist_rows["s"]), np.asarray(hist_rows["k"], dtype=np.int64),
           np.asarray(hist_rows["is_k"]).astype(np.int64), np.asarray(hist_rows["b"], dtype=np.int64))
    np.add.at(hist, idx, np.asarray(hist_rows["n"], dtype=float))
    return conf, hist, loss


def run_duckdb(path: str, in_memory: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import duckdb

    proba_cols, k = _columns(path)
    con = duckdb.connect(config={"threads": THREADS})
    source = "read_parquet('{}')".format(path.replace("'", "''"))
    if in_memory:
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=["label", *proba_cols, "pred", "split"])
        con.register("batch", table)
        source = "batch"
    confusion, hist = _sql(source, proba_cols)
    return _fill(k, con.sql(confusion).fetchnumpy(), con.sql(hist).fetchnumpy())


def run_ibis(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import ibis
    from ibis import _

    proba_cols, k = _columns(path)
    con = ibis.duckdb.connect(threads=THREADS)
    t = con.read_parquet(path)
    eps = float(np.finfo(np.float64).eps)
    step = 2 * LOGIT_RANGE / BINS

    def score_bin(p):
        # Clip before floor: Ibis casts floor() to an integer, which fails on +-inf (p = 0 or 1).
        return (((p / (1 - p)).ln() + LOGIT_RANGE) / step).clip(0, BINS - 1).floor().cast("int32")

    p_true = ibis.cases(*[(t.label == j, t[c]) for j, c in enumerate(proba_cols)])
    confusion = t.group_by(s=t.split, label=t.label, pred=t.pred).aggregate(
        n=_.count(), loss=(-p_true.clip(lower=eps).ln()).sum())
    hist = ibis.union(*[
        t.group_by(s=t.split, k=ibis.literal(j, "int64"), is_k=t.label == j, b=score_bin(t[c])).aggregate(n=_.count())
        for j, c in enumerate(proba_cols)])

    def rows(expr) -> dict:
        table = expr.to_pyarrow()
        return {name: table.column(name).to_pylist() if name == "s" else table.column(name).to_numpy()
                for name in table.column_names}

    return _fill(k, rows(confusion), rows(hist))


def worker(method: str, path: str, out: str) -> None:
    """Runs one method in this process and saves its arrays (the timed child)."""
    run = {"numpy": run_numpy, "duckdb": run_duckdb, "duckdb-arrow": lambda p: run_duckdb(p, in_memory=True),
           "ibis": run_ibis}[method]
    conf, hist, loss = run(path)
    np.savez(out, conf=conf, hist=hist, loss=loss)


# ----------------------------------------------------------------------------- runner


def measure(method: str, path: str, out: str) -> dict:
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--worker", method, path, out],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    err = child.stderr.read().decode(errors="replace")
    child.stderr.close()
    if status != 0:
        last = err.strip().splitlines()[-1] if err.strip() else f"exit status {status}"
        return {"error": last}
    return {"wall": wall, "peak_mb": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime}


def agrees(reference: str, other: str) -> str:
    a, b = np.load(reference), np.load(other)
    if not np.array_equal(a["conf"], b["conf"]):
        return "confusion differs"
    moved = int(np.abs(a["hist"] - b["hist"]).sum() // 2)
    if moved:
        return f"{moved} histogram rows in other bins"
    rel = float(np.max(np.abs(a["loss"] - b["loss"]) / np.maximum(np.abs(a["loss"]), 1e-300)))
    return "identical" if rel < 1e-9 else f"loss sums differ by {rel:.1e}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", default=str(HERE / "data" / "preds_10m.parquet"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS), help="comma list of " + ", ".join(METHODS))
    parser.add_argument("--write", metavar="PATH", help="also write the table as markdown here")
    args = parser.parse_args(argv)
    if not Path(args.file).exists():
        raise SystemExit(f"{args.file}: not found (python benchmarks/generate.py --rows 10m writes it)")
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown method(s): {', '.join(sorted(unknown))}")
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(args.file).metadata.num_rows
    figures: dict[str, list[dict]] = {m: [] for m in methods}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {m: str(Path(tmp) / f"{m}.npz") for m in methods}
        for repeat in range(args.repeats):
            for m in methods:
                figure = measure(m, args.file, outs[m])
                figures[m].append(figure)
                shown = figure.get("error") or f"{figure['wall']:.2f} s, {figure['peak_mb']:.0f} MB"
                print(f"  {m:13s} run {repeat + 1}: {shown}", file=sys.stderr, flush=True)
        check = {m: ("reference" if m == "numpy" else
                     agrees(outs["numpy"], outs[m]) if "numpy" in outs and Path(outs[m]).exists() else "not checked")
                 for m in methods}

    lines = [
        "# The core aggregates: NumPy against DuckDB SQL and Ibis",
        "",
        f"Core aggregates of `{Path(args.file).name}` ({rows:,} rows): confusion matrix and loss per split, "
        f"{BINS}-bin score histograms per class and split. {THREADS} threads each; median of {args.repeats} "
        f"runs in fresh processes (interpreter start and imports included).",
        "",
        "| method | wall s (median) | min–max | peak RSS MB | CPU s | arrays vs numpy |",
        "|---|---|---|---|---|---|",
    ]
    for m in methods:
        ok = [f for f in figures[m] if "error" in f] == []
        if not ok:
            lines.append(f"| {m} | failed: {next(f['error'] for f in figures[m] if 'error' in f)} | | | | |")
            continue
        walls = [f["wall"] for f in figures[m]]
        lines.append(f"| {m} | {statistics.median(walls):.2f} | {min(walls):.2f}–{max(walls):.2f} | "
                     f"{statistics.median(f['peak_mb'] for f in figures[m]):.0f} | "
                     f"{statistics.median(f['cpu'] for f in figures[m]):.2f} | {check[m]} |")
    versions = []
    for name in ("numpy", "pyarrow", "duckdb", "ibis"):
        try:
            versions.append(f"{name} {__import__(name).__version__}")
        except ImportError:
            pass
    lines += ["", f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores; "
              + ", ".join(versions) + ".", "",
              "`python benchmarks/engines.py " + " ".join(argv if argv is not None else sys.argv[1:]) + "`"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:5])
    else:
        main()
