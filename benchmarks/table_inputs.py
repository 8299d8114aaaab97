"""``analyze`` on the same predictions held as each kind of table: a Parquet path, a pandas
DataFrame, a pyarrow Table, a Polars DataFrame and a Polars LazyFrame.

Each run is a fresh interpreter that reads the file into that kind of table (the path
needs no read) and analyses it; the rounds interleave the kinds, and each figure is the
median of the rounds: the read, the analysis, their total, and the process's peak RSS.

    python benchmarks/table_inputs.py --file benchmarks/data/preds_1m_f32.parquet --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

KINDS = ("path", "pandas", "pyarrow", "polars", "polars lazy")

RUN = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import erranalysis
kind, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if kind == "path":
    data = path
elif kind == "pandas":
    import pandas as pd
    data = pd.read_parquet(path)
elif kind == "pyarrow":
    import pyarrow.parquet as pq
    data = pq.read_table(path)
elif kind == "polars":
    import polars as pl
    data = pl.read_parquet(path)
else:
    import polars as pl
    data = pl.scan_parquet(path)
read = time.perf_counter()
erranalysis.analyze(data, goal=0.01)
done = time.perf_counter()
print(json.dumps({"read": read - start, "analysis": done - read,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", default="benchmarks/data/preds_1m_f32.parquet")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {k: [] for k in KINDS}
    for _ in range(args.rounds):
        for kind in KINDS:
            out = subprocess.run([sys.executable, "-c", RUN, kind, args.file], capture_output=True, text=True,
                                 check=True)
            runs[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{args.file}, median of {args.rounds} interleaved rounds\n")
    print(f"{'table':12} {'read':>7} {'analysis':>9} {'total':>7} {'peak RSS':>9}")
    for kind, rows in runs.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("read", "analysis", "rss")}
        total = statistics.median(r["read"] + r["analysis"] for r in rows)
        print(f"{kind:12} {med['read']:6.2f}s {med['analysis']:8.2f}s {total:6.2f}s {med['rss']:7.0f} MB")


if __name__ == "__main__":
    main()
