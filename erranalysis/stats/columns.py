"""Mergeable per-split counts of every metadata column.

Each metadata column keeps, per split and per cell, the rows and the errors (and their
weighted sums): a cell is a category of a text column, or a fine bin of a numeric one.
Slices (quantile bins, the most frequent categories), per-slice decompositions and
the per-feature shift tests are all read off these counts, so they cover every row
and come out the same whether the rows were in memory, streamed or spread over Spark.

Numeric cells are uniform in ``asinh(x / NUM_SCALE)``: about 0.4% wide relative to the
value for |x| from 1e-6 to 1e15 (finer in absolute terms near zero), so quantile
edges read off them are within half a percent of the exact ones, while every count
stays exact for the edges actually used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..io.validate import SPLITS

NUM_SCALE = 1e-6
NUM_T_MAX = 50.0
NUM_PER_UNIT = 256
#: Fine bins of a numeric column; the cell after them holds missing values.
NUM_BINS = int(2 * NUM_T_MAX * NUM_PER_UNIT)
#: A text column with more distinct values than this is an identifier, not a feature.
MAX_TRACKED = 10_000
#: Categorical columns with more values than this are cut to their most frequent ones.
MAX_CATEGORIES = 30
#: Numeric columns are cut into this many quantile bins.
NUMERIC_BINS = 5
MISSING = "(missing)"


def numeric_cells(x: np.ndarray) -> np.ndarray:
    """Fine cell of each value (int64); NaN goes to the missing cell ``NUM_BINS``."""
    with np.errstate(invalid="ignore", over="ignore"):
        t = np.arcsinh(x / NUM_SCALE)
        t += NUM_T_MAX
        t *= NUM_PER_UNIT
        np.floor(t, out=t)
        nan = np.isnan(t)
        np.clip(t, 0, NUM_BINS - 1, out=t)
        t[nan] = NUM_BINS
    return t.astype(np.int64)


def cell_edge(b: int) -> float:
    """The value at the lower edge of fine cell ``b``."""
    return float(NUM_SCALE * math.sinh(b / NUM_PER_UNIT - NUM_T_MAX))


def is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _intern(known: list, texts: list) -> np.ndarray:
    """The cell of each text in ``known``, appending the texts not yet there."""
    index = {v: i for i, v in enumerate(known)}
    cells = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        if text not in index:
            index[text] = len(known)
            known.append(text)
        cells[i] = index[text]
    return cells


@dataclass
class ColumnTable:
    """Rows (and errors) per split and cell of one metadata column."""

    name: str
    kind: str  # "numeric" | "categorical"
    integer: bool = False
    #: counts[split, cell, wrong]: rows; wsum the same weighted; w2sum[split, cell]: sum of w².
    counts: np.ndarray | None = None
    wsum: np.ndarray | None = None
    w2sum: np.ndarray | None = None
    values: list | None = None  # categorical: the text of each cell
    lo: float = math.inf
    hi: float = -math.inf
    dropped: bool = False

    @classmethod
    def start(cls, name: str, numeric: bool, integer: bool, weighted: bool) -> "ColumnTable":
        cells = NUM_BINS + 1 if numeric else 0
        s = len(SPLITS)
        return cls(
            name=name,
            kind="numeric" if numeric else "categorical",
            integer=integer,
            counts=np.zeros((s, cells, 2)),
            wsum=np.zeros((s, cells, 2)) if weighted else None,
            w2sum=np.zeros((s, cells)) if weighted else None,
            values=None if numeric else [],
        )

    @property
    def cells(self) -> int:
        return self.counts.shape[1]

    def add(self, values: pd.Series, split: np.ndarray, wrong: np.ndarray, weight: np.ndarray | None) -> None:
        if self.dropped:
            return
        if self.kind == "numeric":
            x = values.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = x[np.isfinite(x)]
            if finite.size:
                self.lo, self.hi = min(self.lo, float(finite.min())), max(self.hi, float(finite.max()))
            cell = numeric_cells(x)
        else:
            cell = self._category_cells(values)
            if cell is None:
                return
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
        self.counts = self.wsum = self.w2sum = None
        self.values = []

    def _grow(self, cells: int) -> None:
        if cells <= self.cells:
            return
        pad = cells - self.cells
        self.counts = np.pad(self.counts, ((0, 0), (0, pad), (0, 0)))
        if self.wsum is not None:
            self.wsum = np.pad(self.wsum, ((0, 0), (0, pad), (0, 0)))
            self.w2sum = np.pad(self.w2sum, ((0, 0), (0, pad)))

    def _count(self, cell, split, wrong, weight) -> None:
        s, c = self.counts.shape[:2]
        key = (split.astype(np.int64) * c + cell) * 2 + wrong
        size = s * c * 2
        self.counts += np.bincount(key, minlength=size).reshape(s, c, 2)
        if self.wsum is not None:
            self.wsum += np.bincount(key, weights=weight, minlength=size).reshape(s, c, 2)
            self.w2sum += np.bincount(key >> 1, weights=weight * weight, minlength=s * c).reshape(s, c)

    def merge(self, other: "ColumnTable") -> "ColumnTable":
        if self.dropped or other.dropped:
            out = ColumnTable(self.name, self.kind, self.integer)
            out.drop()
            return out
        out = ColumnTable(self.name, self.kind, self.integer, self.counts.copy(),
                          None if self.wsum is None else self.wsum.copy(),
                          None if self.w2sum is None else self.w2sum.copy(),
                          None if self.values is None else list(self.values),
                          min(self.lo, other.lo), max(self.hi, other.hi))
        if self.kind == "numeric":
            target = np.arange(other.cells)
        else:
            target = _intern(out.values, other.values)
            if len(out.values) > MAX_TRACKED:
                out.drop()
                return out
            out._grow(len(out.values))
        out.counts[:, target] += other.counts
        if out.wsum is not None:
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
        names = []
        bounds = [None, *cuts, None]
        for i in range(len(cuts) + 1):
            lo = self._num(self.lo) if bounds[i] is None else self._edge(bounds[i])
            hi = self._num(self.hi) + "]" if bounds[i + 1] is None else self._edge(bounds[i + 1]) + ")"
            names.append(f"[{lo}, {hi}")
        if total[NUM_BINS] > 0:
            mapping[NUM_BINS] = len(names)
            names.append(MISSING)
        else:
            mapping[NUM_BINS] = len(names) - 1  # unused
        return mapping, names

    def _edge(self, b: int) -> str:
        value = cell_edge(b)
        if self.integer:
            value = math.ceil(value - 1e-9 * max(1.0, abs(value)))
        return self._num(value)

    @staticmethod
    def _num(x: float) -> str:
        return f"{x:.4g}"


def quantile_cuts(counts: np.ndarray, parts: int) -> list[int]:
    """Fine-cell indices where quantile bins start (a row of cell ``b`` goes to the bin
    starting at the largest cut ``<= b``); cuts at or below the first occupied cell, or
    after the last one, are dropped, as are repeats."""
    total = counts.sum()
    occupied = np.flatnonzero(counts)
    if total <= 0 or occupied.size == 0:
        return []
    cum = np.cumsum(counts)
    cuts = []
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
