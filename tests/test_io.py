"""The input layer: formats, columns, aliases, overrides, label types, and every bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import erranalysis
from erranalysis import InputError, UsageError
from erranalysis.io import Columns, read_table, validate_frame
from erranalysis.io.validate import SPLIT_ALIASES


def write(frame: pd.DataFrame, path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif fmt == "feather":
        frame.to_feather(path)


@pytest.mark.parametrize("fmt,suffix", [
    ("parquet", ".parquet"), ("csv", ".csv"), ("tsv", ".tsv"), ("jsonl", ".jsonl"), ("feather", ".feather"),
    ("csv", ".csv.gz"),
])
def test_every_format_gives_the_same_errors(tmp_path, frame3, fmt, suffix):
    path = tmp_path / f"preds{suffix}"
    write(frame3, path, fmt)
    from_file = erranalysis.analyze(path, goal=0.01)
    from_frame = erranalysis.analyze(frame3, goal=0.01)
    for split, e in from_frame.errors.items():
        assert from_file.errors[split].error == pytest.approx(e.error)
        assert from_file.errors[split].n == e.n
    assert from_file.provenance.sha256 and len(from_file.provenance.sha256) == 64


def test_split_aliases_map_to_the_four_splits():
    expected = {
        "training": "train", "train-val": "train_val", "trainval": "train_val", "train_dev": "train_val",
        "train-dev": "train_val", "validation": "val", "valid": "val", "dev": "val", "test_val": "val",
        "test-val": "val", "holdout": "test",
    }
    for alias, split in expected.items():
        assert SPLIT_ALIASES[alias] == split
    frame = pd.DataFrame({
        "label": [0, 1, 0, 1, 0, 1], "pred": [0, 1, 0, 0, 1, 1],
        "split": ["Training", "train-dev", " Validation ", "HOLDOUT", "dev", "trainval"],
    })
    p = validate_frame(frame)
    assert p.split.tolist() == [0, 1, 2, 3, 2, 1]


def test_no_split_column_means_every_row_is_test():
    frame = pd.DataFrame({"label": [0, 1, 1, 0], "pred": [0, 1, 0, 0]})
    r = erranalysis.analyze(frame)
    assert list(r.errors) == ["test"]
    assert r.errors["test"].error == 0.25
    assert r.decomposition.components["avoidable_bias"] is None
    assert "avoidable_bias" in r.decomposition.not_measurable


def test_column_overrides():
    frame = pd.DataFrame({
        "y": ["cat", "dog", "dog"], "yhat": ["cat", "cat", "dog"], "part": ["test"] * 3,
        "p_cat": [0.9, 0.6, 0.2], "p_dog": [0.1, 0.4, 0.8], "w": [1.0, 2.0, 1.0],
    })
    r = erranalysis.analyze(frame, label_col="y", pred_col="yhat", split_col="part", proba_prefix="p_",
                            weight_col="w")
    assert r.errors["test"].error == pytest.approx(2 / 4)
    assert r.provenance.columns["proba"] == ["p_cat", "p_dog"]


@pytest.mark.parametrize("labels,preds", [
    ([0, 1, 2, 2], [0, 1, 1, 2]),
    (["a", "b", "c", "c"], ["a", "b", "b", "c"]),
    ([True, False, True, True], [True, False, False, True]),
])
def test_label_types(labels, preds):
    r = erranalysis.analyze(pd.DataFrame({"label": labels, "pred": preds}))
    assert r.errors["test"].error == 0.25


def test_bool_labels_with_probability_columns():
    frame = pd.DataFrame({"label": [True, False, True], "proba_True": [0.8, 0.3, 0.4], "proba_False": [0.2, 0.7, 0.6]})
    p = validate_frame(frame)
    assert p.classes == (False, True)
    assert p.pred.tolist() == [1, 0, 0]


def test_binary_score_and_threshold_and_positive_label():
    frame = pd.DataFrame({"label": ["neg", "pos", "pos", "neg"], "score": [0.2, 0.7, 0.4, 0.6]})
    p = validate_frame(frame, positive_label="pos")
    assert p.pred.tolist() == [0, 1, 0, 1]
    p = validate_frame(frame, positive_label="pos", threshold=0.35)
    assert p.pred.tolist() == [0, 1, 1, 1]
    p = validate_frame(frame, positive_label="neg")
    # score is now P(neg): rows with score >= 0.5 are predicted 'neg'.
    assert [p.classes[c] for c in p.pred] == ["pos", "neg", "pos", "neg"]


def test_positive_label_guess_is_a_warning():
    frame = pd.DataFrame({"label": ["neg", "pos"], "score": [0.2, 0.7]})
    p = validate_frame(frame)
    assert [w.code for w in p.warnings] == ["positive_guessed"]


def test_weights_change_the_error():
    frame = pd.DataFrame({"label": [0, 1, 1, 0], "pred": [0, 1, 0, 0], "weight": [1.0, 1.0, 2.0, 0.0]})
    r = erranalysis.analyze(frame)
    assert r.errors["test"].error == pytest.approx(2 / 4)


def test_arrays_api():
    r = erranalysis.analyze(y_true=[0, 1, 2, 2], y_pred=[0, 1, 1, 2], split=["train", "train", "test", "test"])
    assert r.errors["train"].error == 0.0 and r.errors["test"].error == 0.5
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    r = erranalysis.analyze(y_true=[0, 1, 2, 2], proba=proba, classes=[0, 1, 2])
    assert r.errors["test"].error == 0.25


def test_warnings_for_pred_disagreeing_and_unseen_classes():
    frame = pd.DataFrame({
        "label": [0, 0, 1, 2], "pred": [1, 0, 1, 2], "split": ["train", "train", "train", "test"],
        "proba_0": [0.9, 0.8, 0.1, 0.1], "proba_1": [0.1, 0.1, 0.8, 0.1], "proba_2": [0.0, 0.1, 0.1, 0.8],
    })
    r = erranalysis.analyze(frame)
    codes = [w.code for w in r.warnings]
    assert codes == ["pred_disagrees_with_proba", "class_unseen_in_train"]
    assert "first at row 0" in r.warnings[0].message
    assert "'2'" in r.warnings[1].message
    assert [f.kind for f in r.findings if f.kind == "data_quality"] == ["data_quality", "data_quality"]


# ----------------------------------------------------------------------- bad input

BAD_FRAMES = [
    (pd.DataFrame({"y": [0, 1], "pred": [0, 1]}),
     {}, r"^x\.csv: column 'label' is missing\. Columns: y, pred\.$"),
    (pd.DataFrame({"label": [0, None, 1], "pred": [0, 1, 1]}),
     {}, r"^x\.csv: column 'label' has a missing value at row 1\.$"),
    (pd.DataFrame({"label": [0, 1, 1], "proba_0": [0.2, 1.7, 0.5], "proba_1": [0.8, -0.7, 0.5]}),
     {}, r"^x\.csv: column 'proba_0' must be within \[0, 1\]\. Got 1\.7 at row 1\.$"),
    (pd.DataFrame({"label": [0, 1, 2], "proba_0": [0.2, 0.5, 0.5], "proba_1": [0.8, 0.1, 0.2], "proba_2": [0, 0.1, 0.1]}),
     {}, r"^x\.csv: probability columns proba_\* must sum to 1 in each row \(within 0\.01\)\. Got 0\.7 at row 1\.$"),
    (pd.DataFrame({"label": [0, 1, 1], "pred": [0, 1, 7]}),
     {}, r"^x\.csv: column 'pred' holds the class 7 at row 2, which is neither a label nor a probability column"),
    (pd.DataFrame({"label": [0, 1], "pred": [0, 1], "split": ["train", "tset"]}),
     {}, r"^x\.csv: column 'split' has the unknown split 'tset' at row 1\. Accepted values: dev, holdout, "),
    (pd.DataFrame({"label": [0, 1], "score": [0.2, 1.5]}),
     {}, r"^x\.csv: column 'score' must be within \[0, 1\]\. Got 1\.5 at row 1\.$"),
    (pd.DataFrame({"label": [0, 1], "split": ["train", "test"]}),
     {}, r"^x\.csv: column 'pred' is missing and there are no probability columns"),
    (pd.DataFrame({"label": [0, 1, 2], "proba_0": [1.0, 0, 0], "proba_1": [0, 1.0, 0]}),
     {}, r"^x\.csv: the label '2' has no probability column 'proba_2'\.$"),
    (pd.DataFrame({"label": [0, 1], "pred": [0, 1], "weight": [1.0, -2.0]}),
     {}, r"^x\.csv: column 'weight' must be finite and non-negative\. Got -2\.0 at row 1\.$"),
    (pd.DataFrame({"label": [0.5, 1.0], "pred": [0, 1]}),
     {}, r"^x\.csv: column 'label' must hold classes \(int, string or bool\)\. Got the number 0\.5 at row 0\.$"),
    (pd.DataFrame({"label": [1, 1], "pred": [1, 1]}),
     {}, r"^x\.csv: column 'label' holds a single class"),
    (pd.DataFrame({"label": [0, 1, 2], "score": [0.1, 0.2, 0.3]}),
     {}, r"^x\.csv: column 'score' \(probability of the positive class\) needs a binary problem"),
    (pd.DataFrame({"label": [0, 1], "pred": [0, 1], "split": ["train", None]}),
     {}, r"^x\.csv: column 'split' has a missing value at row 1\.$"),
    (pd.DataFrame({"label": ["a", " ", "b"], "pred": ["a", "a", "b"]}),
     {}, r"^x\.csv: column 'label' has a missing value at row 1 \(an empty string\)\.$"),
    (pd.DataFrame({"label": [1, "1", 2], "pred": [1, 1, 2]}),
     {}, r"^x\.csv: column 'label' mixes value types \(int, str\); classes must all be of one type\.$"),
    (pd.DataFrame([[0, 0, 1], [1, 1, 0]], columns=["label", "pred", "label"]),
     {}, r"^x\.csv: column names must be unique\. Got 'label' more than once\.$"),
    (pd.DataFrame({"label": [0, 1, 0, 1], "pred": [0, 1, 0, 1], "split": ["train", "train", "test", "test"],
                   "weight": [1.0, 1.0, 0.0, 0.0]}),
     {}, r"^x\.csv: column 'weight' is zero on every row of the test split\.$"),
    (pd.DataFrame({"label": np.arange(3000), "pred": np.arange(3000)}),
     {}, r"^x\.csv: column 'label' has 3,000 distinct values, more than the 2,000 classes analysed"),
    (pd.DataFrame({"label": [0, 1], "pred": [0, 1], "id": [[1, 2], [3]]}),
     {}, r"^x\.csv: column 'id' must hold one scalar id per row\. Got \[1, 2\] at row 0\.$"),
    (pd.DataFrame({"label": [0, 1], "proba_0": [0.5, "x"], "proba_1": [0.5, 0.5]}),
     {}, r"^x\.csv: column 'proba_0' must be numeric\. Got 'x' at row 1\.$"),
]


@pytest.mark.parametrize("frame,kwargs,message", BAD_FRAMES)
def test_bad_frames_raise_one_line_errors(frame, kwargs, message):
    with pytest.raises(InputError, match=message) as info:
        validate_frame(frame, name="x.csv", **kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs,message", [
    ({"positive_label": "maybe"}, r"^--positive-label must be one of the classes \(0, 1\)\. Got 'maybe' instead\.$"),
    ({"threshold": 1.5}, r"^--threshold must be within \[0, 1\]\. Got 1\.5 instead\.$"),
])
def test_bad_options_raise_usage_errors(kwargs, message):
    with pytest.raises(UsageError, match=message):
        validate_frame(pd.DataFrame({"label": [0, 1], "score": [0.2, 0.9]}), **kwargs)


def test_goal_outside_unit_interval():
    with pytest.raises(UsageError, match=r"^goal must be an error rate in \[0, 1\)\. Got 1\.5 instead\.$"):
        erranalysis.analyze(pd.DataFrame({"label": [0, 1], "pred": [0, 1]}), goal=1.5)


def test_empty_missing_corrupt_and_truncated_files(tmp_path):
    with pytest.raises(InputError, match=r"nope\.parquet: file not found\.$"):
        read_table(tmp_path / "nope.parquet")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match=r"empty\.csv: file is empty\.$"):
        read_table(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("label,pred\n")
    with pytest.raises(InputError, match=r"header\.csv: has a header but no rows\.$"):
        read_table(header_only)
    good = tmp_path / "good.parquet"
    pd.DataFrame({"label": np.arange(1000) % 2, "pred": np.arange(1000) % 2}).to_parquet(good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"truncated\.parquet: cannot be read as parquet: "):
        read_table(truncated)
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1" + b"\x00garbage" * 50)
    with pytest.raises(InputError, match=r"corrupt\.parquet: cannot be read as parquet: "):
        read_table(corrupt)
    unknown = tmp_path / "preds.xlsx"
    unknown.write_text("x")
    with pytest.raises(InputError, match=r"preds\.xlsx: cannot tell the file format from its name"):
        read_table(unknown)


def test_columns_dataclass_defaults():
    c = Columns()
    assert (c.label, c.pred, c.split, c.score, c.proba_prefix) == ("label", "pred", "split", "score", "proba_")


def test_positive_class_is_the_class_one_not_the_second_index():
    p = validate_frame(pd.DataFrame({"label": [1, 2, 1], "score": [0.9, 0.2, 0.7]}))
    assert p.classes[p.positive] == 1 and [w.code for w in p.warnings] == []
    assert [p.classes[c] for c in p.pred] == [1, 2, 1]


def test_a_lookalike_split_column_is_a_warning():
    p = validate_frame(pd.DataFrame({"label": [0, 1], "pred": [0, 1], "Splits": ["train", "test"]}))
    assert p.warnings[0].code == "split_missing"
    assert "pass --split-col Splits" in p.warnings[0].message


def test_api_argument_types():
    frame = pd.DataFrame({"label": [0, 1], "score": [0.2, 0.9]})
    assert erranalysis.analyze(frame, goal=np.float32(0.25)).decomposition.goal == pytest.approx(0.25)
    with pytest.raises(UsageError, match=r"^goal must be a number within \[0, 1\]\. Got True instead\.$"):
        erranalysis.analyze(frame, goal=True)
    with pytest.raises(UsageError, match=r"^threshold must be a number within \[0, 1\]\. Got 'x' instead\.$"):
        erranalysis.analyze(frame, threshold="x")
    with pytest.raises(UsageError, match=r"^errors\['train'\] must be a number\. Got 'x' instead\.$"):
        erranalysis.analyze(errors={"train": "x"})
    with pytest.raises(UsageError, match=r"^data must map column names to columns of equal length"):
        erranalysis.analyze({"label": [0, 1], "pred": [0]})
    with pytest.raises(UsageError, match=r"^proba must hold numbers"):
        erranalysis.analyze(y_true=[0, 1], proba=["a", "b"])
    with pytest.raises(UsageError, match=r"^setting score_bins is out of range\. Got 0 instead\.$"):
        erranalysis.Settings().replace(score_bins=0)
