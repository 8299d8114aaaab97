"""The HTML and PDF report: content, order, numbers, safety, templates and the CLI."""

from __future__ import annotations

import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import erranalysis
from erranalysis import report
from erranalysis.cli import cli
from erranalysis.fmt import pct, pts
from erranalysis.resources import templates_dir

from conftest import multiclass_frame


class Page(HTMLParser):
    """Collects section ids, resource references, text and styles of an HTML page."""

    def __init__(self):
        super().__init__()
        self.sections, self.refs, self.text, self.styles, self._in_style = [], [], [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        for key in ("src", "href", "data", "poster", "srcset"):
            if attrs.get(key):
                self.refs.append((tag, attrs[key]))
        if attrs.get("style"):
            self.styles.append(attrs["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.joined = " ".join(" ".join(page.text).split())
    return page


@pytest.fixture(scope="module")
def result():
    frame = multiclass_frame(n_per_split=400, k=4, seed=3)
    return erranalysis.analyze(frame, goal=0.01)


@pytest.fixture(scope="module")
def html(result):
    return result.to_html()


@pytest.fixture(scope="module")
def pdf_path(result, tmp_path_factory):
    """The A4 PDF of ``result``, written once by ``result.save`` for the tests that read it."""
    path = tmp_path_factory.mktemp("pdf") / "a.pdf"
    assert result.save(path) == path
    return path


def test_sections_in_the_documented_order(result, html):
    page = parse(html)
    present = [s["id"] for s in report.build_context(result)["sections"]]
    assert page.sections == present
    assert present == [sid for sid, _ in report.SECTIONS if sid in present]
    assert "training-history" not in present  # no history given: no empty section


def test_headline_first_with_its_figure(result, html):
    page = parse(html)
    step = result.next_steps[0]
    assert step.why in page.joined
    assert step.actions[0] in page.joined
    head = page.joined.index(step.why)
    assert head < page.joined.index("Error per split", head)


def test_numbers_match_the_result(result, html):
    page = parse(html)
    for split, e in result.errors.items():
        assert f"{split} {pct(e.error)} {pct(e.ci[0])} to {pct(e.ci[1])} {e.n:,}" in page.joined
    for name, comp in result.decomposition.components.items():
        if comp is not None:
            assert pts(comp.value, signed=True) in page.joined
    for p in result.confusion.most_confused[:3]:
        assert f"{p.actual} {p.predicted} {p.count:,.0f} {pct(p.rate)}" in page.joined
    assert f"erranalysis {erranalysis.__version__}" in page.joined


def test_no_external_resource(html):
    page = parse(html)
    for tag, ref in page.refs:
        assert ref.startswith(("data:", "#")), (tag, ref[:80])
    css = "\n".join(page.styles)
    assert "@import" not in css
    for url in re.findall(r"url\(([^)]*)\)", css):
        assert url.strip("'\" ").startswith("data:"), url
    assert not re.search(r"\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html.replace("http://www.w3.org", ""))


def test_class_names_are_escaped():
    evil = "<script>alert(1)</script>"
    rng = np.random.default_rng(0)
    y = rng.choice([evil, "ok"], 300)
    pred = np.where(rng.random(300) < 0.3, np.where(y == "ok", evil, "ok"), y)
    html = erranalysis.analyze(pd.DataFrame({"label": y, "pred": pred})).to_html()
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_size_does_not_grow_with_rows():
    small = erranalysis.analyze(multiclass_frame(n_per_split=200, seed=1), goal=0.01).to_html()
    large = erranalysis.analyze(multiclass_frame(n_per_split=20000, seed=1), goal=0.01).to_html()
    assert len(large) < 1.3 * len(small)


def test_pdf_pages_and_text(result, pdf_path):
    from pypdf import PdfReader

    pdf = PdfReader(pdf_path)
    pages = len(pdf.pages)
    assert 3 <= pages <= 20
    first = pdf.pages[0].extract_text()
    assert "The next step" in first
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    assert "Where the error comes from" in text
    assert result.next_steps[0].actions[0][:40] in text
    assert f"Page 1 of {pages}" in " ".join(first.split())
    # Bookmarks: the title, then one per section in the order of the report.
    top, nested = pdf.outline[0], pdf.outline[1]
    assert top.title == "Error analysis: model"
    sections = [o.title for o in nested if not isinstance(o, list)]
    assert sections == [s["title"] for s in report.build_context(result)["sections"]]
    width, height = pdf.pages[0].mediabox.width, pdf.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points


def test_letter_page_size(result):
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(report.render_pdf(result, page_size="letter")))
    assert (round(float(pdf.pages[0].mediabox.width)), round(float(pdf.pages[0].mediabox.height))) == (612, 792)


def test_template_dir_overrides_one_partial(result, tmp_path):
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "headline.html.j2").write_text(
        '<section id="headline"><p>CUSTOM HEADLINE {{ headline.name }}</p></section>')
    html = result.to_html(template_dir=tmp_path)
    assert "CUSTOM HEADLINE" in html
    assert "Where the error comes from" in html  # the other partials still come from the package


def test_templates_get_no_undefined_value(result, tmp_path):
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "headline.html.j2").write_text("{{ no_such_key }}")
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        result.to_html(template_dir=tmp_path)


def test_pdf_css_reaches_the_pdf_alone(result, tmp_path):
    from pypdf import PdfReader

    (tmp_path / "pdf.css").write_text("main { display: none; }  /* for the PDF alone */", encoding="utf-8")
    rendering = report.Rendering(result, template_dir=tmp_path)
    assert "for the PDF alone" not in rendering.html() + rendering.html(screen=False)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(rendering.pdf())).pages)
    assert rendering.context()["title"] in text and "Error per split" not in text


def test_fetcher_refuses_the_network_and_foreign_files(tmp_path):
    fetch = report._fetcher(templates_dir())
    with pytest.raises(ValueError, match="refused to fetch http://example.com/x.png"):
        fetch.fetch("http://example.com/x.png")
    with pytest.raises(ValueError, match="refused"):
        fetch.fetch("file:///etc/passwd")
    assert fetch.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    html = '<img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="https://example.com/a.css">'
    from weasyprint import HTML

    HTML(string=html, url_fetcher=fetch).write_pdf()  # renders, fetching nothing


def test_summary_mode_report_renders():
    r = erranalysis.analyze(errors={"train": 0.2, "val": 0.27, "test": 0.28}, goal=0.01)
    page = parse(r.to_html())
    assert "Could not check" in page.joined and "Baselines, confusion, per-class metrics" in page.joined
    assert page.sections == ["headline", "decomposition", "plan", "errors", "terms", "next-steps",
                             "data-quality", "provenance"]


def test_many_classes_confusion_is_cut_and_says_so():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 120, 6000)
    pred = np.where(rng.random(6000) < 0.3, rng.integers(0, 120, 6000), y)
    html = erranalysis.analyze(pd.DataFrame({"label": y, "pred": pred})).to_html()
    assert "Only the 20 of 120 classes with the most errors (as actual or as predicted class) are shown" in parse(html).joined


def test_save_by_extension_and_repr(result, tmp_path, pdf_path):
    assert result.save(tmp_path / "a.html").read_text().startswith("<!DOCTYPE html>")
    assert pdf_path.read_bytes()[:5] == b"%PDF-"  # result.save(".../a.pdf")
    assert result.save(tmp_path / "a.json").read_text().startswith("{")
    with pytest.raises(erranalysis.UsageError, match=r"must end in \.html, \.pdf or \.json"):
        result.save(tmp_path / "a.txt")
    # A notebook shows the compact card (tests/test_card.py), not the whole page.
    assert result._repr_html_().startswith('<div class="erranalysis-card">')


# ------------------------------------------------------------------------ CLI


@pytest.fixture
def preds_file(tmp_path):
    path = tmp_path / "preds.parquet"
    multiclass_frame(n_per_split=200).to_parquet(path)
    return path


def invoke(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_cli_writes_html_and_pdf_named_after_the_input(preds_file):
    res = invoke("report", preds_file, "--goal", "0.01", "--title", "Review of M7", "--model-name", "M7")
    assert res.exit_code == 0, res.output
    assert "HTML report written to preds.report.html" in res.stdout
    assert "PDF report written to preds.report.pdf" in res.stdout
    html = Path("preds.report.html").read_text()
    assert "<title>Review of M7</title>" in html and "Model <strong>M7</strong>" in html
    assert Path("preds.report.pdf").read_bytes()[:5] == b"%PDF-"


def test_cli_output_picks_one_format(preds_file, tmp_path):
    res = invoke("report", preds_file, "-o", tmp_path / "out.html")
    assert res.exit_code == 0 and (tmp_path / "out.html").exists() and not Path("preds.report.pdf").exists()
    res = invoke("report", preds_file, "--format", "pdf", "--page-size", "letter")
    assert res.exit_code == 0 and Path("preds.report.pdf").exists() and not Path("preds.report.html").exists()


@pytest.mark.parametrize("args,stderr", [
    (["-o", "{preds}"], "Error: {preds} is the input file; it would be overwritten.\nHint: Pick another -o/--output.\n"),
    (["-o", "r.docx"], "Error: -o/--output must end in .html or .pdf. Got 'r.docx' instead.\n"
     "Hint: Use --json for the JSON document.\n"),
    (["-o", "nowhere/r.html"], "Error: nowhere/r.html: folder 'nowhere' does not exist.\nHint: Create it first.\n"),
    (["--template-dir", "nodir"], "Error: --template-dir must be a folder. Got 'nodir' instead.\n"),
])
def test_cli_output_errors(preds_file, args, stderr):
    before = preds_file.read_bytes()
    args = [a.replace("{preds}", str(preds_file)) for a in args]
    res = invoke("report", preds_file, *args)
    assert res.exit_code == 2
    assert res.stderr == stderr.replace("{preds}", str(preds_file))
    assert preds_file.read_bytes() == before
    assert sorted(p.name for p in Path(".").iterdir()) == ["preds.parquet"]


def test_class_names_with_dollar_signs_render_as_text(tmp_path):
    rng = np.random.default_rng(0)
    names = np.array(["$10-$50", r"$\foo$", "$$"])
    y = rng.choice(names, 600)
    pred = np.where(rng.random(600) < 0.2, rng.choice(names, 600), y)
    r = erranalysis.analyze(pd.DataFrame({"label": y, "pred": pred}))
    assert "$10-$50" in r.to_html()
    r.to_pdf(tmp_path / "d.pdf")


def test_inputs_are_never_outputs(tmp_path):
    hist = tmp_path / "h.json"
    hist.write_text(json.dumps({"log_history": [{"loss": 1.0, "step": i} for i in range(10)]}))
    before = hist.read_bytes()
    res = invoke("report", "--history", hist, "--json", hist)
    assert res.exit_code == 2 and "is an input file" in res.stderr
    res = invoke("report", "--history", hist, "-o", tmp_path / "h.json.html", "--format", "html")
    assert res.exit_code == 0
    assert hist.read_bytes() == before


def test_a_broken_user_template_is_exit_2_with_the_file(preds_file, tmp_path):
    (tmp_path / "tpl" / "sections").mkdir(parents=True)
    (tmp_path / "tpl" / "sections" / "headline.html.j2").write_text("{% if %}")
    res = invoke("report", preds_file, "--template-dir", tmp_path / "tpl", "--format", "html")
    assert res.exit_code == 2
    tpl = tmp_path / "tpl" / "sections" / "headline.html.j2"
    assert res.stderr.startswith(f"Error: {tpl}, line 1: the report template failed:")
    assert "Traceback" not in res.stderr


# ------------------------------------------------------------------ one context, every output


class Counted:
    """Wraps a function and counts its calls."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)


def test_html_and_pdf_come_from_one_context_with_each_figure_drawn_once(result, html, tmp_path, monkeypatch):
    import dataclasses

    from erranalysis import figures

    fresh = dataclasses.replace(result)  # a new object: no figure of it drawn yet
    expected_print = report.render_html(result, screen=False)
    laid_out = []
    monkeypatch.setattr(report, "_layout",
                        lambda text, template_dir, pdf_css="": laid_out.append(text) or b"%PDF-1.7\n")
    build = Counted(report.build_context)
    svg = Counted(figures._svg)
    monkeypatch.setattr(report, "build_context", build)
    monkeypatch.setattr(figures, "_svg", svg)

    paths = [tmp_path / "r.html", tmp_path / "r.pdf", tmp_path / "r.json"]
    reports = fresh.reports()
    assert [reports.write(path) for path in paths] == paths
    assert build.calls == 1
    assert svg.calls == html.count("data:image/svg+xml;base64,") > 3  # every figure of the page, once
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html
    assert laid_out == [expected_print]
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == result.to_json() + "\n"


def test_the_command_line_builds_one_context_for_html_and_pdf(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(report, "_layout", lambda text, template_dir, pdf_css="": b"%PDF-1.7\n")
    build = Counted(report.build_context)
    monkeypatch.setattr(report, "build_context", build)
    run = CliRunner().invoke(cli, ["report", "--train", "0.05", "--val", "0.1", "--n-train", "900", "--n-val", "400",
                                   "--goal", "0.01", "-q"])
    assert run.exit_code == 0, run.output
    assert build.calls == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["erranalysis.report.html", "erranalysis.report.pdf"]


def test_a_template_that_changes_its_context_does_not_change_the_next_output(result, tmp_path):
    (tmp_path / "report.html.j2").write_text("{{ sections.pop()['id'] }} {{ sections|length }}", encoding="utf-8")
    rendering = report.Rendering(result, template_dir=tmp_path)
    assert rendering.html() == rendering.html(screen=False) == f"provenance {len(rendering.context()['sections']) - 1}"
