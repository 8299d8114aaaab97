"""Spark as the engine: the same accumulators, run where the data lives.

Each Spark partition streams its rows as Arrow record batches (``mapInArrow``) through
the very validation and :class:`~erranalysis.stats.accumulate.Accumulator` the local
engine uses; the partitions' states are merged pairwise on the executors
(``treeReduce``) and only the merged state (aggregates, tables, a bounded sample)
reaches the driver. erranalysis must be importable on the executors (see the README).
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError, UsageError, first_line
from .io.read import FORMATS
from .io.validate import label_classes
from .sources import HEAD_ROWS, Progress, ReadSpec, _quiet, arrow_frame

#: Rows per Arrow batch handed to each partition's accumulator.
SPARK_BATCH_ROWS = 1 << 17


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError("--engine spark needs pyspark.",
                         hint="Install it with: pip install 'erranalysis[spark]'") from None


def session(master: str | None = None):
    """The active Spark session, or a new one (``master``, else spark-submit's, else local[*])."""
    _require_pyspark()
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName("erranalysis")
    conf = SparkConf()
    if master is None and not conf.contains("spark.master"):
        master = "local[*]"
    if master is not None:
        builder = builder.master(master)
    if _workers_on_this_machine(master or conf.get("spark.master")) and not _worker_python_set(conf):
        # Local workers run this interpreter, which has erranalysis, pandas and pyarrow;
        # Spark's default, the first "python3" on PATH, may have none of them. PySpark
        # takes the workers' interpreter from PYSPARK_PYTHON when it starts the context.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        builder = builder.config("spark.pyspark.python", sys.executable)
    return builder.getOrCreate()


def _workers_on_this_machine(master: str | None) -> bool:
    return master is not None and master.startswith("local")


def _worker_python_set(conf) -> bool:
    return bool(os.environ.get("PYSPARK_PYTHON")) or conf.contains("spark.pyspark.python")


def read_spark(path: str | Path, input_format: str | None = None, master: str | None = None):
    """A Spark DataFrame of a predictions path (file, folder or glob; any Spark-readable URL)."""
    spark = session(master)
    text = str(path)
    fmt = input_format
    if fmt is None:
        suffix = Path(text.rstrip("/")).suffix.lower()
        fmt = FORMATS.get(suffix, "parquet")
    try:
        if fmt == "parquet":
            return spark.read.parquet(text)
        if fmt in ("csv", "tsv"):
            return spark.read.csv(text, header=True, inferSchema=True, sep="\t" if fmt == "tsv" else ",")
        if fmt == "jsonl":
            return spark.read.json(text)
    except Exception as exc:  # noqa: BLE001 - Spark raises its own analysis exceptions
        raise InputError(f"{text}: Spark cannot read it as {fmt}: {first_line(exc)}") from None
    raise UsageError(f"--engine spark reads parquet, csv, tsv or jsonl. Got {fmt!r} instead.")


class SparkSource:
    """A Spark DataFrame: every partition folds its rows into its own state."""

    streamed = True
    ordered = False
    files: list = []
    path = None

    def __init__(self, data: Any, input_format: str | None = None):
        if isinstance(data, (str, Path)):
            self.name = str(data)
            local = Path(self.name)
            if local.is_file():
                self.files = [str(local)]
            data = read_spark(data, input_format)
        else:
            self.name = "Spark DataFrame"
        self.df = data
        self.total_rows = None

    def head(self) -> pd.DataFrame:
        table = self.df.limit(HEAD_ROWS).toArrow()
        if table.num_rows == 0:
            raise InputError(f"{self.name}: has no rows.")
        return arrow_frame(table.combine_chunks().to_batches()[0])

    def head_error(self, exc: InputError) -> InputError:
        """A bad value among the first rows: rows of a Spark DataFrame have no order, so
        its position among them names no row."""
        return exc.without_order()

    def classes(self, column: str) -> list | None:
        if column not in self.df.columns:
            return []
        values = self.df.select(column).distinct().limit(100_001).toPandas()[column]
        return label_classes(values, self.name, column)

    def run(self, spec: ReadSpec, make_state, progress: Progress = _quiet, stage: str = "analysing"):
        import pyarrow as pa

        def fold(batches):
            from pyspark import TaskContext

            context = TaskContext.get()
            part = context.partitionId() if context is not None else 0  # None only outside a Spark task
            state = make_state()
            offset = 0
            error = None
            for batch in batches:
                if error is not None or batch.num_rows == 0:
                    continue
                try:
                    preds = spec.validate(arrow_frame(batch), partial=True)
                except InputError as exc:
                    error = exc.shifted(offset).in_partition(part)
                    continue
                state.add(preds, offset, row_numbers=False)
                offset += batch.num_rows
            blob = pickle.dumps((part, error, state), protocol=pickle.HIGHEST_PROTOCOL)
            yield pa.RecordBatch.from_arrays([pa.array([blob], type=pa.binary())], names=["state"])

        spark = self.df.sparkSession
        key = "spark.sql.execution.arrow.maxRecordsPerBatch"
        before = spark.conf.get(key, None)
        spark.conf.set(key, str(SPARK_BATCH_ROWS))
        progress(f"{stage} (Spark)", 0, None)
        try:
            blob = (self.df.mapInArrow(fold, "state binary").rdd.map(lambda row: bytes(row.state))
                    .treeReduce(_merge_blobs, depth=2))
        finally:
            if before is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, before)
        _, error, state = pickle.loads(blob)
        if error is not None:
            raise error
        progress(f"{stage} (Spark)", state.n_rows if hasattr(state, "n_rows") else 0, None)
        return state


def _merge_blobs(a: bytes, b: bytes) -> bytes:
    """Merge two pickled (partition, error, state) triples; the first partition's error wins."""
    pa_, ea, sa = pickle.loads(a)
    pb, eb, sb = pickle.loads(b)
    errors = [(p, e) for p, e in ((pa_, ea), (pb, eb)) if e is not None]
    error = min(errors, key=lambda x: x[0])[1] if errors else None
    state = sa if error is not None else sa.merge(sb)
    return pickle.dumps((min(pa_, pb), error, state), protocol=pickle.HIGHEST_PROTOCOL)
