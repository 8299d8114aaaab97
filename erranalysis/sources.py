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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .errors import InputError, UsageError
from .io.read import FORMATS, read_table
from .io.validate import Columns, Predictions, label_classes, validate_frame
from .settings import Settings
from .stats.accumulate import shift_rows

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

    def validate(self, frame: pd.DataFrame, partial: bool) -> Predictions:
        return validate_frame(frame, name=self.name, columns=self.columns, positive_label=self.positive_label,
                              threshold=self.threshold, settings=self.settings, classes=self.classes,
                              partial=partial)


Progress = Callable[[str, int, int | None], None]


def _quiet(stage: str, done: int, total: int | None) -> None:
    return None


class FrameSource:
    """A pandas DataFrame already in memory: one batch."""

    streamed = False
    ordered = True

    def __init__(self, frame: pd.DataFrame, name: str, path: Path | None = None):
        self.frame, self.name, self.path = frame, name, path
        self._preds: Predictions | None = None

    @property
    def total_rows(self) -> int:
        return len(self.frame)

    def predictions(self, spec: ReadSpec) -> Predictions:
        if self._preds is None:
            self._preds = spec.validate(self.frame, partial=False)
            self.frame = None  # only the validated arrays are needed from here on
        return self._preds

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
    if any(ch in text for ch in "*?["):
        return True
    path = Path(text)
    if path.is_dir():
        return True
    if input_format == "parquet":
        return True
    return FORMATS.get(path.suffix.lower()) == "parquet"


def _dataset_files(text: str) -> list[str]:
    if any(ch in text for ch in "*?["):
        files = sorted(f for f in _glob.glob(text, recursive=True) if Path(f).is_file())
        if not files:
            raise InputError(f"{text}: no file matches this pattern.")
        return files
    path = Path(text)
    if not path.exists():
        raise InputError(f"{path}: file not found.")
    if path.is_dir():
        files = sorted(str(f) for f in path.rglob("*") if f.is_file() and f.suffix.lower() in (".parquet", ".pq"))
        if not files:
            raise InputError(f"{path}: the folder holds no .parquet file.")
        return files
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty.")
    return [str(path)]


class DatasetSource:
    """Parquet file(s) read in record batches: memory stays bounded by the batch size."""

    streamed = True
    ordered = True

    def __init__(self, data: str | Path, batch_rows: int | None = None):
        import pyarrow as pa
        import pyarrow.dataset as ds

        self.name = str(data)
        self.files = _dataset_files(self.name)
        self.path = Path(self.files[0]) if len(self.files) == 1 and not Path(self.name).is_dir() else None
        self.batch_rows = batch_rows or BATCH_ROWS
        # pre_buffer off: with it, the reader keeps the raw bytes of a file's column chunks
        # as it goes, so memory grows with the file instead of staying at a few batches.
        fmt = ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False))
        try:
            self.dataset = ds.dataset(self.files, format=fmt)
            self.total_rows = self.dataset.count_rows()
        except (pa.ArrowException, OSError, ValueError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{self.name}: cannot be read as parquet: {detail}",
                             hint="Check that the file is complete (not truncated) and of the format its name says.") from None
        if self.total_rows == 0:
            raise InputError(f"{self.name}: has a header but no rows.")

    def _batches(self, columns: list[str] | None = None):
        import pyarrow as pa

        import pyarrow.parquet as pq

        try:
            # File by file, row group by row group, through a small read buffer and without
            # pre-buffering: memory stays at a batch or two whatever the file's size (the
            # dataset scanner's read-ahead held several decoded row groups).
            for path in self.files:
                reader = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
                yield from reader.iter_batches(batch_size=self.batch_rows, columns=columns)
        except (pa.ArrowException, OSError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{self.name}: cannot be read as parquet: {detail}") from None

    def _frame(self, batch) -> pd.DataFrame:
        return arrow_frame(batch)

    def head(self) -> pd.DataFrame:
        import pyarrow.parquet as pq

        # The first rows of the first file: reads one page per column, not a whole row group.
        for path in self.files:
            batch = next(pq.ParquetFile(path).iter_batches(batch_size=HEAD_ROWS), None)
            if batch is not None and batch.num_rows:
                return self._frame(batch)
        raise InputError(f"{self.name}: has a header but no rows.")

    def classes(self, column: str) -> list:
        """Every distinct label of the dataset, read from that one column."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if column not in self.dataset.schema.names:
            return []
        uniques = []
        for batch in self._batches([column]):
            uniques.append(pc.unique(batch.column(0)))
        values = pa.concat_arrays([u.cast(uniques[0].type) for u in uniques]) if uniques else pa.array([])
        return label_classes(pd.Series(pc.unique(values).to_pandas()), self.name, column)

    def run(self, spec: ReadSpec, make_state, progress: Progress = _quiet, stage: str = "analysing"):
        """Fold every batch into states of ``make_state()``: one per worker thread, merged at
        the end. Batches are handed out in file order with their row offsets, and at most
        ``IN_FLIGHT`` are in flight, so memory stays bounded."""
        import threading
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        local = threading.local()
        states = []
        lock = threading.Lock()

        def work(batch, offset):
            frame = self._frame(batch)
            del batch
            try:
                preds = spec.validate(frame, partial=True)
            except InputError as exc:
                raise type(exc)(shift_rows(str(exc), offset), hint=exc.hint) from None
            del frame
            state = getattr(local, "state", None)
            if state is None:
                state = local.state = make_state()
                with lock:
                    states.append(state)
            state.add(preds, offset)
            return preds.n_rows

        done = 0
        offset = 0
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            flight = deque()
            try:
                for batch in self._batches():
                    flight.append(pool.submit(work, batch, offset))
                    offset += batch.num_rows
                    del batch
                    while len(flight) >= IN_FLIGHT:
                        done += flight.popleft().result()  # in order: the first bad batch raises first
                        progress(stage, done, self.total_rows)
                while flight:
                    done += flight.popleft().result()
                    progress(stage, done, self.total_rows)
            except BaseException:
                for f in flight:
                    f.cancel()
                raise
        merged = states[0] if states else make_state()
        for other in states[1:]:
            merged = merged.merge(other)
        return merged


def arrow_frame(batch) -> pd.DataFrame:
    """A record batch as a DataFrame, text columns as categoricals (no Python string per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [pc.dictionary_encode(col) if pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
              else col for col in batch.columns]
    frame = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names).to_pandas()
    frame.index = pd.RangeIndex(len(frame))
    return frame


def open_source(data: Any, input_format: str | None, name: str | None = None):
    """The source for a path (streamed when it is Parquet) or an in-memory DataFrame."""
    if isinstance(data, (str, Path)):
        if is_parquet_dataset(data, input_format):
            return DatasetSource(data)
        path = Path(data)
        return FrameSource(read_table(path, input_format), str(data), path)
    if isinstance(data, pd.DataFrame):
        return FrameSource(data.copy(deep=False), name or "DataFrame")
    raise UsageError(f"data must be a path or a DataFrame. Got {type(data).__name__} instead.")


def sha256_files(files: list[str]) -> str:
    """SHA-256 of the files' bytes, one after the other (one file: its own hash)."""
    import hashlib

    digest = hashlib.sha256()
    for name in files:
        with open(name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def held_out_rows(aggs: dict) -> int:
    return int(sum(a.n_rows for name, a in aggs.items() if name != "train"))

