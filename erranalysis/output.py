"""The public result: the analysis's data with the methods that write the report.

:class:`~erranalysis.result.ResultData` holds what was concluded and serialises it;
:class:`Result` adds HTML, PDF and file output on top, so the data types stay below
the renderer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import report
from .errors import UsageError
from .files import input_overlap, input_paths
from .result import ResultData


class Result(ResultData):
    """Everything erranalysis concluded, with the report writers.

    ``to_dict``/``to_json`` give the JSON document; ``to_html``, ``to_pdf`` and ``save``
    write the report.
    """

    def to_html(self, path: str | Path | None = None, **options: Any) -> str | None:
        """The report as self-contained HTML; written to ``path`` when given, else returned.

        ``options``: ``title``, ``model_name``, ``template_dir``, ``page_size``.
        """
        if path is None:
            return report.render_html(self, **options)
        self.reports(**options).write(_with_suffix(path, (".html", ".htm")))
        return None

    def to_pdf(self, path: str | Path, **options: Any) -> None:
        """Write the print-ready PDF report to ``path`` (same options as ``to_html``)."""
        self.reports(**options).write(_with_suffix(path, (".pdf",)))

    def save(self, path: str | Path, **options: Any) -> Path:
        """Write the report to ``path``: HTML, PDF or JSON, chosen by the extension.

        The inputs this result was computed from are never overwritten: a path that is one
        of their files, or lies inside an input folder, raises :class:`UsageError`.
        """
        return self.reports(**options).write(path)

    def reports(self, **options: Any) -> Reports:
        """The report under ``options``, to write to several files (HTML, PDF, JSON) from one
        page context: its figures are drawn once for all of them.

        ``r.reports(title="...").write("report.html")`` and then ``.write("report.pdf")``;
        options as for ``to_html``.
        """
        return Reports(self, **options)

    def _target(self, path: str | Path) -> str | Path:
        """``path``, once it is known not to touch the input or the history file this
        result was read from (symlinks resolved, hard links included)."""
        for name, pattern in ((self.provenance.input, True), (self.provenance.history, False)):
            if not name:
                continue
            hit = input_overlap(path, *input_paths(name, pattern=pattern))
            if hit is None:
                continue
            where, found = hit
            if where == "folder":
                raise UsageError(f"{path} is inside the input folder {found}; writing there would change the input.",
                                 hint=f"Pick a path outside {found}.")
            what = "the input file" if found == name else (
                ("" if found == str(path) else f"{found}, ") + f"a file of the input {name}")
            raise UsageError(f"{path} is {what}; it would be overwritten.", hint="Pick another path.")
        return path

    def _repr_html_(self) -> str:
        """The compact card a notebook shows: the next step, the verdict, the chart and the
        plan (the whole report, with its page-wide styles, would restyle the notebook)."""
        return report.render_card(self)


class Reports(report.Rendering):
    """The report of one :class:`Result` under one set of options, written to as many files
    as asked (HTML, PDF or JSON by the extension), never over the result's inputs."""

    def __init__(self, result: Result, **options: Any) -> None:
        super().__init__(result, **options)
        self._check = result._target

    def write(self, path: str | Path) -> Path:
        """Write the report to ``path``; a path that would overwrite an input raises :class:`UsageError`."""
        return super().write(self._check(path))


def _with_suffix(path: str | Path, suffixes: tuple[str, ...]) -> Path:
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise UsageError(f"the path must end in {' or '.join(suffixes)}. Got {str(path)!r} instead.")
    return path
