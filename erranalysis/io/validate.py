"""Validate a DataFrame against the input contract and encode it as integer arrays."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, UsageError
from ..result import InputWarning
from ..settings import Settings
from .read import READ_WARNINGS

#: Pandas keeps a non-default index in Parquet as these columns; they are never data.
INDEX_COLUMN = re.compile(r"__index_level_\d+__")

#: The four splits, in the order the decomposition walks them.
SPLITS = ("train", "train_val", "val", "test")

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


#: A row number in a message ("at row N", "first at row N"), 0-based within the frame
#: that was validated.
ROW_NUMBER = re.compile(r"(at row |first at row )(\d+)")
#: The ", first at row N" clause, dropped where rows have no global order.
ROW_CLAUSE = re.compile(r",? (first )?at row \d+")


def shift_rows(message: str, offset: int) -> str:
    """Row numbers in a batch's message, made global by adding the batch offset."""
    if not offset:
        return message
    return ROW_NUMBER.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + offset}", message)


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
            f"{name}: column {col!r} has a missing value at row {row}.",
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
            f"{name}: column {col!r} must hold classes (int, string or bool). "
            f"Got the number {_fmt(arr[row])} at row {row}.",
            hint="Labels must be classes; for a regression target this tool does not apply.",
        )
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        blank = values.astype(str).str.strip().eq("").to_numpy()
        if blank.any():
            row = _first(blank)
            raise InputError(
                f"{name}: column {col!r} has a missing value at row {row} (an empty string).",
                hint="Every row needs its true class; drop unlabelled rows before the analysis.",
            )
    if values.dtype == object:
        kinds = {type(v) for v in pd.unique(values.to_numpy())}
        if len(kinds) > 1:
            names = sorted(k.__name__ for k in kinds)
            raise InputError(
                f"{name}: column {col!r} mixes value types ({', '.join(names)}); classes must all be of one type.",
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
        raise InputError(f"{name}: column {col!r} has a missing value at row {row}.")
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
            f"{name}: column {col!r} holds the class {_fmt(series.iloc[row])} at row {row}, "
            f"which is neither a label nor a probability column. Known classes: {shown}.",
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
            raise InputError(f"{name}: column {col!r} must be numeric. Got {_fmt(series.iloc[row])} at row {row}.")
        series = converted
    arr = series.to_numpy(dtype=np.float64, na_value=np.nan)
    nan = np.isnan(arr)
    if nan.any():
        row = _first(nan)
        raise InputError(f"{name}: column {col!r} has a missing value at row {row}.",
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
        raise InputError(
            f"{name}: column {col!r} must be within [0, 1]. Got {_fmt(arr[row])} at row {row}.", hint=hint
        )


# ------------------------------------------------------------------------ splits


def _encode_split(series: pd.Series, name: str, col: str) -> np.ndarray:
    missing = series.isna().to_numpy()
    if missing.any():
        row = _first(missing)
        raise InputError(
            f"{name}: column {col!r} has a missing value at row {row}.",
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
                f"{name}: column {col!r} has the unknown split {_fmt(value)} at row {row}. "
                f"Accepted values: {accepted}.",
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
                f"{name}: column {given!r} ({flag}) is missing. Columns: {shown}.",
                hint=f"Check the spelling, or leave out {flag} to use the default {getattr(default, key)!r}.",
            )
    if cols.proba_prefix != default.proba_prefix and not any(
        c.startswith(cols.proba_prefix) and len(c) > len(cols.proba_prefix) for c in df.columns
    ):
        raise InputError(
            f"{name}: no column starts with {cols.proba_prefix!r} (--proba-prefix). Columns: {shown}.",
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
    warnings: list[InputWarning] = [InputWarning(code, message) for code, message in df.attrs.get(READ_WARNINGS, ())]
    if len(df) == 0:
        raise InputError(f"{name}: has no rows.")
    if not df.index.equals(pd.RangeIndex(len(df))):
        df = df.reset_index(drop=True)
    df = df.set_axis([str(c) for c in df.columns], axis=1)  # the caller's frame keeps its names
    index_cols = [c for c in df.columns if INDEX_COLUMN.fullmatch(c)]
    if index_cols:
        df = df.drop(columns=index_cols)
    duplicated = df.columns[df.columns.duplicated()].unique().tolist()
    if duplicated:
        raise InputError(
            f"{name}: column names must be unique. Got {', '.join(repr(c) for c in duplicated)} more than once.",
            hint="Rename or drop the repeated columns.",
        )
    df = _bytes_as_text(df, warnings)

    _check_named_columns(df, cols, name)
    if cols.label not in df.columns:
        shown = ", ".join(list(df.columns)[:12])
        raise InputError(
            f"{name}: column {cols.label!r} is missing. Columns: {shown}.",
            hint="Use --label-col (label_col=) to name the column that holds the true class.",
        )
    labels = _normalise_labels(df[cols.label], name, cols.label)
    kind = _kind(labels)

    # Probability columns and the classes they name.
    prefix = cols.proba_prefix
    proba_cols = [c for c in df.columns if prefix and c.startswith(prefix) and len(c) > len(prefix)]
    proba_classes = []
    for c in proba_cols:
        value = _coerce_text(c[len(prefix):], kind)
        if value is None:
            raise InputError(
                f"{name}: column {c!r} names the class {c[len(prefix):]!r}, which does not match the "
                f"type of the labels in {cols.label!r}.",
                hint="Probability columns are named proba_<class>, with <class> written as the label is.",
            )
        proba_classes.append(value)
    if len(set(proba_classes)) != len(proba_classes):
        raise InputError(f"{name}: two probability columns name the same class: {', '.join(proba_cols)}.")

    if classes is not None:
        classes = list(classes)
        _check_fixed_classes(labels, classes, proba_cols, name, cols.label, prefix)
    else:
        classes = sorted(set(pd.unique(labels).tolist()) | set(proba_classes))
    if proba_cols:
        missing_cls = [c for c in classes if c not in set(proba_classes)]
        if missing_cls:
            raise InputError(
                f"{name}: the label {class_text(missing_cls[0])!r} has no probability column "
                f"{prefix + class_text(missing_cls[0])!r}.",
                hint="Give one probability column per class, or drop them all and pass pred.",
            )
    if len(classes) > settings.max_classes:
        raise InputError(
            f"{name}: column {cols.label!r} has {len(classes):,} distinct values, more than the "
            f"{settings.max_classes:,} classes analysed; it does not look like a class column.",
            hint="Use --label-col to name the true-class column (for larger label sets raise Settings.max_classes).",
        )
    if len(classes) < 2:
        raise InputError(
            f"{name}: column {cols.label!r} holds a single class ({class_text(classes[0])!r}) and no "
            "probability column names another; a classifier needs at least two classes."
        )
    y = _encode(labels, classes)
    n_classes = len(classes)
    columns_used: dict[str, Any] = {"label": cols.label}

    has_score = cols.score in df.columns
    proba = None
    if proba_cols:
        order = [proba_classes.index(c) for c in classes]
        mats = []
        for j in order:
            arr = _numeric(df, proba_cols[j], name)
            _check_unit_interval(arr, proba_cols[j], name)
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
                f"{name}: probability columns {prefix}* must sum to 1 in each row "
                f"(within {settings.proba_sum_tolerance:g}). Got {sums[row]:.6g} at row {row}.",
                hint="If some classes have no probability column, add them; if these are scores, "
                "normalise them (softmax) first.",
            )
        columns_used["proba"] = [proba_cols[j] for j in order]
        if has_score:
            warnings.append(InputWarning(
                "score_ignored",
                f"both {cols.score!r} and {prefix}* columns are present; the probability columns are used.",
            ))
            has_score = False
    # Positive class for binary problems.
    positive = None
    if n_classes == 2:
        if positive_label is not None:
            matches = [i for i, c in enumerate(classes) if class_text(c) == class_text(positive_label)]
            if not matches:
                raise UsageError(
                    f"--positive-label must be one of the classes ({', '.join(class_text(c) for c in classes)}). "
                    f"Got {positive_label!r} instead."
                )
            positive = matches[0]
        else:
            # The class 1 or True when there is one, else the last class in sorted order.
            texts = [class_text(c) for c in classes]
            positive = texts.index("True") if "True" in texts else texts.index("1") if "1" in texts else 1
    elif positive_label is not None:
        raise UsageError(
            f"--positive-label applies to binary problems only; {name} has {n_classes} classes."
        )
    if has_score:
        if n_classes != 2:
            raise InputError(
                f"{name}: column {cols.score!r} (probability of the positive class) needs a binary "
                f"problem, but {cols.label!r} has {n_classes} classes.",
                hint="For several classes give one proba_<class> column per class.",
            )
        score = _numeric(df, cols.score, name)
        _check_unit_interval(score, cols.score, name, score=True)
        proba = np.empty((len(score), 2))
        proba[:, positive] = score
        proba[:, 1 - positive] = 1.0 - score
        columns_used["score"] = cols.score
        if positive_label is None and not ({"1", "True"} & {class_text(c) for c in classes}):
            warnings.append(InputWarning(
                "positive_guessed",
                f"{cols.score!r} is read as the probability of {class_text(classes[positive])!r}; "
                "pass --positive-label to choose the other class.",
            ))

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
    if n_classes == 2:
        threshold = 0.5 if threshold is None else float(threshold)

    # Predicted class.
    if cols.pred in df.columns:
        pred = _encode_other(df[cols.pred], kind, classes, name, cols.pred)
        columns_used["pred"] = cols.pred
        if proba is not None:
            _check_pred_against_proba(pred, proba, positive, threshold, warnings)
    elif proba is not None:
        if n_classes == 2:
            pred = np.where(proba[:, positive] >= threshold, positive, 1 - positive).astype(np.int32)
        else:
            pred = proba.argmax(axis=1).astype(np.int32)
    else:
        raise InputError(
            f"{name}: column {cols.pred!r} is missing and there are no probability columns "
            f"({prefix}<class>) or {cols.score!r} column to derive it from.",
            hint="Use --pred-col to name the predicted-class column, or --proba-prefix / --score-col.",
        )

    # Split.
    split_given = cols.split in df.columns
    if not split_given:
        lookalike = next((c for c in df.columns if c.strip().lower() in _SPLIT_LOOKALIKES), None)
        if lookalike is not None:
            warnings.append(InputWarning(
                "split_missing",
                f"there is no {cols.split!r} column, so every row counts as test; "
                f"pass --split-col {lookalike} if {lookalike!r} holds the split.",
            ))
    if split_given:
        split = _encode_split(df[cols.split], name, cols.split)
        columns_used["split"] = cols.split
    else:
        split = np.full(len(df), SPLITS.index("test"), dtype=np.int8)

    weight = None
    if cols.weight in df.columns:
        weight = _numeric(df, cols.weight, name)
        bad = ~np.isfinite(weight) | (weight < 0)
        if bad.any():
            row = _first(bad)
            raise InputError(
                f"{name}: column {cols.weight!r} must be finite and non-negative. Got {_fmt(weight[row])} at row {row}."
            )
        if weight_scale is None:
            weight_scale = scale_for_weights(weight)
        scaled = weight * weight_scale if weight_scale != 1.0 else weight
        too_big = scaled > MAX_SCALED_WEIGHT
        if too_big.any():
            row = _first(too_big)
            raise InputError(
                f"{name}: column {cols.weight!r} holds {_fmt(weight[row])} at row {row}, more than "
                f"{MAX_SCALED_WEIGHT / weight_scale:.3g}: sums of such weights overflow beside those of the first rows.",
                hint="Divide the weights by a constant so that they are of an ordinary size.",
            )
        if weight_scale != 1.0:
            weight = scaled
            warnings.append(InputWarning(
                "weights_rescaled",
                f"the weights in {cols.weight!r} were multiplied by 2**{int(np.log2(weight_scale))} so that "
                "their sums and squares stay finite; weighted counts are in those units.",
            ))
        columns_used["weight"] = cols.weight

    loss = None
    if cols.loss in df.columns:
        loss = _numeric(df, cols.loss, name)
        bad = ~np.isfinite(loss)
        if bad.any():
            row = _first(bad)
            raise InputError(f"{name}: column {cols.loss!r} must be finite. Got {_fmt(loss[row])} at row {row}.")
        columns_used["loss"] = cols.loss

    if weight is not None and not partial:
        per_split = np.bincount(split, weights=weight, minlength=len(SPLITS))
        present = np.flatnonzero(np.bincount(split, minlength=len(SPLITS)))
        check_weight_sums({SPLITS[s_code]: per_split[s_code] for s_code in present}, name, cols.weight)

    ids = None
    if cols.id in df.columns:
        ids = df[cols.id].to_numpy()
        try:
            pd.factorize(ids)
        except TypeError:
            row = next(i for i, v in enumerate(ids) if isinstance(v, (list, dict, set, np.ndarray)))
            raise InputError(
                f"{name}: column {cols.id!r} must hold one scalar id per row. Got {_fmt(ids[row])[:40]} at row {row}."
            ) from None
        columns_used["id"] = cols.id

    used = {cols.label, cols.pred, cols.split, cols.weight, cols.loss, cols.id, *proba_cols}
    if "score" in columns_used or has_score:
        used.add(cols.score)
    meta_cols = [c for c in df.columns if c not in used]
    nested = [c for c in meta_cols if _is_nested(df[c])]
    complex_ = [c for c in meta_cols if pd.api.types.is_complex_dtype(df[c])]
    for left_out, what, fix in ((nested, "lists or records", "flatten them into scalar columns"),
                                (complex_, "complex numbers", "split them into real and imaginary columns")):
        if not left_out:
            continue
        meta_cols = [c for c in meta_cols if c not in left_out]
        shown = ", ".join(repr(c) for c in left_out)
        warnings.append(InputWarning(
            "metadata_ignored",
            f"column{'s' if len(left_out) > 1 else ''} {shown} hold{'' if len(left_out) > 1 else 's'} {what}, "
            f"so slices, cohorts and shift tests leave them out; {fix} to use them.",
        ))
    meta = df[meta_cols] if meta_cols else None
    columns_used["metadata"] = meta_cols

    if not partial:
        _warn_unseen_classes(y, split, classes, warnings)
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
        meta=meta,
        positive=positive,
        threshold=threshold,
        columns_used=columns_used,
        warnings=warnings,
        split_given=split_given,
        weight_scale=weight_scale if weight is not None else None,
    )


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


def _bytes_as_text(df: pd.DataFrame, warnings: list) -> pd.DataFrame:
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
        text = text_columns(pa.table({"c": array}), notes).column(0)
        df[col] = pd.Series(text.to_pandas(), index=df.index)
        warnings.extend(InputWarning(code, message.replace("column 'c'", f"column {col!r}")) for code, message in notes)
    return df


def check_weight_sums(sums: dict, name: str, col: str) -> None:
    """The weight checks that need every row: ``sums`` maps each split present to its
    summed weight, which must be positive overall and in every split."""
    if all(w <= 0 for w in sums.values()):
        raise InputError(f"{name}: column {col!r} is zero in every row.")
    for split_name, w in sums.items():
        if w <= 0:
            raise InputError(f"{name}: column {col!r} is zero on every row of the {split_name} split.",
                             hint="Give the split some weight, or drop its rows.")


def _is_nested(values: pd.Series) -> bool:
    """Whether a column holds lists, arrays or records (from Arrow list and struct types)."""
    if values.dtype != object:
        return False
    first = values.first_valid_index()
    return first is not None and isinstance(values[first], (list, tuple, dict, set, np.ndarray))


def _check_fixed_classes(labels, classes, proba_cols, name, col, prefix) -> None:
    codes = _encode(labels, classes)
    bad = codes < 0
    if bad.any():
        row = _first(bad)
        value = class_text(labels[row])
        if proba_cols:
            raise InputError(
                f"{name}: the label {value!r} at row {row} has no probability column {prefix + value!r}.",
                hint="Give one probability column per class, or drop them all and pass pred.",
            )
        raise InputError(f"{name}: column {col!r} holds the class {value!r} at row {row}, "
                         "which the first read of the table did not find.")


def _check_pred_against_proba(pred, proba, positive, threshold, warnings) -> None:
    if proba.shape[1] == 2:
        implied = np.where(proba[:, positive] >= threshold, positive, 1 - positive)
        disagree = pred != implied
        rule = f"score >= {threshold:g}"
    else:
        top = proba.max(axis=1)
        chosen = np.take_along_axis(proba, pred[:, None].astype(np.intp), axis=1)[:, 0]
        disagree = chosen < top  # ties with the maximum are not disagreements
        rule = "argmax of the probabilities"
    count = int(disagree.sum())
    if count:
        row = _first(disagree)
        warnings.append(InputWarning(
            "pred_disagrees_with_proba",
            f"pred differs from the {rule} on {count} of {len(pred)} rows "
            f"({count / len(pred):.2%}), first at row {row}.",
            count,
        ))


def _warn_unseen_classes(y, split, classes, warnings) -> None:
    n = len(classes)
    counts = {name: np.bincount(y[split == s], minlength=n) for s, name in enumerate(SPLITS) if (split == s).any()}
    warnings.extend(unseen_class_warnings(counts, classes))


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
