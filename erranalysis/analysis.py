"""analyze(): checked arguments → input → aggregates → metrics → findings → next steps → Result."""

from __future__ import annotations

import datetime as _dt
import os
import sys
import threading
import warnings
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import advice
from ._version import __version__
from .arguments import Arguments, Arrays, HistoryInput, SplitFigure, check_arguments, is_spark_frame
from .compare import WithOutcomes, check_schema, compare_docs, previous_name, read_previous_json
from .errors import DataWarning, InputError, UsageError
from .findings import Evidence, collect, evaluation_pool
from .fmt import level
from .io import SPLITS, Columns, Predictions, file_sha256, frame_from_arrays
from .io.history import History
from .io.read import table_kind
from .io.validate import check_weight_sums, scale_for_weights
from .output import Result
from .result import (
    Baseline,
    CalibrationResult,
    ClassMetrics,
    Confusion,
    Decomposition,
    Finding,
    HistoryAnalysis,
    NextStep,
    Provenance,
    ResultData,
    SliceAnalysis,
    SplitErrorRate,
    ThresholdAnalysis,
)
from .settings import Settings
from .sources import FrameSource, Progress, ReadSpec, _quiet, open_source
from .stats.accumulate import Accumulator, layout_for
from .stats.aggregates import SplitAggregate, calibration_kind
from .stats.confusion import most_confused
from .stats.decomposition import decompose
from .stats.intervals import wilson
from .stats.metrics import baseline_errors, calibration, class_scores, per_class_auc, split_error
from .stats.splits import class_balance, shared_ids
from .stats.threshold import (
    OverrideCounts,
    binary_override,
    chosen_split,
    confirmed,
    flagged_classes,
    pooled_class_scores,
    recommended,
    threshold_analysis,
)
from .verdict import judge

#: The split the figures are judged on: the first of these present.
EVALUATION_ORDER = ("test", "val", "train_val", "train")


def analyze(
    data: Any = None,
    *,
    goal: float | None = None,
    y_true: Any = None,
    y_pred: Any = None,
    proba: Any = None,
    split: Any = None,
    weight: Any = None,
    classes: Any = None,
    errors: Mapping[str, float | None] | None = None,
    n: Mapping[str, int | None] | None = None,
    metric: str = "error",
    threshold: float | None = None,
    positive_label: Any = None,
    columns: Columns | None = None,
    input_format: str | None = None,
    settings: Settings | None = None,
    command: str | None = None,
    history: Any = None,
    history_x: str | None = None,
    history_train: str | None = None,
    history_val: str | None = None,
    num_classes: int | None = None,
    engine: str | None = None,
    progress: Progress | None = None,
    compare: Any = None,
    model_family: str | None = None,
    **column_names: str,
) -> Result:
    """Diagnose a model from its predictions and say what to do next.

    Parameters
    ----------
    data : str, Path, DataFrame, table or None
        A predictions file (Parquet, CSV, TSV, JSON Lines, Feather), or a table with
        the columns of the input contract: a pandas, Polars or Spark DataFrame, a Polars
        LazyFrame, or a pyarrow Table, RecordBatch or Dataset (Arrow and Polars tables are
        read in record batches, without a pandas copy of the whole table; a LazyFrame's
        query runs once per pass over the rows, so its row order must not change between
        runs). Leave it out to pass arrays (``y_true`` ...) or summary numbers (``errors``).
    goal : float, optional
        The error you aim for (human-level or business requirement), in [0, 1].
    y_true, y_pred, proba, split, weight, classes : array-like, optional
        The array form: labels, predicted classes, probabilities (n × K, or a 1-D
        positive-class score for binary problems), split names, sample weights and the
        class of each probability column.
    errors, n : mapping, optional
        Summary numbers only: error per split (``{"train": 0.2, "val": 0.27}``) and
        optionally rows per split, which give the intervals.
    metric : {"error", "balanced_error"}
        The error metric every figure is expressed in.
    threshold : float, optional
        Binary problems: the threshold on the positive-class score (default 0.5).
    positive_label : optional
        Binary problems: which class is positive (default: 1, True, or the last class).
    columns : Columns, optional
        Column names; or pass them as keywords: ``label_col="y"``, ``pred_col=...``,
        ``split_col``, ``score_col``, ``weight_col``, ``loss_col``, ``id_col``,
        ``proba_prefix``.
    settings : Settings, optional
        Every tunable threshold of the analysis.
    history : str, Path or pandas.DataFrame, optional
        A training history (Keras CSVLogger CSV, Lightning metrics.csv, Hugging Face
        trainer_state.json, or a table of x / train loss / val loss) to diagnose the
        loss curves; ``history_x``, ``history_train``, ``history_val`` name its columns.
        Alone (no predictions) it gives the history diagnosis only.
    num_classes : int, optional
        Number of classes, for the expected initial loss ln(K) when there are no predictions.
    engine : {"local", "spark"}, optional
        Where the aggregates are computed. Parquet files, folders and globs stream in
        record batches on this machine; ``"spark"`` (or passing a Spark DataFrame as
        ``data``) computes them in Spark and brings back only the aggregates.
    progress : callable, optional
        Called as ``progress(stage, rows_done, rows_total)`` while the rows are read.
    compare : str, Path, pandas.DataFrame, dict or Result, optional
        The previous model's predictions on the same data (a file or DataFrame with the
        same columns), or a previous run's JSON document (a ``.json`` file, its dict, or
        its Result). Adds ``result.comparison``: per-split error changes with intervals
        (paired when rows match by ``id`` or position), terms that moved, findings new
        and resolved, classes and slices that got better or worse.
    model_family : {"tree", "linear", "neural", "other"}, optional
        The kind of model: the next steps then name what applies to it (depth, leaves
        and early stopping for trees; regularisation strength and features for a linear
        model; layers, dropout and augmentation for a network) instead of a generic list.

    Returns
    -------
    Result
        Typed result; ``result.to_json()`` gives the JSON document.

    Examples
    --------
    >>> import erranalysis
    >>> r = erranalysis.analyze(errors={"train": 0.20, "val": 0.27, "test": 0.28}, goal=0.01)
    >>> r.next_steps[0].problem
    'underfitting'
    >>> round(r.decomposition.components["avoidable_bias"].value, 2)
    0.19
    """
    args = check_arguments(
        data, arrays=Arrays(y_true, y_pred, proba, split, weight, classes), errors=errors, n=n, goal=goal,
        metric=metric, threshold=threshold, positive_label=positive_label, columns=columns,
        column_names=column_names, input_format=input_format, settings=settings, command=command,
        history=None if history is None else HistoryInput(history, history_x, history_train, history_val),
        num_classes=num_classes, engine=engine, progress=progress, compare=compare, model_family=model_family,
    )
    return analyze_arguments(args)


def analyze_arguments(args: Arguments) -> Result:
    """The analysis of checked arguments: of summary error rates, of a training history
    alone, or of predictions (each compared with a previous run when one is given)."""
    curves = _read_history(args.history)
    if args.figures is not None:
        result = _summary_analysis(args, args.figures, curves)
    elif args.data is None and args.arrays.y_true is None:
        result = _from_error_rates({}, args, curves)
    else:
        result = _predictions_analysis(args, curves)
    return for_family(result, args.model_family, args.settings.confidence)


def for_family(result: Result, family: str | None, confidence: float) -> Result:
    """``result`` with its next steps' actions fitted to the model's family: the steps and
    their order do not depend on it, only what each suggests (and so the headline's
    first action)."""
    if family is None:
        return result
    return replanned(replace(result, provenance=replace(result.provenance, model_family=family)), confidence)


def replanned(result: Result, confidence: float) -> Result:
    """``result`` with its next steps and headline made again from its findings (after
    findings were added, or the model's family became known)."""
    family = result.provenance.model_family
    steps = advice.plan(result.findings, confidence, family)
    headline = result.headline if not steps else _headline(steps, result.decomposition, result.errors,
                                                           result.provenance.goal, confidence)
    return replace(result, next_steps=steps, headline=headline)


def _read_history(history: HistoryInput | None) -> History | None:
    """The training history's loss curves, when one is given."""
    if history is None:
        return None
    from .io.history import read_history

    return read_history(history.source, x=history.x, train=history.train, val=history.val)


# ----------------------------------------------------------------------- summary mode


def _summary_analysis(args: Arguments, figures: dict[str, SplitFigure], curves: History | None) -> Result:
    """The analysis of error rates given as numbers, compared with a previous run when given."""
    result = _from_error_rates(figures, args, curves)
    if args.compare is None:
        return result
    previous = _previous_input(args.compare)
    if previous is None:  # the previous model's predictions: compared from their aggregates
        old = analyze(args.compare, goal=args.goal, metric=args.metric, settings=args.settings)
        return _with_compared_run(result, None, old, None, args)
    return _with_compared_document(result, previous, args.settings, name=previous_name(args.compare))


def _from_error_rates(figures: dict[str, SplitFigure], args: Arguments, curves: History | None) -> Result:
    """Decomposition and next steps from error figures alone (and/or a training history)."""
    errors = {s: _summary_error(s, f, args.settings.confidence) for s, f in figures.items()}
    measured = Evidence(
        settings=args.settings, metric=args.metric, goal=args.goal, eval_split=_eval_split(list(errors)), errors=errors,
        decomposition=decompose(errors, args.goal, args.metric, args.settings),
        history=_diagnose_history(curves, args.num_classes),
    )
    provenance = Provenance(
        input=None, sha256=None, rows=None, rows_by_split={s: e.n for s, e in errors.items()}, columns={},
        tool_version=__version__, command=args.command, created=_now(), metric=args.metric, goal=args.goal,
        settings=asdict(args.settings),
        history=None if curves is None else curves.source,
    )
    return _result(measured, provenance)


def _summary_error(split: str, figure: SplitFigure, confidence: float) -> SplitErrorRate:
    """One split's given error rate, with its Wilson interval when its rows are given."""
    rows = figure.rows
    ci = wilson(figure.error, rows, confidence) if rows else None
    return SplitErrorRate(split, figure.error, ci, rows if rows else None, float(rows) if rows else None)


# -------------------------------------------------------------------- predictions mode


def _predictions_analysis(args: Arguments, curves: History | None) -> Result:
    """The analysis of predictions (a file, frame, mapping or arrays), compared with a
    previous run when one is given."""
    data, name = _input_and_name(args)
    source = _open(data, name, args)
    spec = ReadSpec(name, args.columns, args.positive_label, args.threshold, args.settings)
    if args.compare is None:
        return _run(source, spec, args, curves)
    previous = _previous_input(args.compare)
    if previous is not None:  # a previous run's document
        return _with_compared_document(_run(source, spec, args, curves), previous, args.settings)
    rows: list = []
    result = _run(source, spec, args, curves, keep_rows=rows)
    old_rows: list = []
    name = previous_name(args.compare)
    old_spec = ReadSpec(name, args.columns, args.positive_label, args.threshold, args.settings)
    old = run_source(open_source(args.compare, args.input_format, name), old_spec, goal=args.goal,
                     metric=args.metric, command=args.command, progress=args.progress, keep_rows=old_rows)
    return _with_compared_run(result, rows[0] if rows else None, old, old_rows[0] if old_rows else None, args)


def _input_and_name(args: Arguments) -> tuple[Any, str]:
    """The predictions to read (a path, a DataFrame or a Spark DataFrame) and the name
    they go by in messages and the provenance."""
    data = args.data
    if data is None:
        a = args.arrays
        return frame_from_arrays(a.y_true, a.y_pred, a.proba, a.split, a.weight, a.classes, args.columns), "arrays"
    if isinstance(data, Mapping):
        try:
            return pd.DataFrame(dict(data)), "mapping"
        except ValueError as exc:
            raise UsageError(f"data must map column names to columns of equal length: {exc}",
                             parameter="data") from None
    if isinstance(data, pd.DataFrame):
        return data, "DataFrame"
    if isinstance(data, (str, Path)):
        return data, str(data)
    return data, table_kind(data) or "Spark DataFrame"


def _open(data: Any, name: str, args: Arguments) -> Any:
    """The source that reads ``data`` in batches: in Spark for ``engine="spark"`` or a
    Spark DataFrame, else on this machine."""
    if args.engine == "spark" or is_spark_frame(data):
        from .spark import SparkSource

        return SparkSource(data, input_format=args.input_format)
    return open_source(data, args.input_format, name)


def _run(source: Any, spec: ReadSpec, args: Arguments, curves: History | None,
         keep_rows: list | None = None) -> Result:
    """:func:`run_source` with the checked arguments."""
    return run_source(source, spec, goal=args.goal, metric=args.metric, command=args.command, history=curves,
                      num_classes=args.num_classes, progress=args.progress, keep_rows=keep_rows)


# ------------------------------------------------------------------------- comparison


def _previous_input(compare: Any) -> dict | None:
    """A previous run's JSON document when ``compare`` is one (dict, Result or .json
    file), else None: ``compare`` is then the previous model's predictions."""
    if isinstance(compare, ResultData):
        return compare.to_dict()
    if isinstance(compare, Mapping):
        check_schema(dict(compare), "dict")
        return dict(compare)
    if isinstance(compare, (str, Path)):
        path = Path(compare)
        if not path.exists():
            raise UsageError(f"compare {compare}: no such file or folder.", parameter="compare")
        return read_previous_json(path)
    return None


def _with_compared_run(result: Result, rows: Any, old: Result, old_rows: Any, args: Arguments) -> Result:
    """``result`` with its comparison to the previous model's run on the same data;
    ``rows`` and ``old_rows`` are their row outcomes when the rows were kept (paired)."""
    comparison = compare_docs(result.to_dict(), old.to_dict(), previous=previous_name(args.compare),
                              source="predictions", confidence=args.settings.confidence, new_rows=rows,
                              old_rows=old_rows, metric=args.metric)
    return replace(result, comparison=comparison)


def _with_compared_document(result: Result, previous: dict, settings: Settings, name: str | None = None) -> Result:
    """``result`` with its comparison to a previous run's JSON document."""
    comparison = compare_docs(result.to_dict(), previous, previous=name or _doc_name(previous), source="json",
                              confidence=settings.confidence)
    return replace(result, comparison=comparison)


def _doc_name(doc: dict) -> str:
    return str((doc.get("provenance") or {}).get("input") or "previous run")


# ------------------------------------------------------------------- the pass over rows


def run_source(source: Any, spec: ReadSpec, *, goal: float | None, metric: str, command: str | None = None,
               history: History | None = None, num_classes: int | None = None, progress: Progress | None = None,
               keep_rows: list | None = None) -> Result:
    """One pass over the source's rows (two when several classes' thresholds are tuned), then
    every analysis on the accumulated state. With ``keep_rows`` (a list), the rows'
    outcomes (compare.Outcomes) are appended to it for a paired comparison."""
    report = progress or _quiet
    hashing = _Hashing(source)
    # The analyses after the pass use scipy.special (a tenth of a second to import):
    # import it while the rows are read.
    threading.Thread(target=_warm_imports, daemon=True).start()
    spec, base = _first_rows(source, spec)
    acc = _read_rows(source, spec, base, report, keep_rows)
    base = _with_input_warnings(base, acc, spec.name)
    sha256 = hashing.result(report, acc.n_rows) or getattr(source, "sha256", None)
    provenance = Provenance(
        input=spec.name, sha256=sha256, rows=acc.n_rows, rows_by_split={}, columns=base.columns_used,
        tool_version=__version__, command=command, created=_now(), metric=metric, goal=goal,
        settings=asdict(spec.settings),
    )
    return analyze_state(acc, base, source, spec, goal=goal, metric=metric, provenance=provenance,
                         history=history, num_classes=num_classes, progress=report)


class _Hashing:
    """The sha256 of the input files for the provenance, computed in a background thread
    while the rows are read: it reads the files again, so it overlaps the pass."""

    def __init__(self, source: Any):
        path = getattr(source, "path", None)
        self.files: list[str] = getattr(source, "files", None) or ([str(path)] if path else [])
        self.digest: str | None = None
        self.worker: threading.Thread | None = None
        if self.files:
            self.worker = threading.Thread(target=self._hash, daemon=True)
            self.worker.start()

    def _hash(self) -> None:
        self.digest = file_sha256(*self.files)

    def result(self, progress: Progress, rows: int) -> str | None:
        """The digest, once the thread is done (None without files, or when hashing failed)."""
        if self.worker is None:
            return None
        progress("hashing the input", rows, rows)
        self.worker.join()
        return self.digest


def _warm_imports() -> None:
    """Import the library of the analyses that follow the pass."""
    try:
        import scipy.special  # noqa: F401
    except Exception:  # noqa: BLE001 - the analyses import it again and report any failure
        return


def _first_rows(source: Any, spec: ReadSpec) -> tuple[ReadSpec, Predictions]:
    """The spec every batch is read with (classes and weight scale fixed from the first
    rows) and the predictions of those rows, which carry what all batches share."""
    if isinstance(source, FrameSource):
        return spec, source.predictions(spec)
    head = source.head()
    try:
        first = spec.validate(head, partial=True)
    except InputError as exc:
        raise source.head_error(exc) from None
    if first.weight_scale is not None:
        spec = replace(spec, weight_scale=_weight_scale(source, spec, first))
    spec = replace(spec, classes=_stream_classes(source, spec, first))
    return spec, spec.validate(head, partial=True)


def _weight_scale(source: Any, spec: ReadSpec, first: Predictions) -> float | None:
    """The scale of the in-memory path (from the largest weight of all rows) where the
    files' statistics give that weight; else the first rows'."""
    top = source.column_max(spec.columns.weight) if hasattr(source, "column_max") else None
    return scale_for_weights(np.array([top])) if top is not None and top > 0 else first.weight_scale


def _stream_classes(source: Any, spec: ReadSpec, first: Predictions) -> tuple | None:
    """The classes of every batch: the probability columns' when there are any, else the
    distinct labels and predictions of the whole source."""
    if "proba" in first.columns_used:
        return first.classes
    classes = source.classes(spec.columns.label)
    return None if classes is None else tuple(classes)


def _read_rows(source: Any, spec: ReadSpec, base: Predictions, progress: Progress,
               keep_rows: list | None) -> Accumulator:
    """The pass over the rows into an :class:`Accumulator`; the rows' outcomes are
    appended to ``keep_rows`` when it is a list and the source keeps the row order."""
    make_state = partial(Accumulator, layout_for(base, spec.settings))
    if keep_rows is None or not getattr(source, "ordered", True):
        acc = source.run(spec, make_state, progress, "reading")
    else:
        kept = source.run(spec, partial(WithOutcomes, make_state), progress, "reading")
        keep_rows.append(kept.rows.outcomes())
        acc = kept.state
    if source.streamed and base.weight is not None:
        check_weight_sums({s: a.weight_sum for s, a in acc.aggs.items()}, spec.name, spec.columns.weight)
    return acc


def _with_input_warnings(base: Predictions, acc: Accumulator, name: str) -> Predictions:
    """``base`` with the input warnings of every row, each also issued as a DataWarning."""
    base = replace(base, warnings=acc.input_warnings(base.classes))
    for w in base.warnings:
        warnings.warn(f"{name}: {w.message}", DataWarning, stacklevel=_caller_level())
    return base


def _caller_level() -> int:
    """The ``stacklevel`` that makes a warning issued by this function's caller point at
    the first frame outside this package: the user's call of analyze()."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    level = 1
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(package):
        level, frame = level + 1, frame.f_back
    return level


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _eval_split(present: list[str]) -> str | None:
    """The split the figures are judged on: test, else val, else train_val, else train."""
    return next((s for s in EVALUATION_ORDER if s in present), None)


# ------------------------------------------------------------- analyses on the aggregates


def analyze_state(
    acc: Accumulator, base: Predictions, source: Any, spec: ReadSpec, *, goal: float | None, metric: str,
    provenance: Provenance, history: History | None = None, num_classes: int | None = None,
    progress: Progress | None = None,
) -> Result:
    """Run every analysis on the accumulated state (and the training history, if any).

    ``base`` carries what all batches share (classes, positive class, columns);
    ``source`` is read a second time only to measure tuned thresholds of several classes.
    """
    settings = spec.settings
    aggs = acc.aggs
    present = [s for s in SPLITS if s in aggs]
    eval_split = _evaluation_split(present)
    errors = _split_errors(aggs, present, metric, settings.confidence)
    dec = decompose(errors, goal, metric, settings)
    sample = acc.sample_predictions(base)  # built once: the AUCs, cohorts, shift and label errors read it
    pool = evaluation_pool(errors, dec)
    thresholds = _thresholds(base, aggs, eval_split, pool, settings, metric, source, spec, progress)
    measured = Evidence(
        settings=settings, metric=metric, goal=goal, eval_split=eval_split, errors=errors, decomposition=dec,
        baselines=_baselines(aggs, present, base.class_names, metric, eval_split),
        confusion=_confusion(aggs, sample, present, eval_split, base, settings), thresholds=thresholds,
        calibration=_calibration(acc, eval_split, base.n_classes, settings.confidence),
        class_balance=class_balance(aggs, present, base.class_names, settings, eval_split),
        warnings=list(base.warnings), leakage=shared_ids(acc.ids), n_rows=acc.n_rows,
        history=_diagnose_history(history, num_classes or base.n_classes),
        slices=_slice_analysis(acc, base, sample, pool, goal, metric, settings, source, progress),
    )
    provenance = Provenance(**{**asdict(provenance), "rows_by_split": {s: aggs[s].n_rows for s in present},
                               "history": None if history is None else history.source})
    return _result(measured, provenance)


def _evaluation_split(present: list[str]) -> str:
    """The split the figures are judged on; the validated input always has one."""
    split = _eval_split(present)
    if split is None:
        raise ValueError("no split holds a row")
    return split


def _split_errors(aggs: dict[str, SplitAggregate], present: list[str], metric: str,
                  confidence: float) -> dict[str, SplitErrorRate]:
    """Each split's error in ``metric`` with its interval."""
    return {s: split_error(aggs[s], metric, confidence) for s in present}


def _baselines(aggs: dict[str, SplitAggregate], present: list[str], labels: list, metric: str,
               eval_split: str) -> list[Baseline]:
    """The majority and stratified baselines of each split, from the class frequencies
    of train when there is one."""
    prior_from = "train" if "train" in aggs else eval_split
    prior_support = aggs[prior_from].support
    prior = prior_support / prior_support.sum()
    return [baseline_errors(aggs[s], prior, metric, labels, prior_from) for s in present]


def _confusion(aggs: dict[str, SplitAggregate], sample: Predictions | None, present: list[str], eval_split: str,
               base: Predictions, settings: Settings) -> Confusion:
    """The confusion matrices, the most confused pairs and the per-class metrics. Without
    weights every count is a whole number of rows: they stay integers in the JSON."""
    labels = base.class_names
    whole = base.weight is None
    per_class = _per_class_metrics(aggs, sample, present, labels, whole)
    pairs = most_confused(aggs, eval_split, labels, settings)
    if whole:
        pairs = [replace(p, count=int(p.count), rows=int(p.rows)) for p in pairs]
    ev_cm = aggs[eval_split].confusion
    never = [labels[k] for k in range(len(labels)) if ev_cm[k].sum() > 0 and ev_cm[:, k].sum() == 0]
    return Confusion(
        split=eval_split,
        labels=labels,
        matrix=_counts(ev_cm, whole),
        most_confused=pairs,
        by_split={s: _counts(aggs[s].confusion, whole) for s in present},
        never_predicted=never,
        per_class=per_class,
    )


def _counts(matrix: np.ndarray, whole: bool) -> list:
    """A confusion matrix as nested lists, of ints when its counts are whole rows."""
    return (matrix.astype(np.int64) if whole else matrix).tolist()


def _per_class_metrics(aggs: dict[str, SplitAggregate], sample: Predictions | None, present: list[str],
                       labels: list, whole: bool) -> dict[str, list[ClassMetrics]]:
    """Precision, recall, F1, support and ROC AUC per class and split (counts as whole
    rows when ``whole``). The AUC is exact where the row sample holds the whole split,
    from the histograms otherwise."""
    aucs = per_class_auc(aggs, sample, present)
    return {s: class_scores(aggs[s].confusion, labels, aucs.get(s) or None, whole=whole) for s in present}


def _calibration(acc: Accumulator, eval_split: str, n_classes: int, confidence: float) -> CalibrationResult | None:
    """The evaluation split's calibration, when there are probabilities."""
    if not acc.layout.has_proba:
        return None
    return calibration(acc.aggs[eval_split], calibration_kind(n_classes), confidence)


def _diagnose_history(curves: History | None, n_classes: int | None) -> HistoryAnalysis | None:
    if curves is None:
        return None
    from .stats.history import diagnose

    return diagnose(curves, n_classes)


def _thresholds(base: Predictions, aggs: dict[str, SplitAggregate], eval_split: str, pool: list[str],
                settings: Settings, metric: str, source: Any, spec: ReadSpec,
                progress: Progress | None) -> list[ThresholdAnalysis]:
    """Per-class threshold analyses. A class is flagged on the pooled held-out rows
    (``pool``, see :func:`~erranalysis.stats.threshold.flagged_classes`). The threshold is
    chosen on val (else train_val, else train) and its gain measured on the pooled
    held-out splits it was not chosen on."""
    if base.proba is None:
        return []
    chosen_on = chosen_split(aggs, eval_split)
    measured = tuple(s for s in pool if s != chosen_on) or (chosen_on,)
    pooled = pooled_class_scores(aggs, pool, base.n_classes)
    flagged = flagged_classes(pooled, settings)
    wanted = list(flagged)
    if base.n_classes == 2 and base.positive is not None and base.positive not in wanted:
        wanted.insert(0, base.positive)
    wanted = [k for k in wanted if aggs[chosen_on].score_hist[k, 1].sum() > 0]
    picks = {k: recommended(aggs, k, chosen_on) for k in wanted}
    splits = list(dict.fromkeys([chosen_on, eval_split, *measured, *(s for s in ("train_val",) if s in aggs)]))
    after = _overridden(base, aggs, picks, splits, source, spec, progress)
    return [
        confirmed(threshold_analysis(base, aggs, k, chosen_on, eval_split, settings, flagged=k in flagged,
                                     after=after[k], metric=metric, measured_on=measured, pooled=pooled[k]),
                  settings)
        for k in wanted
    ]


def _overridden(base: Predictions, aggs: dict[str, SplitAggregate], picks: dict[int, tuple[float, int]],
                splits: list[str], source: Any, spec: ReadSpec,
                progress: Progress | None) -> dict[int, dict[str, np.ndarray]]:
    """The confusion matrix of each split under each class's recommended threshold:
    from the histograms for a binary problem, else from one more pass over the rows
    ("predict k above t, else keep the prediction" needs the rows)."""
    if base.n_classes == 2:
        return {k: {s: binary_override(aggs[s], k, j) for s in splits} for k, (_, j) in picks.items()}
    if not picks:
        return {}
    specs = tuple((k, t) for k, (t, _) in picks.items())
    counts = source.run(spec, partial(OverrideCounts, specs, base.n_classes), progress,
                        "measuring thresholds").counts
    return {k: {s: counts[(k, t)][SPLITS.index(s)] for s in splits} for k, t in specs}


# --------------------------------------------------------------------- metadata columns


def _slice_analysis(acc: Accumulator, base: Predictions, sample: Predictions, pool: list[str], goal: float | None,
                    metric: str, settings: Settings, source: Any, progress: Progress | None) -> SliceAnalysis:
    """Error analysis on the metadata columns (on the pooled held-out splits ``pool``),
    examples to look at, label errors, each example row located in the input."""
    from .stats.slices import slice_analysis

    if progress:
        progress("analysing", acc.n_rows, acc.n_rows)
    index = getattr(source, "index", None)
    files = source.file_starts() if hasattr(source, "file_starts") else None
    return slice_analysis(acc, base, sample, pool, goal, metric, settings, index, files)


# ------------------------------------------------------------------ findings and result


def _result(measured: Evidence, provenance: Provenance) -> Result:
    """The Result: the measured figures, the findings the rules raise on them, the next
    steps, the headline and the verdict."""
    findings, steps, headline = _conclude(measured)
    return Result(
        headline=headline,
        errors=measured.errors,
        decomposition=measured.decomposition,
        findings=findings,
        next_steps=steps,
        baselines=measured.baselines,
        confusion=measured.confusion,
        thresholds=measured.thresholds,
        calibration=measured.calibration,
        class_balance=measured.class_balance,
        warnings=list(measured.warnings),
        provenance=provenance,
        eval_split=measured.eval_split,
        history=measured.history,
        slices=measured.slices,
        verdict=judge(measured.errors, measured.eval_split, measured.decomposition, level(provenance)),
    )


def _conclude(ev: Evidence) -> tuple[list[Finding], list[NextStep], str]:
    """Findings, the ordered next steps and the headline from the evidence."""
    findings = collect(ev)
    steps = advice.plan(findings, ev.settings.confidence)
    if not steps and not ev.errors and ev.history is not None:
        return findings, steps, ev.history.summary
    return findings, steps, _headline(steps, ev.decomposition, ev.errors, ev.goal, ev.settings.confidence)


def _headline(steps: list[NextStep], dec: Decomposition, errors: dict[str, SplitErrorRate], goal: float | None,
              confidence: float) -> str:
    """The one thing to do next (the first step and its first action), with its figure."""
    final = errors.get(dec.final_split) if dec.final_split else None
    return advice.headline(steps, dec.final_split, dec.final_error, goal,
                           measured=any(c is not None for c in dec.components.values()),
                           final_ci=None if final is None else final.ci, confidence=confidence)
