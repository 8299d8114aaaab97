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
#: Held-out rows (train_val, val and test together) kept in the row sample, for the
#: methods that need rows or fit a model: label errors, cohorts, the val/test side of the
#: domain classifier.
SAMPLE_ROWS = 100_000
#: Train rows kept in the row sample: the train side of the domain classifier (each side
#: is cut to this many, where the AUC's interval is about ±0.006 and the fit stays well
#: under a second).
TRAIN_SAMPLE_ROWS = 20_000

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S33 = np.uint64(33)


def present_splits(split: np.ndarray) -> np.ndarray:
    """The split codes that occur in ``split`` (faster than ``np.unique`` on small codes)."""
    return np.flatnonzero(np.bincount(split, minlength=1)) if split.size else np.empty(0, dtype=np.int64)


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
    if arr.dtype.kind == "M":
        # Times hash their seconds, not their text: pandas prints a batch of midnights
        # without the time, so the text of one time would depend on its batch.
        from .columns import time_values

        arr = time_values(pd.Series(arr, copy=False))
    if arr.dtype.kind in "biuf":
        bits = np.ascontiguousarray(arr, dtype=np.float64).view(np.uint64).copy()
        bits[np.isnan(arr.astype(np.float64, copy=False))] = np.uint64(0x7FF8000000000000)
        return fmix64(bits ^ _GOLDEN)
    missing = pd.isna(arr)
    text = pd.Series(arr, copy=False).astype(str).to_numpy(dtype=object)
    h = pd.util.hash_array(text, categorize=True)
    h[missing] = np.uint64(0)  # as a categorical's missing value
    return h


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
    """Up to ``capacity`` rows per group (``capacities`` overrides it per group), chosen
    by ``rank``, smallest first.

    ``columns`` maps a name to an array with one entry (or row) per kept row ("meta" is
    a DataFrame; "group" says which group a row counts against). The rank is the row key
    for a random sample, or minus the loss (ties broken by key) for the highest-loss rows.
    Offered rows wait in ``pending`` and are folded in only once they add up to twice the
    capacity; meanwhile the cutoff of each group is kept exact from the ranks alone.
    """

    capacity: int
    capacities: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)
    pending: list = field(default_factory=list)
    _ranks: dict = field(default_factory=dict)  # group -> the smallest ranks seen (at most its capacity)

    def cap(self, group: int) -> int:
        return self.capacities.get(group, self.capacity)

    @property
    def size(self) -> int:
        self.settle()
        return 0 if not self.columns else int(self.columns["rank"].shape[0])

    def cutoff(self, group: int):
        """Largest rank among the ``cap(group)`` smallest seen in the group (a row above
        it cannot enter); None while the group has room."""
        ranks = self._ranks.get(group)
        if ranks is None or ranks.size < self.cap(group):
            return None
        return ranks.max()

    def offer(self, columns: dict) -> None:
        self.pending.append(columns)
        group, rank = columns["group"], columns["rank"]
        for g in present_splits(group):
            g = int(g)
            pool = rank[group == g]
            if g in self._ranks:
                pool = np.concatenate([self._ranks[g], pool])
            cap = self.cap(g)
            if pool.size > cap:
                pool = np.partition(pool, cap - 1)[:cap]
            self._ranks[g] = pool
        if sum(p["rank"].shape[0] for p in self.pending) >= 2 * self._total_capacity():
            self.settle()

    def _total_capacity(self) -> int:
        groups = set(self._ranks) | set(self.capacities)
        return sum(self.cap(g) for g in groups) or self.capacity

    def settle(self) -> "RowSample":
        if not self.pending:
            return self
        parts = ([self.columns] if self.columns else []) + self.pending
        self.pending = []
        merged = parts[0] if len(parts) == 1 else {name: _concat([p[name] for p in parts]) for name in parts[0]}
        self.columns = _keep(merged, self.cap)
        return self

    def merge(self, other: "RowSample") -> "RowSample":
        out = RowSample(self.capacity, dict(self.capacities))
        for part in ([self.columns] if self.columns else []) + self.pending + \
                ([other.columns] if other.columns else []) + other.pending:
            out.offer(part)
        return out.settle()


def _concat(parts: list):
    if parts[0] is None:
        return None
    if isinstance(parts[0], pd.DataFrame):
        return pd.concat(parts, ignore_index=True)
    return np.concatenate(parts)


def _take(value, idx):
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return value.iloc[idx].reset_index(drop=True)
    return value[idx]


def _keep(columns: dict, cap) -> dict:
    """The ``cap(group)`` smallest ranks per group (ties by key, then row), sorted by group then rank."""
    rank, key, group, row = columns["rank"], columns["key"], columns["group"], columns["row"]
    kept = []
    for g in present_splits(group):
        capacity = cap(int(g))
        idx = np.flatnonzero(group == g)
        if idx.size > 2 * capacity:
            # Cut to the rows at or below the capacity-th rank first (every tie kept), then sort those.
            bound = np.partition(rank[idx], capacity - 1)[capacity - 1]
            idx = idx[rank[idx] <= bound]
        order = idx[np.lexsort((row[idx], key[idx], rank[idx]))]
        kept.append(order[:capacity])
    picked = np.concatenate(kept)
    return {name: _take(value, picked) for name, value in columns.items()}


def select_rows(columns: dict, idx: np.ndarray) -> dict:
    return {name: _take(value, idx) for name, value in columns.items()}


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort and a comparison: faster than a hash table here)."""
    a = np.sort(a)
    if a.size:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a


@dataclass
class DistinctSketch:
    """The ``capacity`` smallest distinct hashes per split (k-minimum values).

    ``full[s]`` says whether split ``s`` overflowed, i.e. its kept hashes are a sample
    of the hash space up to ``hashes[s][-1]``. New hashes wait in ``pending`` and are
    folded in when they add up to the capacity, so each is sorted only a few times.
    """

    capacity: int
    hashes: dict = field(default_factory=dict)  # split code -> sorted unique uint64
    full: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)  # split code -> rows seen (with repeats)
    pending: dict = field(default_factory=dict)  # split code -> [uint64 arrays]

    def add(self, h: np.ndarray, split: np.ndarray) -> None:
        for s in present_splits(split):
            s = int(s)
            mine = h[split == s]
            self.counts[s] = self.counts.get(s, 0) + int(mine.size)
            if self.full.get(s):
                mine = mine[mine <= self.hashes[s][-1]]
            waiting = self.pending.setdefault(s, [])
            waiting.append(mine)
            if sum(a.size for a in waiting) >= self.capacity:
                self._fold(s)

    def _fold(self, s: int) -> None:
        parts = self.pending.pop(s, [])
        if s in self.hashes:
            parts.append(self.hashes[s])
        merged = _sorted_unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)
        if merged.size > self.capacity:
            merged = merged[: self.capacity]
            self.full[s] = True
        self.hashes[s] = merged
        self.full.setdefault(s, False)

    def settle(self) -> "DistinctSketch":
        for s in list(self.pending):
            self._fold(s)
        return self

    def merge(self, other: "DistinctSketch") -> "DistinctSketch":
        self.settle()
        other.settle()
        out = DistinctSketch(self.capacity, dict(self.hashes), dict(self.full), dict(self.counts))
        for s, h in other.hashes.items():
            out.counts[s] = out.counts.get(s, 0) + other.counts.get(s, 0)
            out.full[s] = out.full.get(s, False) or other.full.get(s, False)
            out.pending[s] = [h]
            out._fold(s)
        return out

    def _limit(self, splits):
        """Hashes up to this limit (uint64) are complete for every split in ``splits``; None: all are."""
        self.settle()
        limit = None
        for s in splits:
            if self.full.get(s):
                top = self.hashes[s][-1]
                limit = top if limit is None else min(limit, top)
        return limit

    def distinct(self, s: int) -> tuple[float, bool]:
        """Distinct values of split ``s``: (count or estimate, exact?)."""
        self.settle()
        h = self.hashes.get(s)
        if h is None:
            return 0.0, True
        if not self.full.get(s):
            return float(h.size), True
        return (h.size - 1) / (float(h[-1]) / 2.0**64), False

    def shared(self, a: int, b: int) -> tuple[float, bool]:
        """Distinct values found in both splits: (count or estimate, exact?)."""
        limit = self._limit((a, b))
        if a not in self.hashes or b not in self.hashes:
            return 0.0, True
        ha, hb = self.hashes[a], self.hashes[b]
        if limit is not None:
            ha, hb = ha[ha <= limit], hb[hb <= limit]
        found = np.intersect1d(ha, hb, assume_unique=True).size
        if limit is None:
            return float(found), True
        return found / (float(limit) / 2.0**64), False
