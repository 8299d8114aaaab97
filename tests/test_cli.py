"""The command line: exit codes, error text, outputs, summary mode and the gate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

import erranalysis
from erranalysis.cli import cli

from conftest import multiclass_frame


def run(*args, reports=False):
    """Invoke the CLI; report files are skipped (--format none) unless ``reports``."""
    args = list(map(str, args))
    if args and args[0] == "report" and not reports and "-o" not in args and "--format" not in args:
        args += ["--format", "none"]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture
def preds_file(tmp_path):
    path = tmp_path / "preds.parquet"
    multiclass_frame(n_per_split=300).to_parquet(path)
    return path


def test_report_writes_json_and_prints_the_summary(preds_file, tmp_path):
    out = tmp_path / "out.json"
    res = run("report", preds_file, "--goal", "0.01", "--json", out)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == "1.0"
    assert doc["provenance"]["input"] == str(preds_file)
    assert doc["provenance"]["rows_by_split"] == {"train": 300, "train_val": 300, "val": 300, "test": 300}
    assert "Next step" in res.stdout and "Decomposition" in res.stdout
    assert f"JSON written to {out}" in res.stdout
    assert doc["headline"].split(".")[0] in res.stdout.replace("\n", " ").replace("│", " ")


def test_json_to_stdout(preds_file):
    res = run("report", preds_file, "--goal", "0.01", "--json", "-")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["decomposition"]["goal"] == 0.01


def test_quiet_prints_nothing(preds_file, tmp_path):
    res = run("report", preds_file, "--goal", "0.01", "--json", tmp_path / "o.json", "--quiet")
    assert res.exit_code == 0 and res.stdout == "" and res.stderr == ""


def test_fail_on_gate(preds_file):
    # The fixture model has material variance (train and held-out errors differ by chance or not);
    # gate on 'info' trips whenever any finding exists, and never without findings.
    r = erranalysis.analyze(preds_file, goal=0.01)
    res = run("report", preds_file, "--goal", "0.01", "--fail-on", "info", "--quiet")
    assert res.exit_code == (1 if r.findings else 0)
    res = run("report", "--goal", "0.01", "--train", "0.2", "--val", "0.27", "--test", "0.28", "--fail-on", "high")
    assert res.exit_code == 1
    assert res.stderr.startswith("Gate: 1 finding(s) at 'high' or worse trip --fail-on high:\n"
                                 "  high underfitting: Underfitting: train error is 19.0 pts above the goal\n")
    quiet = run("report", "--goal", "0.01", "--train", "0.2", "--val", "0.27", "--fail-on", "HIGH", "-q")
    assert quiet.exit_code == 1 and quiet.stdout == "" and quiet.stderr.startswith("Gate: ")
    res = run("report", "--goal", "0.3", "--train", "0.2", "--val", "0.21", "--fail-on", "high")
    assert res.exit_code == 0


def test_summary_mode(tmp_path):
    out = tmp_path / "s.json"
    res = run("report", "--goal", "0.01", "--train", "0.20", "--val", "0.27", "--test", "0.28", "--json", out)
    assert res.exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["decomposition"]["avoidable_bias"]["value"] == pytest.approx(0.19)
    assert doc["decomposition"]["variance"]["value"] == pytest.approx(0.07)
    assert doc["decomposition"]["val_overfitting"]["value"] == pytest.approx(0.01)
    assert doc["decomposition"]["distribution_shift"] is None
    assert doc["next_steps"][0]["problem"] == "underfitting"
    assert doc["next_steps"][0]["actions"][0].startswith("Make the model bigger")
    assert doc["errors"]["train"]["ci"] is None
    res = run("report", "--goal", "0.01", "--train", "0.20", "--val", "0.27", "--n-train", "1000", "--n-val", "500",
              "--json", out)
    doc = json.loads(out.read_text())
    assert doc["errors"]["train"]["n"] == 1000 and doc["errors"]["train"]["ci"][0] < 0.2


@pytest.mark.parametrize("args,stderr", [
    (["report", "missing.parquet", "--goal", "0.01"], "Error: missing.parquet: file not found.\n"),
    (["report", "{preds}", "--goal", "1.5"],
     "Error: --goal must be an error rate in [0, 1). Got 1.5 instead.\nHint: Give the goal as a fraction: 0.01 for 1%.\n"),
    (["report", "--goal", "0.01"], "Error: Give a predictions file, summary errors with "
     "--train/--train-val/--val/--test, or --history.\nHint: Example: erranalysis report preds.parquet --goal 0.01\n"),
    (["report", "{preds}", "--train", "0.2"],
     "Error: Give either a predictions file or summary errors (--train, --val, ...), not both.\n"),
    (["report", "{preds}", "--label-col", "target"], "Error: {preds}: column 'target' is missing. Columns: label, "
     "split, proba_0, proba_1, proba_2, region.\nHint: Use --label-col (label_col=) to name the column that holds "
     "the true class.\n"),
    (["report", "{preds}", "--json", "{preds}"],
     "Error: --json {preds} is an input file; it would be overwritten.\nHint: Pick another path for --json.\n"),
])
def test_errors_exit_2_with_one_line_and_a_hint(preds_file, args, stderr):
    before = preds_file.read_bytes()
    args = [a.replace("{preds}", str(preds_file)) for a in args]
    res = run(*args)
    assert res.exit_code == 2
    assert res.stderr == stderr.replace("{preds}", str(preds_file))
    assert "Traceback" not in res.output
    assert preds_file.read_bytes() == before


def test_bad_input_leaves_no_json(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"label": [0, 1], "proba_0": [0.5, 1.7], "proba_1": [0.5, -0.7]}).to_csv(bad, index=False)
    out = tmp_path / "out.json"
    res = run("report", bad, "--json", out)
    assert res.exit_code == 2
    assert res.stderr.startswith(f"Error: {bad}: column 'proba_0' must be within [0, 1]. Got 1.7 at row 1.\n")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.csv"]


def test_click_usage_errors_exit_2(preds_file):
    assert run("report", preds_file, "--metric", "f1").exit_code == 2
    assert run("report", preds_file, "--fail-on", "severe").exit_code == 2


def test_help_and_version():
    res = run("report", "--help")
    assert res.exit_code == 0
    assert "erranalysis report preds.parquet --goal 0.01" in res.stdout
    for flag in ("--json", "--fail-on", "--threshold", "--metric", "--label-col", "--pred-col", "--split-col",
                 "--score-col", "--proba-prefix", "--weight-col", "--positive-label", "--quiet", "--n-train"):
        assert flag in res.stdout
    res = run("--version")
    assert res.exit_code == 0 and res.stdout.strip() == f"erranalysis, version {erranalysis.__version__}"


def test_installed_console_script(preds_file, tmp_path):
    exe = shutil.which("erranalysis")
    if exe is None:
        pytest.skip("the erranalysis console script is not on PATH (package not installed)")
    out = tmp_path / "o.json"
    proc = subprocess.run([exe, "report", str(preds_file), "--goal", "0.01", "--format", "none", "--json", str(out)],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["errors"]["test"]["n"] == 300
    proc = subprocess.run([exe, "report", str(tmp_path / "nope.csv")], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().endswith("nope.csv: file not found.")
    proc = subprocess.run([sys.executable, "-m", "erranalysis", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and erranalysis.__version__ in proc.stdout


def test_the_process_ends_with_every_output_flushed(preds_file, tmp_path):
    # main() leaves without the interpreter's teardown: what it printed to a pipe, the
    # files it wrote and its exit code must all be complete.
    out = tmp_path / "o.json"
    cmd = [sys.executable, "-m", "erranalysis", "report", str(preds_file), "--goal", "0.01", "--format", "none",
           "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    assert "next step" in proc.stdout.lower()
    assert json.loads(out.read_text())["errors"]["test"]["n"] == 300
    proc = subprocess.run(cmd + ["--fail-on", "info"], capture_output=True, text=True)
    assert proc.returncode == 1


@pytest.mark.parametrize("raised,code,stderr", [(SystemExit(None), 0, ""), (SystemExit(2), 2, ""),
                                                 (SystemExit("stopped"), 1, "stopped\n")])
def test_main_passes_the_exit_code_on(monkeypatch, capsys, raised, code, stderr):
    import erranalysis.cli as cli_module

    class Exited(Exception):
        pass

    def fake_exit(value):
        raise Exited(value)

    def fake_cli(**kwargs):
        raise raised

    monkeypatch.setattr(cli_module, "cli", fake_cli)
    monkeypatch.setattr(cli_module.os, "_exit", fake_exit)
    monkeypatch.delitem(sys.modules, "pyspark", raising=False)
    with pytest.raises(Exited) as exited:
        cli_module.main()
    assert exited.value.args == (code,)
    assert capsys.readouterr().err == stderr


@pytest.mark.parametrize("args,stderr", [
    (["report", "x.csv", "--goal", "abc"], "Error: Invalid value for '--goal': 'abc' is not a valid float.\n"
     "Hint: Run 'erranalysis report --help' for the options.\n"),
    (["report", "--metric", "accuracy"], "Error: Invalid value for '--metric': 'accuracy' is not one of 'error', "
     "'balanced_error'.\nHint: Run 'erranalysis report --help' for the options.\n"),
    (["--bogus"], "Error: No such option '--bogus'.\nHint: Run 'erranalysis --help' for the options.\n"),
    (["report", "--goal", "0.01", "--val", "0.2", "--n-test", "500"],
     "Error: --n-test gives the rows of a split whose error is missing.\nHint: Add --test with that split's error.\n"),
    (["report", "--goal", "1", "--test", "0.2"],
     "Error: --goal must be an error rate in [0, 1). Got 1 instead.\nHint: Give the goal as a fraction: 0.01 for 1%.\n"),
])
def test_usage_errors_are_one_line_with_a_hint(args, stderr):
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2
    assert res.stderr == stderr


def test_named_columns_must_exist(preds_file):
    res = run("report", preds_file, "--split-col", "splt")
    assert res.exit_code == 2
    assert res.stderr.startswith(f"Error: {preds_file}: column 'splt' (--split-col) is missing. Columns: label, split,")
    res = run("report", preds_file, "--proba-prefix", "prob_")
    assert res.exit_code == 2 and "no column starts with 'prob_' (--proba-prefix)" in res.stderr


def test_internal_errors_exit_3_not_1(preds_file, monkeypatch):
    import erranalysis.analysis

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(erranalysis.analysis, "analyze", broken)
    res = run("report", preds_file)
    assert res.exit_code == 3
    assert res.stderr.startswith("Error: internal error: ZeroDivisionError: boom\nHint: this is a bug")


def test_outputs_get_the_usual_permissions(preds_file, tmp_path):
    out = tmp_path / "o.json"
    run("report", preds_file, "--json", out)
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
