"""Work that several test modules share, done once per session: the bundled examples
analysed, and reports rendered from them with every warning and log record they raised.

Results and files handed out here are shared: a test reads them and never changes them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import warnings
from pathlib import Path
from typing import NamedTuple

import erranalysis

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


class Analysed(NamedTuple):
    result: erranalysis.Result
    #: "Category: message" of every warning the analysis raised (DataWarning included).
    warnings: list
    #: The messages of the log records of level WARNING or above emitted meanwhile.
    logs: list


class Rendered(NamedTuple):
    html: str
    pdf: Path
    #: "Category: message" of every warning rendering the HTML and the PDF raised.
    warnings: list
    #: The messages of the log records of level WARNING or above emitted meanwhile.
    logs: list


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@contextlib.contextmanager
def recording():
    """Every warning, and the log records of level WARNING or above (what
    ``caplog.set_level(logging.WARNING)`` captures), raised inside the block: yields a
    dict whose "warnings" and "logs" lists are filled when the block ends."""
    seen = {"warnings": [], "logs": []}
    root = logging.getLogger()
    recorder, level = _Recorder(), root.level
    root.addHandler(recorder)
    root.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield seen
    finally:
        root.removeHandler(recorder)
        root.setLevel(level)
    seen["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    seen["logs"] = [r.getMessage() for r in recorder.records]


@functools.lru_cache(maxsize=None)
def example(name: str) -> Analysed:
    """``examples/<name>`` analysed as its stored report.json was made: goal 0.01, its
    history.csv if it has one, and the previous model its stored comparison names."""
    folder = EXAMPLES / name
    history = folder / "history.csv"
    stored = json.loads((folder / "report.json").read_text())
    previous = (stored.get("comparison") or {}).get("previous")
    with recording() as seen:
        result = erranalysis.analyze(folder / "predictions.parquet", goal=0.01,
                                     history=history if history.exists() else None,
                                     compare=None if previous is None else ROOT / previous)
    return Analysed(result, seen["warnings"], seen["logs"])


def render(result, folder: Path) -> Rendered:
    """``result`` as HTML and as an A4 PDF (``folder``/r.pdf), with what they raised."""
    with recording() as seen:
        html = result.to_html()
        pdf = folder / "r.pdf"
        result.to_pdf(pdf)
    return Rendered(html, pdf, seen["warnings"], seen["logs"])
