"""Command line: parse flags, call analyze(), write outputs, print the summary, map errors to exit codes."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from ._version import __version__
from .errors import ErranalysisError, UsageError
from .files import folder_problem, input_overlap, input_paths, is_pattern, same_file, write_atomic
from .result import SEVERITIES

EXIT_OK, EXIT_GATE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

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


def _fail(message: str, hint: str | None = None) -> None:
    click.echo(f"Error: {message}", err=True)
    if hint:
        click.echo(f"Hint: {hint}", err=True)
    sys.exit(EXIT_BAD_INPUT)


class _Cli(click.Group):
    """Click group whose usage errors are one line plus a hint, with exit code 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            command = " ".join(("erranalysis", *_command_words(args)))
            _fail(exc.format_message().replace("\n", " "), f"Run '{command} --help' for the options.")
        except click.exceptions.Abort:
            sys.exit(EXIT_GATE)
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)


def _command_words(args) -> list[str]:
    args = sys.argv[1:] if args is None else list(args)
    return [a for a in args[:1] if a in ("report",)]


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
@click.option("--template-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Render with templates from this folder (a copy of the installed templates/).")
@click.option("--page-size", type=click.Choice(["A4", "letter"], case_sensitive=False), default="A4",
              show_default=True, help="PDF page size.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def report(predictions, goal, json_path, fail_on, metric, threshold, positive_label, label_col, pred_col,
           split_col, score_col, proba_prefix, weight_col, loss_col, id_col, input_format, engine, spark_master,
           e_train, e_train_val, e_val, e_test, n_train, n_train_val, n_val, n_test,
           history_path, history_x, history_train, history_val, num_classes,
           compare_path, fail_on_regression, output, fmt, title, model_name, template_dir, page_size, quiet) -> None:
    import warnings

    from .analysis import analyze
    from .errors import DataWarning

    # The summary lists input warnings itself.
    warnings.simplefilter("ignore", DataWarning)

    summary = {"train": e_train, "train_val": e_train_val, "val": e_val, "test": e_test}
    rows = {"train": n_train, "train_val": n_train_val, "val": n_val, "test": n_test}
    summary_given = any(v is not None for v in summary.values())
    fail_on = fail_on.lower() if fail_on else None
    metric = metric.lower()
    command = "erranalysis " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        if predictions is not None and summary_given:
            raise UsageError("Give either a predictions file or summary errors (--train, --val, ...), not both.")
        if predictions is None and not summary_given and history_path is None:
            raise UsageError(
                "Give a predictions file, summary errors with --train/--train-val/--val/--test, or --history.",
                hint="Example: erranalysis report preds.parquet --goal 0.01",
            )
        outputs = report_paths(predictions if predictions is not None else history_path, output, fmt)
        check_outputs(predictions, history_path, outputs, json_path, from_flag=output is not None,
                      compare=compare_path)
        if fail_on_regression and compare_path is None:
            raise UsageError("--fail-on-regression needs --compare with the previous model's predictions or JSON.")
        if output is not None and output.suffix.lower() not in (".html", ".htm", ".pdf"):
            raise UsageError(f"-o/--output must end in .html or .pdf. Got {str(output)!r} instead.",
                             hint="Use --json for the JSON document.")
        page_size = "letter" if page_size.lower() == "letter" else "A4"
        if template_dir is not None:
            from .resources import templates_dir

            templates_dir(template_dir)
        orphans = [k for k, v in rows.items() if v is not None and summary[k] is None]
        if orphans:
            flag = orphans[0].replace("_", "-")
            raise UsageError(f"--n-{flag} gives the rows of a split whose error is missing.",
                             hint=f"Add --{flag} with that split's error.")
        curves = {"history": history_path, "history_x": history_x, "history_train": history_train,
                  "history_val": history_val, "num_classes": num_classes}
        if summary_given:
            result = analyze(errors=summary, n={k: v for k, v in rows.items() if v is not None},
                             goal=goal, metric=metric, command=command, compare=compare_path, **curves)
        elif predictions is None:
            result = analyze(goal=goal, metric=metric, command=command, **curves)
        else:
            from .terminal import progress_bar

            data = predictions
            if engine.lower() == "spark":
                from .spark import read_spark

                data = read_spark(predictions, input_format, master=spark_master)
            with progress_bar(enabled=not quiet and sys.stderr.isatty()) as progress:
                result = analyze(
                    data, goal=goal, metric=metric, threshold=threshold, positive_label=positive_label,
                    label_col=label_col, pred_col=pred_col, split_col=split_col, score_col=score_col,
                    proba_prefix=proba_prefix, weight_col=weight_col, loss_col=loss_col, id_col=id_col,
                    input_format=input_format, command=command, progress=progress, compare=compare_path,
                    **curves,
                )
    except ErranalysisError as exc:
        _fail(exc.message, exc.hint)
        return
    except Exception as exc:  # a bug, not bad input: say so, with a distinct exit code
        _internal_error(exc)

    to_stdout = json_path is not None and str(json_path) == "-"
    written = []
    # One page context (and one drawing of each figure) for every report file.
    reports = result.reports(title=title, model_name=model_name, template_dir=template_dir, page_size=page_size)
    for path in outputs:
        try:
            reports.write(path)
        except ErranalysisError as exc:
            _fail(exc.message, exc.hint)
        except OSError as exc:
            _fail(f"{path}: cannot write the report: {exc.strerror or exc}.", "Pick a writable path with -o/--output.")
        except Exception as exc:  # noqa: BLE001 - a broken user template is bad input, the rest is a bug
            import jinja2

            if isinstance(exc, jinja2.TemplateError):
                where = f"{getattr(exc, 'filename', None) or getattr(exc, 'name', None) or 'template'}"
                line = f", line {exc.lineno}" if getattr(exc, "lineno", None) else ""
                _fail(f"{where}{line}: the report template failed: {exc}.".replace("\n", " "),
                      "Fix the template in --template-dir, or leave --template-dir out.")
            _internal_error(exc)
        written.append(path)
    if json_path is not None:
        text = result.to_json()
        if to_stdout:
            click.echo(text)
        else:
            try:
                write_atomic(json_path, text + "\n")
            except OSError as exc:
                _fail(f"{json_path}: cannot write the JSON document: {exc.strerror or exc}.",
                      "Pick a writable path for --json.")
    if not quiet and not to_stdout:
        from .terminal import print_summary

        print_summary(result, json_path=json_path, reports=written)
    regressed = fail_on_regression and result.comparison is not None and result.comparison.regression
    if regressed:
        click.echo(f"Gate: --fail-on-regression: {result.comparison.text}", err=True)
    if fail_on and result.fails(fail_on):
        limit = SEVERITIES.index(fail_on)
        tripped = [f for f in result.findings if SEVERITIES.index(f.severity) <= limit]
        click.echo(f"Gate: {len(tripped)} finding(s) at '{fail_on}' or worse trip --fail-on {fail_on}:", err=True)
        for f in tripped[:5]:
            click.echo(f"  {f.severity} {f.kind}: {f.title}", err=True)
        sys.exit(EXIT_GATE)
    if regressed:
        sys.exit(EXIT_GATE)


def _internal_error(exc: Exception) -> None:
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
    seen = []
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
    """Console-script entry point."""
    cli(prog_name="erranalysis")


if __name__ == "__main__":  # pragma: no cover
    main()
