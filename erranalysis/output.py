"""The public result: the analysis's data with the methods that write the report.

:class:`~erranalysis.result.ResultData` holds what was concluded and serialises it;
:class:`Result` adds HTML, PDF and file output on top, so the data types stay below
the renderer.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from . import report, tracking
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

    def log_to_mlflow(self, run_id: str | None = None, *, artifacts: bool | Collection[str] = True,
                      prefix: str = "erranalysis", **report_options: Any) -> str:
        """Log this result to an MLflow run: its figures as metrics, its conclusions as
        tags, its report as artifacts; returns the run's id.

        Parameters
        ----------
        run_id
            The run to log to, through ``MlflowClient``: the active run, if any, stays
            active and gets nothing. Without it, the active run; with no active run, a
            new run is started and left active, as ``mlflow.log_metric`` does: it works
            wherever an ``mlflow.log_*`` call would, and the calls after it log to the
            same run (end it with ``mlflow.end_run()``).
        artifacts
            ``True`` logs ``report.html``, ``report.pdf`` and ``report.json`` (as
            ``to_json`` writes it), ``False`` none; or some of ``"html"``, ``"pdf"``,
            ``"json"``. They are written from one :meth:`reports` (each figure drawn
            once) to a temporary folder, removed afterwards, before the run is touched.
        prefix
            The start of every metric and tag name, and the artifacts' folder in the
            run (``""``: no prefix, the run's top folder). Words of letters, digits,
            ``_``, ``-`` and ``.``, joined by ``/``.
        report_options
            As for :meth:`to_html`: ``title``, ``model_name``, ``template_dir``, ``page_size``.

        Notes
        -----
        The names are a stable contract (``<p>`` is the prefix). Metrics, in one
        ``log_batch`` call at step 0; a figure that was not measured (a term of the
        decomposition that is not measurable, an interval without row counts, no goal)
        is left out, never logged as NaN:

        - ``<p>.error.<split>`` per split (``train``, ``train_val``, ``val``, ``test``),
          with ``<p>.error.<split>.ci_low`` and ``.ci_high``, its interval;
        - ``<p>.eval_error`` (and ``.ci_low``, ``.ci_high``): the evaluation split's
          error, under one name whichever split that is;
        - ``<p>.decomposition.goal``, ``<p>.decomposition.gap`` (the last split's error
          minus the goal, or minus the first split's error without a goal) and
          ``<p>.decomposition.<term>`` for ``avoidable_bias``, ``variance``,
          ``distribution_shift``, ``val_overfitting``;
        - ``<p>.findings.total``, ``<p>.findings.<severity>`` (``high``, ``medium``,
          ``low``, ``info``) and ``<p>.findings.kind.<kind>`` for every finding kind,
          zeros included.

        Tags: ``<p>.headline`` (cut to 5000 characters, the smallest limit among
        MLflow versions), ``<p>.next_step`` (the first next step's problem kind, absent
        without next steps), ``<p>.version`` (of erranalysis that made the result),
        ``<p>.schema_version`` (of the JSON document), and when known ``<p>.model``
        (``from_estimator``'s model) and ``<p>.model_family``.

        Raises :class:`UsageError` when mlflow is not installed (``pip install
        "erranalysis[mlflow]"``) or an argument is invalid; MLflow's own errors (an
        unknown run, an unreachable server) come through as they are.

        Examples
        --------
        >>> import mlflow  # doctest: +SKIP
        >>> with mlflow.start_run():  # doctest: +SKIP
        ...     run_id = r.log_to_mlflow(title="Review of M7", artifacts=("html", "json"))
        """
        return tracking.log(self, self.reports(**report_options), run_id, artifacts=artifacts, prefix=prefix)

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

    def __repr__(self) -> str:
        """A few lines: the headline, the errors and the plan (the whole result is in
        ``to_dict()``, the report in ``save()``)."""
        errors = ", ".join(f"{s} {e.error:.1%}" for s, e in self.errors.items())
        steps = "".join(f"\n  {i}. {s.name}" for i, s in enumerate(self.next_steps[:5], 1))
        more = f"\n  ... and {len(self.next_steps) - 5} more" if len(self.next_steps) > 5 else ""
        return (f"<erranalysis.Result: {self.headline}\n errors: {errors or 'none'}; "
                f"{len(self.findings)} finding{'s' if len(self.findings) != 1 else ''}; "
                f"next steps:{steps or ' none'}{more}>")

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
