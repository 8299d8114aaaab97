"""The pass's state is made whole from its layout, and refuses batches and partners of another layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from erranalysis.io.validate import validate_frame
from erranalysis.settings import Settings
from erranalysis.stats.accumulate import Accumulator, layout_for
from erranalysis.stats.columns import Axis, ColumnTable


def _frame(n: int, seed: int = 0, **extra) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    frame = pd.DataFrame({"label": rng.integers(0, 2, n), "score": score, "pred": (score >= 0.5).astype(int),
                          "split": np.where(np.arange(n) % 2, "train", "test")})
    return frame.assign(**extra)


def test_an_accumulator_starts_with_the_tables_samples_and_sketches_of_its_layout():
    n = 40
    preds = validate_frame(_frame(n, id=np.arange(n), city=["a", "b"] * (n // 2), age=np.arange(n) * 1.5))
    acc = Accumulator(layout_for(preds, Settings()))
    assert sorted(acc.tables) == ["age", "city"]
    assert acc.tables["city"].values == [] and acc.tables["city"].axis is None
    assert acc.tables["age"].axis == Axis()
    assert acc.ids is not None and acc.meta_rows is not None
    assert acc.sample.size == 0 and acc.top.size == 0

    acc.add(preds)
    merged = acc.merge(Accumulator(acc.layout))
    assert merged.n_rows == n and merged.sample.size == n
    assert merged.tables["city"].values == ["a", "b"]
    assert merged.sample_predictions(preds).n_rows == n


def test_an_accumulator_without_ids_or_metadata_keeps_no_sketches():
    acc = Accumulator(layout_for(validate_frame(_frame(10)), Settings()))
    assert acc.tables == {} and acc.ids is None and acc.meta_rows is None


def test_accumulators_of_different_layouts_refuse_to_merge():
    with_ids = Accumulator(layout_for(validate_frame(_frame(10, id=np.arange(10))), Settings()))
    without = Accumulator(layout_for(validate_frame(_frame(10)), Settings()))
    with pytest.raises(ValueError, match="accumulators must keep the same sketches to merge"):
        with_ids.merge(without)


def test_a_batch_with_ids_needs_a_layout_with_ids():
    acc = Accumulator(layout_for(validate_frame(_frame(10)), Settings()))
    with pytest.raises(ValueError, match="a batch with ids must be added to a pass whose layout has ids"):
        acc.add(validate_frame(_frame(10, id=np.arange(10))))


def test_a_batch_without_metadata_cannot_feed_a_pass_over_metadata():
    acc = Accumulator(layout_for(validate_frame(_frame(10, city=["a"] * 10)), Settings()))
    with pytest.raises(ValueError, match="a batch must have the metadata columns of its pass. Got none instead of 'city'"):
        acc.add(validate_frame(_frame(10)))


def test_a_dropped_table_keeps_no_cells_and_merges_dropped():
    table = ColumnTable.start("name", "categorical", False, True)
    table.drop()
    assert table.cells == 0 and table.wsum is None and table.w2sum is None and table.values == []
    other = ColumnTable.start("name", "categorical", False, True)
    other.add(pd.Series(["x", "y"]), np.array([0, 0]), np.array([0, 1]), np.array([1.0, 2.0]))
    merged = other.merge(table)
    assert merged.dropped and merged.cells == 0 and merged.slicing() is None


def test_a_categorical_table_has_no_cell_edges():
    table = ColumnTable.start("city", "categorical", False, False)
    with pytest.raises(ValueError, match="column 'city' must be numeric or time to have cells on an axis"):
        table.edge_value(5)
