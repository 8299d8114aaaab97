"""Arrow and Polars tables as input: read in record batches, never through pandas whole,
with the same result as the pandas DataFrame of the same rows."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engines import _multiclass, compare, doc, prediction_tables

import erranalysis
import erranalysis.sources as sources
from erranalysis.io.read import table_kind
from erranalysis.errors import InputError, UsageError

pl = pytest.importorskip("polars", reason="Polars is an optional input format; install polars to test it")


def _forms(frame, tmp_path) -> dict:
    """The same rows as every kind of table ``analyze`` reads without pandas."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    parts = tmp_path / "parts"
    parts.mkdir(exist_ok=True)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_parquet(parts / f"part-{i}.parquet", index=False)
    return {
        "pyarrow Table": table,
        "pyarrow Table of small chunks": pa.Table.from_batches(table.to_batches(max_chunksize=37)),
        "pyarrow RecordBatch": table.combine_chunks().to_batches()[0],
        "pyarrow Dataset": ds.dataset(parts, format="parquet"),
        "polars DataFrame": pl.from_pandas(frame),
        "polars LazyFrame": pl.from_pandas(frame).lazy(),
    }


def _quiet_doc(data, **kwargs) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return doc(erranalysis.analyze(data, goal=0.01, **kwargs))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                HealthCheck.function_scoped_fixture])
@given(frame=prediction_tables(), batch=st.integers(min_value=50, max_value=400))
def test_every_table_kind_gives_the_pandas_result(tmp_path, frame, batch):
    pandas = _quiet_doc(frame)
    old = sources.BATCH_ROWS
    sources.BATCH_ROWS = batch  # several batches per pass
    try:
        for kind, table in _forms(frame, tmp_path).items():
            assert compare(pandas, _quiet_doc(table)) == [], kind
    finally:
        sources.BATCH_ROWS = old


def test_tables_are_named_in_the_provenance_and_read_in_batches(tmp_path, monkeypatch):
    frame = _multiclass(n=3000)
    monkeypatch.setattr(sources, "BATCH_ROWS", 700)
    batches = []
    real = sources.arrow_frame
    monkeypatch.setattr(sources, "arrow_frame", lambda batch, latin1=None: batches.append(batch.num_rows)
                        or real(batch, latin1))
    pandas = _quiet_doc(frame)
    for kind, table in _forms(frame, tmp_path).items():
        batches.clear()
        result = _quiet_doc(table)
        assert result["provenance"]["input"] == kind.removesuffix(" of small chunks")
        assert result["provenance"]["sha256"] is None
        assert compare(pandas, result) == [], kind
        assert max(batches) <= 1000 and sum(batches) >= 3000, kind  # the head, then batches of the pass


def test_a_lazy_query_is_run_by_polars(tmp_path):
    frame = _multiclass(n=4000)
    path = tmp_path / "preds.parquet"
    frame.to_parquet(path)
    lazy = pl.scan_parquet(path).filter(pl.col("device") != "tablet").with_columns(length=pl.col("length") * 2)
    expected = frame[frame["device"] != "tablet"].reset_index(drop=True).assign(length=lambda f: f["length"] * 2)
    assert compare(_quiet_doc(expected), _quiet_doc(lazy)) == []


def test_a_bad_value_names_the_table_and_its_row(monkeypatch):
    frame = _multiclass(n=3000)
    frame.loc[2345, "proba_1"] = 1.7
    monkeypatch.setattr(sources, "BATCH_ROWS", 1000)
    for table in (pa.Table.from_pandas(frame), pl.from_pandas(frame).lazy()):
        kind = table_kind(table)
        with pytest.raises(InputError, match=rf"^{kind}: column 'proba_1' must be within \[0, 1\]\. "
                                             r"Got 1\.7 at row 2345\.$"):
            erranalysis.analyze(table)


def test_an_empty_table_is_an_input_error():
    empty = pa.table({"label": pa.array([], pa.int64()), "pred": pa.array([], pa.int64())})
    with pytest.raises(InputError, match="^pyarrow Table: has no rows"):
        erranalysis.analyze(empty)
    with pytest.raises(InputError, match="^polars LazyFrame: has no rows"):
        erranalysis.analyze(pl.from_arrow(empty).lazy())


def test_a_previous_run_given_as_a_table_is_compared_row_by_row():
    frame = _multiclass(n=3000)
    old = frame.copy()
    old[[f"proba_{j}" for j in range(4)]] = old[[f"proba_{j}" for j in range(4)]].to_numpy()[:, [1, 0, 2, 3]]
    expected = _quiet_doc(frame, compare=old)["comparison"]
    got = _quiet_doc(pl.from_pandas(frame), compare=pa.Table.from_pandas(old))["comparison"]
    assert got["previous"] == "pyarrow Table"
    assert compare(expected, got, skip={"previous", "text"}) == []


def test_other_objects_are_refused_by_name():
    with pytest.raises(UsageError, match="a pyarrow Table or Dataset, or a mapping of columns. Got ndarray instead"):
        erranalysis.analyze(np.zeros((3, 2)))


def test_polars_is_not_imported_unless_given():
    code = ("import sys, pandas as pd, erranalysis; "
            "erranalysis.analyze(pd.DataFrame({'label': [0, 1, 1, 0], 'pred': [0, 1, 0, 0]})); "
            "print('polars' in sys.modules)")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
