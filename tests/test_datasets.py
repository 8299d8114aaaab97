"""Folders and globs of Parquet files: partition folders, files to skip, and files that
disagree with each other."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import erranalysis
from erranalysis.cli import cli
from erranalysis.errors import InputError

SPLITS = ["train", "val", "test"]


def table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y] += 1.5
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    frame = pd.DataFrame({"label": y, **{f"proba_{j}": p[:, j] for j in range(3)}})
    frame["split"] = rng.choice(SPLITS, n)
    frame["region"] = rng.choice(["north", "south"], n)
    frame["age"] = rng.integers(0, 90, n)
    return frame


def figures(result) -> dict:
    d = json.loads(result.to_json())
    return {"rows": d["provenance"]["rows"], "errors": d["errors"]}


def without_rows(value):
    if isinstance(value, dict):
        return {k: without_rows(v) for k, v in value.items() if k not in ("row", "locator")}
    if isinstance(value, list):
        return [without_rows(v) for v in value]
    return value


def write_parts(folder, frame: pd.DataFrame, n_parts: int = 3) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), n_parts)):
        frame.iloc[rows].to_parquet(folder / f"part-{i:05d}.parquet", index=False)


def test_hive_partition_folders_become_columns(tmp_path):
    """Spark's partitionBy("split") moves the split into folder names: it must still count."""
    frame = table()
    pq.write_to_dataset(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "ds", partition_cols=["split"])
    assert not any("split" in pq.read_schema(f).names for f in (tmp_path / "ds").rglob("*.parquet"))
    streamed = erranalysis.analyze(tmp_path / "ds", goal=0.01)
    assert figures(streamed)["errors"] == figures(erranalysis.analyze(frame, goal=0.01))["errors"]
    assert set(streamed.errors) == set(SPLITS)


def test_integer_partition_values_are_numbers(tmp_path):
    frame = table()
    frame["age"] = frame["age"] // 30
    pq.write_to_dataset(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "ds", partition_cols=["age"])
    streamed = erranalysis.analyze(tmp_path / "ds", goal=0.01)
    memory = erranalysis.analyze(frame, goal=0.01)
    assert figures(streamed) == figures(memory)
    assert streamed.provenance.columns["metadata"] == ["region", "age"]
    # The same slices and examples; only the row numbers differ, as the files hold the rows in another order.
    assert without_rows(json.loads(streamed.to_json())["slices"]) == without_rows(json.loads(memory.to_json())["slices"])


def test_spark_leftovers_and_hidden_files_are_skipped(tmp_path):
    frame = table()
    out = tmp_path / "out"
    write_parts(out, frame)
    (out / "_SUCCESS").write_bytes(b"")
    (out / "_temporary" / "0").mkdir(parents=True)
    shutil.copy(out / "part-00000.parquet", out / "_temporary" / "0" / "part-00000.parquet")
    shutil.copy(out / "part-00001.parquet", out / "._part-00001.parquet")
    (out / ".part-00000.parquet.crc").write_bytes(b"\x00\x01")
    whole = figures(erranalysis.analyze(frame, goal=0.01))
    assert figures(erranalysis.analyze(out, goal=0.01)) == whole
    assert figures(erranalysis.analyze(str(out / "*"), goal=0.01)) == whole


def test_an_empty_file_without_columns_is_skipped(tmp_path):
    frame = table()
    folder = tmp_path / "ds"
    write_parts(folder, frame, 2)
    pq.write_table(pa.table({}), folder / "part-0.parquet")  # sorts first
    assert figures(erranalysis.analyze(folder, goal=0.01)) == figures(erranalysis.analyze(frame, goal=0.01))


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="split"), r"part-00001\.parquet: has no column 'split', which .*part-00000\.parquet has"),
    (lambda f: f.drop(columns="region"), r"part-00001\.parquet: has no column 'region'"),
    (lambda f: f.assign(weight=1.0), r"part-00001\.parquet: has a column 'weight', which .*part-00000\.parquet does not"),
    (lambda f: f.assign(age=f["age"].map(lambda a: f"x{a}")),
     r"part-00001\.parquet: column 'age' is (string|large_string) here but int64 in .*part-00000\.parquet"),
    (lambda f: f.assign(label=f["label"].astype(str)), r"part-00001\.parquet: column 'label' is"),
])
def test_files_that_disagree_are_named(tmp_path, change, message):
    frame = table()
    folder = tmp_path / "ds"
    write_parts(folder, frame, 2)
    change(frame.iloc[300:]).to_parquet(folder / "part-00001.parquet", index=False)
    with pytest.raises(InputError, match=message):
        erranalysis.analyze(folder, goal=0.01)


def test_number_types_may_differ_between_files(tmp_path):
    """int64 in one file and float64 in another is the same column."""
    frame = table()
    folder = tmp_path / "ds"
    write_parts(folder, frame, 2)
    frame.iloc[300:].assign(age=lambda f: f["age"].astype(float)).to_parquet(folder / "part-00001.parquet")
    assert figures(erranalysis.analyze(folder, goal=0.01)) == figures(erranalysis.analyze(frame, goal=0.01))


def test_labels_that_are_not_classes_in_a_later_file(tmp_path):
    frame = table()[["label", "split"]].assign(pred=lambda f: (f["label"] + (np.arange(len(f)) % 5 == 0)) % 3)
    folder = tmp_path / "ds"
    write_parts(folder, frame, 2)
    frame.iloc[300:].assign(label=frame["label"].iloc[300:].astype(float).where(frame.index[300:] != 320, 0.5)) \
        .to_parquet(folder / "part-00001.parquet")
    with pytest.raises(InputError, match=r"'label'.*0\.5"):
        erranalysis.analyze(folder, goal=0.01)


def test_a_bad_value_names_its_file_and_row_in_that_file(tmp_path):
    frame = table()
    folder = tmp_path / "ds"
    write_parts(folder, frame, 3)
    bad = frame.iloc[200:400].copy()
    bad.iloc[33, bad.columns.get_loc("split")] = "oops"
    bad.to_parquet(folder / "part-00001.parquet", index=False)
    with pytest.raises(InputError, match=r"part-00001\.parquet: column 'split' has the unknown split 'oops' at row 33\b"):
        erranalysis.analyze(folder, goal=0.01)


def test_a_bad_value_in_the_head_names_the_first_file(tmp_path):
    frame = table()
    frame.loc[5, "proba_0"] = 2.0
    folder = tmp_path / "ds"
    write_parts(folder, frame, 2)
    with pytest.raises(InputError, match=r"part-00000\.parquet: column 'proba_0' .* at row 5\.$"):
        erranalysis.analyze(folder, goal=0.01)


def test_nested_metadata_is_left_out_with_a_warning(tmp_path):
    frame = table()
    t = pa.Table.from_pandas(frame, preserve_index=False)
    t = t.append_column("tags", pa.array([[i % 3, 1] for i in range(len(frame))]))
    t = t.append_column("box", pa.array([{"w": i, "h": 2} for i in range(len(frame))]))
    pq.write_table(t, tmp_path / "p.parquet")
    with pytest.warns(Warning, match="'tags', 'box' hold lists or records"):
        result = erranalysis.analyze(tmp_path / "p.parquet", goal=0.01)
    assert result.provenance.columns["metadata"] == ["region", "age"]
    assert [w.code for w in result.warnings if w.code == "metadata_ignored"] == ["metadata_ignored"]


def test_the_cli_reports_a_file_mismatch_in_one_line(tmp_path):
    frame = table()
    folder = tmp_path / "ds"
    write_parts(folder, frame, 2)
    frame.iloc[300:].drop(columns="split").to_parquet(folder / "part-00001.parquet", index=False)
    result = CliRunner().invoke(cli, ["report", str(folder), "--goal", "0.01", "--format", "none",
                                      "--json", str(tmp_path / "out.json")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "part-00001.parquet: has no column 'split'" in result.output
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("zero, message", [
    (lambda f: f["split"] == "val", r"ds: column 'weight' is zero on every row of the val split\."),
    (lambda f: f["split"] != "", r"ds: column 'weight' is zero in every row\."),
])
def test_weight_checks_cover_every_file(tmp_path, zero, message):
    """Batches are validated one by one; these checks need the sums of every file."""
    frame = table()
    frame["weight"] = np.where(zero(frame), 0.0, 1.0)
    write_parts(tmp_path / "ds", frame, 3)
    with pytest.raises(InputError, match=message):
        erranalysis.analyze(tmp_path / "ds", goal=0.01)
