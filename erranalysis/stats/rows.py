"""Row-level state that stays bounded however many rows stream past.

* :func:`row_keys` gives every row a 64-bit key hashed from its content (class codes,
  split, loss, id, metadata), so the same row gets the same key whichever engine reads
  it and in whatever order.
* :class:`RowSample` keeps the rows with the smallest keys (a deterministic
  reservoir: bottom-k by hash) or the largest losses (a bounded heap), per split.
  Two samples of disjoint rows merge into the sample of their union.
* :class:`DistinctSketch` keeps the smallest distinct hashes of a value per split
  (a k-minimum-values sketch): exact while a split has fewer distinct values than
  its capacity, a scaled estimate of overlaps beyond.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S33 = np.uint64(33)


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, in place on a uint64 array (returned)."""
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


def value_hashes(values) -> np.ndarray:
    """A uint64 hash per value, equal for equal values across batches and engines.

    Numbers hash their float64 bits (so 3 and 3.0 agree); everything else its text.
    Categorical columns hash their categories once and take by code.
    """
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, pd.CategoricalDtype):
            cats = values.cat.categories.astype(str).to_numpy(dtype=object)
            table = np.append(pd.util.hash_array(cats, categorize=False), np.uint64(0))
            codes = values.cat.codes.to_numpy()
            return table[np.where(codes < 0, cats.size, codes)]
        arr = values.to_numpy()
    else:
        arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        bits = np.ascontiguousarray(arr, dtype=np.float64).view(np.uint64).copy()
        bits[np.isnan(arr.astype(np.float64, copy=False))] = np.uint64(0x7FF8000000000000)
        return fmix64(bits ^ _GOLDEN)
    text = pd.Series(arr, copy=False).astype(str).to_numpy(dtype=object)
    return pd.util.hash_array(text, categorize=True)


def row_keys(y, pred, split, order_values=None, extra=None) -> np.ndarray:
    """Content key of each row: classes, split, the loss (or score), plus any ``extra`` hash."""
    h = (y.astype(np.uint64) << np.uint64(40)) ^ (pred.astype(np.uint64) << np.uint64(8)) ^ split.astype(np.uint64)
    h = fmix64(h + _GOLDEN)
    if order_values is not None:
        h ^= np.ascontiguousarray(order_values, dtype=np.float64).view(np.uint64)
        h = fmix64(h)
    if extra is not None:
        h ^= extra
        h = fmix64(h)
    return h


@dataclass
class RowSample:
    """Up to ``capacity`` rows per split, chosen by ``rank`` (smallest first).

    ``columns`` maps a name to an array with one entry (or row) per kept row; "meta"
    is a DataFrame. The rank is the row key for a random sample, or minus the loss
    (ties broken by key) for the highest-loss rows.
    """

    capacity: int
    columns: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return 0 if not self.columns else int(self.columns["rank"].shape[0])

    def cutoff(self, split_code: int):
        """Largest rank kept for ``split_code`` (a row must not exceed it to enter);
        None while there is room."""
        if not self.columns:
            return None
        mine = self.columns["rank"][self.columns["split"] == split_code]
        if mine.size < self.capacity:
            return None
        return mine.max()

    def merge(self, other: "RowSample") -> "RowSample":
        if not other.columns:
            return self
        if not self.columns:
            merged = other.columns
        else:
            merged = {name: _concat(self.columns[name], other.columns[name]) for name in self.columns}
        return RowSample(self.capacity, _keep(merged, self.capacity))


def _concat(a, b):
    if a is None:
        return None
    if isinstance(a, pd.DataFrame):
        return pd.concat([a, b], ignore_index=True)
    return np.concatenate([a, b])


def _take(value, idx):
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return value.iloc[idx].reset_index(drop=True)
    return value[idx]


def _keep(columns: dict, capacity: int) -> dict:
    """The ``capacity`` smallest ranks per split (ties by key), sorted by split then rank."""
    rank, key, split = columns["rank"], columns["key"], columns["split"]
    order = np.lexsort((columns["row"], key, rank, split))
    s_sorted = split[order]
    starts = np.searchsorted(s_sorted, s_sorted, side="left")
    within = np.arange(order.size) - starts
    kept = order[within < capacity]
    return {name: _take(value, kept) for name, value in columns.items()}


def select_rows(columns: dict, idx: np.ndarray) -> dict:
    return {name: _take(value, idx) for name, value in columns.items()}


@dataclass
class DistinctSketch:
    """The ``capacity`` smallest distinct hashes per split (k-minimum values).

    ``full[s]`` says whether split ``s`` overflowed, i.e. its kept hashes are a sample
    of the hash space below ``hashes[s].max()``.
    """

    capacity: int
    hashes: dict = field(default_factory=dict)  # split code -> sorted unique uint64
    full: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)  # split code -> rows seen (with repeats)

    def add(self, h: np.ndarray, split: np.ndarray) -> None:
        for s in np.unique(split):
            s = int(s)
            mine = h[split == s]
            self.counts[s] = self.counts.get(s, 0) + int(mine.size)
            kept = self.hashes.get(s)
            if kept is not None and self.full.get(s):
                mine = mine[mine < kept[-1]]
            merged = np.unique(mine) if kept is None else np.union1d(kept, mine)
            self._store(s, merged)

    def _store(self, s: int, merged: np.ndarray) -> None:
        if merged.size > self.capacity:
            merged = merged[: self.capacity]
            self.full[s] = True
        self.hashes[s] = merged
        self.full.setdefault(s, False)

    def merge(self, other: "DistinctSketch") -> "DistinctSketch":
        out = DistinctSketch(self.capacity, dict(self.hashes), dict(self.full), dict(self.counts))
        for s, h in other.hashes.items():
            out.counts[s] = out.counts.get(s, 0) + other.counts.get(s, 0)
            full = out.full.get(s, False) or other.full.get(s, False)
            merged = h if s not in out.hashes else np.union1d(out.hashes[s], h)
            out.full[s] = full
            out._store(s, merged)
        return out

    def _limit(self, splits):
        """Hashes up to this limit (uint64) are complete for every split in ``splits``; None: all are."""
        limit = None
        for s in splits:
            if self.full.get(s):
                top = self.hashes[s][-1]
                limit = top if limit is None else min(limit, top)
        return limit

    def distinct(self, s: int) -> tuple[float, bool]:
        """Distinct values of split ``s``: (count or estimate, exact?)."""
        h = self.hashes.get(s)
        if h is None:
            return 0.0, True
        if not self.full.get(s):
            return float(h.size), True
        return (h.size - 1) / (float(h[-1]) / 2.0**64), False

    def shared(self, a: int, b: int) -> tuple[float, bool]:
        """Distinct values found in both splits: (count or estimate, exact?)."""
        if a not in self.hashes or b not in self.hashes:
            return 0.0, True
        limit = self._limit((a, b))
        ha, hb = self.hashes[a], self.hashes[b]
        if limit is not None:
            ha, hb = ha[ha <= limit], hb[hb <= limit]
        found = np.intersect1d(ha, hb, assume_unique=True).size
        if limit is None:
            return float(found), True
        return found / (float(limit) / 2.0**64), False
