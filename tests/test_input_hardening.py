"""Valid input that other readers stumble on: encodings, bytes, huge fields, pipes, label
dtypes, extreme weights, pandas index columns, and the same table in CSV and Parquet."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import erranalysis
from erranalysis import InputError
from erranalysis.io import read_table, validate_frame
from erranalysis.io.read import latin1_to_utf8

from conftest import multiclass_frame


def _doc(result) -> dict:
    doc = json.loads(result.to_json())
    for key in ("created", "input", "sha256", "command", "tool_version"):
        doc["provenance"].pop(key, None)
    return doc


def _cli(*args, stdin=None):
    """The command line in a process of its own when it reads a real pipe, else in this one."""
    if stdin is not None:
        return subprocess.run([sys.executable, "-m", "erranalysis", "report", *map(str, args)],
                              input=stdin, capture_output=True, text=True)
    from click.testing import CliRunner

    from erranalysis.cli import cli

    run = CliRunner().invoke(cli, ["report", *map(str, args)])
    run.returncode = run.exit_code
    return run


# ------------------------------------------------------------------------ text and bytes


def test_a_latin1_csv_reads_with_a_warning(tmp_path):
    frame = multiclass_frame(50)
    frame["city"] = np.resize(["Zürich", "Köln", "Genève", "Malmö"], len(frame))
    path = tmp_path / "latin1.csv"
    frame.to_csv(path, index=False, encoding="latin-1")
    result = erranalysis.analyze(path)
    assert any(w.code == "not_utf8" for w in result.warnings)
    table = read_table(path)
    assert sorted(table["city"].unique()) == ["Genève", "Köln", "Malmö", "Zürich"]
    assert _doc(result)["errors"] == _doc(erranalysis.analyze(frame))["errors"]


def test_a_latin1_csv_through_the_cli_exits_0(tmp_path):
    frame = multiclass_frame(30)
    frame["city"] = np.resize(["Zürich", "Köln"], len(frame))
    frame.to_csv(tmp_path / "p.csv", index=False, encoding="latin-1")
    run = _cli(tmp_path / "p.csv", "--format", "none", "-q", "--json", tmp_path / "out.json")
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "out.json").read_text())["errors"]


@pytest.mark.parametrize("streamed", [False, True])
def test_parquet_binary_columns_are_text(tmp_path, streamed):
    n = 120
    y = np.arange(n) % 2
    table = pa.table({
        "label": y, "pred": y,
        "utf8_bytes": pa.array([("é" if i % 2 else "a").encode() for i in range(n)], pa.binary()),
        "blob": pa.array([b"\xff\x00" + bytes([i % 7]) for i in range(n)], pa.binary()),
    })
    path = tmp_path / "b.parquet"
    pq.write_table(table, path)
    result = erranalysis.analyze(path if streamed else pd.read_parquet(path))
    assert result.provenance.columns["metadata"] == ["utf8_bytes", "blob"]
    if not streamed:
        frame = read_table(path)
        assert set(frame["utf8_bytes"]) == {"a", "é"}
        assert frame["blob"][0] == "ÿ\x00\x00"


def test_latin1_to_utf8_matches_python_decoding():
    values = [b"ab\xff", None, b"\xe9t\xe9", b"", bytes(range(256))]
    array = pa.array(values, pa.large_binary())[1:]  # a slice: offset buffers that do not start at 0
    assert latin1_to_utf8(array).to_pylist() == [None if v is None else v.decode("latin-1") for v in values[1:]]


def test_jsonl_that_is_not_utf8_reads_as_latin1(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"label":"Z\xfcrich","pred":"a"}\n{"label":"a","pred":"a"}\n' * 20)
    result = erranalysis.analyze(path)
    assert "Zürich" in result.confusion.labels
    assert any(w.code == "not_utf8" for w in result.warnings)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_fields_larger_than_a_read_block(tmp_path, fmt):
    frame = multiclass_frame(30)
    frame["note"] = "x"
    frame.loc[3, "note"] = "y" * 3_000_000
    path = tmp_path / f"big.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    assert len(read_table(path)) == len(frame)


def test_a_newline_inside_a_quoted_csv_field(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('label,pred,note\n0,0,"two\nlines"\n1,1,x\n0,1,y\n1,0,z\n')
    assert read_table(path)["note"].tolist() == ["two\nlines", "x", "y", "z"]


def test_empty_csv_text_is_missing_as_in_parquet(tmp_path):
    frame = multiclass_frame(60)
    frame["tag"] = np.where(np.arange(len(frame)) % 3 == 0, None, np.resize(["a", "b"], len(frame)))
    frame.to_csv(tmp_path / "p.csv", index=False)
    frame.to_parquet(tmp_path / "p.parquet")
    csv = erranalysis.analyze(tmp_path / "p.csv", goal=0.01)
    parquet = erranalysis.analyze(tmp_path / "p.parquet", goal=0.01)
    assert read_table(tmp_path / "p.csv")["tag"].isna().sum() == frame["tag"].isna().sum()
    assert _doc(csv) == _doc(parquet)


def test_a_quoted_empty_csv_field_is_an_empty_label_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('label,pred\na,a\n"",a\nb,b\n')
    with pytest.raises(InputError, match=r"column 'label' has a missing value at row 1"):
        erranalysis.analyze(path)


def test_csv_reads_from_a_pipe(tmp_path):
    frame = multiclass_frame(40)
    text = frame.to_csv(index=False)
    run = _cli("/dev/stdin", "--input-format", "csv", "--format", "none", "-q", "--json", tmp_path / "o.json",
               stdin=text)
    assert run.returncode == 0, run.stderr
    doc = json.loads((tmp_path / "o.json").read_text())
    assert doc["provenance"]["rows"] == len(frame)
    import hashlib

    assert doc["provenance"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------------ label dtypes


@pytest.mark.parametrize("dtype", ["object", "category", "Int64", "float64", "uint8"])
def test_numeric_labels_of_any_dtype_are_numbers(dtype):
    frame = multiclass_frame(60, k=12)
    reference = _doc(erranalysis.analyze(frame))
    frame["label"] = frame["label"].astype(dtype)
    got = _doc(erranalysis.analyze(frame))
    assert got["confusion"] == reference["confusion"]
    assert got["errors"] == reference["errors"]
    # 2 before 10: numeric order, not text order
    assert got["confusion"]["labels"][:3] == ["0", "1", "2"]


def test_object_labels_mixing_numbers_and_text_are_refused():
    frame = pd.DataFrame({"label": [1, "a", 1, "a"], "pred": ["1", "a", "a", "1"]})
    with pytest.raises(InputError, match="mixes value types"):
        validate_frame(frame)


@pytest.mark.parametrize("labels", [
    np.array([2.0 ** 63, 2.0 ** 63 + 4096, 2.0 ** 64] * 20),
    (np.uint64(2 ** 63) + np.array([0, 1, 2] * 20, dtype=np.uint64)),
    np.array([2 ** 64 + 1, 2 ** 64 + 2, -(2 ** 70)] * 20, dtype=object),
])
def test_labels_beyond_int64_stay_distinct(labels):
    frame = pd.DataFrame({"label": labels, "pred": labels})
    p = validate_frame(frame)
    assert p.n_classes == 3
    assert len(set(p.class_names)) == 3
    assert (p.pred == p.y).all()


# ------------------------------------------------------------------------ numbers


def test_probability_rows_summing_to_exactly_the_tolerance_are_accepted():
    frame = multiclass_frame(30)
    cols = ["proba_0", "proba_1", "proba_2"]
    for scale in (0.99, 1.01):
        f = frame.copy()
        f[cols] = f[cols].to_numpy() / f[cols].to_numpy().sum(axis=1, keepdims=True) * scale
        validate_frame(f)
    f = frame.copy()
    f[cols] = f[cols].to_numpy() * 0.985 / f[cols].to_numpy().sum(axis=1, keepdims=True)
    with pytest.raises(InputError, match=r"must sum to 1 in each row \(within 0.01\). Got 0.985 at row 0"):
        validate_frame(f)


@pytest.mark.parametrize("big", [1e160, 1e200, 1e308])
def test_huge_weights_give_finite_figures(big):
    frame = multiclass_frame(50)
    frame["weight"] = 1.0
    frame.loc[frame.index[frame["split"] == "train"][0], "weight"] = big
    result = erranalysis.analyze(frame)
    test = result.errors["test"]
    plain = erranalysis.analyze(frame.drop(columns="weight")).errors["test"]
    # the test split holds only unit weights: its figures are those of the unweighted table
    assert test.error == pytest.approx(plain.error)
    if big < 1e300:
        assert test.ci == pytest.approx(plain.ci)
    assert all(np.isfinite(e.ci).all() for e in result.errors.values())
    assert any(w.code == "weights_rescaled" for w in result.warnings)
    json.loads(result.to_json())


def test_weights_of_ordinary_size_are_not_rescaled():
    frame = multiclass_frame(50)
    frame["weight"] = np.resize([0.5, 2.0, 1e6], len(frame))
    p = validate_frame(frame)
    assert p.weight_scale == 1.0
    assert np.array_equal(p.weight, frame["weight"].to_numpy())


def test_scaled_weights_give_the_same_rates():
    frame = multiclass_frame(50)
    rng = np.random.default_rng(3)
    frame["weight"] = rng.random(len(frame))
    small = erranalysis.analyze(frame)
    frame["weight"] *= 1e200
    large = erranalysis.analyze(frame)
    for split, e in small.errors.items():
        assert large.errors[split].error == pytest.approx(e.error, rel=1e-12)
        assert large.errors[split].ci == pytest.approx(e.ci, rel=1e-9)


def test_a_large_weight_after_the_first_rows_streams_as_it_reads_in_memory(tmp_path):
    frame = multiclass_frame(400)  # 1,600 rows: the large weight is beyond the head
    frame["weight"] = 1.0
    frame.loc[len(frame) - 1, "weight"] = 1e200
    path = tmp_path / "w.parquet"
    frame.to_parquet(path, row_group_size=500)
    memory, streamed = erranalysis.analyze(frame), erranalysis.analyze(path)
    assert {s: e.error for s, e in streamed.errors.items()} == {s: e.error for s, e in memory.errors.items()}
    assert [w.code for w in streamed.warnings] == [w.code for w in memory.warnings]
    assert "weights_rescaled" in [w.code for w in streamed.warnings]


def test_binary_columns_decode_alike_in_every_batch(tmp_path):
    n = 3000
    y = np.arange(n) % 2
    city = [b"caf\xc3\xa9" if i % 3 else b"paris" for i in range(n)]
    city[-1] = b"lyon\xff"  # one value that is not UTF-8, in the last batch only
    path = tmp_path / "b.parquet"
    pq.write_table(pa.table({"label": y, "pred": y, "city": pa.array(city, pa.binary())}), path, row_group_size=500)
    from erranalysis import sources

    old = sources.BATCH_ROWS
    sources.BATCH_ROWS = 500
    try:
        streamed = erranalysis.analyze(path)
    finally:
        sources.BATCH_ROWS = old
    memory = erranalysis.analyze(read_table(path))
    names = lambda r: sorted(s.value for s in r.slices.slices if s.column == "city")  # noqa: E731
    assert names(streamed) == names(memory)
    assert "cafÃ©" in names(memory) and "café" not in names(streamed)


# ------------------------------------------------------------------------ columns and names


@pytest.mark.parametrize("streamed", [False, True])
def test_the_pandas_index_column_is_not_metadata(tmp_path, streamed):
    frame = multiclass_frame(50)
    frame.index = np.random.default_rng(0).permutation(len(frame))  # stored as __index_level_0__
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    assert "__index_level_0__" in pq.read_schema(path).names
    result = erranalysis.analyze(path if streamed else pa.Table.from_pandas(frame).to_pandas(ignore_metadata=True))
    assert result.provenance.columns["metadata"] == ["region"]


def test_a_newline_in_a_name_keeps_the_error_on_one_line():
    frame = pd.DataFrame({"label": [0, 1, 0, 1], "pred\nx": [0, 1, 0, 1]})
    with pytest.raises(InputError) as info:
        erranalysis.analyze(frame, pred_col="pred\nx\ny")
    assert "\n" not in info.value.message
    assert "pred\\nx" in info.value.message


def test_a_newline_in_a_class_keeps_the_cli_error_on_one_line(tmp_path):
    frame = pd.DataFrame({"label": ["a", "b", "a", "b"], "pred": ["a", "b\nc", "a", "b"]})
    frame.to_parquet(tmp_path / "p.parquet")
    run = _cli(tmp_path / "p.parquet", "--format", "none")
    assert run.returncode == 2
    lines = run.stderr.splitlines()
    assert lines[0].startswith("Error: ") and "'b\\nc'" in lines[0]
    assert len(lines) <= 2


def test_duplicate_column_names_are_a_one_line_error_before_anything_else():
    frame = pd.DataFrame([[0, 0, b"x"], [1, 1, b"y"]], columns=["label", "pred", "label"])
    with pytest.raises(InputError, match=r"column names must be unique. Got 'label' more than once"):
        erranalysis.analyze(frame)


def test_a_huge_loss_times_a_weight_is_an_infinite_mean_without_a_numpy_warning():
    import warnings

    frame = pd.DataFrame({"label": [0, 1, 0, 1], "pred": [0, 1, 1, 1], "loss": [1e308, 1, 1, 1],
                          "weight": [10.0, 1, 1, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = erranalysis.analyze(frame)
    json.loads(result.to_json())


def test_complex_metadata_is_left_out_with_a_warning():
    frame = multiclass_frame(30)
    frame["z"] = np.arange(len(frame)) * 1j
    result = erranalysis.analyze(frame)
    assert "z" not in result.provenance.columns["metadata"]
    assert any(w.code == "metadata_ignored" and "'z'" in w.message for w in result.warnings)


def test_validation_leaves_the_callers_frame_alone():
    frame = pd.DataFrame({0: [0, 1, 0, 1], 1: [0, 1, 1, 1]})
    validate_frame(frame, columns=erranalysis.io.Columns(label="0", pred="1"))
    assert list(frame.columns) == [0, 1]


def test_metadata_called_label_or_row_does_not_hide_those_fields():
    frame = multiclass_frame(60).rename(columns={"label": "y"})
    frame["label"] = "meta-label"
    frame["row"] = -7
    result = erranalysis.analyze(frame, label_col="y")
    rows = [r for split_rows in result.slices.top_losses.values() for r in split_rows]
    assert rows
    for r in rows:
        assert r["label"] in {"0", "1", "2"} and r["label (metadata)"] == "meta-label"
        assert r["row"] >= 0 and r["row (metadata)"] == -7


def test_the_head_of_a_dataset_with_small_row_groups_holds_a_thousand_rows(tmp_path):
    from erranalysis.sources import HEAD_ROWS, DatasetSource

    frame = multiclass_frame(400)
    frame.to_parquet(tmp_path / "p.parquet", row_group_size=128)
    head = DatasetSource(tmp_path / "p.parquet", batch_rows=128).head()
    assert len(head) == HEAD_ROWS
    assert head["region"].tolist() == frame["region"].iloc[:HEAD_ROWS].tolist()
