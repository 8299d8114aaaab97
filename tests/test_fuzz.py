"""Fuzzing the public API and the command line with generated prediction tables.

Properties:

(a) every call either succeeds or raises one of the documented errors (InputError,
    UsageError) with a one-line message; the command line exits 0, 1 or 2, never 3,
    never with a traceback, and on exit 2 prints one "Error: ..." line (plus a hint);
(b) every result renders: to_json() is JSON, to_html() holds the headline, and the
    only warnings raised are DataWarning;
(c) a table read from CSV gives the same JSON document as the same table read from
    Parquet, provenance aside.

Tables follow the input contract unless a test breaks them on purpose, so a valid
table must always be analysed. The example counts are small for CI; for a longer
hunt run with ``ERRANALYSIS_FUZZ=hunt`` (and ``ERRANALYSIS_FUZZ_EXAMPLES=500``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from markupsafe import escape

import erranalysis
from erranalysis.cli import cli
from erranalysis.errors import DataWarning, ErranalysisError, InputError, UsageError

from fuzz_strategies import FORMATS, Problem, broken_problems, problems, write

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
# CI draws the same examples on every run (a failure there is reproducible, and never
# spends minutes shrinking a new random case); a hunt draws new ones and shrinks them.
settings.register_profile("erranalysis-fuzz-ci", max_examples=2, derandomize=True,
                          phases=[Phase.explicit, Phase.generate], **_COMMON)
settings.register_profile("erranalysis-fuzz-hunt",
                          max_examples=int(os.environ.get("ERRANALYSIS_FUZZ_EXAMPLES", "200")), **_COMMON)
PROFILE = settings.get_profile(
    "erranalysis-fuzz-hunt" if os.environ.get("ERRANALYSIS_FUZZ") == "hunt" else "erranalysis-fuzz-ci")


def scaled(factor: float) -> settings:
    """The profile with ``factor`` times its example count (PDF tests run fewer)."""
    return settings(PROFILE, max_examples=max(1, round(PROFILE.max_examples * factor)))


# ---------------------------------------------------------------------------- checks


def one_line(exc: ErranalysisError) -> None:
    message = str(exc)
    assert message.strip(), f"{type(exc).__name__} with an empty message"
    assert "\n" not in message and "\r" not in message, f"multi-line error: {message!r}"
    if exc.hint is not None:
        assert "\n" not in exc.hint, f"multi-line hint: {exc.hint!r}"


def analyze_checked(data, **kwargs):
    """analyze() with every warning recorded: a Result, or the documented error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = erranalysis.analyze(data, **kwargs)
        except (InputError, UsageError) as exc:
            one_line(exc)
            return None, exc
    others = [w for w in caught if not issubclass(w.category, DataWarning)]
    assert not others, "warnings other than DataWarning: " + "; ".join(
        f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in others)
    return result, None


def renders(result, tmp: Path | None = None, pdf: bool = False) -> dict:
    """Property (b): the JSON parses, the HTML holds the headline; DataWarning only."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = result.to_json()
        doc = json.loads(text)
        html = result.to_html()
        if pdf and tmp is not None:
            out = tmp / "fuzz.pdf"
            result.to_pdf(out)
            assert out.read_bytes()[:5] == b"%PDF-"
    others = [w for w in caught if not issubclass(w.category, DataWarning) and not third_party_deprecation(w)]
    assert not others, "warnings other than DataWarning while rendering: " + "; ".join(
        f"{w.category.__name__}: {w.message}" for w in others)
    assert doc["schema_version"] and doc["headline"] == result.headline
    assert isinstance(html, str) and html.lstrip().lower().startswith("<!doctype html")
    if result.next_steps:
        step = result.next_steps[0]
        for part in (step.why, step.actions[0]):
            assert str(escape(part)) in html, f"headline part missing from the HTML: {part!r}"
    else:
        assert str(escape(result.headline)) in html or "No material problem" in html
    return doc


def third_party_deprecation(w) -> bool:
    """WeasyPrint's notice about optional system libraries (not erranalysis's doing)."""
    return issubclass(w.category, DeprecationWarning) and "weasyprint" in str(w.filename).lower()


#: PDF rendering takes about a second: about one example in sixteen renders one.
sometimes_pdf = st.integers(0, 15).map(lambda i: i == 15)


# ---------------------------------------------------------------------------- (a) + (b): API


@scaled(3)
@given(problem=problems(), goal=st.sampled_from([None, 0.0, 0.01, 0.5, 0.999]),
       metric=st.sampled_from(["error", "balanced_error"]), pdf=sometimes_pdf)
def test_valid_frames_are_analysed_and_render(problem: Problem, goal, metric, pdf, tmp_path_factory):
    result, exc = analyze_checked(problem.frame, goal=goal, metric=metric)
    assert exc is None, f"a valid table was refused: {type(exc).__name__}: {exc}"
    renders(result, tmp_path_factory.mktemp("pdf"), pdf=pdf)


@scaled(3)
@given(case=broken_problems())
def test_broken_frames_give_a_documented_one_line_error(case):
    frame, how = case
    result, exc = analyze_checked(frame, goal=0.01)
    assert exc is not None, f"{how}: the broken table was accepted"


@scaled(1)
@given(goal=st.one_of(st.floats(allow_nan=True), st.sampled_from([-0.0, 1.0, 1.0000001, -1e-9, math.inf])),
       threshold=st.one_of(st.none(), st.floats(allow_nan=True)),
       metric=st.sampled_from(["error", "balanced_error", "Error", "", "accuracy"]))
def test_odd_arguments_give_a_documented_error(goal, threshold, metric):
    from conftest import multiclass_frame

    frame = multiclass_frame(20)
    frame = frame.assign(score=frame["proba_1"] / (frame["proba_1"] + frame["proba_0"]), label=frame["label"] % 2)
    frame = frame.drop(columns=["proba_0", "proba_1", "proba_2"])
    result, exc = analyze_checked(frame, goal=goal, threshold=threshold, metric=metric)
    if result is not None:
        renders(result)


# ---------------------------------------------------------------------------- (a) + (b): files


@scaled(3)
@given(problem=problems(), fmt=st.sampled_from(sorted(FORMATS)))
def test_every_file_format_is_analysed_and_renders(problem: Problem, fmt, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fmt")
    path = write(problem.frame, folder, fmt)
    result, exc = analyze_checked(str(path), goal=0.01)
    if fmt in ("parquet", "feather"):  # these keep every value and type of a valid table
        assert exc is None, f"a valid {fmt} file was refused: {type(exc).__name__}: {exc}"
    if result is not None:
        doc = renders(result)
        assert doc["provenance"]["sha256"]


# ---------------------------------------------------------------------------- (a): command line


def run_cli(args: list[str]):
    runner = CliRunner()
    result = runner.invoke(cli, args, catch_exceptions=True)
    stderr = result.stderr
    assert "Traceback" not in stderr and "Traceback" not in result.stdout, stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}") from result.exception
    assert result.exit_code != 3, f"internal error (exit 3): {stderr}"
    assert result.exit_code in (0, 1, 2), (result.exit_code, stderr)
    if result.exit_code == 2:
        lines = stderr.splitlines()
        assert lines and lines[0].startswith("Error: "), stderr
        assert all(line.startswith("Hint: ") for line in lines[1:]) and len(lines) <= 2, (
            f"the error is not one line (plus a hint): {stderr!r}")
    return result


@scaled(2)
@given(problem=problems(), fmt=st.sampled_from(sorted(FORMATS)), fail_on=st.sampled_from([None, "high", "info"]))
def test_command_line_on_valid_files(problem: Problem, fmt, fail_on, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    path = write(problem.frame, folder, fmt)
    out = folder / "out.json"
    args = ["report", str(path), "--goal", "0.01", "--format", "html", "--json", str(out), "-q"]
    if fail_on:
        args += ["--fail-on", fail_on]
    with contextlib.chdir(folder):  # default report names land in the current folder
        result = run_cli(args)
    if fail_on is None:
        assert result.exit_code != 1, result.stderr
    if fmt in ("parquet", "feather"):
        assert result.exit_code in (0, 1), f"a valid {fmt} file was refused: {result.stderr}"
    if result.exit_code in (0, 1):
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert doc["schema_version"]
        html = (folder / "preds.report.html").read_text(encoding="utf-8")
        assert "<html" in html.lower()
    else:
        assert not out.exists() and not (folder / "preds.report.html").exists(), "output written after an error"


@scaled(2)
@given(case=broken_problems(), fmt=st.sampled_from(["parquet", "csv", "jsonl", "feather"]))
def test_command_line_on_broken_files(case, fmt, tmp_path_factory):
    frame, how = case
    folder = tmp_path_factory.mktemp("clibad")
    try:
        path = write(frame, folder, fmt)
    except (ValueError, TypeError, OverflowError, ImportError):  # the writer refuses it; nothing to test
        return
    out = folder / "out.json"
    with contextlib.chdir(folder):
        result = run_cli(["report", str(path), "--format", "html", "--json", str(out), "-q"])
    if result.exit_code == 2:
        assert not out.exists() and not (folder / "preds.report.html").exists()


@scaled(1)
@given(data=st.binary(max_size=300), fmt=st.sampled_from(sorted(FORMATS)),
       cut=st.integers(0, 4000))
def test_command_line_on_corrupt_files(data, fmt, cut, tmp_path_factory):
    """Random bytes, and truncated real files, exit 2 with one line."""
    from conftest import multiclass_frame

    folder = tmp_path_factory.mktemp("corrupt")
    good = write(multiclass_frame(30), folder, fmt, stem="good")
    raw = good.read_bytes()
    bad = folder / f"bad{FORMATS[fmt]}"
    bad.write_bytes(raw[: cut % max(1, len(raw))] + data)
    result = run_cli(["report", str(bad), "--format", "none", "--json", str(folder / "o.json"), "-q"])
    assert result.exit_code in (0, 2)


# ---------------------------------------------------------------------------- (c): CSV = Parquet

SCRUB = ("input", "sha256", "created", "command")


def comparable(doc: dict, path: Path) -> dict:
    prov = doc["provenance"]
    for key in SCRUB:
        prov.pop(key, None)
    text = json.dumps(doc, sort_keys=True).replace(json.dumps(str(path))[1:-1], "<input>")
    return json.loads(text.replace(json.dumps(path.name)[1:-1], "<input>"))


def first_difference(a, b, where="$"):
    if type(a) is not type(b):
        return where, a, b
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{where}.{key}", a.get(key, "<absent>"), b.get(key, "<absent>")
            found = first_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where} (length)", len(a), len(b)
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return None
    if isinstance(a, float) and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300):
        return None  # summation order may differ between the streamed and in-memory readers
    return None if a == b else (where, a, b)


@scaled(2.5)
@given(problem=problems(roundtrip=True), text=st.sampled_from(["csv", "csv.gz"]))
def test_csv_and_parquet_give_the_same_json(problem: Problem, text, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rt")
    pq_path = write(problem.frame, folder, "parquet")
    csv_path = write(problem.frame, folder, text)
    from_pq, exc_pq = analyze_checked(str(pq_path), goal=0.01)
    from_csv, exc_csv = analyze_checked(str(csv_path), goal=0.01)
    assert exc_pq is None, f"valid Parquet refused: {exc_pq}"
    assert exc_csv is None, f"valid CSV refused: {exc_csv}"
    a = comparable(json.loads(from_pq.to_json()), pq_path)
    b = comparable(json.loads(from_csv.to_json()), csv_path)
    diff = first_difference(a, b)
    assert diff is None, "CSV and Parquet differ at {}: parquet={!r} csv={!r}".format(*diff)


# ---------------------------------------------------------------------------- targeted: slices


@scaled(1.5)
@given(size=st.integers(1, 200), all_wrong=st.booleans(), background=st.integers(20, 200),
       name=st.sampled_from(["[bold]x", "a[1]", "]", "<script>alert(1)</script>", "&amp;", "Ελληνικά", "中文",
                             "tab\tx", 'q"uote', "🙂"]),
       pdf=sometimes_pdf)
def test_slices_with_no_errors_or_only_errors_render(size, all_wrong, background, name, pdf, tmp_path_factory):
    """A metadata group of any size with 0% or 100% error (intervals at the edges)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(size * 1000 + background)
    y = rng.integers(0, 3, background + size)
    pred = np.where(rng.random(background + size) < 0.2, (y + 1) % 3, y)
    pred[background:] = (y[background:] + 1) % 3 if all_wrong else y[background:]
    group = np.where(np.arange(background + size) < background, "rest", name)
    frame = pd.DataFrame({"label": y, "pred": pred, name: group,
                          "split": rng.choice(["train", "val", "test"], background + size)})
    result, exc = analyze_checked(frame, goal=0.01)
    assert exc is None, f"valid table refused: {exc}"
    renders(result, tmp_path_factory.mktemp("slice"), pdf=pdf)
