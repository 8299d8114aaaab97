"""Command line: parse flags, call analyze(), write outputs, print the summary, map errors to exit codes."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Sequence, TypeVar

import click

from ._version import __version__
from .arguments import COLUMN_KEYWORDS
from .compare import Comparison
from .errors import ErranalysisError, UsageError
from .files import folder_problem, input_overlap, input_paths, is_pattern, same_file, write_atomic
from .io import SPLITS
from .kinds import MODEL_FAMILIES
from .result import SEVERITIES

if TYPE_CHECKING:
    from .output import Result
    from .renderer import Renderer

T = TypeVar("T")

EXIT_OK, EXIT_GATE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
#: Whether reports may be written by a forked renderer: set by :func:`main`, the console
#: command, and left off when ``cli`` runs inside another program (a test runner, a notebook).
_FORK_RENDERER = False

REPORT_HELP = """Diagnose a model from its predictions and say what to do next.

PREDICTIONS is a Parquet, CSV, TSV, JSON Lines or Feather file with one row per
example: a `label` column, and `pred` and/or `proba_<class>` (or a binary `score`),
optionally `split`, `weight`, `loss`, `id` and metadata columns. A folder of Parquet
files or a quoted glob ('preds/part-*.parquet') is read as one table; Parquet is
streamed in record batches, so files larger than memory work.

\b
Examples:
  erranalysis report preds.parquet --goal 0.01
  erranalysis report preds.parquet --goal 0.01 --json out.json --fail-on high
  erranalysis report --goal 0.01 --train 0.20 --val 0.27 --test 0.28
  erranalysis report preds.parquet --goal 0.01 --history metrics.csv
  erranalysis report new.parquet --goal 0.01 --compare old.parquet --fail-on-regression
  erranalysis report 'preds/*.parquet' --goal 0.01 --engine spark
  erranalysis report --history trainer_state.json

Exit codes: 0 done, 1 a --fail-on gate tripped, 2 bad input or usage,
3 an internal error (a bug: set ERRANALYSIS_DEBUG=1 for the traceback).
"""


def _fail(message: str, hint: str | None = None) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    if hint:
        click.echo(f"Hint: {hint}", err=True)
    sys.exit(EXIT_BAD_INPUT)


class _Cli(click.Group):
    """Click group whose usage errors are one line plus a hint, with exit code 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> NoReturn:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            command = " ".join(("erranalysis", *_command_words(args)))
            _fail(exc.format_message().replace("\n", " "), f"Run '{command} --help' for the options.")
        except click.exceptions.Abort:
            sys.exit(EXIT_GATE)
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)


def _command_words(args: Sequence[str] | None) -> list[str]:
    """The subcommand named on the command line, for the hint of a usage error."""
    words = sys.argv[1:] if args is None else list(args)
    return [a for a in words[:1] if a in ("report",)]


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="erranalysis")
def cli() -> None:
    """erranalysis: turn a model's predictions into a diagnosis and the next thing to do.

    Run `erranalysis report --help` to start.
    """


@cli.command("report", help=REPORT_HELP, no_args_is_help=False)
@click.argument("predictions", required=False, type=click.Path(path_type=Path))
@click.option("--goal", type=float,
              help="The error you aim for, in [0, 1): 0.01 for human-level 1%. Optional; without it "
                   "avoidable bias (underfitting) is not measured.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON document here ('-' for standard output).")
@click.option("--fail-on", type=click.Choice(SEVERITIES, case_sensitive=False),
              help="Exit with 1 when a finding of this severity or worse exists.")
@click.option("--metric", type=click.Choice(["error", "balanced_error"], case_sensitive=False), default="error",
              show_default=True,
              help="The metric of every figure: error = misclassification rate; balanced_error = 1 - mean "
                   "per-class recall.")
@click.option("--threshold", type=float,
              help="Binary only: threshold on the positive-class score that turns it into pred (default 0.5).")
@click.option("--positive-label", help="Binary: the positive class (default 1, True or the last class).")
@click.option("--label-col", default="label", show_default=True, help="Column of true classes.")
@click.option("--pred-col", default="pred", show_default=True, help="Column of predicted classes.")
@click.option("--split-col", default="split", show_default=True,
              help="Column of split names: train, train_val, val, test (aliases: training; train-val, trainval, "
                   "train_dev, train-dev; validation, valid, dev, test_val, test-val; holdout). Without it every "
                   "row is test.")
@click.option("--score-col", default="score", show_default=True, help="Binary: column of positive-class probabilities.")
@click.option("--proba-prefix", default="proba_", show_default=True, help="Prefix of the per-class probability columns.")
@click.option("--weight-col", default="weight", show_default=True, help="Column of sample weights.")
@click.option("--loss-col", default="loss", show_default=True, help="Column of per-example loss.")
@click.option("--id-col", default="id", show_default=True, help="Column of example ids.")
@click.option("--input-format", type=click.Choice(["parquet", "csv", "tsv", "jsonl", "feather"]),
              help="Format of PREDICTIONS when its suffix does not say.")
@click.option("--engine", type=click.Choice(["local", "spark"], case_sensitive=False), default="local",
              show_default=True,
              help="local: read on this machine (Parquet files, folders and globs stream in bounded memory); "
                   "spark: compute the aggregates in Spark (needs the spark extra) and bring back only those.")
@click.option("--spark-master", help="Spark master URL for --engine spark (default: spark-submit's, else local[*]).")
@click.option("--train", "e_train", type=float, help="Summary mode: train error.")
@click.option("--train-val", "e_train_val", type=float, help="Summary mode: train_val error.")
@click.option("--val", "e_val", type=float, help="Summary mode: val error.")
@click.option("--test", "e_test", type=float, help="Summary mode: test error.")
@click.option("--n-train", type=int, help="Summary mode: train rows (gives intervals).")
@click.option("--n-train-val", type=int, help="Summary mode: train_val rows.")
@click.option("--n-val", type=int, help="Summary mode: val rows.")
@click.option("--n-test", type=int, help="Summary mode: test rows.")
@click.option("--history", "history_path", type=click.Path(path_type=Path),
              help="Training history to diagnose: Keras CSVLogger CSV, Lightning metrics.csv, Hugging Face "
                   "trainer_state.json, a TensorBoard log folder or tfevents file (tensorboard extra), or a "
                   "CSV/JSON of x, train loss, val loss. Works without PREDICTIONS.")
@click.option("--history-x", help="History column of the x axis (step or epoch).")
@click.option("--history-train", help="History column of the train loss.")
@click.option("--history-val", help="History column of the val loss.")
@click.option("--num-classes", type=int, help="Classes, for the expected initial loss ln(K) when there are no predictions.")
@click.option("--compare", "compare_path", type=click.Path(path_type=Path),
              help="The previous model's predictions on the same data (same columns), or a previous run's "
                   "--json document: adds what changed, with paired intervals when rows match by id or position.")
@click.option("--fail-on-regression", is_flag=True,
              help="With --compare: exit 1 when the evaluation split's error rose beyond its interval.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write one report here; .html or .pdf picks the format.")
@click.option("--format", "fmt", type=click.Choice(["both", "html", "pdf", "none"]), default="both", show_default=True,
              help="Reports to write, named after the input (none: only the summary and --json).")
@click.option("--title", help="Report title (default: 'Error analysis: <model name>').")
@click.option("--model-name", help="Model name shown in the report (default: the input's name).")
@click.option("--model-family", type=click.Choice(MODEL_FAMILIES, case_sensitive=False),
              help="The kind of model (tree: decision trees, forests, boosting): next steps name its own knobs.")
@click.option("--template-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Render with templates from this folder (a copy of the installed templates/).")
@click.option("--page-size", type=click.Choice(["A4", "letter"], case_sensitive=False), default="A4",
              show_default=True, help="PDF page size.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def report(**flags: Any) -> None:
    """Check the flags, run the analysis, write the outputs, print the summary and exit
    with the gate's code."""
    import warnings

    from .errors import DataWarning

    # The summary lists input warnings itself.
    warnings.simplefilter("ignore", DataWarning)
    given = ReportFlags(**flags)
    outputs = _guarded(check_flags, given)
    renderer = _renderer(given, outputs)
    try:
        result = _guarded(run_analysis, given)
        options = _report_options(given)
        if renderer is not None and renderer.write(result, outputs, options):
            written = outputs
        else:
            written = _write_reports(result, outputs, options)
    finally:
        if renderer is not None:
            renderer.close()
    _write_json(result, given)
    _print_summary(result, given, written)
    code = _gate(result, given)
    if code != EXIT_OK:
        sys.exit(code)


@dataclass(frozen=True)
class ReportFlags:
    """The flags of ``erranalysis report`` as click parsed them."""

    predictions: Path | None
    goal: float | None
    json_path: Path | None
    fail_on: str | None
    metric: str
    threshold: float | None
    positive_label: str | None
    label_col: str
    pred_col: str
    split_col: str
    score_col: str
    proba_prefix: str
    weight_col: str
    loss_col: str
    id_col: str
    input_format: str | None
    engine: str
    spark_master: str | None
    e_train: float | None
    e_train_val: float | None
    e_val: float | None
    e_test: float | None
    n_train: int | None
    n_train_val: int | None
    n_val: int | None
    n_test: int | None
    history_path: Path | None
    history_x: str | None
    history_train: str | None
    history_val: str | None
    num_classes: int | None
    compare_path: Path | None
    fail_on_regression: bool
    output: Path | None
    fmt: str
    title: str | None
    model_name: str | None
    model_family: str | None
    template_dir: Path | None
    page_size: str
    quiet: bool

    @property
    def summary(self) -> dict[str, float | None]:
        """Summary mode: the error given per split (None where not given)."""
        return {"train": self.e_train, "train_val": self.e_train_val, "val": self.e_val, "test": self.e_test}

    @property
    def rows(self) -> dict[str, int | None]:
        """Summary mode: the rows given per split (None where not given)."""
        return {"train": self.n_train, "train_val": self.n_train_val, "val": self.n_val, "test": self.n_test}

    @property
    def summary_given(self) -> bool:
        return any(v is not None for v in self.summary.values())

    @property
    def gate(self) -> str | None:
        """The --fail-on severity, in lower case."""
        return self.fail_on.lower() if self.fail_on else None

    @property
    def to_stdout(self) -> bool:
        """Whether the JSON document goes to standard output (``--json -``)."""
        return self.json_path is not None and str(self.json_path) == "-"


# ------------------------------------------------------------------ rules across flags


def check_flags(given: ReportFlags) -> list[Path]:
    """The rules across flags, checked before anything is read; returns the report files to write."""
    _check_input_flags(given)
    outputs = report_paths(given.predictions if given.predictions is not None else given.history_path,
                           given.output, given.fmt)
    check_outputs(given.predictions, given.history_path, outputs, given.json_path, from_flag=given.output is not None,
                  compare=given.compare_path)
    _check_gate_flags(given)
    _check_output_suffix(given.output)
    if given.template_dir is not None:
        from .resources import templates_dir

        templates_dir(given.template_dir)
    _check_summary_rows(given)
    return outputs


def _check_input_flags(given: ReportFlags) -> None:
    """One input: a predictions file, summary errors, or a history alone."""
    if given.predictions is not None and given.summary_given:
        raise UsageError("Give either a predictions file or summary errors (--train, --val, ...), not both.")
    if given.predictions is None and not given.summary_given and given.history_path is None:
        raise UsageError(
            "Give a predictions file, summary errors with --train/--train-val/--val/--test, or --history.",
            hint="Example: erranalysis report preds.parquet --goal 0.01",
        )


def _check_gate_flags(given: ReportFlags) -> None:
    """--fail-on-regression gates on a comparison: it needs --compare."""
    if given.fail_on_regression and given.compare_path is None:
        raise UsageError("--fail-on-regression needs --compare with the previous model's predictions or JSON.")


def _check_output_suffix(output: Path | None) -> None:
    """-o names a report: its suffix picks HTML or PDF."""
    if output is not None and output.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise UsageError(f"-o/--output must end in .html or .pdf. Got {str(output)!r} instead.",
                         hint="Use --json for the JSON document.")


def _check_summary_rows(given: ReportFlags) -> None:
    """Summary mode: a split's rows (--n-val) come with its error (--val)."""
    orphans = [k for k, v in given.rows.items() if v is not None and given.summary[k] is None]
    if orphans:
        flag = orphans[0].replace("_", "-")
        raise UsageError(f"--n-{flag} gives the rows of a split whose error is missing.",
                         hint=f"Add --{flag} with that split's error.")


# ------------------------------------------------------------------------ the analysis


def run_analysis(given: ReportFlags) -> Result:
    """analyze() on the flags, with a progress bar while predictions are read."""
    from .analysis import analyze

    arguments = keyword_arguments(given)
    if given.summary_given or given.predictions is None:
        return analyze(**arguments)
    from .terminal import progress_bar

    data = _predictions(given.predictions, given)
    with progress_bar(enabled=not given.quiet and sys.stderr.isatty()) as progress:
        return analyze(data, progress=progress, **arguments)


def keyword_arguments(given: ReportFlags) -> dict[str, Any]:
    """The keyword arguments of analyze() the flags give (the predictions aside): summary
    errors, a history alone, or predictions with their columns."""
    command = "erranalysis " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    common: dict[str, Any] = {
        "goal": given.goal, "metric": given.metric.lower(), "command": command, "history": given.history_path,
        "history_x": given.history_x, "history_train": given.history_train, "history_val": given.history_val,
        "num_classes": given.num_classes,
        "model_family": given.model_family.lower() if given.model_family else None,
    }
    if given.summary_given:
        rows = {k: v for k, v in given.rows.items() if v is not None}
        return {**common, "errors": given.summary, "n": rows, "compare": given.compare_path}
    if given.predictions is None:
        return common
    return {
        **common, "threshold": given.threshold, "positive_label": given.positive_label,
        "label_col": given.label_col, "pred_col": given.pred_col, "split_col": given.split_col,
        "score_col": given.score_col, "proba_prefix": given.proba_prefix, "weight_col": given.weight_col,
        "loss_col": given.loss_col, "id_col": given.id_col, "input_format": given.input_format,
        "compare": given.compare_path,
    }


def _predictions(path: Path, given: ReportFlags) -> Any:
    """The predictions to analyse: the path, or with --engine spark the Spark DataFrame read from it."""
    if given.engine.lower() != "spark":
        return path
    from .spark import read_spark

    return read_spark(path, given.input_format, master=given.spark_master)


def _guarded(step: Callable[[ReportFlags], T], given: ReportFlags) -> T:
    """``step(given)``, its errors mapped to exit codes: 2 with one line for bad input or
    usage (worded with the flags), 3 for anything else (a bug)."""
    try:
        return step(given)
    except ErranalysisError as exc:
        _fail(flag_wording(exc), exc.hint)
    except Exception as exc:  # a bug, not bad input: say so, with a distinct exit code
        _internal_error(exc)


def _parameter_flags() -> dict[str, str]:
    """analyze()'s parameter names (as usage errors name them) → the flags that set them."""
    names = ["goal", "metric", "threshold", "positive_label", "input_format", "engine", "num_classes", "model_family",
             "history_x", "history_train", "history_val", "compare", *COLUMN_KEYWORDS]
    flags = {name: "--" + name.replace("_", "-") for name in names}
    for split in SPLITS:
        flags[f"errors[{split!r}]"] = "--" + split.replace("_", "-")
        flags[f"n[{split!r}]"] = "--n-" + split.replace("_", "-")
    return flags


PARAMETER_FLAGS = _parameter_flags()


def flag_wording(exc: ErranalysisError) -> str:
    """The error's message, with the parameter of analyze() it starts with named by its flag."""
    parameter = exc.parameter if isinstance(exc, UsageError) else None
    if parameter in PARAMETER_FLAGS and exc.message.startswith(parameter):
        return PARAMETER_FLAGS[parameter] + exc.message[len(parameter):]
    return exc.message


# ---------------------------------------------------------------------------- outputs


def _renderer(given: ReportFlags, outputs: list[Path]) -> Renderer | None:
    """A forked renderer that loads the rendering libraries during the analysis (see
    :mod:`.renderer`): for the console command (not for ``cli`` called in a host process)
    writing reports from predictions read on this machine."""
    if not _FORK_RENDERER or not outputs or given.predictions is None or given.engine.lower() != "local":
        return None
    from .renderer import Renderer

    return Renderer.start()


def _report_options(given: ReportFlags) -> dict[str, Any]:
    return {"title": given.title, "model_name": given.model_name, "template_dir": given.template_dir,
            "page_size": "letter" if given.page_size.lower() == "letter" else "A4"}


def _write_reports(result: Result, outputs: list[Path], options: dict[str, Any]) -> list[Path]:
    """Write each report file; the ones written."""
    written = []
    # One page context (and one drawing of each figure) for every report file.
    reports = result.reports(**options)
    for path in outputs:
        try:
            reports.write(path)
        except ErranalysisError as exc:
            _fail(flag_wording(exc), exc.hint)
        except OSError as exc:
            _fail(f"{path}: cannot write the report: {exc.strerror or exc}.", "Pick a writable path with -o/--output.")
        except Exception as exc:  # noqa: BLE001 - a broken user template is bad input, the rest is a bug
            _template_error(exc)
            _internal_error(exc)
        written.append(path)
    return written


def _template_error(exc: Exception) -> None:
    """Exit 2 with one line when ``exc`` is a failure of the user's report template."""
    import jinja2

    if isinstance(exc, jinja2.TemplateError):
        where = f"{getattr(exc, 'filename', None) or getattr(exc, 'name', None) or 'template'}"
        lineno = getattr(exc, "lineno", None)  # syntax errors say where; other template errors do not
        line = f", line {lineno}" if lineno else ""
        _fail(f"{where}{line}: the report template failed: {exc}.".replace("\n", " "),
              "Fix the template in --template-dir, or leave --template-dir out.")


def _write_json(result: Result, given: ReportFlags) -> None:
    """The JSON document to --json: a file, or standard output for ``-``."""
    if given.json_path is None:
        return
    text = result.to_json()
    if given.to_stdout:
        click.echo(text)
        return
    try:
        write_atomic(given.json_path, text + "\n")
    except OSError as exc:
        _fail(f"{given.json_path}: cannot write the JSON document: {exc.strerror or exc}.",
              "Pick a writable path for --json.")


def _print_summary(result: Result, given: ReportFlags, written: list[Path]) -> None:
    """The terminal summary, unless --quiet or the JSON goes to standard output."""
    if given.quiet or given.to_stdout:
        return
    from .terminal import print_summary

    print_summary(result, json_path=given.json_path, reports=written)


def _gate(result: Result, given: ReportFlags) -> int:
    """The exit code: 1 when --fail-on-regression or --fail-on trips (saying why), else 0."""
    comparison = result.comparison if isinstance(result.comparison, Comparison) else None
    regressed = given.fail_on_regression and comparison is not None and comparison.regression
    if regressed and comparison is not None:
        click.echo(f"Gate: --fail-on-regression: {comparison.text}", err=True)
    gate = given.gate
    if gate and result.fails(gate):
        limit = SEVERITIES.index(gate)
        tripped = [f for f in result.findings if SEVERITIES.index(f.severity) <= limit]
        click.echo(f"Gate: {len(tripped)} finding(s) at '{gate}' or worse trip --fail-on {gate}:", err=True)
        for f in tripped[:5]:
            click.echo(f"  {f.severity} {f.kind}: {f.title}", err=True)
        return EXIT_GATE
    return EXIT_GATE if regressed else EXIT_OK


def _internal_error(exc: Exception) -> NoReturn:
    import os
    import traceback

    if os.environ.get("ERRANALYSIS_DEBUG"):
        traceback.print_exc()
    click.echo(f"Error: internal error: {type(exc).__name__}: {exc}".splitlines()[0], err=True)
    click.echo("Hint: this is a bug in erranalysis; set ERRANALYSIS_DEBUG=1 to print the traceback and report it.",
               err=True)
    sys.exit(EXIT_INTERNAL)


def report_paths(predictions: Path | None, output: Path | None, fmt: str) -> list[Path]:
    """The report files to write: ``-o`` alone, else named after the input per ``--format``.

    Default names sit in the current folder: ``preds.parquet`` gives
    ``preds.report.html`` and ``preds.report.pdf``. :func:`check_outputs` keeps them off the inputs.
    """
    if output is not None:
        return [output]
    stem = _stem(predictions) if predictions is not None else "erranalysis"
    suffixes = {"both": [".html", ".pdf"], "html": [".html"], "pdf": [".pdf"], "none": []}[fmt]
    return [Path(f"{stem}.report{s}") for s in suffixes]


def check_outputs(predictions: Path | None, history: Path | None, reports: list[Path], json_path: Path | None,
                  from_flag: bool = True, compare: Path | None = None) -> None:
    """Refuse, before anything is read or written, an output that would change an input
    (a file of it, or anything inside an input folder), that shares its path with another
    output, or whose folder does not exist.

    Paths are compared after resolving symlinks, and hard links to one file count as that
    file. ``from_flag``: the reports were named with -o (else after the input).
    """
    groups = []  # (what was given, its files, its folders)
    if predictions is not None:
        groups.append((str(predictions), *input_paths(predictions)))
    if history is not None:
        groups.append((str(history), *input_paths(history, pattern=False)))
    if compare is not None:
        groups.append((str(compare), *input_paths(compare)))
    outputs = [(path, "report") for path in reports]
    if json_path is not None and str(json_path) != "-":
        outputs.append((json_path, "json"))
    seen: list[tuple[Path, str]] = []
    for path, kind in outputs:
        text = str(path)
        if kind == "json":
            label, role, hint = f"--json {text}", f"--json {text}", "Pick another path for --json."
        else:
            label = text
            role = f"-o {text}" if from_flag else f"the report {text}"
            hint = "Pick another -o/--output."
        problem = folder_problem(path)
        if problem is not None:
            why, message = problem
            if why == "missing":
                hint = "Create it first." if kind == "report" else "Create it first, or pick another path for --json."
            raise UsageError(message, hint=hint)
        for given, files, folders in groups:
            hit = input_overlap(path, files, folders)
            if hit is None:
                continue
            where, name = hit
            if where == "folder":
                raise UsageError(f"{label} is inside the input folder {name}; writing there would change the input.",
                                 hint=f"Pick a path outside {name} for --json." if kind == "json"
                                 else f"Pick an -o/--output outside {name}.")
            if files == [given]:  # the input named itself, not through a folder or glob
                if name == text:
                    what = "an input file" if kind == "json" else "the input file"
                else:
                    what = f"the input file {name}"
            else:
                what = ("" if name == text else f"{name}, ") + f"a file of the input {given}"
            raise UsageError(f"{label} is {what}; it would be overwritten.", hint=hint)
        for other, other_role in seen:
            if same_file(path, other):
                raise UsageError(f"{role} and {other_role} are the same file; two outputs cannot share one path.",
                                 hint=hint)
        seen.append((path, role))


def _stem(path: Path) -> str:
    """The name reports are called after: a file's name up to its first dot, a folder's
    name, or for a glob pattern (a path that does not exist) the part before the first wildcard."""
    text = str(path)
    if is_pattern(text):  # an existing file or folder is taken literally, brackets and all
        cut = min(text.index(ch) for ch in "*?[" if ch in text)
        prefix = text[:cut]
        name = prefix if not prefix.endswith(("/", "\\")) else prefix.rstrip("/\\")
        stem = Path(name).name.split(".")[0].rstrip("-_.") if name else ""
        return stem or "erranalysis"
    return path.name.split(".")[0] or "erranalysis"


def main() -> None:
    """Console-script entry point.

    Every output is written and closed by the time ``cli`` returns, so the process ends
    there, without the interpreter's teardown (freeing every object and module of
    pandas, pyarrow, matplotlib and WeasyPrint takes about half a second). A Spark
    session is the exception: its shutdown hooks stop the JVM.
    """
    global _FORK_RENDERER
    _FORK_RENDERER = True
    try:
        cli(prog_name="erranalysis")
        code = EXIT_OK
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or EXIT_OK
        else:  # a message: print it as the interpreter would
            print(exc.code, file=sys.stderr)
            code = 1
    if "pyspark" in sys.modules:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
