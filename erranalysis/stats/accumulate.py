"""The state of one pass over the predictions, built batch by batch.

:class:`Accumulator` takes validated batches (:class:`Predictions` of any number of
rows) and keeps only mergeable, bounded state: the per-split aggregates, the
metadata tables, a deterministic sample of rows, the highest-loss rows and sketches of
ids and metadata rows. Accumulators of disjoint batches merge, so the in-memory
engine (one batch), the streaming engine (record batches of a Parquet dataset) and
Spark (one accumulator per partition) share every line of the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..io.validate import SPLITS, InputWarning, Predictions, unseen_class_warnings
from ..settings import Settings
from .aggregates import compute_aggregates, cross_entropy
from .columns import AXIS_ROWS, ColumnTable, axis_for, column_kind, numeric_values, time_values
from .rows import (SAMPLE_ROWS, TRAIN_SAMPLE_ROWS, DistinctSketch, RowSample, fmix64, present_splits, row_keys,
                   select_rows, value_hashes)

#: Cap on sampled probability cells (rows × classes): bounds memory with many classes.
SAMPLE_CELLS = 10_000_000
#: Sample group of the train rows; every held-out split together is group 1.
TRAIN_GROUP = 0
#: Highest-loss rows kept per split.
TOP_LOSSES = 10
#: Metadata columns shown with each example row.
SHOWN_META = 6
#: Distinct ids kept per split (32 MB) before shared ids become estimates.
ID_SKETCH_CAPACITY = 1 << 22
#: Distinct metadata rows kept per split before repeats from train become estimates.
SKETCH_CAPACITY = 1 << 18
#: Pseudo split of the metadata sketch holding val and test together.
HELD_OUT = 9


@dataclass
class Layout:
    """What every batch of one pass shares: decided before the first row is read."""

    n_classes: int
    score_bins: int
    calibration_bins: int
    weighted: bool
    has_proba: bool
    has_ids: bool
    meta: dict  # column -> (kind, integer, axis): see :func:`layout_for`

    @property
    def sample_rows(self) -> int:
        """Held-out rows kept in the sample (fewer with many classes, to bound the probabilities kept)."""
        cells_per_row = max(self.n_classes, 1)
        return max(1000, min(SAMPLE_ROWS, SAMPLE_CELLS // cells_per_row)) if self.has_proba else SAMPLE_ROWS


def layout_for(preds: Predictions, settings: Settings) -> Layout:
    """What the pass needs to know before its first row, from ``preds``: the whole table
    in memory, or the head of a streamed one.

    Each metadata column gets its kind ("numeric", "time" or "categorical"), whether it
    holds integers, and for numeric and time columns the :class:`~.columns.Axis` of its
    fine cells, taken from its first ``AXIS_ROWS`` rows. Every batch, thread and Spark
    partition of one pass counts on these axes; a file streamed with row groups of at
    least ``AXIS_ROWS`` rows gets the axes of the same table in memory (a Spark
    DataFrame's first rows are whichever its partitions return first).
    """
    meta = {}
    if preds.meta is not None:
        for col in preds.meta.columns:
            values = preds.meta[col]
            first = values.iloc[:AXIS_ROWS]
            kind = column_kind(first)
            axis = None
            if kind == "time":
                axis = axis_for(time_values(first))
            elif kind == "numeric":
                axis = axis_for(numeric_values(first), time=False)
            meta[col] = (kind, kind == "numeric" and pd.api.types.is_integer_dtype(values), axis)
    return Layout(
        n_classes=preds.n_classes,
        score_bins=settings.score_bins,
        calibration_bins=settings.calibration_bins,
        weighted=preds.weight is not None,
        has_proba=preds.proba is not None,
        has_ids=preds.ids is not None,
        meta=meta,
    )


@dataclass
class Accumulator:
    """The state of the rows added so far. The tables, samples and sketches are made
    empty from the layout when the accumulator is made: every accumulator of a pass
    keeps the same ones, so any two of them merge."""

    layout: Layout
    n_rows: int = 0
    aggs: dict = field(default_factory=dict)
    #: Metadata column -> its counts per split and cell.
    tables: dict[str, ColumnTable] = field(init=False)
    #: The deterministic sample of rows, and the highest-loss rows of each split.
    sample: RowSample = field(init=False)
    top: RowSample = field(init=False)
    #: Sketches of the ids and of the metadata rows; None when the layout has no ids, or
    #: fewer than two metadata columns.
    ids: DistinctSketch | None = field(init=False)
    meta_rows: DistinctSketch | None = field(init=False)
    #: code -> the warning over every row added so far (counts summed, first row the earliest).
    warnings: dict[str, InputWarning] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lay = self.layout
        self.sample = RowSample(lay.sample_rows, {TRAIN_GROUP: min(TRAIN_SAMPLE_ROWS, lay.sample_rows)})
        self.top = RowSample(TOP_LOSSES)
        self.ids = DistinctSketch(ID_SKETCH_CAPACITY) if lay.has_ids else None
        self.meta_rows = DistinctSketch(SKETCH_CAPACITY) if len(lay.meta) >= 2 else None
        self.tables = {
            col: ColumnTable.start(col, kind, integer, lay.weighted, axis)
            for col, (kind, integer, axis) in lay.meta.items()
        }

    # ------------------------------------------------------------------ adding

    def add(self, preds: Predictions, offset: int = 0, row_numbers: bool = True) -> None:
        """Fold one validated batch (rows ``offset`` .. ``offset + len``) into the state.

        ``row_numbers=False`` when rows have no global order (Spark partitions): kept
        rows then carry no row number.
        """
        if preds.n_rows == 0:
            return
        lay = self.layout
        self._add_warnings(preds, offset if row_numbers else None)
        loss = preds.loss
        if loss is None and preds.proba is not None:
            loss = cross_entropy(preds.proba, preds.y)
        batch = compute_aggregates(preds, lay.score_bins, lay.calibration_bins, per_row_loss=loss)
        for name, agg in batch.items():
            self.aggs[name] = agg if name not in self.aggs else self.aggs[name].merge(agg)
        self.n_rows += preds.n_rows

        split = preds.split.astype(np.int64)
        wrong = (preds.y != preds.pred).astype(np.int64)
        for col, table in self.tables.items():
            table.add(_meta_column(preds, col), split, wrong, preds.weight)

        extra = None
        meta_hash = None
        if preds.meta is not None and preds.meta.shape[1]:
            meta_hash = np.zeros(preds.n_rows, dtype=np.uint64)
            for col in preds.meta.columns:
                meta_hash ^= value_hashes(preds.meta[col])
                meta_hash = fmix64(meta_hash)
            extra = meta_hash.copy()
        id_hash = None
        if preds.ids is not None:
            id_hash = value_hashes(preds.ids)
            extra = id_hash.copy() if extra is None else extra ^ id_hash
            self._id_sketch().add(id_hash, split)
        # A layout with a sketch of metadata rows has two metadata columns or more, which
        # the tables above found in the batch: the batch's rows are hashed.
        if self.meta_rows is not None and meta_hash is not None:
            train = split == SPLITS.index("train")
            later = np.isin(split, [SPLITS.index("val"), SPLITS.index("test")])
            self.meta_rows.add(meta_hash[train], split[train])
            self.meta_rows.add(meta_hash[later], np.full(int(later.sum()), HELD_OUT))
        keys = row_keys(preds.y, preds.pred, split, loss, extra)
        rows = (np.arange(offset, offset + preds.n_rows, dtype=np.int64) if row_numbers
                else np.full(preds.n_rows, -1, dtype=np.int64))
        self._offer_sample(preds, keys, rows, loss)
        if loss is not None:
            self._offer_top(preds, keys, rows, loss)

    def _id_sketch(self) -> DistinctSketch:
        """The sketch the ids of a batch go to: kept when the pass's layout has ids."""
        if self.ids is None:
            raise ValueError("a batch with ids must be added to a pass whose layout has ids. "
                             "Got a layout without ids instead.")
        return self.ids

    def _payload(self, preds: Predictions, idx: np.ndarray, keys, rows, loss, rank, meta_cols) -> dict:
        split = preds.split[idx].astype(np.int64)
        out = {
            "rank": rank,
            "key": keys[idx],
            "group": split,
            "split": split,
            "row": rows[idx],
            "y": preds.y[idx],
            "pred": preds.pred[idx],
            "proba": None if preds.proba is None else preds.proba[idx],
            "weight": None if preds.weight is None else preds.weight[idx],
            "loss": None if loss is None else loss[idx],
            "id": None if preds.ids is None else preds.ids[idx].astype(object),
            "meta": None,
        }
        if preds.meta is not None and meta_cols:
            meta = preds.meta[meta_cols].iloc[idx].reset_index(drop=True)
            out["meta"] = meta.astype({c: object for c in meta.columns
                                       if isinstance(meta[c].dtype, pd.CategoricalDtype)})
        return out

    def _offer_sample(self, preds, keys, rows, loss) -> None:
        group = (preds.split != SPLITS.index("train")).astype(np.int64)
        keep = np.zeros(preds.n_rows, dtype=bool)
        for g in present_splits(group):
            mine = group == g
            cutoff = self.sample.cutoff(int(g))
            if cutoff is None:
                # Room left: the batch's own bottom-k is a superset of what enters.
                idx = np.flatnonzero(mine)
                cap = self.sample.cap(int(g))
                if idx.size > cap:
                    idx = idx[np.argpartition(keys[idx], cap - 1)[:cap]]
                keep[idx] = True
            else:
                keep |= mine & (keys <= cutoff)
        idx = np.flatnonzero(keep)
        if idx.size == 0:
            return
        payload = self._payload(preds, idx, keys, rows, loss, keys[idx], list(self.layout.meta))
        payload["group"] = group[idx]
        self.sample.offer(payload)

    def _offer_top(self, preds, keys, rows, loss) -> None:
        splits = present_splits(preds.split)
        # Once every split's heap is full, a row below the smallest kept loss of all the
        # splits cannot enter: one comparison leaves a handful of candidates.
        cuts = {int(s): self.top.cutoff(int(s)) for s in splits}
        if all(c is not None for c in cuts.values()):
            base = np.flatnonzero(loss >= -max(cuts.values()))
        else:
            base = np.arange(preds.n_rows)
        split = preds.split[base]
        picked = []
        for s in present_splits(split):
            idx = base[split == s]
            if cuts[int(s)] is not None:
                idx = idx[loss[idx] >= -cuts[int(s)]]
                if idx.size == 0:
                    continue
            neg = -loss[idx]
            k = min(TOP_LOSSES, idx.size)
            # Every row tied with the k-th loss stays a candidate: ties are broken by key.
            kth = np.partition(neg, k - 1)[k - 1]
            picked.append(idx[neg <= kth])
        if not picked:
            return
        idx = np.concatenate(picked)
        meta_cols = list(self.layout.meta)[:SHOWN_META]
        cand = self._payload(preds, idx, keys, rows, loss, -loss[idx], meta_cols)
        cand["proba"] = None
        self.top.offer(cand)

    def _add_warnings(self, preds: Predictions, offset: int | None) -> None:
        """Fold a batch's warnings in, its first rows counted from ``offset`` (None: rows
        without order, whose warnings name no row)."""
        for w in preds.warnings:
            if w.code == "class_unseen_in_train":
                continue  # decided on the whole table by input_warnings()
            w = w.without_row() if offset is None else w.shifted(offset)
            self.warnings[w.code] = self.warnings[w.code].merged(w) if w.code in self.warnings else w

    # ------------------------------------------------------------------ merging

    def merge(self, other: "Accumulator") -> "Accumulator":
        """The state of both accumulators' rows (disjoint batches of one table)."""
        out = Accumulator(self.layout, self.n_rows + other.n_rows)
        out.aggs = dict(self.aggs)
        for name, agg in other.aggs.items():
            out.aggs[name] = agg if name not in out.aggs else out.aggs[name].merge(agg)
        out.tables = {col: t.merge(other.tables[col]) for col, t in self.tables.items()}
        out.sample = self.sample.merge(other.sample)
        out.top = self.top.merge(other.top)
        out.ids = _merged_sketch(self.ids, other.ids)
        out.meta_rows = _merged_sketch(self.meta_rows, other.meta_rows)
        out.warnings = dict(self.warnings)
        for code, w in other.warnings.items():
            out.warnings[code] = out.warnings[code].merged(w) if code in out.warnings else w
        return out

    # ------------------------------------------------------------------ reading

    def input_warnings(self, classes: tuple) -> list[InputWarning]:
        """The warnings of the whole table, in the order they were first met."""
        # A warning that counts rows counts them among every row of the table.
        out = [w if w.rows is None else replace(w, rows=self.n_rows) for w in self.warnings.values()]
        out.extend(unseen_class_warnings({name: a.class_counts for name, a in self.aggs.items()}, classes))
        return out

    def sample_predictions(self, base: Predictions) -> Predictions:
        """The sampled rows as :class:`Predictions`, in key order (a random order)."""
        return _as_predictions(self.sample, base)

    def top_predictions(self, base: Predictions) -> Predictions:
        """The highest-loss rows of each split as :class:`Predictions`."""
        return _as_predictions(self.top, base)


def _meta_column(preds: Predictions, col: str) -> pd.Series:
    """Metadata column ``col`` of a batch: every batch of a pass has its layout's columns."""
    if preds.meta is None:
        raise ValueError(f"a batch must have the metadata columns of its pass. Got none instead of {col!r}.")
    return preds.meta[col]


def _merged_sketch(mine: DistinctSketch | None, theirs: DistinctSketch | None) -> DistinctSketch | None:
    """The sketch of both accumulators' rows; None when the layout keeps no such sketch."""
    if mine is None:
        return None
    if theirs is None:
        raise ValueError("accumulators must keep the same sketches to merge. Got one without a sketch instead.")
    return mine.merge(theirs)


def _as_predictions(sample: RowSample, base: Predictions) -> Predictions:
    cols = sample.settle().columns
    if not cols:
        empty = np.empty(0, dtype=np.int64)
        return Predictions(name=base.name, classes=base.classes, y=empty, pred=empty, split=empty.astype(np.int8),
                           positive=base.positive, threshold=base.threshold, columns_used=base.columns_used, rows=empty)
    # Every kept row carries every column of a payload (None for the ones the table lacks).
    kept = select_rows(cols, np.argsort(cols["key"], kind="stable"))
    return Predictions(
        name=base.name, classes=base.classes, y=kept["y"], pred=kept["pred"], split=kept["split"].astype(np.int8),
        proba=kept["proba"], weight=kept["weight"], loss=kept["loss"], ids=kept["id"], meta=kept["meta"],
        positive=base.positive, threshold=base.threshold, columns_used=base.columns_used, rows=kept["row"],
    )


