"""The card a notebook shows for a result: its content, its escaping, its scoped styles,
and a real notebook run through nbconvert."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import erranalysis
from erranalysis import report

import shared  # tests/shared.py

ROOT_CLASS = "erranalysis-card"


class Card(HTMLParser):
    """The text, the stylesheets and the start tags (with their attributes) of a card."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.styles: list[str] = []
        self._text: list[str] = []
        self._in_style = False
        self.feed(html)
        self.text = " ".join("".join(self._text).split())

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self._text).append(data)

    def classes(self, name: str) -> list[dict]:
        """The attributes of every element whose class list holds ``name``."""
        return [a for _, a in self.tags if name in (a.get("class") or "").split()]


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def digits():
    return shared.example("digits").result


@pytest.fixture(scope="module")
def digits_card(digits):
    return digits._repr_html_()


def test_the_card_leads_with_the_next_step_and_the_verdict(digits, digits_card):
    card = Card(digits_card)
    first = digits.next_steps[0]
    assert digits_card.startswith(f'<div class="{ROOT_CLASS}">')
    assert "<!DOCTYPE" not in digits_card and "<body" not in digits_card  # a fragment, not the report
    assert card.text.startswith("Error analysis: digits · predictions.parquet · evaluated on test The next step "
                                "Reduce overfitting (variance) train_val error 8.4% is 6.9 pts above train error")
    assert one_line(f"{first.why} First: {first.actions[0]}") in card.text
    assert one_line(digits.verdict.text) in card.text
    assert card.classes("ea-status-not-met")


def test_the_plan_shows_the_first_steps_with_their_first_actions(digits, digits_card):
    card = Card(digits_card)
    steps = card.classes("ea-step")
    assert len(digits.next_steps) == 6 and len(steps) == report.CARD_STEPS == 5
    assert card.text.count("And 1 more step in the full report.") == 1
    first = digits.next_steps[0]
    plan = card.text[card.text.index("The plan "):]
    assert plan.startswith(f"The plan {first.name} high {first.problem} explains 6.9 pts (3.2 pts to 12.4 pts) "
                           + " ".join(first.actions[:report.CARD_ACTIONS]) + " Fix the weakest slice")
    assert first.actions[report.CARD_ACTIONS] not in card.text  # the fourth action is left to the report
    assert card.text.count(first.why) == 1  # said by the headline, not again by the plan
    # The steps in the advice's order, each with the reason the report gives.
    names = [s.name for s in digits.next_steps]
    assert [plan.index(n) for n in names[:5]] == sorted(plan.index(n) for n in names[:5])
    assert names[5] not in plan
    for step in digits.next_steps[1:5]:
        assert one_line(step.why) in plan


def test_the_card_shows_the_decomposition_chart_as_an_image(digits_card):
    (image,) = [a for t, a in Card(digits_card).tags if t == "img"]
    assert image["src"].startswith("data:image/svg+xml;base64,")
    # The chart's own ids stay inside its image: two cards in a notebook cannot collide.
    assert "<svg" not in digits_card and ' id="' not in digits_card


def test_the_card_is_offline_and_scoped(digits_card):
    card = Card(digits_card)
    assert "http://" not in digits_card and "https://" not in digits_card
    assert [t for t, _ in card.tags].count("style") == 1
    assert not [t for t, _ in card.tags if re.fullmatch(r"h[1-6]|script|link|iframe", t)]  # headings join the TOC
    assert not [a for _, a in card.tags if "style" in a]
    css = re.sub(r"/\*.*?\*/", "", "".join(card.styles), flags=re.S)
    assert "@" not in css and "url(" not in css  # no @import, @font-face, @media, nothing fetched
    rules = re.findall(r"([^{}]+)\{[^{}]*\}", css)
    assert len(rules) > 20
    assert re.sub(r"[^{}]+\{[^{}]*\}", "", css).strip() == ""  # every byte belongs to a rule read above
    selectors = [s.strip() for rule in rules for s in rule.split(",")]
    outside = [s for s in selectors if not re.match(rf"\.{ROOT_CLASS}(?![\w-])", s)]
    assert outside == []


def test_the_card_does_not_load_the_pdf_renderer(digits, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # importing it now raises ImportError
    assert Card(report.render_card(digits)).classes(ROOT_CLASS)


def test_a_class_name_in_the_card_is_escaped():
    evil = "<script>alert(1)</script>"
    y = np.array(["cat", "dog", evil] * 300, dtype=object)
    pred = y.copy()
    pred[(y == evil) & (np.arange(900) % 2 == 0)] = "cat"
    split = np.repeat(["train", "val", "test"], 300)
    html = erranalysis.analyze(pd.DataFrame({"label": y, "pred": pred, "split": split}))._repr_html_()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the confusion's reason names the class
    assert "<script" not in html
    assert f"50% of '{evil}' rows are predicted as 'cat' on test" in Card(html).text


def test_summary_figures_render_with_their_chart():
    r = erranalysis.analyze(goal=0.01, errors={"train": 0.2, "val": 0.27})
    card = Card(r._repr_html_())
    assert "Reduce underfitting (avoidable bias)" in card.text and one_line(r.verdict.text) in card.text
    assert [t for t, _ in card.tags].count("img") == 1
    assert len(card.classes("ea-step")) == 2 and "more step" not in card.text
    assert card.text.endswith("Analysed the error figures of 2 splits (train, val). The full report, with every "
                              'action and the evidence: result.save("report.html") or result.save("report.pdf").')


def test_a_training_history_alone_renders_without_a_chart():
    r = erranalysis.analyze(history=shared.EXAMPLES / "digits_mlp" / "history.csv")
    card = Card(r._repr_html_())
    assert "img" not in [t for t, _ in card.tags] and not card.classes("ea-verdict")
    assert card.text.startswith("Error analysis: digits_mlp · training history history.csv The next step "
                                "Stabilise training")
    assert "Analysed the training history history.csv." in card.text


def test_a_result_without_findings_has_no_plan():
    r = erranalysis.analyze(goal=0.05, errors={"train": 0.01, "val": 0.011})
    card = Card(r._repr_html_())
    assert r.next_steps == [] and not card.classes("ea-step") and "The plan" not in card.text
    assert "No material problem: val error 1.1% meets the goal of 5.0%." in card.text
    assert card.classes("ea-status-met")


def test_a_comparison_says_what_changed():
    r = erranalysis.analyze(goal=0.01, errors={"train": 0.015, "train_val": 0.05, "val": 0.06, "test": 0.07},
                            n={"train": 900, "train_val": 250, "val": 270, "test": 370},
                            compare=shared.EXAMPLES / "digits" / "report.json")
    card = Card(r._repr_html_())
    assert r.comparison.improvement
    (line,) = card.classes("ea-change-improvement")
    assert "test error 19.0% → 7.0%" in card.text and one_line(r.comparison.text) in card.text


def test_a_notebook_shows_the_card_and_keeps_it_on_export(tmp_path, digits_card):
    nbformat = pytest.importorskip("nbformat", reason="the notebook test needs nbformat (the test extra)")
    pytest.importorskip("ipykernel", reason="the notebook test needs ipykernel (the test extra)")
    pytest.importorskip("nbconvert", reason="the notebook test needs nbconvert (the test extra)")
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExecutePreprocessor

    # The kernel imports the erranalysis these tests import (source tree or installed wheel).
    package_parent = str(shared.Path(erranalysis.__file__).resolve().parents[1])
    predictions = str(shared.EXAMPLES / "digits" / "predictions.parquet")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"import sys\nsys.path.insert(0, {package_parent!r})\nimport erranalysis\n"
                                  "erranalysis.__file__"),
        nbformat.v4.new_code_cell(f"r = erranalysis.analyze({predictions!r}, goal=0.01)\nr"),
        nbformat.v4.new_code_cell("'weasyprint' in sys.modules"),
    ]
    ExecutePreprocessor(kernel_name="python3", timeout=60).preprocess(nb, {"metadata": {"path": str(tmp_path)}})

    outputs = [{o["output_type"] for o in cell.outputs} for cell in nb.cells]
    assert outputs == [{"execute_result"}] * 3
    imported, shown, pdf_renderer = (cell.outputs[0]["data"] for cell in nb.cells)
    assert imported["text/plain"] == repr(erranalysis.__file__)
    assert pdf_renderer["text/plain"] == "False"
    card = shown["text/html"]
    assert card == digits_card  # the card, not the report

    body, _ = HTMLExporter().from_notebook_node(nb)
    exported = Card(body)
    assert exported.classes(ROOT_CLASS) and card.split("<style>", 1)[1].split("</style>", 1)[0] in body
    assert "Reduce overfitting (variance)" in exported.text and "And 1 more step in the full report." in exported.text
