"""Where the rows come from: a table in memory, a Parquet dataset streamed in record
batches, or (see :mod:`erranalysis.spark`) a Spark DataFrame.

Every source offers the same three things:

* ``head()``: a small pandas DataFrame of the first rows, from which the columns, the
  classes' type and the metadata kinds are read;
* ``classes(spec)``: the classes, when the probability columns do not name them all;
* ``run(spec, make_state)``: validate every batch and fold it into a fresh state from
  ``make_state()`` (an :class:`~erranalysis.stats.accumulate.Accumulator`, or the
  counts of a second pass); states of different batches merge.
"""

from __future__ import annotations

import glob as _glob
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .errors import InputError, UsageError, first_line
from .files import is_pattern
from .io.read import (FORMATS, READ_WARNINGS, UNREADABLE_HINT, is_binary, is_stream, read_stream, read_table,
                      table_kind, text_columns)
from .io.validate import Columns, Predictions, label_classes, validate_frame
from .settings import Settings

#: Rows per record batch when streaming: a few hundred MB of work space at 10 classes.
BATCH_ROWS = 1 << 18
#: Threads folding batches (each into its own state; NumPy and Arrow release the GIL).
WORKERS = 2
#: Batches read ahead and queued for the workers: bounds memory to a few batches.
IN_FLIGHT = 3
#: Rows of the head read to learn the columns.
HEAD_ROWS = 1000


@dataclass(frozen=True)
class ReadSpec:
    """How to read and validate the rows: the same for every batch."""

    name: str
    columns: Columns
    positive_label: Any
    threshold: float | None
    settings: Settings
    classes: tuple | None = None
    #: The weights' scale, fixed from the first rows so that every batch sums alike.
    weight_scale: float | None = None

    def validate(self, frame: pd.DataFrame, partial: bool) -> Predictions:
        return validate_frame(frame, name=self.name, columns=self.columns, positive_label=self.positive_label,
                              threshold=self.threshold, settings=self.settings, classes=self.classes,
                              partial=partial, weight_scale=self.weight_scale)


Progress = Callable[[str, int, int | None], None]


def _quiet(stage: str, done: int, total: int | None) -> None:
    return None


class FrameSource:
    """A pandas DataFrame already in memory: one batch."""

    streamed = False
    ordered = True
    #: The hash of input bytes read already (a pipe), when there is no file to hash.
    sha256: str | None = None

    def __init__(self, frame: pd.DataFrame, name: str, path: Path | None = None):
        self.name, self.path = name, path
        self.total_rows = len(frame)
        #: The DataFrame's own index (None for 0, 1, 2, ...): example rows are named by it.
        self.index = None if frame.index.equals(pd.RangeIndex(len(frame))) else frame.index
        #: The table, until it is validated: from then on only its validated arrays.
        self._rows: pd.DataFrame | Predictions = frame

    def predictions(self, spec: ReadSpec) -> Predictions:
        if isinstance(self._rows, pd.DataFrame):
            self._rows = spec.validate(self._rows, partial=False)
        return self._rows

    def head(self) -> pd.DataFrame:
        raise NotImplementedError  # an in-memory table is validated whole

    def run(self, spec: ReadSpec, make_state, progress: Progress = _quiet, stage: str = "analysing"):
        preds = self.predictions(spec)
        state = make_state()
        state.add(preds, 0)
        progress(stage, preds.n_rows, preds.n_rows)
        return state


# ---------------------------------------------------------------------------- Parquet datasets


def is_parquet_dataset(data: Any, input_format: str | None) -> bool:
    """Parquet inputs stream: a .parquet file, a folder of them, or a glob pattern."""
    if not isinstance(data, (str, Path)):
        return False
    text = str(data)
    if input_format not in (None, "parquet"):
        return False
    if is_pattern(text):
        return True
    path = Path(text)
    if path.is_dir():
        return True
    if input_format == "parquet":
        return True
    return FORMATS.get(path.suffix.lower()) == "parquet"


def _skipped(parts) -> bool:
    """Files Spark, Hadoop and editors leave next to the data (``_SUCCESS``, ``_temporary/``,
    ``.part-0.crc``, ``._part-0.parquet``), skipped like pyarrow and Spark do."""
    return any(part.startswith((".", "_")) for part in parts)


def _dataset_files(text: str) -> tuple[list[str], Path | None]:
    """The data files of a file, folder or glob, in name order, and the folder their
    relative paths (and ``key=value`` partition folders) start from. A path that exists is
    taken literally (``preds[1].parquet``); only one that does not is a glob pattern."""
    if is_pattern(text):
        parts = Path(text).parts
        fixed = next(i for i, part in enumerate(parts) if any(ch in part for ch in "*?["))
        root = Path(*parts[:fixed]) if fixed else Path(".")
        matches = sorted(f for f in _glob.glob(text, recursive=True) if Path(f).is_file())
        files = [f for f in matches if not _skipped(Path(f).relative_to(root).parts)]
        if not files:
            raise InputError(f"{text}: no file matches this pattern"
                             + (" (names starting with '_' or '.' are skipped)." if matches else "."))
        return files, root
    path = Path(text)
    if not path.exists():
        raise InputError(f"{path}: file not found.")
    if path.is_dir():
        files = sorted(str(f) for f in path.rglob("*")
                       if f.is_file() and f.suffix.lower() in (".parquet", ".pq")
                       and not _skipped(f.relative_to(path).parts))
        if not files:
            raise InputError(f"{path}: the folder holds no .parquet file.")
        return files, path
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty.")
    return [str(path)], None


_INT = re.compile(r"-?\d{1,18}")


def _partitions(files: list[str], root: Path | None) -> list[dict]:
    """The ``key=value`` folders above each file (Hive-style partitioning, as written by
    Spark's ``partitionBy``), values as integers when every file's value is one."""
    from urllib.parse import unquote

    found: list[dict[str, str | int | None]] = []
    for name in files:
        keys: dict[str, str | int | None] = {}
        if root is not None:
            for part in Path(name).relative_to(root).parts[:-1]:
                key, sep, value = part.partition("=")
                if sep and key:
                    keys[key] = None if value == "__HIVE_DEFAULT_PARTITION__" else unquote(value)
        found.append(keys)
    names = {k for keys in found for k in keys}
    for key in names:
        values = [keys.get(key) for keys in found]
        if all(v is None or isinstance(v, str) and _INT.fullmatch(v) for v in values):
            for keys in found:
                text = keys.get(key)
                if text is not None:
                    keys[key] = int(text)
    return found


def _kind(arrow_type) -> str | None:
    """The kind of a column's type, for comparing files: int64 and float32 are both numbers."""
    import pyarrow as pa

    t = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    if pa.types.is_null(t):
        return None  # an all-null column fits any kind
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "time"
    return str(t)


@dataclass(frozen=True)
class _File:
    path: str
    rows: int
    #: Row of the dataset (files in name order) where this file starts.
    start: int
    #: Partition columns taken from the folder names, absent from the file itself.
    added: dict
    #: Column name -> arrow type, the added ones included.
    types: dict


class DatasetSource:
    """Parquet file(s) read in record batches: memory stays bounded by the batch size."""

    streamed = True
    ordered = True

    def __init__(self, data: str | Path, batch_rows: int | None = None):
        self.name = str(data)
        names, root = _dataset_files(self.name)
        self.files = names
        self.root = root
        self.path = Path(names[0]) if len(names) == 1 and root is None else None
        self.batch_rows = batch_rows or BATCH_ROWS
        self.parts = self._read_footers(names, _partitions(names, root))
        self.total_rows = sum(f.rows for f in self.parts)
        #: The files the head's rows come from, each with the head row where it starts.
        self._head_parts: list[tuple[_File, int]] = []
        if self.total_rows == 0:
            raise InputError(f"{self.name}: has a header but no rows.")
        self._check_schemas()

    @staticmethod
    def _read_footers(names: list[str], partitions: list[dict]) -> list[_File]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts: list[_File] = []
        start = 0
        for name, keys in zip(names, partitions):
            try:
                meta = pq.ParquetFile(name).metadata
                schema = meta.schema.to_arrow_schema()
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise InputError(f"{name}: cannot be read as parquet: {first_line(exc)}",
                                 hint=UNREADABLE_HINT) from None
            types = {field.name: field.type for field in schema}
            added = {k: v for k, v in keys.items() if k not in types}
            for key, value in added.items():
                types[key] = pa.int64() if isinstance(value, int) else pa.string()
            parts.append(_File(name, meta.num_rows, start, added, types))
            start += meta.num_rows
        return parts

    def _check_schemas(self) -> None:
        """Every file with rows must have the first one's columns, each of the same kind:
        otherwise a column would be dropped, or a split counted as test, without a word."""
        filled = [f for f in self.parts if f.rows]
        first = filled[0]
        hint = "Every file of a dataset must have the same columns, each of the same type."
        for f in filled[1:]:
            for col, t in first.types.items():
                if col not in f.types:
                    raise InputError(f"{f.path}: has no column {col!r}, which {first.path} has.", hint=hint)
                a, b = _kind(f.types[col]), _kind(t)
                if a is not None and b is not None and a != b:
                    raise InputError(f"{f.path}: column {col!r} is {f.types[col]} here but {t} in {first.path}.",
                                     hint=hint)
            extra = next((col for col in f.types if col not in first.types), None)
            if extra is not None:
                raise InputError(f"{f.path}: has a column {extra!r}, which {first.path} does not have.", hint=hint)

    def _batches(self, columns: list[str] | None = None, rows: int | None = None):
        """``(file, batch)`` pairs of every file with rows, in order, partition columns added."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        for f in self.parts:
            if not f.rows:
                continue
            wanted = None if columns is None else [c for c in columns if c not in f.added]
            # Text columns decoded straight into dictionary arrays (as Parquet stores them):
            # no Python string per row, and no hashing to encode them again.
            text = [c for c, t in f.types.items() if c not in f.added and (wanted is None or c in wanted)
                    and (pa.types.is_string(t) or pa.types.is_large_string(t))]
            try:
                # File by file, row group by row group, through a small read buffer and without
                # pre-buffering: memory stays at a batch or two whatever the file's size.
                reader = pq.ParquetFile(f.path, pre_buffer=False, buffer_size=1 << 20, read_dictionary=text)
                for batch in reader.iter_batches(batch_size=rows or self.batch_rows, columns=wanted):
                    yield f, _with_partitions(batch, f, columns)
            except (pa.ArrowException, OSError) as exc:
                raise InputError(f"{f.path}: cannot be read as parquet: {first_line(exc)}") from None

    def _frame(self, batch) -> pd.DataFrame:
        return arrow_frame(batch, self._latin1)

    @cached_property
    def _latin1(self) -> set[str] | None:
        """The binary columns holding a value that is not UTF-8 anywhere in the dataset, read
        as Latin-1 in every batch (as a table in memory is); None without binary columns."""
        import pyarrow as pa

        binary = sorted({c for f in self.parts for c, t in f.types.items() if c not in f.added and is_binary(t)})
        if not binary:
            return None
        found = set()
        for name in binary:  # only these columns are read; they are rare
            for _, batch in self._batches([name]):
                try:
                    batch.column(0).cast(pa.large_binary()).cast(pa.large_string())
                except pa.ArrowInvalid:
                    found.add(name)
                    break
        return found

    def file_starts(self) -> list | None:
        """``(first row, path)`` of each file with rows, for naming a row within its file;
        None for a single file (its rows are the dataset's)."""
        filled = [f for f in self.parts if f.rows]
        if len(filled) < 2:
            return None
        shown = [str(Path(f.path).relative_to(self.root)) if self.root is not None else f.path for f in filled]
        return [(f.start, name) for f, name in zip(filled, shown)]

    def column_max(self, name: str) -> float | None:
        """The largest value of a numeric column from the files' row-group statistics (no
        row is read); None when a file has no statistics for it."""
        import pyarrow.parquet as pq

        top = None
        for f in self.parts:
            if not f.rows:
                continue
            if name not in f.types or name in f.added:
                return None
            meta = pq.ParquetFile(f.path).metadata
            index = meta.schema.names.index(name) if name in meta.schema.names else None
            if index is None:
                return None
            for g in range(meta.num_row_groups):
                stats = meta.row_group(g).column(index).statistics
                if stats is None or not stats.has_min_max or not isinstance(stats.max, (int, float)):
                    return None
                top = stats.max if top is None else max(top, stats.max)
        return None if top is None else float(top)

    def head(self) -> pd.DataFrame:
        # The first HEAD_ROWS rows of the dataset (a few pages per column, not a row group),
        # whatever the sizes of its files and row groups: the axes of numeric columns are
        # read from them, as from the first rows of a table in memory.
        import pyarrow as pa

        batches: list[tuple[_File, Any]] = []
        parts: list[tuple[_File, int]] = []
        rows = 0
        for f, batch in self._batches(rows=HEAD_ROWS):
            if not parts or parts[-1][0] is not f:
                parts.append((f, rows))
            batches.append((f, batch))
            rows += batch.num_rows
            if rows >= HEAD_ROWS:
                break
        self._head_parts = parts
        if len(batches) == 1:
            return self._frame(batches[0][1])
        try:
            table = pa.concat_tables([pa.Table.from_batches([b]) for _, b in batches], promote_options="permissive")
            table = table.slice(0, HEAD_ROWS).unify_dictionaries().combine_chunks()
        except (pa.ArrowException, ValueError):
            # Files whose types do not combine (the pass names them): the first file's rows.
            self._head_parts = parts[:1]
            first = [b for f, b in batches if f is parts[0][0]]
            table = pa.Table.from_batches(first).slice(0, HEAD_ROWS).combine_chunks()
        return self._frame(table.to_batches()[0])

    def head_error(self, exc: InputError) -> InputError:
        """A bad value among the head's rows, located in its file."""
        row = exc.row or 0
        f, start = next(((f, start) for f, start in reversed(self._head_parts) if start <= row),
                        self._head_parts[0])
        return _in_file(exc, self.name, f, -start)

    def classes(self, column: str) -> list | None:
        """Every distinct label of the dataset, read from that one column (None when some
        value is not a class)."""
        import pyarrow.compute as pc

        if not any(column in f.types for f in self.parts):
            return []
        def distinct(array):
            values = pc.unique(array)
            return pd.Series((values.dictionary_decode() if hasattr(values, "dictionary_decode") else values).to_pandas())

        uniques = [distinct(batch.column(0)) for _, batch in self._batches([column])]
        values = pd.concat(uniques, ignore_index=True).drop_duplicates() if uniques else pd.Series([], dtype=object)
        return label_classes(values.reset_index(drop=True), self.name, column)

    def run(self, spec: ReadSpec, make_state, progress: Progress = _quiet, stage: str = "analysing"):
        """Fold every batch into states of ``make_state()``: one per worker thread, merged at
        the end. Batches are handed out in file order with their row offsets, and at most
        ``IN_FLIGHT`` are in flight, so memory stays bounded."""
        import threading
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        local = threading.local()
        states = []
        lock = threading.Lock()

        def work(batch, offset, f):
            frame = self._frame(batch)
            del batch
            try:
                preds = spec.validate(frame, partial=True)
            except InputError as exc:
                raise _in_file(exc, self.name, f, offset - f.start) from None
            del frame
            state = getattr(local, "state", None)
            if state is None:
                state = local.state = make_state()
                with lock:
                    states.append(state)
            state.add(preds, offset)
            return preds.n_rows

        done = 0
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            flight: deque[Future[int]] = deque()
            try:
                current, offset = None, 0
                for f, batch in self._batches():
                    if f is not current:
                        current, offset = f, f.start
                    flight.append(pool.submit(work, batch, offset, f))
                    offset += batch.num_rows
                    del batch
                    while len(flight) >= IN_FLIGHT:
                        done += flight.popleft().result()  # in order: the first bad batch raises first
                        progress(stage, done, self.total_rows)
                while flight:
                    done += flight.popleft().result()
                    progress(stage, done, self.total_rows)
            except BaseException:
                for job in flight:
                    job.cancel()
                raise
        merged = states[0] if states else make_state()
        for other in states[1:]:
            merged = merged.merge(other)
        return merged


class ArrowSource(DatasetSource):
    """A pyarrow Table, RecordBatch or Dataset, or a Polars DataFrame or LazyFrame, read
    in record batches as a Parquet dataset is: no pandas copy of the whole table, and a
    LazyFrame's query runs in streaming batches on each pass over the rows."""

    def __init__(self, data: Any, kind: str, batch_rows: int | None = None):
        import pyarrow as pa

        self.name = kind
        self.files, self.root, self.path = [], None, None  # nothing to hash
        self.batch_rows = batch_rows or BATCH_ROWS
        self._head_parts = []
        if kind == "polars DataFrame":
            data = data.to_arrow()
        elif kind == "pyarrow RecordBatch":
            data = pa.Table.from_batches([data])
        self._data = data
        if kind == "polars LazyFrame":
            import polars as pl

            schema = data.head(0).collect().to_arrow().schema
            rows = int(data.select(pl.len()).collect().item())
        elif kind == "pyarrow Dataset":
            schema, rows = data.schema, data.count_rows()
        else:
            schema, rows = data.schema, data.num_rows
        self.parts = [_File(kind, rows, 0, {}, {field.name: field.type for field in schema})]
        self.total_rows = rows
        if rows == 0:
            raise InputError(f"{kind}: has no rows.")

    def _batches(self, columns: list[str] | None = None, rows: int | None = None):
        """``(part, batch)`` pairs in row order; with ``rows`` (the head), batches of that
        many rows, of which a LazyFrame computes only the first."""
        import pyarrow as pa

        f, data, size = self.parts[0], self._data, rows or self.batch_rows
        if self.name == "polars LazyFrame":
            query = data if columns is None else data.select(columns)
            if rows:
                frames = [query.head(rows).collect()]
            elif hasattr(query, "collect_batches"):  # Polars 1.33 and later
                frames = query.collect_batches(chunk_size=size)
            else:  # earlier Polars: the query's result whole, then in batches as a table's
                frames = [query.collect()]
            for frame in frames:
                yield from ((f, batch) for batch in frame.to_arrow().to_batches() if batch.num_rows)
        elif self.name == "pyarrow Dataset":
            try:
                for batch in data.to_batches(columns=columns, batch_size=size):
                    yield f, batch
            except (pa.ArrowException, OSError) as exc:
                raise InputError(f"{self.name}: cannot be read: {first_line(exc)}") from None
        else:
            table = data if columns is None else data.select(columns)
            for start in range(0, table.num_rows, size):
                # A slice is a view; only a slice that spans several chunks is copied, into one.
                yield from ((f, batch) for batch in table.slice(start, size).combine_chunks().to_batches())

    def column_max(self, name: str) -> float | None:
        """The largest value of a numeric column, read in batches (that column alone); None
        when it is not numeric or holds no value."""
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = self.parts[0].types.get(name)
        if kind is None or not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            return None
        tops = [pc.max(batch.column(0)).as_py() for _, batch in self._batches([name])]
        tops = [t for t in tops if t is not None]
        return float(max(tops)) if tops else None


def _in_file(exc: InputError, name: str, f: _File, offset: int) -> InputError:
    """An error of a batch whose first row is ``offset`` rows into file ``f``, naming
    that file (in place of the dataset's ``name``) and the row within it."""
    shifted = exc.shifted(offset)
    return shifted.in_file(f.path) if exc.file == name else shifted


def _with_partitions(batch, f: _File, columns: list[str] | None):
    """The batch with the file's partition values as constant columns."""
    import numpy as np
    import pyarrow as pa

    added = {k: v for k, v in f.added.items() if columns is None or k in columns}
    if not added:
        return batch
    n = batch.num_rows
    arrays, names = list(batch.columns), list(batch.schema.names)
    for key, value in added.items():
        if value is None:
            arrays.append(pa.nulls(n, f.types[key]))
        elif isinstance(value, int):
            arrays.append(pa.array(np.full(n, value, dtype=np.int64)))
        else:
            arrays.append(pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value])))
        names.append(key)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def arrow_frame(batch, latin1: set | None = None) -> pd.DataFrame:
    """A record batch as a DataFrame, text columns as categoricals (no Python string per row);
    ``latin1``: the binary columns to read as Latin-1 (decided once for a whole file)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    notes: list = []
    if any(is_binary(t) for t in batch.schema.types):
        table = text_columns(pa.Table.from_batches([batch]), notes, latin1=latin1)
        batch = table.combine_chunks().to_batches()[0]
    arrays = [pc.dictionary_encode(col) if pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
              else col for col in batch.columns]
    frame = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names).to_pandas(split_blocks=True)
    frame.index = pd.RangeIndex(len(frame))
    if notes:
        frame.attrs[READ_WARNINGS] = notes
    return frame


def open_source(data: Any, input_format: str | None, name: str | None = None):
    """The source for a path (streamed when it is Parquet), an in-memory DataFrame, or an
    Arrow or Polars table (streamed)."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        if is_stream(path):
            # A pipe (/dev/stdin) is read once, into memory: hashed and parsed from there.
            import hashlib

            raw = read_stream(path)
            source = FrameSource(read_table(path, input_format, data=raw), str(data))
            source.sha256 = hashlib.sha256(raw).hexdigest()
            return source
        if is_parquet_dataset(data, input_format):
            return DatasetSource(data)
        return FrameSource(read_table(path, input_format), str(data), path)
    if isinstance(data, pd.DataFrame):
        return FrameSource(data.copy(deep=False), name or "DataFrame")
    kind = table_kind(data)
    if kind is not None:
        return ArrowSource(data, kind)
    raise UsageError(f"data must be a path or a table. Got {type(data).__name__} instead.")


def held_out_rows(aggs: dict) -> int:
    return int(sum(a.n_rows for name, a in aggs.items() if name != "train"))

