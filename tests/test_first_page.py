"""The first page and the shape of the report: the verdict, the plan, the sections that
have something to say, shares of the gap, page layout in A4 and letter, local paths."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import erranalysis
import scenarios
import shared
from erranalysis import report
from erranalysis.cli import cli
from erranalysis.verdict import gap_shares

from test_report import parse

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples" / "digits" / "predictions.parquet"
CAPTION = "From the goal to the test error, one bar per term"
#: The canonical summary-figures call of the README and the SPEC.
SUMMARY = {"train": 0.20, "val": 0.27, "test": 0.28}

#: A page other than the last with fewer than this many characters (spaces, the running
#: header and the footer left out) holds about three lines: leftovers stranded by a
#: forced break or by a block too large for the space left. Pages of figures still carry
#: their captions, axis labels and tables (the fewest seen on a page that is not the
#: last is about 360, a threshold-sweep page).
NEAR_EMPTY = 250


def invoke(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def digits():
    """The digits example analysed with goal 0.01 (DIGITS), shared with test_examples."""
    return shared.example("digits").result


# ------------------------------------------------------------------ the verdict


def test_verdict_of_the_digits_example(digits):
    v = digits.verdict
    assert v.status == "not_met" and v.split == "test" and v.goal == 0.01
    assert v.text == ("Test error 19.0% (95% interval 15.4% to 23.3%) against a goal of 1.0%: not met. "
                      "The gap comes mostly from distribution shift (9.2 pts, 51%) and variance (6.9 pts, 38%).")
    assert [s["term"] for s in v.sources] == ["distribution_shift", "variance"]


@pytest.mark.parametrize("errors,n,goal,status,text", [
    # The whole interval at or below the goal.
    ({"train": 0.001, "val": 0.002, "test": 0.003}, 10_000, 0.01, "met",
     "Test error 0.3% (95% interval 0.2% to 0.4%) against a goal of 1.0%: met."),
    # The interval spans the goal.
    ({"train": 0.005, "val": 0.009, "test": 0.011}, 1000, 0.01, "cannot_tell",
     "Test error 1.1% (95% interval 0.6% to 2.0%) against a goal of 1.0%: cannot tell yet, the interval spans "
     "the goal. No term of the decomposition is established as material, so the gap has no clear source yet."),
    # The whole interval above the goal; one material term.
    ({"train": 0.20, "val": 0.21, "test": 0.21}, 5000, 0.01, "not_met",
     "Test error 21.0% (95% interval 19.9% to 22.2%) against a goal of 1.0%: not met. The gap comes mostly "
     "from avoidable bias (19.0 pts, 95%)."),
    # No goal: the rise from train error instead.
    ({"train": 0.10, "val": 0.20, "test": 0.20}, 5000, None, "no_goal",
     "Test error 20.0% (95% interval 18.9% to 21.1%); no goal was given, so it is not judged against one "
     "(pass --goal, e.g. human-level error). The rise from train error comes mostly from variance "
     "(10.0 pts, 100%)."),
    # No row counts: no interval, and the text says why.
    (SUMMARY, None, 0.01, "not_met",
     "Test error 28.0% (no interval: the row count was not given) against a goal of 1.0%: not met. The gap "
     "comes mostly from avoidable bias (19.0 pts, 70%) and variance (7.0 pts, 26%)."),
])
def test_verdict_status_and_text(errors, n, goal, status, text):
    r = erranalysis.analyze(errors=errors, n=None if n is None else {s: n for s in errors}, goal=goal)
    assert (r.verdict.status, r.verdict.text) == (status, text)
    doc = json.loads(r.to_json())
    assert doc["verdict"]["status"] == status and doc["verdict"]["text"] == text
    assert set(doc["verdict"]) == {"split", "error", "ci", "goal", "status", "text", "sources"}


def test_verdict_without_a_train_split_names_what_it_cannot_split():
    r = erranalysis.analyze(errors={"val": 0.27, "test": 0.28}, n={"val": 1000, "test": 1000}, goal=0.01)
    assert r.verdict.text.endswith("The 26.0 pts (96%) from the goal to val error cannot be split without a "
                                   "train split.")


def test_no_verdict_without_an_error_figure(tmp_path):
    hist = tmp_path / "h.csv"
    hist.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{1 / (i + 1):.4f},{1.1 / (i + 1):.4f}\n"
                                                       for i in range(20)))
    r = erranalysis.analyze(history=hist)
    assert r.verdict is None and json.loads(r.to_json())["verdict"] is None
    assert 'class="verdict' not in r.to_html()


def test_verdict_in_the_json_the_summary_and_the_report(tmp_path, digits):
    res = invoke("report", DIGITS, "--goal", "0.01", "--json", tmp_path / "r.json", "-o", tmp_path / "r.html")
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["verdict"]["text"] == digits.verdict.text
    assert doc["verdict"]["ci"] == pytest.approx(list(digits.errors["test"].ci))
    assert digits.verdict.text in flat(res.stdout.replace("│", " "))
    page = parse((tmp_path / "r.html").read_text())
    # Right under the headline step, before the chart.
    assert page.joined.index(digits.next_steps[0].actions[0]) < page.joined.index(digits.verdict.text) \
        < page.joined.index(CAPTION)


# ------------------------------------------------------------- shares of the gap


def share_column(html: str) -> list[int]:
    table = re.search(r'<table class="numbers terms">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r"<tr class=\"verdict-[^\"]*\">(.*?)</tr>", table, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[4] for row in rows]
    return [int(c.rstrip("%")) for c in cells if c]


@pytest.mark.parametrize("errors,goal", [
    ({"train": 0.05, "train_val": 0.03, "val": 0.10, "test": 0.12}, 0.01),  # variance below zero
    ({"train": 0.021, "train_val": 0.087, "val": 0.135, "test": 0.142}, 0.01),
    ({"val": 0.27, "test": 0.28}, 0.01),  # no train split: the stretch from the goal is its own row
    ({"train": 0.10, "train_val": 0.09, "val": 0.20, "test": 0.18}, None),
])
def test_shares_of_the_gap_add_up_to_100(errors, goal):
    r = erranalysis.analyze(errors=errors, n={s: 2000 for s in errors}, goal=goal)
    shares = gap_shares(r.decomposition)
    assert sum(s["percent"] for s in shares) == 100
    assert sum(s["share"] for s in shares) == pytest.approx(1.0)
    shown = share_column(r.to_html())
    assert sum(shown) == 100 and len(shown) == len(shares)
    negative = [s for s in shares if s["value"] < 0]
    assert [p for p in shown if p < 0] == [s["percent"] for s in negative]


@pytest.mark.parametrize("test_error", [2.2e-311, 1e-13])
def test_a_gap_of_rounding_residue_has_no_shares(test_error):
    # A test error a hair above a goal of 0 leaves a gap of floating-point residue:
    # dividing the terms by it would overflow (or give meaningless shares).
    r = erranalysis.analyze(errors={"train": 0.0, "test": test_error}, goal=0.0)
    assert gap_shares(r.decomposition) == []
    r.to_html()


def test_the_digits_example_shares_add_up_to_100(digits):
    assert share_column(digits.to_html()) == [3, 38, 51, 8]


# ------------------------------------------------------- sections and not checked


def test_no_history_means_no_history_section_but_a_not_checked_line(digits):
    html = digits.to_html()
    page = parse(html)
    assert "training-history" not in page.sections
    assert re.search(r"Not checked .*Training history\s*: pass --history", page.joined)
    assert "Which hyperparameters matter" not in page.joined
    toc = re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)
    assert re.findall(r'href="#([^"]+)"', toc) == page.sections


def test_a_history_brings_its_section_and_the_tuning_table():
    # examples/digits_mlp/predictions.parquet with its history.csv, goal 0.01
    r = shared.example("digits_mlp").result
    assert r.provenance.history and r.history is not None
    page = parse(r.to_html())
    assert "training-history" in page.sections
    assert "Which hyperparameters matter" in page.joined
    assert not re.search(r"Training history\s*: pass --history", page.joined)


def test_contents_follow_the_first_page_and_are_compact(digits):
    html = digits.to_html()
    assert html.index('<section id="plan">') < html.index('<nav class="toc"') < html.index('<section id="errors">')
    css = (report.templates_dir() / "report.css").read_text()
    assert re.search(r"nav\.toc ol \{[^}]*columns: 3", css)


def test_printed_contents_break_their_columns_where_balancing_would(digits):
    # pdf.css fills the columns in order and breaks them after the marked entries
    toc = re.search(r'<nav class="toc".*?</nav>', digits.to_html(), re.S).group(0)
    assert '<ol class="marked-columns">' in toc
    marks = re.findall(r"<li( class=\"column-end\")?>", toc)
    rows = -(-len(marks) // report.CONTENTS_COLUMNS)
    assert [i for i, mark in enumerate(marks, 1) if mark] == [rows, 2 * rows]


def test_the_plan_links_every_step(digits):
    html = digits.to_html()
    for i, step in enumerate(digits.next_steps, 1):
        assert f'<a href="#step-{i}">{step.name}</a>' in html
        assert f'id="step-{i}"' in html


@pytest.mark.parametrize("n", [None, 1000])
def test_summary_figures_claim_only_what_they_can_back(n):
    r = erranalysis.analyze(errors=SUMMARY, n=None if n is None else {s: n for s in SUMMARY}, goal=0.01)
    page = parse(r.to_html())
    text = page.joined
    for claim in ("passed every check", "no leakage", "near-zero recall", "need a predictions file",
                  "needs a predictions file", "Which hyperparameters matter"):
        assert claim not in text
    assert "Could not check" in text
    for what in ("per-class metrics", "confusion", "calibration", "slices", "leakage between splits"):
        assert what in text.split("Could not check")[1]
    hint = "pass --n-train, --n-val, --n-test (n= in Python)"
    assert (hint in text) == (n is None)
    assert "all-findings" not in page.sections  # every finding already leads a step


def test_decomposition_terms_do_not_wrap_inside_words():
    css = (report.templates_dir() / "report.css").read_text()
    assert re.search(r"table\.terms td\.term[^{]*\{[^}]*white-space: nowrap", css)


# ------------------------------------------------------------------ local paths


def test_no_absolute_local_path_in_the_report(tmp_path, monkeypatch):
    data = tmp_path / "deep" / "inside" / "preds.parquet"
    data.parent.mkdir(parents=True)
    shutil.copy(DIGITS, data)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)  # the reports are named after the input, here
    args = ["report", str(data), "--goal", "0.01", f"--json={out / 'r.json'}"]
    monkeypatch.setattr(sys, "argv", ["erranalysis", *args])  # the command the provenance records
    assert invoke(*args).exit_code == 0
    html = (out / "preds.report.html").read_text()
    assert str(tmp_path) not in html
    prov = dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', html))
    assert prov["Input"] == "preds.parquet"
    assert prov["Command"] == "erranalysis report preds.parquet --goal 0.01 --json=r.json"
    if shutil.which("pdftotext") is not None:  # pypdf reads the text too, ten times slower
        pdf_text = "".join(page_texts(out / "preds.report.pdf"))
    else:
        from pypdf import PdfReader

        pdf_text = "".join(p.extract_text() for p in PdfReader(out / "preds.report.pdf").pages)
    assert str(tmp_path) not in "".join(pdf_text.split())  # a path wrapped in a table cell counts too
    assert "erranalysis report preds.parquet --goal 0.01 --json=r.json" in flat(pdf_text)
    # The JSON keeps the path as it was given.
    assert json.loads((out / "r.json").read_text())["provenance"]["input"] == str(data)


def test_a_relative_path_is_shown_as_given(tmp_path):
    (tmp_path / "runs").mkdir()
    shutil.copy(DIGITS, tmp_path / "runs" / "preds.parquet")
    res = invoke("report", "runs/preds.parquet", "--goal", "0.01", "--format", "html", "-o", "r.html")
    assert res.exit_code == 0, res.output
    prov = dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', Path("r.html").read_text()))
    assert prov["Input"] == "runs/preds.parquet"


@pytest.mark.parametrize("given,shown", [
    ("/home/ana/runs/p.parquet", "p.parquet"), ("runs/p.parquet", "runs/p.parquet"), ("~/p.parquet", "p.parquet"),
    ("C:\\Users\\ana\\p.parquet", "p.parquet"), (None, None),
])
def test_shown_path(given, shown):
    assert report.shown_path(given) == shown


def test_shown_command():
    assert report.shown_command("erranalysis report /srv/a/p.parquet --json=/tmp/x/o.json -o 'my dir/r.pdf'") \
        == "erranalysis report p.parquet --json=o.json -o 'my dir/r.pdf'"


# ------------------------------------------------------------------ page layout


def page_texts(pdf: Path) -> list[str]:
    """The text of every page (pdftotext, reading order)."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return out.stdout.split("\f")[:-1]


def body(text: str, title: str, sections: list[str]) -> str:
    """A page's text without the running header (title, section) and the footer."""
    lines = []
    for line in text.splitlines():
        words = flat(line)
        for known in (title, "erranalysis", *sections):
            if words.startswith(known):
                words = words[len(known):].strip()
        words = re.sub(r"Page \d+ of \d+$", "", words).strip()
        if words and words not in sections:
            lines.append(words)
    return " ".join(lines)


def _digits():
    return shared.example("digits").result


def _scenario(name):
    def build():
        return scenarios.analysed(name).result  # built and analysed once per session
    return build


CASES = {
    "digits": _digits,
    "underfitting": _scenario("underfitting"),
    "distribution_shift": _scenario("distribution_shift"),
    "threshold": _scenario("threshold"),
    "shuffled_labels": _scenario("shuffled_labels"),
    "summary": lambda: erranalysis.analyze(errors=SUMMARY, goal=0.01),
    "summary_with_rows": lambda: erranalysis.analyze(errors=SUMMARY, n={s: 1000 for s in SUMMARY}, goal=0.01),
}
_RESULTS: dict = {}


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
@pytest.mark.parametrize("page_size", ["A4", "letter"])
@pytest.mark.parametrize("case", list(CASES))
def test_first_page_and_no_near_empty_page(case, page_size, tmp_path, example_report):
    if case not in _RESULTS:
        _RESULTS[case] = CASES[case]()
    r = _RESULTS[case]
    if (case, page_size) == ("digits", "A4"):
        pdf = example_report("digits").pdf  # the same report test_examples renders (A4 is the default)
    else:
        pdf = tmp_path / "r.pdf"
        r.to_pdf(pdf, page_size=page_size)
    context = report.build_context(r)
    sections = [s["title"] for s in context["sections"]]
    pages = [flat(p) for p in page_texts(pdf)]
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    first = flat(first)
    assert r.verdict.text in first
    assert CAPTION in first
    assert "The plan" in first
    for step in r.next_steps[:report.MAX_PLAN_STEPS]:
        assert step.name in first
    for i, text in enumerate(pages[:-1], 1):
        chars = len(body(text, context["title"], sections).replace(" ", ""))
        assert chars >= NEAR_EMPTY, f"page {i} of {len(pages)} holds {chars} characters"
    if case.startswith("summary"):
        assert len(pages) <= 2
        assert "avoidable bias" in pages[-1] or "avoidable bias" in pages[0]
        assert not re.search(r"avoid\s+able", " ".join(pages))


def _history_only(tmp_path):
    hist = tmp_path / "h.csv"
    hist.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{1 / (i + 1):.4f},{0.5 + i / 40:.4f}\n"
                                                       for i in range(40)))
    return erranalysis.analyze(history=hist)


@pytest.mark.parametrize("case", ["digits", "summary", "history_only"])
def test_every_section_says_something(case, tmp_path, digits):
    r = {"digits": lambda: digits, "summary": lambda: erranalysis.analyze(errors=SUMMARY, goal=0.01),
         "history_only": lambda: _history_only(tmp_path)}[case]()
    html = r.to_html()
    titles = {s["id"]: s["title"] for s in report.build_context(r)["sections"]}
    for sid, inner in re.findall(r'<section id="([^"]+)"[^>]*>(.*?)</section>', html, re.S):
        text = flat(re.sub(r"<[^>]+>", " ", inner))
        assert len(text) > len(titles[sid]) + 20, (sid, text)
    if case == "history_only":
        assert "Could not check" in html and "Glossary" not in html


def test_summary_figures_without_row_counts_show_no_empty_interval_columns():
    bare = erranalysis.analyze(errors={"train": 0.2, "val": 0.27, "test": 0.28}, goal=0.01).to_html()
    counted = erranalysis.analyze(errors={"train": 0.2, "val": 0.27, "test": 0.28},
                                  n={"train": 5000, "val": 1000, "test": 1000}, goal=0.01).to_html()
    errors = lambda html: html.split('<section id="errors">')[1].split("</section>")[0]  # noqa: E731
    assert "interval" not in errors(bare) and "—" not in errors(bare)
    assert "interval" in errors(counted) and "1,000" in errors(counted)


def test_a_term_too_noisy_to_tell_explains_nothing_in_the_plan():
    from erranalysis.report import _impact_text
    from erranalysis.result import NextStep

    noisy = NextStep("insufficient_data", "why", ["collect"], "low", impact=0.009, impact_ci=(-0.06, 0.09))
    real = NextStep("overfitting", "why", ["regularise"], "high", impact=0.069, impact_ci=(0.032, 0.124))
    assert _impact_text(noisy) == "" and _impact_text(noisy, interval=False) == ""
    assert _impact_text(real) == "explains 6.9 pts (3.2 pts to 12.4 pts)"
    assert _impact_text(real, interval=False) == "explains 6.9 pts"


def test_no_check_is_claimed_passed_when_the_input_raised_findings():
    """The digits example shares six ids between train and test: its context must not
    say the input passed the id check (nor any other), whatever the template shows."""
    from erranalysis.report import build_context

    result = shared.example("digits").result  # examples/digits/predictions.parquet, goal 0.01
    assert any(f.kind == "leakage" for f in result.findings)
    assert build_context(result)["checks"]["passed"] == ""
