"""Mergeable per-split counts of every metadata column.

Each metadata column keeps, per split and per cell, the rows and the errors (and their
weighted sums): a cell is a category of a text column, or a fine bin of a numeric or
time one. Slices (quantile bins, the most frequent categories), per-slice
decompositions and the per-feature shift tests are all read off these counts, so they
cover every row and come out the same whether the rows were in memory, streamed or
spread over Spark.

Numeric cells are uniform in ``asinh((x - anchor) / scale)``, where the column's
:class:`Axis` (anchor and scale) is fixed from the table's first rows before any row is
counted, and is the same for every batch, thread and Spark partition (tables of two
axes refuse to merge). Columns near zero for their spread keep anchor 0 and scale 1e-6. Cells are about
0.4% of the distance to the anchor wide, from ``scale`` up to 2.6e21 times ``scale``
away: with the scale a billionth of the first rows' spread, a year column spanning
1990-2020 gets cells at most 21 days wide and a month of unix seconds cells at most 85
minutes wide (anchored at the median), and quantile edges read off them
are within half a percent of the distance to the anchor of the exact ones, while
every count stays exact for the edges actually used.

Time columns (datetime64 of any unit, zoned or not, dates) are counted the same way in
seconds since 1970-01-01 of their wall-clock time (a zoned column as its zone shows it),
and their slices are named as dates and times. ``inf`` and ``-inf`` are values with a
cell of their own at each end; finite values beyond the cells' range share the cells
next to them.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np
import pandas as pd

from ..io.validate import SPLITS

#: Scale of a column whose first rows say nothing of its spread (all equal, all zero).
NUM_SCALE = 1e-6
#: Scale of a column: this share of its first rows' spread (see the module's docstring).
SCALE_OF_SPREAD = 1e-9
#: A numeric column whose first rows' median is further from zero than this many times
#: their spread gets cells anchored at that median.
FAR_FROM_ZERO = 10.0
NUM_T_MAX = 50.0
NUM_PER_UNIT = 256
#: Fine bins of a numeric column; the cell after them holds missing values. The first
#: holds -inf and the last inf.
NUM_BINS = int(2 * NUM_T_MAX * NUM_PER_UNIT)
#: Rows at the head of the table that fix each numeric column's axis: the same rows
#: whether the table is in memory or streamed (the streamed head's size).
AXIS_ROWS = 1000
#: A text column with more distinct values than this is an identifier, not a feature.
MAX_TRACKED = 10_000
#: Categorical columns with more values than this are cut to their most frequent ones.
MAX_CATEGORIES = 30
#: Numeric columns are cut into this many quantile bins.
NUMERIC_BINS = 5
MISSING = "(missing)"
#: Units of time, in seconds, that a time column's slice names are rounded to (the
#: largest that divides every value): days, hours, minutes, seconds.
TIME_STEPS = (86_400.0, 3_600.0, 60.0, 1.0)
_EPOCH = _dt.datetime(1970, 1, 1)
#: The units numpy's datetime64 and timedelta64 are counted in.
TimeUnit = Literal["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs", "ns", "ps", "fs", "as"]


@dataclass(frozen=True)
class Axis:
    """Where a numeric column's fine cells sit: their centre and their scale."""

    anchor: float = 0.0
    scale: float = NUM_SCALE


def axis_for(x: np.ndarray, time: bool = True) -> Axis:
    """The axis of a column from its first values (float64; NaN and inf ignored): the
    lower median as anchor, a billionth of their spread as scale.

    A numeric column (``time=False``) is anchored only when its values sit far from
    zero for their spread (further than ``FAR_FROM_ZERO`` spreads, as years, timestamps
    or identifiers do); closer, cells around zero are already a small share of the
    spread wide, and stay the same whichever rows come first (the head of a streamed
    or Spark table is not always the in-memory table's first rows).
    """
    finite = np.sort(x[np.isfinite(x)])
    if finite.size == 0:
        return Axis()
    anchor = float(finite[(finite.size - 1) // 2])
    with np.errstate(over="ignore"):
        spread = float(finite[-1] - finite[0])
    if not math.isfinite(spread):
        spread = float(np.finfo(np.float64).max)
    # A column whose first rows all hold one value far from zero (a table sorted by year)
    # is anchored at it too: zero spread is as far from zero as a column can be.
    if not time and not (spread * FAR_FROM_ZERO < abs(anchor)):
        return Axis()
    base = spread if spread > 0 else abs(anchor)
    scale = SCALE_OF_SPREAD * base if base > 0 else NUM_SCALE
    return Axis(anchor, max(scale, 1e-300))


def numeric_cells(x: np.ndarray, axis: Axis = Axis()) -> np.ndarray:
    """Fine cell of each value (int64); NaN goes to the missing cell ``NUM_BINS``, -inf
    to cell 0 and inf to cell ``NUM_BINS - 1``."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        t = x - axis.anchor
        t /= axis.scale
        np.arcsinh(t, out=t)
        t += NUM_T_MAX
        t *= NUM_PER_UNIT
        np.floor(t, out=t)
        nan = np.isnan(x)
        np.clip(t, 1, NUM_BINS - 2, out=t)  # finite values far beyond the range, and the overflows
        t[x == np.inf] = NUM_BINS - 1
        t[x == -np.inf] = 0
        t[nan] = NUM_BINS
    return t.astype(np.int64)


def cell_edge(b: int, axis: Axis = Axis()) -> float:
    """The value at the lower edge of fine cell ``b``."""
    if b >= NUM_BINS - 1:
        return math.inf
    if b <= 0:
        return -math.inf
    try:
        return float(axis.anchor + axis.scale * math.sinh(b / NUM_PER_UNIT - NUM_T_MAX))
    except OverflowError:
        return math.copysign(math.inf, b / NUM_PER_UNIT - NUM_T_MAX)


def is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def column_kind(values: pd.Series) -> str:
    """"time" for datetimes and dates (datetime64 of any unit, zoned, Arrow timestamps and
    dates, Python dates), "numeric" for numbers and durations, else "categorical"."""
    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "time"
    if is_numeric(values) or pd.api.types.is_timedelta64_dtype(dtype):
        return "numeric"
    if dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("date", "datetime", "datetime64"):
        return "time"
    return "categorical"


def numeric_values(values: pd.Series) -> np.ndarray:
    """A numeric column as float64 (durations in seconds), NaN where missing."""
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        return values.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def time_values(values: pd.Series) -> np.ndarray:
    """A time column as float64 seconds since 1970-01-01 of its wall-clock time, NaN where
    missing (or not a time: a text among dates counts as missing)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    elif not (isinstance(values.dtype, np.dtype) and values.dtype.kind == "M"):
        values = _as_datetimes(values)
    arr = values.to_numpy()
    tick = _tick(arr.dtype)
    ticks = arr.view(np.int64).astype(np.float64)
    per_second = np.timedelta64(1, "s") / tick
    # Division by a whole number of ticks per second (or a multiplication by whole seconds
    # per tick) keeps whole seconds exact, so the unit of the names is found exactly.
    seconds = ticks / per_second if per_second >= 1 else ticks * (tick / np.timedelta64(1, "s"))
    seconds[np.isnat(arr)] = np.nan
    return seconds


def _tick(dtype: np.dtype) -> np.timedelta64:
    """The time one step of a datetime64 dtype stands for (``M8[10ms]``: 10 milliseconds)."""
    unit, count = np.datetime_data(dtype)
    # numpy's stubs type datetime_data's unit as any str; it is always a unit timedelta64 takes.
    return np.timedelta64(count, cast(TimeUnit, unit))


def _as_datetimes(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.ArrowDtype):
        values = values.astype(object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = pd.to_datetime(values, errors="coerce")
        except (TypeError, ValueError):  # datetimes of several zones
            out = pd.to_datetime(values, errors="coerce", utc=True)
    if isinstance(out.dtype, pd.DatetimeTZDtype):
        out = out.dt.tz_localize(None)
    return out


def time_step(seconds: np.ndarray, at_most: float = math.inf) -> float:
    """The largest of ``TIME_STEPS`` (up to ``at_most``) dividing every finite value; 0 when none does."""
    finite = seconds[np.isfinite(seconds)]
    if finite.size == 0:
        return at_most
    for step in TIME_STEPS:
        if step <= at_most and not np.fmod(finite, step).any():
            return step
    return 0.0


def time_text(seconds: float, step: float) -> str:
    """A time in seconds since 1970-01-01 as a date, or a date and time to the minute,
    second or millisecond, as ``step`` allows."""
    if not math.isfinite(seconds):
        return "inf" if seconds > 0 else "-inf"
    try:
        when = _EPOCH + _dt.timedelta(seconds=seconds)
    except OverflowError:
        return f"{seconds:.4g} s"
    if step >= TIME_STEPS[0]:
        return when.date().isoformat()
    spec = "minutes" if step >= 60 else "seconds" if step >= 1 else "milliseconds"
    return when.isoformat(sep=" ", timespec=spec)


def _intern(known: list[str], texts: list[str]) -> np.ndarray:
    """The cell of each text in ``known``, appending the texts not yet there."""
    index = {v: i for i, v in enumerate(known)}
    cells = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        if text not in index:
            index[text] = len(known)
            known.append(text)
        cells[i] = index[text]
    return cells


def _no_cells() -> np.ndarray:
    """Counts of a column with no cells yet (a categorical column before its first row,
    or a dropped one)."""
    return np.zeros((len(SPLITS), 0, 2))


@dataclass
class ColumnTable:
    """Rows (and errors) per split and cell of one metadata column."""

    name: str
    kind: str  # "numeric" | "time" | "categorical"
    integer: bool = False
    #: counts[split, cell, wrong]: rows; wsum the same weighted; w2sum[split, cell]: sum of w².
    #: wsum and w2sum are both None for an unweighted table; a dropped table keeps no cells.
    counts: np.ndarray = field(default_factory=_no_cells)
    wsum: np.ndarray | None = None
    w2sum: np.ndarray | None = None
    #: Categorical columns: the text of each cell (numeric and time cells have none).
    values: list[str] = field(default_factory=list)
    #: Smallest and largest finite value (time: in seconds).
    lo: float = math.inf
    hi: float = -math.inf
    dropped: bool = False
    #: Numeric and time columns: where the fine cells sit, fixed before the first row.
    axis: Axis | None = None
    #: Time columns: the largest of ``TIME_STEPS`` dividing every value seen (inf before any).
    step: float = math.inf

    @classmethod
    def start(cls, name: str, kind: str, integer: bool, weighted: bool, axis: Axis | None = None) -> "ColumnTable":
        if kind not in ("numeric", "time", "categorical"):
            raise ValueError(f"kind must be numeric, time or categorical. Got {kind!r} instead.")
        binned = kind != "categorical"
        cells = NUM_BINS + 1 if binned else 0
        s = len(SPLITS)
        return cls(
            name=name,
            kind=kind,
            integer=integer and kind == "numeric",
            counts=np.zeros((s, cells, 2)),
            wsum=np.zeros((s, cells, 2)) if weighted else None,
            w2sum=np.zeros((s, cells)) if weighted else None,
            axis=(axis or Axis()) if binned else None,
        )

    @property
    def cells(self) -> int:
        return self.counts.shape[1]

    @property
    def _cell_axis(self) -> Axis:
        """Where the fine cells of a numeric or time column sit; a categorical column's
        cells are its texts, on no axis."""
        if self.axis is None:
            raise ValueError(f"column {self.name!r} must be numeric or time to have cells on an axis. "
                             f"Got a {self.kind} column without an axis instead.")
        return self.axis

    def add(self, values: pd.Series, split: np.ndarray, wrong: np.ndarray, weight: np.ndarray | None) -> None:
        if self.dropped:
            return
        if self.kind == "categorical":
            cell = self._category_cells(values)
            if cell is None:
                return
        else:
            if self.kind == "time":
                x = time_values(values)
                self.step = time_step(x, self.step)
            else:
                x = numeric_values(values)
            finite = x[np.isfinite(x)]
            if finite.size:
                self.lo, self.hi = min(self.lo, float(finite.min())), max(self.hi, float(finite.max()))
            cell = numeric_cells(x, self._cell_axis)
        self._count(cell, split, wrong, weight)

    def _category_cells(self, values: pd.Series) -> np.ndarray | None:
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy().astype(np.int64)
            uniques = values.cat.categories
        else:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
        texts = [str(u) for u in uniques]
        if (codes < 0).any():
            texts.append(MISSING)
            codes = np.where(codes < 0, len(texts) - 1, codes)
        mapping = _intern(self.values, texts)
        if len(self.values) > MAX_TRACKED:
            self.drop()
            return None
        self._grow(len(self.values))
        return mapping[codes]

    def drop(self) -> None:
        self.dropped = True
        self.counts = _no_cells()
        self.wsum = self.w2sum = None
        self.values = []

    def _grow(self, cells: int) -> None:
        if cells <= self.cells:
            return
        pad = cells - self.cells
        self.counts = np.pad(self.counts, ((0, 0), (0, pad), (0, 0)))
        if self.wsum is not None and self.w2sum is not None:
            self.wsum = np.pad(self.wsum, ((0, 0), (0, pad), (0, 0)))
            self.w2sum = np.pad(self.w2sum, ((0, 0), (0, pad)))

    def _count(self, cell, split, wrong, weight) -> None:
        s, c = self.counts.shape[:2]
        key = (split.astype(np.int64) * c + cell) * 2 + wrong
        size = s * c * 2
        self.counts += np.bincount(key, minlength=size).reshape(s, c, 2)
        if self.wsum is not None and self.w2sum is not None:
            self.wsum += np.bincount(key, weights=weight, minlength=size).reshape(s, c, 2)
            self.w2sum += np.bincount(key >> 1, weights=weight * weight, minlength=s * c).reshape(s, c)

    def merge(self, other: "ColumnTable") -> "ColumnTable":
        if (self.kind, self.axis) != (other.kind, other.axis):
            # Cells of two axes are different bins: adding them up would mix values silently.
            raise ValueError(f"column {self.name!r}: tables of different kinds or anchors cannot merge "
                             f"({self.kind} at {self.axis} and {other.kind} at {other.axis}).")
        if self.dropped or other.dropped:
            out = ColumnTable(self.name, self.kind, self.integer, axis=self.axis)
            out.drop()
            return out
        out = ColumnTable(self.name, self.kind, self.integer, self.counts.copy(),
                          None if self.wsum is None else self.wsum.copy(),
                          None if self.w2sum is None else self.w2sum.copy(),
                          list(self.values),
                          min(self.lo, other.lo), max(self.hi, other.hi), axis=self.axis,
                          step=min(self.step, other.step))
        if self.kind != "categorical":
            target = np.arange(other.cells)
        else:
            target = _intern(out.values, other.values)
            if len(out.values) > MAX_TRACKED:
                out.drop()
                return out
            out._grow(len(out.values))
        out.counts[:, target] += other.counts
        if out.wsum is not None and out.w2sum is not None:
            out.wsum[:, target] += other.wsum
            out.w2sum[:, target] += other.w2sum
        return out

    # ------------------------------------------------------------------ reading

    def rows(self) -> np.ndarray:
        """rows[split, cell]."""
        return self.counts.sum(axis=2)

    def slicing(self, max_distinct_share: float = 0.5) -> tuple[np.ndarray, list[str]] | None:
        """Slice of each cell and the slice names; None when the column cannot be sliced.

        Categorical: the ``MAX_CATEGORIES`` most frequent values (ties by text), the rest
        as "(other)"; a column with a single value or with distinct values on more than
        half the rows (an identifier) is skipped. Numeric: ``NUMERIC_BINS`` quantile bins
        over all splits, plus "(missing)".
        """
        if self.dropped:
            return None
        total = self.rows().sum(axis=0)
        if self.kind == "categorical":
            present = np.flatnonzero(total > 0)
            if present.size < 2 or present.size > max_distinct_share * total.sum():
                return None
            order = sorted(present, key=lambda i: (-total[i], self.values[i]))
            keep = order[:MAX_CATEGORIES]
            mapping = np.full(self.cells, len(keep), dtype=np.int64)
            mapping[keep] = np.arange(len(keep))
            names = [self.values[i] for i in keep]
            if len(order) > MAX_CATEGORIES:
                names.append("(other)")
            else:
                mapping[mapping == len(keep)] = 0  # values with no rows: they add nothing
            return mapping, names
        finite = total[:NUM_BINS]
        n = finite.sum()
        nonzero = np.flatnonzero(finite)
        if n == 0 or nonzero[0] == nonzero[-1] and self.lo == self.hi:
            return None
        cuts = quantile_cuts(finite, NUMERIC_BINS)
        if not cuts:
            return None
        mapping = np.searchsorted(np.array(cuts), np.arange(self.cells), side="right").astype(np.int64)
        names = self._bin_names(cuts, finite)
        if total[NUM_BINS] > 0:
            mapping[NUM_BINS] = len(names)
            names.append(MISSING)
        else:
            mapping[NUM_BINS] = len(names) - 1  # unused
        return mapping, names

    def _bin_names(self, cuts: list[int], counts: np.ndarray) -> list[str]:
        """"[lo, hi)" of each quantile bin ("[lo, hi]" for the last), in the column's terms;
        a bin of only -inf or only inf is named so."""
        low_inf, high_inf = counts[0] > 0, counts[NUM_BINS - 1] > 0
        # The edge of a bin is the lower edge of its first cell; the first bin starts at the
        # smallest value, the finite values at the smallest finite one.
        edges = [-math.inf if low_inf else self.lo]
        edges += [self.lo if b == 1 else self.edge_value(b) for b in cuts]
        edges.append(math.inf if high_inf else self.hi)
        texts = self._texts(edges)
        starts = [0, *cuts, NUM_BINS]
        names = []
        for i in range(len(cuts) + 1):
            if starts[i] == 0 and starts[i + 1] == 1:
                names.append("-inf")
            elif starts[i] == NUM_BINS - 1:
                names.append("inf")
            else:
                names.append(f"[{texts[i]}, {texts[i + 1]}{']' if i == len(cuts) else ')'}")
        return names

    def edge_value(self, b: int) -> float:
        """The lower edge of fine cell ``b``, as the smallest value a bin starting there can
        hold: rounded up to a whole number for integer columns, and to the column's unit
        of time (day, hour, minute or second) for time columns."""
        value = cell_edge(b, self._cell_axis)
        unit = 1.0 if self.integer else self.step if self.kind == "time" and 1 <= self.step < math.inf else None
        if unit is not None and math.isfinite(value):
            value = math.ceil(value / unit - 1e-9 * max(1.0, abs(value / unit))) * unit
        return value

    def _texts(self, values: list[float]) -> list[str]:
        """The values as text: dates and times, whole numbers in full, other numbers with
        enough digits to tell the edges apart (4 at least)."""
        if self.kind == "time":
            return [time_text(v, self.step) for v in values]
        if self.integer:
            return [str(int(v)) if math.isfinite(v) and abs(v) < 1e16 else f"{v:.4g}" for v in values]
        distinct = len(set(values))
        for digits in range(4, 18):
            texts = [f"{v:.{digits}g}" for v in values]
            if len(set(texts)) == distinct:
                break
        return texts


def quantile_cuts(counts: np.ndarray, parts: int) -> list[int]:
    """Fine-cell indices where quantile bins start (a row of cell ``b`` goes to the bin
    starting at the largest cut ``<= b``); cuts at or below the first occupied cell, or
    after the last one, are dropped, as are repeats."""
    total = counts.sum()
    occupied = np.flatnonzero(counts)
    if total <= 0 or occupied.size == 0:
        return []
    cum = np.cumsum(counts)
    cuts: list[int] = []
    for q in np.linspace(0, 1, parts + 1)[1:-1]:
        b = int(np.searchsorted(cum, q * total, side="left"))
        # Rows of the quantile's own cell start the next bin, as with exact quantiles
        # (x >= edge goes up).
        if occupied[0] < b <= occupied[-1] and (not cuts or b > cuts[-1]):
            cuts.append(b)
    return cuts


def grouped(table: np.ndarray, mapping: np.ndarray, size: int) -> np.ndarray:
    """Sum the cells of ``table[..., cell, ...]`` (cells on axis 1) into ``size`` slices."""
    onehot = np.zeros((mapping.size, size))
    onehot[np.arange(mapping.size), mapping] = 1.0
    return np.moveaxis(np.tensordot(table, onehot, axes=([1], [0])), -1, 1)
