"""The arguments of :func:`erranalysis.analyze`, each checked once, before anything is read.

A bad argument raises :class:`~erranalysis.errors.UsageError` whose message starts with
the parameter's name and whose ``parameter`` field holds it, so that the command line
can word the very same check with the flag that sets the parameter.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .errors import UsageError
from .io import SPLITS, Columns
from .io.read import FORMATS, table_kind
from .kinds import MODEL_FAMILIES
from .result import ResultData
from .settings import Settings
from .stats.metrics import METRICS

#: Where the aggregates are computed.
ENGINES = ("local", "spark")
#: The formats a predictions file can be read as.
INPUT_FORMATS = tuple(dict.fromkeys(FORMATS.values()))
#: The column keywords of ``analyze`` and the :class:`~erranalysis.io.Columns` field each names.
COLUMN_KEYWORDS = {
    "label_col": "label", "pred_col": "pred", "split_col": "split", "score_col": "score",
    "weight_col": "weight", "loss_col": "loss", "id_col": "id", "proba_prefix": "proba_prefix",
}

#: Called as ``progress(stage, rows_done, rows_total)`` while the rows are read.
Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class SplitFigure:
    """One split's error rate given as a number (summary mode), with its rows when given."""

    error: float
    rows: int | None


@dataclass(frozen=True)
class Arrays:
    """The array form of the input: labels, predictions, probabilities and their companions."""

    y_true: Any = None
    y_pred: Any = None
    proba: Any = None
    split: Any = None
    weight: Any = None
    classes: Any = None


@dataclass(frozen=True)
class HistoryInput:
    """A training history to diagnose, and the names of its columns when given."""

    source: Any
    x: str | None = None
    train: str | None = None
    val: str | None = None


@dataclass(frozen=True)
class Arguments:
    """The arguments of ``analyze`` once checked: numbers as floats, column names as
    :class:`~erranalysis.io.Columns`, summary error rates as :class:`SplitFigure`."""

    data: Any
    arrays: Arrays
    figures: dict[str, SplitFigure] | None
    goal: float | None
    metric: str
    threshold: float | None
    positive_label: Any
    columns: Columns
    input_format: str | None
    settings: Settings
    command: str | None
    history: HistoryInput | None
    num_classes: int | None
    engine: str | None
    progress: Progress | None
    compare: Any
    model_family: str | None = None


def check_arguments(
    data: Any, *, arrays: Arrays, errors: Any, n: Any, goal: Any, metric: Any, threshold: Any,
    positive_label: Any, columns: Any, column_names: Mapping[str, Any], input_format: Any, settings: Any,
    command: Any, history: HistoryInput | None, num_classes: Any, engine: Any, progress: Any, compare: Any,
    model_family: Any = None,
) -> Arguments:
    """Every argument of ``analyze`` checked, in the order a reader meets them."""
    checked_metric = check_metric(metric)
    checked_goal = check_goal(goal)
    checked_columns = check_columns(columns, column_names)
    check_num_classes(num_classes)
    checked_threshold = check_threshold(threshold)
    check_choice("engine", engine, ENGINES)
    check_choice("input_format", input_format, INPUT_FORMATS)
    check_choice("model_family", model_family, MODEL_FAMILIES)
    check_instance("settings", settings, Settings, "a Settings")
    check_instance("command", command, str, "a string")
    check_progress(progress)
    if history is not None:
        check_history_columns(history)
    check_inputs(data, arrays, errors, history)
    check_compare(compare)
    return Arguments(
        data=data, arrays=arrays, figures=None if errors is None else check_error_rates(errors, n, history),
        goal=checked_goal, metric=checked_metric, threshold=checked_threshold, positive_label=positive_label,
        columns=checked_columns, input_format=input_format, settings=settings or Settings(), command=command,
        history=history, num_classes=num_classes, engine=engine, progress=progress, compare=compare,
        model_family=model_family,
    )


def check_metric(metric: Any) -> str:
    """The error metric: one of :data:`~erranalysis.stats.metrics.METRICS`."""
    if metric not in METRICS:
        raise UsageError(f"metric must be one of {', '.join(METRICS)}. Got {metric!r} instead.", parameter="metric")
    return str(metric)


def check_goal(goal: Any) -> float | None:
    """The goal as a float error rate in [0, 1), or None."""
    if goal is None:
        return None
    if isinstance(goal, (bool, np.bool_)) or not isinstance(goal, (int, float, np.integer, np.floating)):
        raise UsageError(f"goal must be a number within [0, 1]. Got {goal!r} instead.",
                         hint="Give the goal as an error rate: 0.01 for 1%.", parameter="goal")
    value = float(goal)
    if not 0.0 <= value < 1.0 or math.isnan(value):
        raise UsageError(f"goal must be an error rate in [0, 1). Got {value:g} instead.",
                         hint="Give the goal as a fraction: 0.01 for 1%.", parameter="goal")
    return value


def check_threshold(threshold: Any) -> float | None:
    """The binary threshold on the positive-class score as a float in [0, 1], or None."""
    if threshold is None:
        return None
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise UsageError(f"threshold must be a number within [0, 1]. Got {threshold!r} instead.",
                         parameter="threshold") from None
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"threshold must be within [0, 1]. Got {value} instead.", parameter="threshold")
    return value


def check_num_classes(num_classes: Any) -> None:
    """The class count for the expected initial loss: a whole number of at least 2, or None."""
    if num_classes is None:
        return
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise UsageError(f"num_classes must be a whole number of at least 2. Got {num_classes!r} instead.",
                         parameter="num_classes")


def check_choice(parameter: str, value: Any, choices: tuple[str, ...]) -> None:
    """``value`` is None or one of ``choices``."""
    if value is not None and value not in choices:
        listed = " or ".join(choices) if len(choices) == 2 else "one of " + ", ".join(choices)
        raise UsageError(f"{parameter} must be {listed}. Got {value!r} instead.", parameter=parameter)


def check_instance(parameter: str, value: Any, kind: type, what: str) -> None:
    """``value`` is None or a ``kind``."""
    if value is not None and not isinstance(value, kind):
        raise UsageError(f"{parameter} must be {what}. Got {type(value).__name__} instead.", parameter=parameter)


def check_progress(progress: Any) -> None:
    """The progress callback is None or callable."""
    if progress is not None and not callable(progress):
        raise UsageError(f"progress must be callable as progress(stage, rows_done, rows_total). "
                         f"Got {type(progress).__name__} instead.", parameter="progress")


def check_columns(columns: Any, names: Mapping[str, Any]) -> Columns:
    """The column names: ``columns`` with the column keywords (``label_col=...``) applied."""
    check_instance("columns", columns, Columns, "a Columns")
    base = columns or Columns()
    changes = {}
    for key, value in names.items():
        if key not in COLUMN_KEYWORDS:
            raise UsageError(f"analyze() got an unknown argument {key!r}. "
                             f"Column arguments: {', '.join(COLUMN_KEYWORDS)}.", parameter=key)
        if value is not None:
            changes[COLUMN_KEYWORDS[key]] = value
    return Columns(**{**asdict(base), **changes}) if changes else base


def check_history_columns(history: HistoryInput) -> None:
    """The names of the history's columns are strings when given."""
    for parameter, value in (("history_x", history.x), ("history_train", history.train),
                             ("history_val", history.val)):
        check_instance(parameter, value, str, "a column name (a string)")


def check_inputs(data: Any, arrays: Arrays, errors: Any, history: HistoryInput | None) -> None:
    """Exactly one form of input: predictions (``data`` or arrays), summary errors, or a
    history alone; ``data`` of a kind that can be read."""
    if errors is not None:
        if data is not None or arrays.y_true is not None:
            raise UsageError("Give either predictions or summary errors, not both.", parameter="errors")
        return
    if data is None and arrays.y_true is None and history is None:
        raise UsageError("analyze() needs data (a path or DataFrame), y_true, errors, or history.", parameter="data")
    if data is not None and arrays.y_true is not None:
        raise UsageError("Give either data or arrays (y_true, ...), not both.", parameter="y_true")
    if (data is not None and not isinstance(data, (Mapping, pd.DataFrame, str, Path)) and not is_spark_frame(data)
            and table_kind(data) is None):
        raise UsageError(
            f"data must be a path, a DataFrame (pandas, Polars or Spark), a Polars LazyFrame, a pyarrow Table or "
            f"Dataset, or a mapping of columns. "
            f"Got {type(data).__name__} instead.", parameter="data"
        )


def is_spark_frame(data: Any) -> bool:
    """Whether ``data`` is a Spark DataFrame (told without importing pyspark)."""
    module = type(data).__module__ or ""
    return module.startswith("pyspark.") and type(data).__name__ == "DataFrame"


def check_compare(compare: Any) -> None:
    """The previous run: a path, a table, a previous Result or its JSON dict, or None."""
    if compare is None or isinstance(compare, (ResultData, str, Path, pd.DataFrame)) or table_kind(compare):
        return
    if isinstance(compare, Mapping) and "schema_version" in compare:
        return
    raise UsageError(f"compare must be a path, a table (pandas, Polars or Arrow), a previous Result or its JSON dict. "
                     f"Got {type(compare).__name__} instead.", parameter="compare")


def check_error_rates(errors: Any, n: Any, history: HistoryInput | None) -> dict[str, SplitFigure]:
    """Summary mode: the error rate per split (and its rows when given), in split order.

    A split whose error is None is left out; without any figure there must be a history.
    """
    check_instance("errors", errors, Mapping, "a mapping of split names to error rates")
    check_instance("n", n, Mapping, "a mapping of split names to row counts")
    rows = {} if n is None else n
    for key in rows:
        if key not in SPLITS:
            raise UsageError(f"n keys must be among {', '.join(SPLITS)}. Got {key!r} instead.", parameter="n")
    figures = {}
    for split, value in errors.items():
        if value is None:
            continue
        if split not in SPLITS:
            raise UsageError(f"errors keys must be among {', '.join(SPLITS)}. Got {split!r} instead.",
                             parameter="errors")
        figures[split] = SplitFigure(_error_rate(split, value), _row_count(split, rows.get(split)))
    if not figures and history is None:
        raise UsageError("Give at least one error figure in errors, such as errors={'val': 0.27}.", parameter="errors")
    return {s: figures[s] for s in SPLITS if s in figures}


def _error_rate(split: str, value: Any) -> float:
    """One split's error rate as a float in [0, 1]."""
    parameter = f"errors[{split!r}]"
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{parameter} must be a number. Got {value!r} instead.", parameter=parameter) from None
    if not 0.0 <= rate <= 1.0:
        raise UsageError(f"{parameter} must be an error rate within [0, 1]. Got {rate} instead.",
                         parameter=parameter)
    return rate


def _row_count(split: str, value: Any) -> int | None:
    """One split's row count as a positive int, or None."""
    if value is None:
        return None
    parameter = f"n[{split!r}]"
    try:
        rows = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{parameter} must be a row count. Got {value!r} instead.", parameter=parameter) from None
    if rows <= 0:
        raise UsageError(f"{parameter} must be a positive row count. Got {rows} instead.", parameter=parameter)
    return rows
