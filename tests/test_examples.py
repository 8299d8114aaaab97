"""Every bundled example reproduces its stored JSON (scrubbed of time and version)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import erranalysis

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/predictions.parquet"))


def scrub(doc: dict) -> dict:
    prov = doc["provenance"]
    for key in ("created", "tool_version", "command", "input", "history"):
        prov.pop(key, None)
    if doc.get("history"):
        doc["history"].pop("source")
    return doc


def analyse(folder: Path):
    history = folder / "history.csv"
    return erranalysis.analyze(folder / "predictions.parquet", goal=0.01,
                               history=history if history.exists() else None)


@pytest.mark.parametrize("folder", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_matches_its_stored_json(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an example must analyse without any warning
        result = analyse(folder)
    expected = scrub(json.loads((folder / "report.json").read_text()))
    got = scrub(json.loads(result.to_json()))
    assert got["headline"] == expected["headline"]
    assert got["next_steps"] == expected["next_steps"]
    assert got == expected


def test_there_is_an_example():
    assert EXAMPLES, "examples/*/predictions.parquet is missing"


@pytest.mark.parametrize("folder", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_report_renders_without_warnings(folder, tmp_path, caplog):
    import logging

    from pypdf import PdfReader

    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = analyse(folder)
        html = result.to_html()
        result.to_pdf(tmp_path / "r.pdf")
    assert [r.getMessage() for r in caplog.records] == []
    assert result.next_steps[0].why in html
    pdf = PdfReader(tmp_path / "r.pdf")
    first = " ".join(pdf.pages[0].extract_text().split())
    assert result.next_steps[0].actions[0][:30] in first
    assert "From the goal to the test error" in first  # the decomposition chart is on page 1
    assert len(pdf.pages) <= 14
