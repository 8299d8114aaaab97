"""Validate a DataFrame against the input contract and encode it as integer arrays."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, UsageError
from ..result import SPLITS, InputWarning
from ..settings import Settings
from .read import READ_WARNINGS

#: Pandas keeps a non-default index in Parquet as these columns; they are never data.
INDEX_COLUMN = re.compile(r"__index_level_\d+__")

SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "train_val": "train_val",
    "train-val": "train_val",
    "trainval": "train_val",
    "train_dev": "train_val",
    "train-dev": "train_val",
    "val": "val",
    "validation": "val",
    "valid": "val",
    "dev": "val",
    "test_val": "val",
    "test-val": "val",
    "test": "test",
    "holdout": "test",
}


@dataclass(frozen=True)
class Columns:
    """Names of the input columns; every one can be overridden."""

    label: str = "label"
    pred: str = "pred"
    split: str = "split"
    score: str = "score"
    proba_prefix: str = "proba_"
    weight: str = "weight"
    loss: str = "loss"
    id: str = "id"


@dataclass
class Predictions:
    """Validated predictions: classes encoded once as integer codes ``0..K-1``."""

    name: str
    classes: tuple
    y: np.ndarray
    pred: np.ndarray
    split: np.ndarray
    proba: np.ndarray | None = None
    weight: np.ndarray | None = None
    loss: np.ndarray | None = None
    ids: np.ndarray | None = None
    meta: pd.DataFrame | None = None
    positive: int | None = None
    threshold: float | None = None
    columns_used: dict = field(default_factory=dict)
    warnings: list[InputWarning] = field(default_factory=list)
    split_given: bool = True
    #: Row number of each row in the input (None: the position).
    rows: np.ndarray | None = None
    #: The power of two the weights were multiplied by (None without weights).
    weight_scale: float | None = None

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_rows(self) -> int:
        return int(self.y.shape[0])

    @property
    def class_names(self) -> list[str]:
        return [class_text(c) for c in self.classes]


def class_text(value: Any) -> str:
    """The text form of a class, as used in ``proba_<class>`` column names."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


# ---------------------------------------------------------------------------- labels


#: Integers from here on do not fit int64: such classes are kept as their text.
_INT64_LIMIT = 2.0 ** 63


def _plain(values: pd.Series) -> pd.Series:
    """Numbers stored as categories or Python objects, as a column of numbers: the
    classes 2 and 10 keep their numeric order and type whatever the column's dtype."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if pd.api.types.is_numeric_dtype(categories) or pd.api.types.is_bool_dtype(categories):
            codes = values.cat.codes.to_numpy()
            return pd.Series(categories.to_numpy().take(np.maximum(codes, 0)), index=values.index)
        return values
    if values.dtype == object:
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        try:
            if inferred == "integer":
                return values.astype(np.int64)
            if inferred in ("floating", "mixed-integer-float", "decimal"):
                return values.astype(np.float64)
            if inferred == "boolean":
                return values.astype(bool)
        except (OverflowError, TypeError, ValueError):
            return values  # integers beyond int64: their text
    return values


def _texts(values: pd.Series) -> np.ndarray:
    """The text form of each value (``class_text``: 3.0 is "3", 2**64 is its digits)."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        codes, uniques = pd.factorize(values)
        texts = np.array([class_text(u) for u in uniques] + [""], dtype=object)
        return texts[codes]
    return values.astype(str).to_numpy(dtype=object)


def _normalise_labels(values: pd.Series, name: str, col: str) -> np.ndarray:
    """Return the labels as a numpy array of int, bool or str; error on missing values."""
    missing = values.isna().to_numpy()
    if missing.any():
        row = _first(missing)
        raise InputError(
            f"column {col!r} has a missing value", file=name, column=col, row=row, rest=".",
            hint="Every row needs its true class; drop unlabelled rows before the analysis.",
        )
    values = _plain(values)
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=bool)
    if pd.api.types.is_unsigned_integer_dtype(values) and len(values) and values.max() >= _INT64_LIMIT:
        return _texts(values)
    if pd.api.types.is_integer_dtype(values):
        return values.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(values):
        arr = values.to_numpy(dtype=np.float64)
        if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            if np.abs(arr).max() < _INT64_LIMIT:
                return arr.astype(np.int64)
            return _texts(values)
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        row = _first(bad)
        raise InputError(
            f"column {col!r} must hold classes (int, string or bool). Got the number {_fmt(arr[row])}",
            file=name, column=col, row=row, value=arr[row], rest=".",
            hint="Labels must be classes; for a regression target this tool does not apply.",
        )
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        blank = values.astype(str).str.strip().eq("").to_numpy()
        if blank.any():
            row = _first(blank)
            raise InputError(
                f"column {col!r} has a missing value", file=name, column=col, row=row, value=values.iloc[row],
                rest=" (an empty string).",
                hint="Every row needs its true class; drop unlabelled rows before the analysis.",
            )
    if values.dtype == object:
        kinds = {type(v) for v in pd.unique(values.to_numpy())}
        if len(kinds) > 1:
            names = sorted(k.__name__ for k in kinds)
            raise InputError(
                f"column {col!r} mixes value types ({', '.join(names)}); classes must all be of one type.",
                file=name, column=col,
                hint="Convert the labels to one type first, e.g. all strings.",
            )
    return _texts(values)


def label_classes(uniques: pd.Series, name: str, col: str) -> list | None:
    """The sorted classes of a label column, from its distinct values; None when some
    value is not a class (the row-by-row validation then names the row)."""
    try:
        return sorted(pd.unique(_normalise_labels(uniques.reset_index(drop=True), name, col)).tolist())
    except InputError:
        return None


def _coerce_text(text: str, kind: str) -> Any:
    """Turn a class written as text (a proba column suffix) into the label's type."""
    if kind == "b":
        low = text.lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        return None
    if kind == "i":
        try:
            return int(text)
        except ValueError:
            return None
    return text


def _kind(arr: np.ndarray) -> str:
    if arr.dtype == bool:
        return "b"
    if arr.dtype.kind in "iu":
        return "i"
    return "s"


def _encode(values: np.ndarray, classes: list) -> np.ndarray:
    """Code of each value among ``classes`` (-1 when absent)."""
    k = len(classes)
    if values.dtype.kind in "iu" and all(type(c) is int for c in classes) and classes == list(range(k)):
        # Classes 0..K-1: the value is its own code (the common case, without a hash lookup).
        codes = values.astype(np.int32)
        if values.size and (values.min() < 0 or values.max() >= k):
            codes[(values < 0) | (values >= k)] = -1
        return codes
    codes = pd.Index(classes).get_indexer(values)
    return np.asarray(codes, dtype=np.int32)


def _encode_other(series: pd.Series, kind: str, classes: list, name: str, col: str) -> np.ndarray:
    """Encode a column (pred) whose values must be among ``classes``."""
    missing = series.isna().to_numpy()
    if missing.any():
        row = _first(missing)
        raise InputError(f"column {col!r} has a missing value", file=name, column=col, row=row, rest=".")
    series = _plain(series)
    if kind == "i" and pd.api.types.is_float_dtype(series):
        arr = series.to_numpy(dtype=np.float64)
        if np.all(arr == np.round(arr)) and np.abs(arr).max() < _INT64_LIMIT:
            values = arr.astype(np.int64)
        else:
            values = arr
    elif kind == "b" and pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=bool)
    elif kind == "i" and pd.api.types.is_integer_dtype(series):
        values = series.to_numpy(dtype=np.int64)
    elif kind == "s":
        values = _texts(series)
    else:
        # Types differ (e.g. labels are bool, pred is text): match through the text form.
        uniques, inverse = np.unique(_texts(series), return_inverse=True)
        mapped = [_coerce_text(u, kind) for u in uniques]
        lookup = {class_text(c): i for i, c in enumerate(classes)}
        codes_u = np.array(
            [lookup.get(class_text(m), -1) if m is not None else -1 for m in mapped], dtype=np.int32
        )
        codes = codes_u[inverse]
        _check_codes(codes, series, classes, name, col)
        return codes
    codes = _encode(values, classes)
    _check_codes(codes, series, classes, name, col)
    return codes


def _check_codes(codes: np.ndarray, series: pd.Series, classes: list, name: str, col: str) -> None:
    bad = codes < 0
    if bad.any():
        row = _first(bad)
        shown = ", ".join(class_text(c) for c in classes[:10]) + (", ..." if len(classes) > 10 else "")
        raise InputError(
            f"column {col!r} holds the class {_fmt(series.iloc[row])}", file=name, column=col, row=row,
            value=series.iloc[row],
            rest=f", which is neither a label nor a probability column. Known classes: {shown}.",
            hint="Check that pred and label use the same class names.",
        )


# ------------------------------------------------------------------------ numbers


def _numeric(df: pd.DataFrame, col: str, name: str) -> np.ndarray:
    series = df[col]
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        converted = pd.to_numeric(series, errors="coerce")
        bad = converted.isna().to_numpy() & series.notna().to_numpy()
        if bad.any():
            row = _first(bad)
            raise InputError(f"column {col!r} must be numeric. Got {_fmt(series.iloc[row])}", file=name,
                             column=col, row=row, value=series.iloc[row], rest=".")
        series = converted
    arr = series.to_numpy(dtype=np.float64, na_value=np.nan)
    nan = np.isnan(arr)
    if nan.any():
        row = _first(nan)
        raise InputError(f"column {col!r} has a missing value", file=name, column=col, row=row, rest=".",
                         hint="Fill the missing values or drop those rows before the analysis.")
    return arr


def _check_unit_interval(arr: np.ndarray, col: str, name: str, score: bool = False) -> None:
    if arr.size == 0 or (arr.min() >= 0.0 and arr.max() <= 1.0):
        return
    bad = (arr < 0.0) | (arr > 1.0)
    if bad.any():
        row = _first(bad)
        hint = (
            "If this column holds logits or margins, apply a sigmoid first; "
            "--score-col names the column of positive-class probabilities."
            if score
            else "If these columns hold logits, apply a softmax first; "
            "--proba-prefix names the probability columns."
        )
        raise InputError(f"column {col!r} must be within [0, 1]. Got {_fmt(arr[row])}", file=name, column=col,
                         row=row, value=arr[row], rest=".", hint=hint)


# ------------------------------------------------------------------------ splits


def _encode_split(series: pd.Series, name: str, col: str) -> np.ndarray:
    missing = series.isna().to_numpy()
    if missing.any():
        row = _first(missing)
        raise InputError(
            f"column {col!r} has a missing value", file=name, column=col, row=row, rest=".",
            hint="Give every row a split, or drop the split column to treat all rows as test.",
        )
    codes, uniques = pd.factorize(series, sort=False)
    mapping = np.empty(len(uniques), dtype=np.int8)
    for i, value in enumerate(uniques):
        key = str(value).strip().lower()
        if key not in SPLIT_ALIASES:
            row = _first(codes == i)
            accepted = ", ".join(sorted(SPLIT_ALIASES))
            raise InputError(
                f"column {col!r} has the unknown split {_fmt(value)}", file=name, column=col, row=row, value=value,
                rest=f". Accepted values: {accepted}.",
                hint="Rename the split values, or pass --split-col if another column holds the split.",
            )
        mapping[i] = SPLITS.index(SPLIT_ALIASES[key])
    return mapping[codes]


# ------------------------------------------------------------------------ main entry


_FLAGS = {"label": "--label-col", "pred": "--pred-col", "split": "--split-col", "score": "--score-col",
          "weight": "--weight-col", "loss": "--loss-col", "id": "--id-col"}
_SPLIT_LOOKALIKES = {"split", "splits", "set", "subset", "partition", "fold", "dataset", "data_split", "stage"}


def _check_named_columns(df: pd.DataFrame, cols: Columns, name: str) -> None:
    """A column the user named (anything but the default) must exist."""
    default = Columns()
    shown = ", ".join(list(df.columns)[:12]) + (", ..." if len(df.columns) > 12 else "")
    for key, flag in _FLAGS.items():
        given = getattr(cols, key)
        if key != "label" and given != getattr(default, key) and given not in df.columns:
            raise InputError(
                f"column {given!r} ({flag}) is missing. Columns: {shown}.", file=name, column=given,
                hint=f"Check the spelling, or leave out {flag} to use the default {getattr(default, key)!r}.",
            )
    if cols.proba_prefix != default.proba_prefix and not any(
        c.startswith(cols.proba_prefix) and len(c) > len(cols.proba_prefix) for c in df.columns
    ):
        raise InputError(
            f"no column starts with {cols.proba_prefix!r} (--proba-prefix). Columns: {shown}.", file=name,
            hint="Check the spelling, or leave out --proba-prefix to use 'proba_'.",
        )


def validate_frame(
    df: pd.DataFrame,
    *,
    name: str = "DataFrame",
    columns: Columns | None = None,
    positive_label: Any = None,
    threshold: float | None = None,
    settings: Settings | None = None,
    classes: list | tuple | None = None,
    partial: bool = False,
    weight_scale: float | None = None,
) -> Predictions:
    """Check ``df`` against the input contract and return encoded :class:`Predictions`.

    Raises :class:`InputError` with the file (``name``), column, row and value of the
    first problem found.

    ``classes`` fixes the classes (in order) instead of reading them off ``df``, and
    ``partial`` says ``df`` is one batch of a larger table: the checks that need every
    row (a weight column that is zero everywhere, classes absent from train) are left
    to the caller. ``weight_scale`` multiplies the weights (a power of two, so exactly);
    by default it is :func:`scale_for_weights` of them: 1 for weights of ordinary size,
    else the power of two that keeps sums of weights and of their squares finite.
    """
    cols = columns or Columns()
    settings = settings or Settings()
    warnings = [InputWarning(code, message) for code, message in df.attrs.get(READ_WARNINGS, ())]
    df = _tidy_frame(df, name, warnings)
    _check_named_columns(df, cols, name)
    labels = _read_labels(df, cols, name)
    kind = _kind(labels)
    proba_cols, proba_classes = _proba_columns(df, cols, kind, name)
    classes = _class_list(labels, classes, proba_cols, proba_classes, cols, settings, name)
    in_order = [proba_cols[proba_classes.index(c)] for c in classes] if proba_cols else []
    proba = _proba_matrix(df, in_order, cols.proba_prefix, settings, name) if proba_cols else None
    score_used = cols.score in df.columns and not proba_cols
    if cols.score in df.columns and proba_cols:
        warnings.append(_score_ignored(cols))
    positive = positive_class(classes, positive_label, name)
    if score_used:
        proba = _score_proba(df, classes, positive, cols, name)
        warnings.extend(_positive_guesses(classes, positive, positive_label, cols))
    threshold = _checked_threshold(threshold, len(classes), name)
    pred = _predicted_classes(df, kind, classes, proba, positive, threshold, cols, name, warnings)
    split = _split_codes(df, cols, name, warnings)
    weight, weight_scale = (_weights(df, cols.weight, weight_scale, name, warnings) if cols.weight in df.columns
                            else (None, None))
    loss = _losses(df, cols.loss, name) if cols.loss in df.columns else None
    if weight is not None and not partial:
        _check_split_weights(split, weight, name, cols.weight)
    ids = _id_values(df, cols.id, name) if cols.id in df.columns else None
    meta_cols = _metadata_columns(df, cols, proba_cols, score_used, warnings)
    y = _encode(labels, classes)
    if not partial:
        warnings.extend(_unseen_in_train(y, split, classes))
    return Predictions(
        name=name,
        classes=tuple(classes),
        y=y,
        pred=pred,
        split=split,
        proba=proba,
        weight=weight,
        loss=loss,
        ids=ids,
        meta=df[meta_cols] if meta_cols else None,
        positive=positive,
        threshold=threshold,
        columns_used=_columns_used(df, cols, in_order, score_used, meta_cols),
        warnings=warnings,
        split_given=cols.split in df.columns,
        weight_scale=weight_scale,
    )


def _tidy_frame(df: pd.DataFrame, name: str, warnings: list[InputWarning]) -> pd.DataFrame:
    """``df`` ready for the checks: rows numbered from 0, column names as text, the
    index columns pandas writes into Parquet dropped and bytes read as text. A frame
    without rows, or with a column name given twice, is an error."""
    if len(df) == 0:
        raise InputError("has no rows.", file=name)
    if not df.index.equals(pd.RangeIndex(len(df))):
        df = df.reset_index(drop=True)
    df = df.set_axis([str(c) for c in df.columns], axis=1)  # the caller's frame keeps its names
    index_cols = [c for c in df.columns if INDEX_COLUMN.fullmatch(c)]
    if index_cols:
        df = df.drop(columns=index_cols)
    duplicated = df.columns[df.columns.duplicated()].unique().tolist()
    if duplicated:
        raise InputError(
            f"column names must be unique. Got {', '.join(repr(c) for c in duplicated)} more than once.",
            file=name, hint="Rename or drop the repeated columns.",
        )
    return _bytes_as_text(df, warnings)


def _read_labels(df: pd.DataFrame, cols: Columns, name: str) -> np.ndarray:
    """The label column, checked and normalised (see :func:`_normalise_labels`)."""
    if cols.label not in df.columns:
        shown = ", ".join(list(df.columns)[:12])
        raise InputError(
            f"column {cols.label!r} is missing. Columns: {shown}.", file=name, column=cols.label,
            hint="Use --label-col (label_col=) to name the column that holds the true class.",
        )
    return _normalise_labels(df[cols.label], name, cols.label)


def _proba_columns(df: pd.DataFrame, cols: Columns, kind: str, name: str) -> tuple[list[str], list]:
    """The probability columns (named ``<prefix><class>``) and the class each names,
    read as the labels' type (``kind``)."""
    prefix = cols.proba_prefix
    proba_cols = [c for c in df.columns if prefix and c.startswith(prefix) and len(c) > len(prefix)]
    proba_classes = []
    for c in proba_cols:
        value = _coerce_text(c[len(prefix):], kind)
        if value is None:
            raise InputError(
                f"column {c!r} names the class {c[len(prefix):]!r}, which does not match the "
                f"type of the labels in {cols.label!r}.", file=name, column=c,
                hint="Probability columns are named proba_<class>, with <class> written as the label is.",
            )
        proba_classes.append(value)
    if len(set(proba_classes)) != len(proba_classes):
        raise InputError(f"two probability columns name the same class: {', '.join(proba_cols)}.", file=name)
    return proba_cols, proba_classes


def _class_list(labels: np.ndarray, fixed: list | tuple | None, proba_cols: list[str], proba_classes: list,
                cols: Columns, settings: Settings, name: str) -> list:
    """The classes, in order: ``fixed`` when given (every label must be one), else the
    labels' and the probability columns' together, sorted. Each needs a probability
    column when there are any, and there must be from 2 to ``settings.max_classes``."""
    if fixed is not None:
        classes = list(fixed)
        _check_fixed_classes(labels, classes, proba_cols, name, cols.label, cols.proba_prefix)
    else:
        classes = sorted(set(pd.unique(labels).tolist()) | set(proba_classes))
    if proba_cols:
        missing = [c for c in classes if c not in set(proba_classes)]
        if missing:
            raise InputError(
                f"the label {class_text(missing[0])!r} has no probability column "
                f"{cols.proba_prefix + class_text(missing[0])!r}.", file=name, column=cols.label, value=missing[0],
                hint="Give one probability column per class, or drop them all and pass pred.",
            )
    _check_class_count(classes, cols, settings, name)
    return classes


def _check_class_count(classes: list, cols: Columns, settings: Settings, name: str) -> None:
    """A classifier has at least two classes; too many distinct labels means the label
    column is not a class column."""
    if len(classes) > settings.max_classes:
        raise InputError(
            f"column {cols.label!r} has {len(classes):,} distinct values, more than the "
            f"{settings.max_classes:,} classes analysed; it does not look like a class column.",
            file=name, column=cols.label,
            hint="Use --label-col to name the true-class column (for larger label sets raise Settings.max_classes).",
        )
    if len(classes) < 2:
        raise InputError(
            f"column {cols.label!r} holds a single class ({class_text(classes[0])!r}) and no "
            "probability column names another; a classifier needs at least two classes.",
            file=name, column=cols.label,
        )


def _check_fixed_classes(labels: np.ndarray, classes: list, proba_cols: list[str], name: str, col: str,
                         prefix: str) -> None:
    """Every label must be one of the classes fixed beforehand."""
    codes = _encode(labels, classes)
    bad = codes < 0
    if bad.any():
        row = _first(bad)
        value = class_text(labels[row])
        if proba_cols:
            raise InputError(
                f"the label {value!r}", file=name, column=col, row=row, value=labels[row],
                rest=f" has no probability column {prefix + value!r}.",
                hint="Give one probability column per class, or drop them all and pass pred.",
            )
        raise InputError(f"column {col!r} holds the class {value!r}", file=name, column=col, row=row,
                         value=labels[row], rest=", which the first read of the table did not find.")


def _proba_matrix(df: pd.DataFrame, proba_cols: list[str], prefix: str, settings: Settings,
                  name: str) -> np.ndarray:
    """The probabilities (rows × classes) from ``proba_cols`` in class order: numbers
    within [0, 1] that sum to 1 in each row."""
    mats = []
    for col in proba_cols:
        arr = _numeric(df, col, name)
        _check_unit_interval(arr, col, name)
        mats.append(arr)
    # Stacked as (K, n) and transposed: one contiguous copy per column; the (n, K) view
    # is column-major, which every later step handles.
    proba = np.vstack(mats).T
    sums = proba.sum(axis=1)
    # The slack keeps a row summing to exactly 1 - tolerance (0.99 in floating point
    # is 0.98999...) inside the tolerance.
    bad = np.abs(sums - 1.0) > settings.proba_sum_tolerance + 1e-9
    if bad.any():
        row = _first(bad)
        raise InputError(
            f"probability columns {prefix}* must sum to 1 in each row "
            f"(within {settings.proba_sum_tolerance:g}). Got {sums[row]:.6g}",
            file=name, row=row, value=sums[row], rest=".",
            hint="If some classes have no probability column, add them; if these are scores, "
            "normalise them (softmax) first.",
        )
    return proba


def _score_ignored(cols: Columns) -> InputWarning:
    """The warning that the score column is not read, as probability columns are."""
    return InputWarning(
        "score_ignored",
        f"both {cols.score!r} and {cols.proba_prefix}* columns are present; the probability columns are used.",
    )


def positive_class(classes: list, positive_label: Any, name: str) -> int | None:
    """The code of the positive class of a binary problem: ``positive_label``, else the
    class 1 or True when there is one, else the last class in sorted order. None with
    more than two classes."""
    if len(classes) != 2:
        if positive_label is not None:
            raise UsageError(
                f"--positive-label applies to binary problems only; {name} has {len(classes)} classes."
            )
        return None
    texts = [class_text(c) for c in classes]
    if positive_label is not None:
        if class_text(positive_label) not in texts:
            raise UsageError(
                f"--positive-label must be one of the classes ({', '.join(texts)}). "
                f"Got {positive_label!r} instead."
            )
        return texts.index(class_text(positive_label))
    return texts.index("True") if "True" in texts else texts.index("1") if "1" in texts else 1


def _score_proba(df: pd.DataFrame, classes: list, positive: int | None, cols: Columns, name: str) -> np.ndarray:
    """The probabilities (rows × 2) of a binary problem from its score column, the
    probability of the ``positive`` class (None: the problem is not binary)."""
    if positive is None:
        raise InputError(
            f"column {cols.score!r} (probability of the positive class) needs a binary "
            f"problem, but {cols.label!r} has {len(classes)} classes.", file=name, column=cols.score,
            hint="For several classes give one proba_<class> column per class.",
        )
    score = _numeric(df, cols.score, name)
    _check_unit_interval(score, cols.score, name, score=True)
    proba = np.empty((len(score), 2))
    proba[:, positive] = score
    proba[:, 1 - positive] = 1.0 - score
    return proba


def _positive_guesses(classes: list, positive: int | None, positive_label: Any,
                      cols: Columns) -> list[InputWarning]:
    """A warning when the score's class was guessed: no class is 1 or True, and none was named."""
    if positive is None or positive_label is not None or {"1", "True"} & {class_text(c) for c in classes}:
        return []
    return [InputWarning(
        "positive_guessed",
        f"{cols.score!r} is read as the probability of {class_text(classes[positive])!r}; "
        "pass --positive-label to choose the other class.",
    )]


def _checked_threshold(threshold: Any, n_classes: int, name: str) -> float | None:
    """The decision threshold of a binary problem (0.5 unless given); None otherwise."""
    if threshold is not None:
        try:
            threshold = float(threshold)
        except (TypeError, ValueError):
            raise UsageError(f"--threshold must be a number within [0, 1]. Got {threshold!r} instead.") from None
        if not 0.0 <= threshold <= 1.0:
            raise UsageError(f"--threshold must be within [0, 1]. Got {threshold} instead.")
        if n_classes != 2:
            raise UsageError(
                f"--threshold applies to binary problems only; {name} has {n_classes} classes."
            )
    if n_classes != 2:
        return None
    return 0.5 if threshold is None else float(threshold)


def _predicted_classes(df: pd.DataFrame, kind: str, classes: list, proba: np.ndarray | None, positive: int | None,
                       threshold: float | None, cols: Columns, name: str,
                       warnings: list[InputWarning]) -> np.ndarray:
    """The predicted class codes: the pred column (checked against the probabilities
    when there are some), else the class the probabilities imply."""
    if cols.pred in df.columns:
        pred = _encode_other(df[cols.pred], kind, classes, name, cols.pred)
        if proba is not None:
            warnings.extend(_disagreements(pred, proba, positive, threshold))
        return pred
    if proba is not None:
        if positive is not None and threshold is not None:
            return _thresholded(proba, positive, threshold).astype(np.int32)
        return proba.argmax(axis=1).astype(np.int32)
    raise InputError(
        f"column {cols.pred!r} is missing and there are no probability columns "
        f"({cols.proba_prefix}<class>) or {cols.score!r} column to derive it from.", file=name, column=cols.pred,
        hint="Use --pred-col to name the predicted-class column, or --proba-prefix / --score-col.",
    )


def _thresholded(proba: np.ndarray, positive: int, threshold: float) -> np.ndarray:
    """A binary problem's predicted codes by the threshold rule: positive when its
    probability reaches ``threshold``, else the other class."""
    return np.where(proba[:, positive] >= threshold, positive, 1 - positive)


def _disagreements(pred: np.ndarray, proba: np.ndarray, positive: int | None,
                   threshold: float | None) -> list[InputWarning]:
    """A warning when pred is not the class the probabilities imply (the threshold rule
    of a binary problem, else the most probable class) on some rows."""
    if positive is not None and threshold is not None:
        disagree = pred != _thresholded(proba, positive, threshold)
        rule = f"score >= {threshold:g}"
    else:
        top = proba.max(axis=1)
        chosen = np.take_along_axis(proba, pred[:, None].astype(np.intp), axis=1)[:, 0]
        disagree = chosen < top  # ties with the maximum are not disagreements
        rule = "argmax of the probabilities"
    count = int(disagree.sum())
    if not count:
        return []
    return [InputWarning("pred_disagrees_with_proba", f"pred differs from the {rule}", count,
                         rows=len(pred), first_row=_first(disagree))]


def _split_codes(df: pd.DataFrame, cols: Columns, name: str, warnings: list[InputWarning]) -> np.ndarray:
    """The split code of each row; every row is test without a split column (with a
    warning when another column looks like one)."""
    if cols.split in df.columns:
        return _encode_split(df[cols.split], name, cols.split)
    lookalike = next((c for c in df.columns if c.strip().lower() in _SPLIT_LOOKALIKES), None)
    if lookalike is not None:
        warnings.append(InputWarning(
            "split_missing",
            f"there is no {cols.split!r} column, so every row counts as test; "
            f"pass --split-col {lookalike} if {lookalike!r} holds the split.",
        ))
    return np.full(len(df), SPLITS.index("test"), dtype=np.int8)


def _weights(df: pd.DataFrame, col: str, scale: float | None, name: str,
             warnings: list[InputWarning]) -> tuple[np.ndarray, float]:
    """The row weights (finite, non-negative) multiplied by ``scale`` (by default
    :func:`scale_for_weights` of them), and that scale."""
    weight = _numeric(df, col, name)
    bad = ~np.isfinite(weight) | (weight < 0)
    if bad.any():
        row = _first(bad)
        raise InputError(f"column {col!r} must be finite and non-negative. Got {_fmt(weight[row])}", file=name,
                         column=col, row=row, value=weight[row], rest=".")
    if scale is None:
        scale = scale_for_weights(weight)
    scaled = weight * scale if scale != 1.0 else weight
    too_big = scaled > MAX_SCALED_WEIGHT
    if too_big.any():
        row = _first(too_big)
        raise InputError(
            f"column {col!r} holds {_fmt(weight[row])}", file=name, column=col, row=row, value=weight[row],
            rest=f", more than {MAX_SCALED_WEIGHT / scale:.3g}: sums of such weights overflow beside those "
            "of the first rows.",
            hint="Divide the weights by a constant so that they are of an ordinary size.",
        )
    if scale != 1.0:
        warnings.append(InputWarning(
            "weights_rescaled",
            f"the weights in {col!r} were multiplied by 2**{int(np.log2(scale))} so that "
            "their sums and squares stay finite; weighted counts are in those units.",
        ))
    return scaled, scale


def _check_split_weights(split: np.ndarray, weight: np.ndarray, name: str, col: str) -> None:
    """The weights must sum to more than zero overall and in every split present."""
    per_split = np.bincount(split, weights=weight, minlength=len(SPLITS))
    present = np.flatnonzero(np.bincount(split, minlength=len(SPLITS)))
    check_weight_sums({SPLITS[code]: per_split[code] for code in present}, name, col)


def _losses(df: pd.DataFrame, col: str, name: str) -> np.ndarray:
    """The per-row losses the user gave (finite numbers)."""
    loss = _numeric(df, col, name)
    bad = ~np.isfinite(loss)
    if bad.any():
        row = _first(bad)
        raise InputError(f"column {col!r} must be finite. Got {_fmt(loss[row])}", file=name, column=col, row=row,
                         value=loss[row], rest=".")
    return loss


def _id_values(df: pd.DataFrame, col: str, name: str) -> np.ndarray:
    """The row ids: one scalar per row (lists or records cannot be compared)."""
    ids = df[col].to_numpy()
    try:
        pd.factorize(ids)
    except TypeError:
        row = next(i for i, v in enumerate(ids) if isinstance(v, (list, dict, set, np.ndarray)))
        raise InputError(
            f"column {col!r} must hold one scalar id per row. Got {_fmt(ids[row])[:40]}", file=name, column=col,
            row=row, value=ids[row], rest=".",
        ) from None
    return ids


def _metadata_columns(df: pd.DataFrame, cols: Columns, proba_cols: list[str], score_used: bool,
                      warnings: list[InputWarning]) -> list[str]:
    """The columns that play no other part, kept as metadata for slices, cohorts and
    shift tests; those holding lists, records or complex numbers are left out, with a
    warning."""
    used = {cols.label, cols.pred, cols.split, cols.weight, cols.loss, cols.id, *proba_cols}
    if score_used:
        used.add(cols.score)
    meta_cols = [c for c in df.columns if c not in used]
    nested = [c for c in meta_cols if _is_nested(df[c])]
    complex_ = [c for c in meta_cols if pd.api.types.is_complex_dtype(df[c])]
    for left_out, what, fix in ((nested, "lists or records", "flatten them into scalar columns"),
                                (complex_, "complex numbers", "split them into real and imaginary columns")):
        if left_out:
            meta_cols = [c for c in meta_cols if c not in left_out]
            warnings.append(_metadata_ignored(left_out, what, fix))
    return meta_cols


def _metadata_ignored(left_out: list[str], what: str, fix: str) -> InputWarning:
    """The warning that ``left_out`` columns, holding ``what``, are not metadata."""
    shown = ", ".join(repr(c) for c in left_out)
    several = len(left_out) > 1
    return InputWarning(
        "metadata_ignored",
        f"column{'s' if several else ''} {shown} hold{'' if several else 's'} {what}, "
        f"so slices, cohorts and shift tests leave them out; {fix} to use them.",
    )


def _columns_used(df: pd.DataFrame, cols: Columns, proba_cols: list[str], score_used: bool,
                  meta_cols: list[str]) -> dict[str, Any]:
    """The column that plays each part (the probability columns in class order, the
    metadata columns as a list), in the order the parts are read."""
    used: dict[str, Any] = {"label": cols.label}
    if proba_cols:
        used["proba"] = proba_cols
    if score_used:
        used["score"] = cols.score
    for part in ("pred", "split", "weight", "loss", "id"):
        if getattr(cols, part) in df.columns:
            used[part] = getattr(cols, part)
    used["metadata"] = meta_cols
    return used


#: Largest weights used as they are: beyond 2**300 (about 2e90) squares of weights
#: near the largest would overflow in sums, below 2**-300 squares of small ones underflow.
WEIGHT_TOP = 300
#: Largest weight after scaling (a later batch may hold larger weights than the first rows).
MAX_SCALED_WEIGHT = 2.0 ** (WEIGHT_TOP + 150)


def scale_for_weights(weight: np.ndarray) -> float:
    """1 for weights of any ordinary size; else the power of two that brings the largest
    into [2**299, 2**300) or, when every weight is tiny, [2**-301, 2**-300)."""
    top = float(weight.max()) if weight.size else 0.0
    if not top > 0 or not np.isfinite(top):
        return 1.0
    exponent = int(np.frexp(top)[1])
    if exponent > WEIGHT_TOP:
        return float(np.ldexp(1.0, WEIGHT_TOP - exponent))
    if exponent < -WEIGHT_TOP:
        return float(np.ldexp(1.0, -WEIGHT_TOP - exponent))
    return 1.0


def _bytes_as_text(df: pd.DataFrame, warnings: list[InputWarning]) -> pd.DataFrame:
    """Columns of Python bytes (Parquet binary read by pandas) as text, as the file
    readers do: UTF-8 where every value is, else Latin-1 byte by byte."""
    found = [c for c in df.columns if df[c].dtype == object and pd.api.types.infer_dtype(df[c], skipna=True) == "bytes"]
    if not found:
        return df
    import pyarrow as pa

    from .read import text_columns

    df = df.copy(deep=False)
    for col in found:
        try:
            array = pa.array(df[col].to_numpy(), type=pa.large_binary(), from_pandas=True)
        except (pa.ArrowException, TypeError):
            continue  # bytes mixed with other objects: left as they are
        notes: list = []
        text = text_columns(pa.table({col: array}), notes).column(0)
        df[col] = pd.Series(text.to_pandas(), index=df.index)
        warnings.extend(InputWarning(code, message) for code, message in notes)
    return df


def check_weight_sums(sums: dict, name: str, col: str) -> None:
    """The weight checks that need every row: ``sums`` maps each split present to its
    summed weight, which must be positive overall and in every split."""
    if all(w <= 0 for w in sums.values()):
        raise InputError(f"column {col!r} is zero in every row.", file=name, column=col)
    for split_name, w in sums.items():
        if w <= 0:
            raise InputError(f"column {col!r} is zero on every row of the {split_name} split.", file=name,
                             column=col, hint="Give the split some weight, or drop its rows.")


def _is_nested(values: pd.Series) -> bool:
    """Whether a column holds lists, arrays or records (from Arrow list and struct types)."""
    if values.dtype != object:
        return False
    first = values.first_valid_index()
    return first is not None and isinstance(values[first], (list, tuple, dict, set, np.ndarray))


def _unseen_in_train(y: np.ndarray, split: np.ndarray, classes: list) -> list[InputWarning]:
    """The warnings of classes absent from train but present in a later split of these rows."""
    n = len(classes)
    counts = {name: np.bincount(y[split == s], minlength=n) for s, name in enumerate(SPLITS) if (split == s).any()}
    return unseen_class_warnings(counts, classes)


def unseen_class_warnings(class_counts: dict, classes) -> list[InputWarning]:
    """Classes present in a later split but absent from train, one warning per split
    (``class_counts``: rows of each class per split name)."""
    if "train" not in class_counts:
        return []
    in_train = np.asarray(class_counts["train"]) > 0
    out = []
    for name in SPLITS[1:]:
        if name not in class_counts:
            continue
        unseen = np.flatnonzero((np.asarray(class_counts[name]) > 0) & ~in_train)
        if unseen.size:
            names = ", ".join(repr(class_text(classes[i])) for i in unseen[:5])
            more = f" and {unseen.size - 5} more" if unseen.size > 5 else ""
            out.append(InputWarning("class_unseen_in_train", f"{name} holds classes absent from train: {names}{more}.",
                                    int(unseen.size)))
    return out


def frame_from_arrays(
    y_true,
    y_pred=None,
    proba=None,
    split=None,
    weight=None,
    classes=None,
    columns: Columns | None = None,
) -> pd.DataFrame:
    """Build an input DataFrame from plain arrays (the array form of ``analyze``)."""
    cols = columns or Columns()
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise UsageError(f"y_true must be one-dimensional. Got shape {y_true.shape} instead.")
    n = len(y_true)
    data: dict[str, Any] = {cols.label: y_true}

    def _check_len(arr, what):
        if len(arr) != n:
            raise UsageError(f"{what} must have one entry per row of y_true ({n}). Got {len(arr)} instead.")

    if y_pred is not None:
        y_pred = np.asarray(y_pred)
        _check_len(y_pred, "y_pred")
        data[cols.pred] = y_pred
    if y_pred is not None and y_pred.ndim != 1:
        raise UsageError(f"y_pred must be one-dimensional. Got shape {y_pred.shape} instead.")
    if proba is not None:
        try:
            proba = np.asarray(proba, dtype=np.float64)
        except (TypeError, ValueError):
            raise UsageError("proba must hold numbers (probabilities).") from None
        if proba.ndim not in (1, 2):
            raise UsageError(f"proba must be 1-D (binary score) or 2-D (rows × classes). Got shape {proba.shape} instead.")
        if proba.ndim == 1:
            _check_len(proba, "proba")
            data[cols.score] = proba
        else:
            _check_len(proba, "proba")
            if classes is None:
                found = sorted(pd.unique(y_true).tolist())
                if len(found) != proba.shape[1]:
                    raise UsageError(
                        f"proba has {proba.shape[1]} columns but y_true holds {len(found)} classes; "
                        "pass classes= to say which class each column is."
                    )
                classes = found
            if len(classes) != proba.shape[1]:
                raise UsageError(
                    f"classes must name one class per proba column ({proba.shape[1]}). Got {len(classes)} instead."
                )
            for j, c in enumerate(classes):
                data[cols.proba_prefix + class_text(c)] = proba[:, j]
    if split is not None:
        split = np.asarray(split)
        _check_len(split, "split")
        data[cols.split] = split
    if weight is not None:
        try:
            weight = np.asarray(weight, dtype=np.float64)
        except (TypeError, ValueError):
            raise UsageError("weight must hold numbers.") from None
        _check_len(weight, "weight")
        data[cols.weight] = weight
    return pd.DataFrame(data)
