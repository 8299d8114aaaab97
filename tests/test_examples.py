"""Every bundled example reproduces its stored JSON (scrubbed of time and version)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared import example

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/predictions.parquet"))


#: Figures of models fitted by scikit-learn (the domain classifier, the cohort tree): their
#: tie-breaking changes between releases, so they are compared within a tolerance, and the
#: cohorts (a leaf on either side of its cut-off) are left out.
FITTED = ("domain_auc", "domain_ci")


def scrub(doc: dict) -> dict:
    prov = doc["provenance"]
    for key in ("created", "tool_version", "command", "input", "history"):
        prov.pop(key, None)
    if doc.get("comparison"):
        doc["comparison"].pop("previous")
        doc["comparison"]["text"] = doc["comparison"]["text"].split(": ", 1)[1]
    if doc.get("history"):
        doc["history"].pop("source")
    if doc.get("slices"):
        doc["slices"].pop("cohorts", None)
    return doc


def assert_same(got, expected, path="", tolerance=0.0):
    """Equal, but for the figures of fitted models, which may differ by a few thousandths."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(expected), path
        for key in expected:
            assert_same(got[key], expected[key], f"{path}/{key}", 0.01 if key in FITTED else tolerance)
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), path
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, f"{path}[{i}]", tolerance)
    elif isinstance(expected, float):
        # Last-digit differences come with any change in the order of a sum.
        assert got == pytest.approx(expected, rel=1e-9, abs=tolerance or 1e-12), path
    else:
        assert got == expected, path


@pytest.mark.parametrize("folder", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_matches_its_stored_json(folder):
    # The analysis as the stored JSON was made (shared.example: goal 0.01, the example's
    # history and previous model, if any), with every warning it raised.
    result, raised, _ = example(folder.name)
    assert raised == []  # an example must analyse without any warning
    expected = scrub(json.loads((folder / "report.json").read_text()))
    got = scrub(json.loads(result.to_json()))
    assert got["headline"] == expected["headline"]
    assert got["next_steps"] == expected["next_steps"]
    assert_same(got, expected)


def test_there_is_an_example():
    assert EXAMPLES, "examples/*/predictions.parquet is missing"


@pytest.mark.parametrize("folder", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_report_renders_without_warnings(folder, example_report):
    from pypdf import PdfReader

    result, raised, logged = example(folder.name)
    # The HTML and the A4 PDF, rendered once per session (test_first_page reads the PDF
    # too), with the warnings and the log records of level WARNING or above they raised.
    report = example_report(folder.name)
    assert raised == [] and report.warnings == []
    assert logged == [] and report.logs == []
    html = report.html
    assert result.next_steps[0].why in html
    pdf = PdfReader(report.pdf)
    first = " ".join(pdf.pages[0].extract_text().split())
    assert result.next_steps[0].actions[0][:30] in first
    assert "From the goal to the test error" in first  # the decomposition chart is on page 1
    assert len(pdf.pages) <= 14


def test_the_estimator_example_finds_the_planted_clinic_only_with_its_features():
    """examples/from_estimator.py: its model refitted, its diagnosis as stored; the slice
    is the first step with the features, and invisible without them."""
    import importlib.util
    import warnings

    import erranalysis

    spec = importlib.util.spec_from_file_location("from_estimator_example", ROOT / "examples" / "from_estimator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    splits, measurements = module.load()
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(make_column_transformer((StandardScaler(), measurements)), LogisticRegression())
    model.fit(*splits["train"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the example analyses without any warning
        result = erranalysis.from_estimator(model, splits, goal=module.GOAL)
    first = result.next_steps[0]
    assert first.problem == "weak_slice" and first.why.startswith("clinic = Cardiff:")
    assert result.provenance.model_family == "linear"
    stored = scrub(json.loads((ROOT / "examples" / "from_estimator" / "report.json").read_text()))
    got = scrub(json.loads(result.to_json()))
    assert got["next_steps"] == stored["next_steps"]
    # A new scikit-learn release may fit the model a little differently: figures to 1e-3.
    assert_same(got, stored, tolerance=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = erranalysis.from_estimator(model, splits, goal=module.GOAL, features=False)
    assert alone.next_steps[0].problem == "underfitting"
    assert not [f for f in alone.findings if f.kind == "weak_slice"]
