"""Every argument of analyze() is checked once, up front: a bad one raises a UsageError
that names the parameter, and the command line words the same check with its flag."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import erranalysis
from erranalysis import Columns, Settings, UsageError
from erranalysis.cli import cli, flag_wording

FRAME = pd.DataFrame({"label": [0, 1] * 20, "score": [0.2, 0.9] * 20})


@pytest.mark.parametrize("kwargs,parameter,message", [
    ({"goal": 1.5}, "goal", r"^goal must be an error rate in \[0, 1\)\. Got 1\.5 instead\.$"),
    ({"goal": -0.1}, "goal", r"^goal must be an error rate in \[0, 1\)\. Got -0\.1 instead\.$"),
    ({"goal": float("nan")}, "goal", r"^goal must be an error rate in \[0, 1\)\. Got nan instead\.$"),
    ({"goal": "0.1"}, "goal", r"^goal must be a number within \[0, 1\]\. Got '0\.1' instead\.$"),
    ({"goal": True}, "goal", r"^goal must be a number within \[0, 1\]\. Got True instead\.$"),
    ({"metric": "f1"}, "metric", r"^metric must be one of error, balanced_error\. Got 'f1' instead\.$"),
    ({"metric": None}, "metric", r"^metric must be one of error, balanced_error\. Got None instead\.$"),
    ({"threshold": 1.5}, "threshold", r"^threshold must be within \[0, 1\]\. Got 1\.5 instead\.$"),
    ({"threshold": "x"}, "threshold", r"^threshold must be a number within \[0, 1\]\. Got 'x' instead\.$"),
    ({"engine": "dask"}, "engine", r"^engine must be local or spark\. Got 'dask' instead\.$"),
    ({"input_format": "xlsx"}, "input_format",
     r"^input_format must be one of parquet, csv, tsv, jsonl, feather\. Got 'xlsx' instead\.$"),
    ({"num_classes": 1}, "num_classes", r"^num_classes must be a whole number of at least 2\. Got 1 instead\.$"),
    ({"num_classes": 2.5}, "num_classes", r"^num_classes must be a whole number of at least 2\. Got 2\.5 instead\.$"),
    ({"settings": {"confidence": 0.9}}, "settings", r"^settings must be a Settings\. Got dict instead\.$"),
    ({"columns": {"label": "y"}}, "columns", r"^columns must be a Columns\. Got dict instead\.$"),
    ({"label_column": "y"}, "label_column", r"^analyze\(\) got an unknown argument .label_column.\. "),
    ({"progress": 3}, "progress", r"^progress must be callable as progress\(stage, rows_done, rows_total\)\. "),
    ({"command": 3}, "command", r"^command must be a string\. Got int instead\.$"),
    ({"compare": [1, 2]}, "compare", r"^compare must be a path, a table \(pandas, Polars or Arrow\), a previous Result or its JSON dict\. "),
    ({"compare": {"errors": {}}}, "compare", r"^compare must be a path, a table \(pandas, Polars or Arrow\), a previous Result"),
    ({"y_true": [0, 1]}, "y_true", r"^Give either data or arrays \(y_true, \.\.\.\), not both\.$"),
    ({"history": FRAME, "history_x": 0}, "history_x", r"^history_x must be a column name \(a string\)\. "),
])
def test_each_argument_is_checked_with_its_name(kwargs, parameter, message):
    with pytest.raises(UsageError, match=message) as info:
        erranalysis.analyze(FRAME, **kwargs)
    assert info.value.parameter == parameter
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs,parameter,message", [
    ({"errors": {"train": 1.2}}, "errors['train']", r"^errors\['train'\] must be an error rate within \[0, 1\]\. "),
    ({"errors": {"val": "x"}}, "errors['val']", r"^errors\['val'\] must be a number\. Got 'x' instead\.$"),
    ({"errors": {"bogus": 0.1}}, "errors", r"^errors keys must be among train, train_val, val, test\. "),
    ({"errors": [0.1]}, "errors", r"^errors must be a mapping of split names to error rates\. Got list instead\.$"),
    ({"errors": {}}, "errors", r"^Give at least one error figure"),
    ({"errors": {"test": 0.1}, "n": {"test": 0}}, "n['test']", r"^n\['test'\] must be a positive row count\. Got 0 "),
    ({"errors": {"test": 0.1}, "n": {"test": "many"}}, "n['test']", r"^n\['test'\] must be a row count\. "),
    ({"errors": {"test": 0.1}, "n": {"tset": 10}}, "n", r"^n keys must be among train, train_val, val, test\. "),
    ({"errors": {"test": 0.1}, "n": 10}, "n", r"^n must be a mapping of split names to row counts\. Got int "),
    ({"errors": {"test": 0.1}, "goal": 2}, "goal", r"^goal must be an error rate in \[0, 1\)\. Got 2 instead\.$"),
    ({"errors": {"test": 0.1}, "threshold": -1}, "threshold", r"^threshold must be within \[0, 1\]\. "),
    ({"errors": {"test": 0.1}, "y_true": [0, 1]}, "errors", r"^Give either predictions or summary errors, not both"),
    ({}, "data", r"^analyze\(\) needs data \(a path or DataFrame\), y_true, errors, or history\.$"),
])
def test_summary_and_missing_inputs_are_checked_with_their_names(kwargs, parameter, message):
    with pytest.raises(UsageError, match=message) as info:
        erranalysis.analyze(**kwargs)
    assert info.value.parameter == parameter


def test_data_of_another_kind_names_data():
    with pytest.raises(UsageError, match=r"^data must be a path, a DataFrame \(pandas, Polars or Spark\), .* Got int instead\.$") as info:
        erranalysis.analyze(3)
    assert info.value.parameter == "data"


def test_checks_come_before_anything_is_read(tmp_path):
    with pytest.raises(UsageError) as info:
        erranalysis.analyze(tmp_path / "missing.parquet", goal=2.0)
    assert info.value.parameter == "goal"


def test_good_arguments_of_every_kind_are_accepted():
    seen = []
    result = erranalysis.analyze(FRAME.rename(columns={"label": "y"}), goal=np.float32(0.1), metric="balanced_error",
                                 threshold=np.float64(0.4), engine="local", settings=Settings(), columns=Columns(),
                                 label_col="y", progress=lambda *a: seen.append(a), command="x", num_classes=2)
    assert result.provenance.goal == pytest.approx(0.1) and result.provenance.metric == "balanced_error"
    assert result.thresholds[0].current_threshold == pytest.approx(0.4)
    assert seen


@pytest.mark.parametrize("message,parameter,worded", [
    ("goal must be an error rate in [0, 1). Got 2 instead.", "goal", "--goal must be an error rate"),
    ("errors['train_val'] must be a number. Got 'x' instead.", "errors['train_val']", "--train-val must be a number"),
    ("n['val'] must be a row count. Got 'x' instead.", "n['val']", "--n-val must be a row count"),
    ("label_col must be a string.", "label_col", "--label-col must be a string."),
    ("Give at least one error figure.", "errors", "Give at least one error figure."),
    ("settings must be a Settings.", "settings", "settings must be a Settings."),  # no flag sets it
])
def test_the_command_line_words_a_parameter_with_its_flag(message, parameter, worded):
    assert flag_wording(UsageError(message, parameter=parameter)).startswith(worded)


@pytest.fixture
def preds_file(tmp_path):
    path = tmp_path / "preds.csv"
    FRAME.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("args,stderr", [
    (["{preds}", "--goal", "1.5"], "Error: --goal must be an error rate in [0, 1). Got 1.5 instead.\n"
     "Hint: Give the goal as a fraction: 0.01 for 1%.\n"),
    (["{preds}", "--threshold", "1.5"], "Error: --threshold must be within [0, 1]. Got 1.5 instead.\n"),
    (["{preds}", "--num-classes", "1"], "Error: --num-classes must be a whole number of at least 2. Got 1 instead.\n"),
    (["--train", "1.2"], "Error: --train must be an error rate within [0, 1]. Got 1.2 instead.\n"),
    (["--train-val", "-0.5"], "Error: --train-val must be an error rate within [0, 1]. Got -0.5 instead.\n"),
    (["--val", "0.2", "--n-val", "0"], "Error: --n-val must be a positive row count. Got 0 instead.\n"),
    (["--test", "0.2", "--goal", "-1"], "Error: --goal must be an error rate in [0, 1). Got -1 instead.\n"
     "Hint: Give the goal as a fraction: 0.01 for 1%.\n"),
    (["--test", "0.2", "--compare", "{missing}"], "Error: --compare {missing}: no such file or folder.\n"),
])
def test_command_line_checks_exit_2_with_the_flag(preds_file, tmp_path, args, stderr):
    fill = {"{preds}": str(preds_file), "{missing}": str(tmp_path / "old.json")}
    args = [fill.get(a, a) for a in args]
    res = CliRunner().invoke(cli, ["report", *args, "--format", "none"])
    assert res.exit_code == 2
    expected = stderr
    for key, value in fill.items():
        expected = expected.replace(key, value)
    assert res.stderr == expected
    assert "Traceback" not in res.output


def test_fail_on_regression_needs_compare():
    res = CliRunner().invoke(cli, ["report", "--test", "0.2", "--fail-on-regression", "--format", "none"])
    assert res.exit_code == 2
    assert res.stderr == ("Error: --fail-on-regression needs --compare with the previous model's predictions "
                          "or JSON.\n")
