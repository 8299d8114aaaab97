"""analyze(): input → aggregates → metrics → findings → next steps → Result."""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import advice
from ._version import __version__
from .compare import WithOutcomes, check_schema, compare_docs, previous_name, read_previous_json
from .errors import DataWarning, InputError, UsageError
from .findings import Evidence, collect, evaluation_pool
from .fmt import level
from .io import SPLITS, Columns, Predictions, file_sha256, frame_from_arrays
from .io.validate import check_weight_sums, scale_for_weights
from .output import Result
from .result import (
    ClassBalance,
    Confusion,
    LabelShiftTest,
    Provenance,
    ResultData,
    SliceAnalysis,
    SplitErrorRate,
)
from .settings import Settings
from .sources import FrameSource, ReadSpec, _quiet, open_source
from .stats.accumulate import Accumulator, layout_for
from .stats.aggregates import calibration_kind
from .stats.confusion import most_confused
from .stats.decomposition import decompose
from .stats.intervals import wilson
from .stats.metrics import (
    METRICS,
    baseline_errors,
    calibration,
    class_scores,
    label_shift_test,
    per_class_auc,
    roc_auc_from_hist,
    split_error,
    total_variation,
)
from .stats.threshold import OverrideCounts, threshold_analysis, binary_override, recommended
from .verdict import judge


def analyze(
    data: Any = None,
    *,
    goal: float | None = None,
    y_true=None,
    y_pred=None,
    proba=None,
    split=None,
    weight=None,
    classes=None,
    errors: Mapping[str, float] | None = None,
    n: Mapping[str, int] | None = None,
    metric: str = "error",
    threshold: float | None = None,
    positive_label: Any = None,
    columns: Columns | None = None,
    input_format: str | None = None,
    settings: Settings | None = None,
    command: str | None = None,
    history=None,
    history_x: str | None = None,
    history_train: str | None = None,
    history_val: str | None = None,
    num_classes: int | None = None,
    engine: str | None = None,
    progress=None,
    compare: Any = None,
    **column_names: str,
) -> Result:
    """Diagnose a model from its predictions and say what to do next.

    Parameters
    ----------
    data : str, Path, pandas.DataFrame or None
        A predictions file (Parquet, CSV, TSV, JSON Lines, Feather), or a DataFrame
        with the columns of the input contract. Leave it out to pass arrays
        (``y_true`` ...) or summary numbers (``errors``).
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
    settings = settings or Settings()
    if metric not in METRICS:
        raise UsageError(f"--metric must be one of {', '.join(METRICS)}. Got {metric!r} instead.")
    if goal is not None:
        if isinstance(goal, (bool, np.bool_)) or not isinstance(goal, (int, float, np.integer, np.floating)):
            raise UsageError(f"--goal must be a number within [0, 1]. Got {goal!r} instead.",
                             hint="Give the goal as an error rate: 0.01 for 1%.")
        goal = float(goal)
        if not 0.0 <= goal < 1.0 or math.isnan(goal):
            raise UsageError(f"--goal must be an error rate in [0, 1). Got {goal:g} instead.",
                             hint="Give the goal as a fraction: 0.01 for 1%.")
    columns = _columns(columns, column_names)
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
                                    or num_classes < 2):
        raise UsageError(f"--num-classes must be a whole number of at least 2. Got {num_classes!r} instead.")
    curves = None
    if history is not None:
        from .io.history import read_history

        curves = read_history(history, x=history_x, train=history_train, val=history_val)

    if errors is not None:
        if data is not None or y_true is not None:
            raise UsageError("Give either predictions or summary errors, not both.")
        result = _from_error_rates(errors, n or {}, goal, metric, settings, command, curves, num_classes)
        if compare is None:
            return result
        previous = _previous_input(compare, settings)
        if previous is None:  # the previous model's predictions: compared from their aggregates
            previous = (analyze(compare, goal=goal, metric=metric, settings=settings), None)
        return _with_comparison(result, None, previous, settings, name=previous_name(compare), metric=metric)

    if data is None:
        if y_true is None and curves is not None:
            return _from_error_rates({}, {}, goal, metric, settings, command, curves, num_classes)
        if y_true is None:
            raise UsageError("analyze() needs data (a path or DataFrame), y_true, errors, or history.")
        data, name = frame_from_arrays(y_true, y_pred, proba, split, weight, classes, columns), "arrays"
    elif isinstance(data, Mapping):
        try:
            data = pd.DataFrame(dict(data))
        except ValueError as exc:
            raise UsageError(f"data must map column names to columns of equal length: {exc}") from None
        name = "mapping"
    elif isinstance(data, pd.DataFrame):
        name = "DataFrame"
    elif isinstance(data, (str, Path)):
        name = str(data)
    elif _is_spark_frame(data):
        name = "Spark DataFrame"
    else:
        raise UsageError(
            f"data must be a path, a pandas DataFrame, a Spark DataFrame or a mapping of columns. "
            f"Got {type(data).__name__} instead."
        )
    if engine not in (None, "local", "spark"):
        raise UsageError(f"--engine must be local or spark. Got {engine!r} instead.")
    if engine == "spark" or _is_spark_frame(data):
        from .spark import SparkSource

        source = SparkSource(data, input_format=input_format)
    else:
        source = open_source(data, input_format, name)
    spec = ReadSpec(name, columns, positive_label, threshold, settings)
    if compare is None:
        return run_source(source, spec, goal=goal, metric=metric, command=command, history=curves,
                          num_classes=num_classes, progress=progress)
    previous = _previous_input(compare, settings)
    rows: list = []
    result = run_source(source, spec, goal=goal, metric=metric, command=command, history=curves,
                        num_classes=num_classes, progress=progress, keep_rows=None if previous else rows)
    if previous is not None:  # a previous run's document
        return _with_comparison(result, None, previous, settings)
    old_rows: list = []
    old_spec = ReadSpec(previous_name(compare), columns, positive_label, threshold, settings)
    old_source = open_source(compare, input_format, previous_name(compare))
    old = run_source(old_source, old_spec, goal=goal, metric=metric, command=command, progress=progress,
                     keep_rows=old_rows)
    return _with_comparison(result, rows[0] if rows else None, (old, old_rows[0] if old_rows else None), settings,
                            name=previous_name(compare), metric=metric)


def _previous_input(compare, settings: Settings):
    """A previous run's JSON document when ``compare`` is one (dict, Result or .json
    file), else None: ``compare`` is then the previous model's predictions."""
    if isinstance(compare, ResultData):
        return compare.to_dict()
    if isinstance(compare, Mapping) and "schema_version" in compare:
        check_schema(dict(compare), "dict")
        return dict(compare)
    if isinstance(compare, (str, Path)):
        path = Path(compare)
        if not path.exists():
            raise UsageError(f"--compare {compare}: no such file or folder.")
        return read_previous_json(path)
    if isinstance(compare, pd.DataFrame):
        return None
    raise UsageError(f"compare must be a path, a DataFrame, a previous Result or its JSON dict. "
                     f"Got {type(compare).__name__} instead.")


def _with_comparison(result: Result, rows, previous, settings: Settings, name: str | None = None,
                     metric: str = "error") -> Result:
    """``result`` with its comparison to ``previous``: a previous run's document (dict), or
    (the previous Result, its row outcomes) when its predictions were analysed here."""
    if isinstance(previous, tuple):
        old, old_rows = previous
        comparison = compare_docs(result.to_dict(), old.to_dict(), previous=name or "previous", source="predictions",
                                  confidence=settings.confidence, new_rows=rows, old_rows=old_rows, metric=metric)
    else:
        comparison = compare_docs(result.to_dict(), previous, previous=name or _doc_name(previous), source="json",
                                  confidence=settings.confidence)
    return replace(result, comparison=comparison)


def _doc_name(doc: dict) -> str:
    return str((doc.get("provenance") or {}).get("input") or "previous run")


def _is_spark_frame(data) -> bool:
    module = type(data).__module__ or ""
    return module.startswith("pyspark.") and type(data).__name__ == "DataFrame"


def run_source(source, spec: ReadSpec, *, goal, metric: str, command: str | None = None, history=None,
               num_classes: int | None = None, progress=None, keep_rows: list | None = None) -> Result:
    """One pass over the source's rows (two when several classes' thresholds are tuned), then
    every analysis on the accumulated state. With ``keep_rows`` (a list), the rows'
    outcomes (compare.Outcomes) are appended to it for a paired comparison."""
    import threading

    settings = spec.settings
    progress = progress or _quiet
    hashing: dict = {}
    files = getattr(source, "files", None) or ([str(source.path)] if getattr(source, "path", None) else [])
    if files:
        # The provenance hash reads the file(s) again: overlap it with the pass.
        worker = threading.Thread(target=lambda: hashing.setdefault("sha256", file_sha256(*files)), daemon=True)
        worker.start()
    # The analyses after the pass import scikit-learn and cleanlab (about a second):
    # import them while the rows are read.
    threading.Thread(target=_warm_imports, daemon=True).start()
    if isinstance(source, FrameSource):
        base = source.predictions(spec)
    else:
        head = source.head()
        try:
            first = spec.validate(head, partial=True)
        except InputError as exc:
            raise source.head_error(exc) from None
        if first.weight_scale is not None:
            # The scale of the in-memory path (from the largest weight of all rows) where the
            # files' statistics give that weight; else the first rows'.
            top = source.column_max(spec.columns.weight) if hasattr(source, "column_max") else None
            scale = scale_for_weights(np.array([top])) if top is not None and top > 0 else first.weight_scale
            spec = replace(spec, weight_scale=scale)
        if "proba" in first.columns_used:
            spec = replace(spec, classes=first.classes)
        else:
            spec = replace(spec, classes=source.classes(spec.columns.label))
            spec = replace(spec, classes=None if spec.classes is None else tuple(spec.classes))
        base = spec.validate(head, partial=True)
    layout = layout_for(base, settings)
    keep = keep_rows is not None and getattr(source, "ordered", True)
    make_state = partial(Accumulator, layout)
    acc = source.run(spec, partial(WithOutcomes, make_state) if keep else make_state, progress, "reading")
    if keep:
        keep_rows.append(acc.rows.outcomes())
        acc = acc.state
    if source.streamed and base.weight is not None:
        check_weight_sums({s: a.weight_sum for s, a in acc.aggs.items()}, spec.name, spec.columns.weight)
    base = replace(base, warnings=acc.input_warnings(base.classes))
    for w in base.warnings:
        warnings.warn(f"{spec.name}: {w.message}", DataWarning, stacklevel=3)
    if files:
        progress("hashing the input", acc.n_rows, acc.n_rows)
        worker.join()
    provenance = Provenance(
        input=spec.name,
        sha256=hashing.get("sha256") or getattr(source, "sha256", None),
        rows=acc.n_rows,
        rows_by_split={},
        columns=base.columns_used,
        tool_version=__version__,
        command=command,
        created=_now(),
        metric=metric,
        goal=goal,
        settings=asdict(settings),
    )
    return analyze_state(acc, base, source, spec, goal=goal, metric=metric, provenance=provenance,
                         history=history, num_classes=num_classes, progress=progress)


def _warm_imports() -> None:
    try:
        import cleanlab.filter  # noqa: F401
        import scipy.special  # noqa: F401
        import sklearn.ensemble  # noqa: F401
        import sklearn.model_selection  # noqa: F401
        import sklearn.tree  # noqa: F401
    except Exception:  # noqa: BLE001 - the analyses import them again and report any failure
        pass


def _columns(columns: Columns | None, names: dict) -> Columns:
    base = columns or Columns()
    if not names:
        return base
    mapping = {
        "label_col": "label", "pred_col": "pred", "split_col": "split", "score_col": "score",
        "weight_col": "weight", "loss_col": "loss", "id_col": "id", "proba_prefix": "proba_prefix",
    }
    changes = {}
    for key, value in names.items():
        if key not in mapping:
            raise UsageError(f"analyze() got an unknown argument {key!r}. Column arguments: {', '.join(mapping)}.")
        if value is not None:
            changes[mapping[key]] = value
    return Columns(**{**asdict(base), **changes})


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _eval_split(present: list[str]) -> str | None:
    for s in ("test", "val", "train_val", "train"):
        if s in present:
            return s
    return None


def analyze_state(
    acc: Accumulator, base: Predictions, source, spec: ReadSpec, *, goal: float | None, metric: str,
    provenance: Provenance, history=None, num_classes: int | None = None, progress=None,
) -> Result:
    """Run every analysis on the accumulated state (and the training history, if any).

    ``base`` carries what all batches share (classes, positive class, columns);
    ``source`` is read a second time only to measure tuned thresholds of several classes.
    """
    settings = spec.settings
    preds = base
    aggs = acc.aggs
    present = [s for s in SPLITS if s in aggs]
    eval_split = _eval_split(present)
    labels = preds.class_names
    conf_level = settings.confidence

    errors = {s: split_error(aggs[s], metric, conf_level) for s in present}
    dec = decompose(errors, goal, metric, settings)

    # Baselines: class frequencies from train when there is one.
    prior_from = "train" if "train" in aggs else eval_split
    prior_support = aggs[prior_from].support
    prior = prior_support / prior_support.sum()
    baselines = [baseline_errors(aggs[s], prior, metric, labels, prior_from) for s in present]

    # Confusion and per-class metrics.
    # Exact ROC AUC where the row sample holds the whole split, the histograms otherwise.
    sample = acc.sample_predictions(base)  # built once: the AUCs, cohorts, shift and label errors read it
    aucs = per_class_auc(aggs, sample, present)
    # Without weights every count is a whole number of rows: keep them integers in the JSON.
    per_class = {s: class_scores(aggs[s].confusion, labels, aucs.get(s) or None, whole=preds.weight is None)
                 for s in present}
    ev_cm = aggs[eval_split].confusion
    # Without weights every count is a whole number of rows: keep them integers in the JSON.
    as_counts = (lambda m: m.astype(np.int64).tolist()) if preds.weight is None else (lambda m: m.tolist())
    pairs = most_confused(aggs, eval_split, labels, settings)
    if preds.weight is None:
        pairs = [replace(p, count=int(p.count), rows=int(p.rows)) for p in pairs]
    never = [labels[k] for k in range(len(labels)) if ev_cm[k].sum() > 0 and ev_cm[:, k].sum() == 0]
    confusion = Confusion(
        split=eval_split,
        labels=labels,
        matrix=as_counts(ev_cm),
        most_confused=pairs,
        by_split={s: as_counts(aggs[s].confusion) for s in present},
        never_predicted=never,
        per_class=per_class,
    )

    pool = evaluation_pool(errors, dec)
    thresholds = _thresholds(base, aggs, eval_split, pool, settings, metric, source, spec, progress)
    cal = None
    if acc.layout.has_proba:
        kind = calibration_kind(preds.n_classes)
        cal = calibration(aggs[eval_split], kind, conf_level)
    balance = _class_balance(aggs, present, labels, settings, eval_split)
    leakage = _leakage(acc.ids)
    curves = _diagnose_history(history, num_classes or preds.n_classes)
    if progress:
        progress("analysing", acc.n_rows, acc.n_rows)
    slices = _slices(acc, base, sample, pool, goal, metric, settings, source)

    ev = Evidence(
        settings=settings,
        metric=metric,
        goal=goal,
        eval_split=eval_split,
        errors=errors,
        decomposition=dec,
        baselines=baselines,
        confusion=confusion,
        thresholds=thresholds,
        calibration=cal,
        class_balance=balance,
        warnings=preds.warnings,
        leakage=leakage,
        n_rows=acc.n_rows,
        history=curves,
        slices=slices,
    )
    findings, steps, headline = _conclude(ev)
    provenance = Provenance(**{**asdict(provenance), "rows_by_split": {s: aggs[s].n_rows for s in present},
                               "history": None if history is None else history.source})
    return Result(
        headline=headline,
        errors=errors,
        decomposition=dec,
        findings=findings,
        next_steps=steps,
        baselines=baselines,
        confusion=confusion,
        thresholds=thresholds,
        calibration=cal,
        class_balance=balance,
        warnings=list(preds.warnings),
        provenance=provenance,
        eval_split=eval_split,
        history=curves,
        slices=slices,
        verdict=judge(errors, eval_split, dec, level(provenance)),
    )


def _conclude(ev: Evidence) -> tuple[list, list, str]:
    """Findings, the ordered next steps and the headline from the evidence."""
    findings = collect(ev)
    steps = advice.plan(findings, ev.settings.confidence)
    dec = ev.decomposition
    if not steps and not ev.errors and ev.history is not None:
        return findings, steps, ev.history.summary
    measured = any(c is not None for c in dec.components.values())
    final = ev.errors.get(dec.final_split) if dec.final_split else None
    return findings, steps, advice.headline(steps, dec.final_split, dec.final_error, ev.goal, measured=measured,
                                            final_ci=None if final is None else final.ci,
                                            confidence=ev.settings.confidence)


def _slices(acc: Accumulator, base: Predictions, sample: Predictions, pool: list[str], goal, metric: str,
            settings: Settings, source) -> SliceAnalysis:
    """Error analysis on the metadata columns (on the pooled held-out splits ``pool``),
    examples to look at, label errors; each example located in the input of ``source``."""
    from .stats.slices import slice_analysis

    index = getattr(source, "index", None)
    files = source.file_starts() if hasattr(source, "file_starts") else None
    return slice_analysis(acc, base, sample, pool, goal, metric, settings, index, files)


def _diagnose_history(curves, n_classes):
    if curves is None:
        return None
    from .stats.history import diagnose

    return diagnose(curves, n_classes)


def _thresholds(base, aggs, eval_split, pool, settings, metric, source, spec, progress) -> list:
    """Per-class threshold analyses. A class is flagged on the pooled held-out rows
    (``pool``): its recall there is at most ``threshold_max_recall`` while its ROC AUC
    is at least ``threshold_min_auc``, on at least ``min_support`` rows of the class.
    The threshold is chosen on val (else train_val, else train) and its gain measured
    on the pooled held-out splits it was not chosen on."""
    if base.proba is None:
        return []
    chosen_on = next((s for s in ("val", "train_val", "train") if s in aggs), eval_split)
    measured = tuple(s for s in pool if s != chosen_on) or (chosen_on,)
    cm = sum(aggs[s].confusion * aggs[s].row_scale for s in pool)
    hist = sum(aggs[s].hist * aggs[s].row_scale for s in pool)
    support = cm.sum(axis=1)
    pooled = {}
    for k in range(base.n_classes):
        auc = roc_auc_from_hist(hist[k, 1], hist[k, 0])
        pooled[k] = {"splits": list(pool), "rows": float(support[k]),
                     "recall": float(cm[k, k] / support[k]) if support[k] > 0 else None,
                     "roc_auc": None if math.isnan(auc) else auc}
    flagged = [
        k for k, p in pooled.items()
        if p["rows"] >= settings.min_support and p["recall"] is not None
        and p["recall"] <= settings.threshold_max_recall
        and p["roc_auc"] is not None and p["roc_auc"] >= settings.threshold_min_auc
    ]
    wanted = list(flagged)
    if base.n_classes == 2 and base.positive not in wanted:
        wanted.insert(0, base.positive)
    wanted = [k for k in wanted if aggs[chosen_on].hist[k, 1].sum() > 0]
    picks = {k: recommended(aggs, k, chosen_on) for k in wanted}
    splits = dict.fromkeys([chosen_on, eval_split, *measured, *(s for s in ("train_val",) if s in aggs)])
    if base.n_classes == 2:
        after = {k: {s: binary_override(aggs[s], k, j) for s in splits} for k, (_, j) in picks.items()}
    elif picks:
        # "Predict k above t, else keep the prediction" needs the rows: one more pass.
        specs = tuple((k, t) for k, (t, _) in picks.items())
        counts = source.run(spec, partial(OverrideCounts, specs, base.n_classes), progress,
                            "measuring thresholds").counts
        after = {k: {s: counts[(k, t)][SPLITS.index(s)] for s in splits} for k, t in specs}
    out = []
    for k in wanted:
        t = threshold_analysis(base, aggs, k, chosen_on, eval_split, settings, flagged=k in flagged, after=after[k],
                              metric=metric, measured_on=measured, pooled=pooled[k])
        # A threshold that does not help on the split it was chosen on is no fix.
        if t.flagged and t.at_recommended_chosen["recall"] <= settings.threshold_max_recall:
            t = replace(t, flagged=False)
        out.append(t)
    return out


def _imbalance_ratio(support: np.ndarray) -> float | None:
    nonzero = support[support > 0]
    return float(nonzero.max() / nonzero.min()) if nonzero.size >= 2 else None


def _class_balance(aggs, present, labels, settings, eval_split=None) -> ClassBalance:
    priors = {}
    for s in present:
        sup = aggs[s].support
        priors[s] = (sup / sup.sum()).tolist()
    ratio_split = "train" if "train" in aggs else present[-1]
    ratio = _imbalance_ratio(aggs[ratio_split].support)
    balanced = {}
    if eval_split in aggs:
        est = split_error(aggs[eval_split], "balanced_error", settings.confidence)
        balanced = {"eval_split": eval_split, "eval_ratio": _imbalance_ratio(aggs[eval_split].support),
                    "balanced_error": est.error, "balanced_error_ci": est.ci}
    tests = []
    reference = "train" if "train" in aggs else None
    if reference:
        for s in present:
            if s == reference:
                continue
            chi2, p = label_shift_test(aggs[reference].class_counts, aggs[s].class_counts)
            tvd = total_variation(np.asarray(priors[reference]), np.asarray(priors[s]))
            tests.append(LabelShiftTest(reference, s, tvd, chi2, p))
    return ClassBalance(labels, priors, ratio, ratio_split, tests, **balanced)


def _leakage(sketch) -> dict:
    """Ids shared between splits, per pair of splits (estimated beyond the sketch's capacity)."""
    if sketch is None:
        return {}
    present = sorted(sketch.settle().hashes)
    out = {}
    for i, a in enumerate(present):
        for b in present[i + 1:]:
            shared, _ = sketch.shared(a, b)
            if shared >= 0.5:
                out[(SPLITS[a], SPLITS[b])] = int(round(shared))
    return out


def _from_error_rates(errors_in, n_in, goal, metric, settings, command, curves=None, num_classes=None) -> Result:
    """Decomposition and next steps from error figures alone (and/or a training history)."""
    errors = {}
    for s, value in errors_in.items():
        if value is None:
            continue
        if s not in SPLITS:
            raise UsageError(f"errors keys must be among {', '.join(SPLITS)}. Got {s!r} instead.")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"errors[{s!r}] must be a number. Got {value!r} instead.") from None
        if not 0.0 <= value <= 1.0:
            raise UsageError(f"--{s.replace('_', '-')} must be an error rate within [0, 1]. Got {value} instead.")
        rows = n_in.get(s)
        if rows is not None:
            try:
                rows = int(rows)
            except (TypeError, ValueError):
                raise UsageError(f"n[{s!r}] must be a row count. Got {rows!r} instead.") from None
        if rows is not None and rows <= 0:
            raise UsageError(f"--n-{s.replace('_', '-')} must be a positive row count. Got {rows} instead.")
        ci = wilson(value, int(rows), settings.confidence) if rows else None
        errors[s] = SplitErrorRate(s, value, ci, int(rows) if rows else None, float(rows) if rows else None)
    if not errors and curves is None:
        raise UsageError("Give at least one error figure (--train, --train-val, --val, --test).")
    errors = {s: errors[s] for s in SPLITS if s in errors}
    dec = decompose(errors, goal, metric, settings)
    present = list(errors)
    analysis = _diagnose_history(curves, num_classes)
    ev = Evidence(settings=settings, metric=metric, goal=goal, eval_split=_eval_split(present),
                  errors=errors, decomposition=dec, history=analysis)
    findings, steps, headline = _conclude(ev)
    provenance = Provenance(
        input=None, sha256=None, rows=None, rows_by_split={s: e.n for s, e in errors.items()}, columns={},
        tool_version=__version__, command=command, created=_now(), metric=metric, goal=goal,
        settings=asdict(settings),
        history=None if curves is None else curves.source,
    )
    return Result(
        headline=headline,
        errors=errors,
        decomposition=dec,
        findings=findings,
        next_steps=steps,
        baselines=[],
        confusion=None,
        thresholds=[],
        calibration=None,
        class_balance=None,
        warnings=[],
        provenance=provenance,
        eval_split=_eval_split(present),
        history=analysis,
        verdict=judge(errors, _eval_split(present), dec, level(provenance)),
    )
