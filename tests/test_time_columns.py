"""Time-like metadata (years, unix seconds, datetimes, dates) keeps its resolution in
slices and shift tests, whatever the batching; infinite and huge numbers are values."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import erranalysis
import erranalysis.sources as sources
from erranalysis.stats.columns import ColumnTable, axis_for

DAY = 86_400
DATE = r"\d{4}-\d{2}-\d{2}"


def timed(n=6000, seed=0, first=1995, last=2020, cut=2015):
    """A table whose split follows time: train before ``cut``, test from it on, seen as a
    year, as unix seconds over 30 days, as datetimes over a few years and as dates."""
    rng = np.random.default_rng(seed)
    year = np.sort(rng.integers(first, last + 1, n))
    split = np.where(year < cut, "train", "test")
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y] += 2.0
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    start = 1_700_000_000
    span = last + 1 - first
    frame = pd.DataFrame({
        "label": y, "split": split, "year": year,
        "unix": start + ((year - first) * 30 * DAY // span).astype(np.int64) + rng.integers(0, 3600, n),
        "when": pd.to_datetime(start + (year - first) * 40 * DAY + rng.integers(0, DAY, n), unit="s"),
        "day": pd.to_datetime(year.astype(str) + "-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
    })
    for k in range(3):
        frame[f"proba_{k}"] = p[:, k]
    return frame


def shift_of(r, column):
    return next(f for f in r.slices.features if f.column == column)


def slice_count(r, column):
    return next((c["slices"] for c in r.slices.columns if c["column"] == column), 0)


def names_of(r, column):
    return [s.value for s in r.slices.slices if s.column == column]


def check_time_split(r, column):
    f = shift_of(r, column)
    assert f.moved and f.psi > 0.25, (column, f)
    assert slice_count(r, column) >= 4  # the five quantile bins, two at most merged by ties
    assert r.slices.domain_auc > 0.9


@pytest.mark.parametrize("years", [(1995, 2020, 2015), (2008, 2015, 2012)])
@pytest.mark.parametrize("column", ["year", "unix", "when", "day"])
def test_a_split_by_time_moves_its_time_column(column, years):
    frame = timed(first=years[0], last=years[1], cut=years[2])[["label", "split", column, "proba_0", "proba_1",
                                                              "proba_2"]]
    r = erranalysis.analyze(frame, goal=0.01)
    check_time_split(r, column)


def test_year_cells_are_finer_than_a_year_and_seconds_finer_than_a_day():
    for values, width in ((np.arange(1990, 2021), 1.0), (1.7e9 + np.arange(0, 30 * DAY, 3600.0), DAY)):
        axis = axis_for(values[:3].astype(float), time=False)  # anchored at the start, as a sorted file is
        table = ColumnTable.start("x", "numeric", False, False, axis)
        edges = np.array([table.edge_value(b) for b in range(1, table.cells - 2)])
        inside = (edges >= values.min()) & (edges <= values.max())
        assert np.diff(edges[inside]).max() < width / 4


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_datetimes_of_any_unit_and_zone_are_sliced_by_time(unit, tz):
    frame = timed()
    when = frame["when"].astype(f"datetime64[{unit}]")
    frame["when"] = when if tz is None else when.dt.tz_localize(tz)
    frame = frame.drop(columns=["year", "unix", "day"])
    r = erranalysis.analyze(frame, goal=0.01)
    check_time_split(r, "when")
    assert next(c for c in r.slices.columns if c["column"] == "when")["kind"] == "time"


def test_arrow_dates_read_from_parquet_are_time(tmp_path, monkeypatch):
    frame = timed()
    path = tmp_path / "dates.parquet"
    table = pa.Table.from_pandas(frame[["label", "split", "proba_0", "proba_1", "proba_2"]], preserve_index=False)
    table = table.append_column("day", pa.array(frame["day"].dt.date, type=pa.date32()))
    table = table.append_column("stamp", pa.array(frame["when"], type=pa.date64()))
    # Row groups of 1500 rows: the streamed head (a row group's first 1000 rows) is the
    # in-memory table's first 1000 rows, from which both fix their axes.
    pq.write_table(table, path, row_group_size=1500)
    monkeypatch.setattr(sources, "BATCH_ROWS", 700)
    memory_frame = pd.read_parquet(path)
    assert memory_frame["day"].dtype == object  # datetime.date objects, as pandas reads date32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streamed = erranalysis.analyze(path, goal=0.01)
        memory = erranalysis.analyze(memory_frame, goal=0.01)
    for r in (streamed, memory):
        check_time_split(r, "day")
        check_time_split(r, "stamp")
    assert json.loads(streamed.to_json())["slices"] == json.loads(memory.to_json())["slices"]


def test_slice_names_of_dates_read_as_dates():
    frame = timed(cut=2000)
    frame["label"] = np.where(frame["year"] >= 2016, (frame["label"] + 1) % 3, frame["label"])  # a weak period
    r = erranalysis.analyze(frame, goal=0.01)
    day = [s for s in r.slices.slices if s.column == "day"]
    assert day and all(re.fullmatch(rf"\[{DATE}, {DATE}[)\]]", s.value) for s in day), [s.value for s in day]
    when = [s.value for s in r.slices.slices if s.column == "when"]
    assert when and all(re.fullmatch(rf"\[{DATE} \d\d:\d\d(:\d\d)?, {DATE} \d\d:\d\d(:\d\d)?[)\]]", v)
                        for v in when), when
    assert all(re.fullmatch(r"\[\d{4}, \d{4}[)\]]", v) for v in names_of(r, "year")), names_of(r, "year")
    assert all(re.fullmatch(r"\[\d{10}, \d{10}[)\]]", v) for v in names_of(r, "unix")), names_of(r, "unix")
    weak = [f for f in r.findings if f.kind == "weak_slice"]
    assert weak and {f.evidence["column"] for f in weak} <= {"year", "unix", "when", "day"}
    assert all(re.fullmatch(rf"\[{DATE}, {DATE}[)\]]", f.evidence["value"]) for f in weak
               if f.evidence["column"] == "day")


def test_streamed_batches_give_the_in_memory_result_on_time_columns(tmp_path, monkeypatch):
    from test_engines import compare, doc

    frame = timed(n=5000, seed=4)
    frame["zoned"] = frame["when"].dt.tz_localize("UTC").dt.tz_convert("America/New_York")
    frame.loc[frame.index[::97], ["when", "zoned"]] = pd.NaT
    path = tmp_path / "timed.parquet"
    frame.to_parquet(path, row_group_size=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        memory = doc(erranalysis.analyze(frame, goal=0.01))  # a DataFrame is not read in batches
    for batch in (257, 4000):
        monkeypatch.setattr(sources, "BATCH_ROWS", batch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            streamed = doc(erranalysis.analyze(path, goal=0.01))
        assert compare(memory, streamed) == []


EXTREMES = {"inf": np.inf, "ninf": -np.inf, "big": 1e300, "f32": 3.5e38, "nbig": -1e300}


def test_infinite_and_huge_numbers_are_values(tmp_path):
    from test_slices import table

    frame = table(weak=True, shift=True)[0]
    for name, value in EXTREMES.items():  # one column per extreme value, in one table
        frame[f"age_{name}"] = frame["age"]
        frame.loc[frame.index[::5], f"age_{name}"] = value
    r = erranalysis.analyze(frame, goal=0.01)
    html = r.to_html()
    json.loads(r.to_json())
    for name, value in EXTREMES.items():
        column = f"age_{name}"
        assert column in html
        assert slice_count(r, column) > 1, column
        if np.isinf(value):
            assert any("inf" in s.value for s in r.slices.slices if s.column == column), column
    path = tmp_path / "inf.parquet"
    frame.to_parquet(path, row_group_size=1000)
    streamed = erranalysis.analyze(path, goal=0.01)
    assert [(s.column, s.value, s.n) for s in streamed.slices.slices] == \
        [(s.column, s.value, s.n) for s in r.slices.slices]


def test_tables_on_different_anchors_do_not_merge():
    a = ColumnTable.start("t", "numeric", False, False, axis_for(np.array([2000.0, 2010.0])))
    b = ColumnTable.start("t", "numeric", False, False, axis_for(np.array([1.7e9, 1.8e9])))
    with pytest.raises(ValueError, match="anchor"):
        a.merge(b)


@pytest.mark.parametrize("layout", ["frame", "folder"])
def test_a_table_sorted_by_year_keeps_year_resolution(tmp_path, layout):
    """The first rows all hold one year: the column is anchored there, not at zero."""
    rng = np.random.default_rng(5)
    n = 20_000
    year = np.sort(rng.integers(2000, 2008, n))
    y = rng.integers(0, 3, n)
    frame = pd.DataFrame({"label": y, "pred": np.where(rng.random(n) < 0.2, (y + 1) % 3, y),
                          "split": np.where(year < 2004, "train", np.where(year < 2006, "val", "test")),
                          "year": year})
    if layout == "folder":
        (tmp_path / "ds").mkdir()
        frame.iloc[:5].to_parquet(tmp_path / "ds" / "part-0.parquet")  # a first file of five rows
        frame.iloc[5:].to_parquet(tmp_path / "ds" / "part-1.parquet")
        r = erranalysis.analyze(tmp_path / "ds", goal=0.01)
    else:
        r = erranalysis.analyze(frame, goal=0.01)
    assert slice_count(r, "year") > 1
    assert [f.column for f in r.slices.features if f.moved] == ["year"]


def test_cohort_thresholds_of_large_numbers_keep_the_digits_that_tell_them_apart():
    from erranalysis.stats.slices import _threshold_text

    text = _threshold_text("numeric", 0.0, np.array([1.6e9, 1.6001e9]))
    assert text(1_600_050_000.5) != text(1_600_060_000.5)
    assert text(1_600_050_000.5).startswith("16000500")
    assert _threshold_text("numeric", 0.0, np.array([0.0, 80.0]))(45.25) == "45.25"
