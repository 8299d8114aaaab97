"""The diagnosis straight from a fitted classifier and its data splits, or from
prediction arrays with the features beside them.

:func:`from_estimator` asks the estimator for its predictions on each split, in the
style of scikit-learn's ``Display.from_estimator``; :func:`from_predictions` takes them
as arrays. Both keep the features as metadata, so slices, error cohorts and feature
shift run on the model's own inputs, then call :func:`erranalysis.analyze` on one
table of every split: the result is the one a predictions file of the same rows gives.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .analysis import analyze, replanned
from .arguments import check_choice
from .errors import DataWarning, InputError, UsageError
from .io import Columns
from .io.validate import SPLIT_ALIASES, class_text, frame_from_arrays, positive_class
from .kinds import MODEL_FAMILIES
from .output import Result
from .result import InputWarning

#: Features kept as metadata when the caller does not list them: beyond this many, a
#: seeded sample of columns (each metadata column costs a pass of counting per row).
MAX_FEATURES = 40
#: How the predictions are asked for: ``auto`` is ``predict_proba`` where the estimator
#: has it, else ``predict``.
RESPONSE_METHODS = ("auto", "predict_proba", "predict")
#: Arguments the two functions set themselves, which callers cannot pass on to analyze.
_OWN = ("data", "y_true", "y_pred", "proba", "split", "weight", "classes", "columns", "label_col", "pred_col",
        "split_col", "score_col", "weight_col", "loss_col", "id_col", "proba_prefix", "input_format", "engine")


def from_estimator(
    estimator: Any,
    splits: Mapping[str, Sequence[Any]] | Sequence[Any],
    *,
    goal: float | None = None,
    features: Sequence[str] | bool | None = None,
    model_family: str | None = None,
    response_method: str = "auto",
    reference_models: bool = False,
    **options: Any,
) -> Result:
    """Diagnose a fitted classifier on its data splits and say what to do next.

    Parameters
    ----------
    estimator : fitted classifier
        Anything with ``predict_proba`` and ``classes_`` (scikit-learn estimators and
        pipelines, LightGBM's and XGBoost's scikit-learn wrappers), or with ``predict``.
    splits : mapping or (X, y)
        Split name (``train``, ``train_val``, ``val``, ``test``, or an alias of one) to
        ``(X, y)`` or ``(X, y, sample_weight)``; a single ``(X, y)`` is the test split.
        ``X`` is what the estimator takes: a pandas or Polars DataFrame, a pyarrow
        Table, an array.
    goal : float, optional
        The error you aim for, in [0, 1].
    features : list of str, bool or None
        The columns of ``X`` kept as metadata for slices, cohorts and feature shift.
        None: every column of a DataFrame ``X`` (a seeded sample of ``MAX_FEATURES``
        when there are more, with a warning), none of an array. A list limits a
        DataFrame's columns, or names an array's columns in order. False: none.
    model_family : {"tree", "linear", "neural", "other"}, optional
        Told from the estimator when left out (its last step for a pipeline); the next
        steps' actions are fitted to it.
    response_method : {"auto", "predict_proba", "predict"}
        ``auto`` asks for probabilities where the estimator gives them. Without them
        (``predict`` alone, e.g. ``LinearSVC``) the checks that need probabilities
        (thresholds, calibration, loss, likely label errors) are left out: a
        ``decision_function`` margin is not a probability, and treating it as one would
        report miscalibration that is not there. Wrap such a model in
        ``CalibratedClassifierCV`` to have them.
    reference_models : bool
        Also fit quick models of the other families (a regularised linear model,
        gradient-boosted trees; scikit-learn's defaults) on every column of the train
        split's ``X`` (at most 20,000 rows) and score them on the same rows of val (else
        test) as the model (at most 20,000): ``result.references``, and a
        ``reference_model`` finding when one is better beyond chance (a paired interval,
        Bonferroni over the references). Needs scikit-learn; takes seconds.
    **options
        Any other argument of :func:`erranalysis.analyze` (``metric``, ``settings``,
        ``history``, ``compare``, ``threshold``, ``positive_label``, ...).

    Rows are named as in ``X``: by a DataFrame's index, else by their position in that
    split's ``X``. A binary threshold classifier (scikit-learn's
    ``FixedThresholdClassifier``, ``TunedThresholdClassifierCV``) is scored at its own
    threshold and positive class, as it decides.

    Examples
    --------
    >>> r = erranalysis.from_estimator(model, {"train": (X_train, y_train), "test": (X_test, y_test)},
    ...                                goal=0.02)  # doctest: +SKIP
    >>> r.save("review.pdf")  # doctest: +SKIP
    """
    _check_options(options, model_family)
    if response_method not in RESPONSE_METHODS:
        raise UsageError(f"response_method must be one of {', '.join(RESPONSE_METHODS)}. "
                         f"Got {response_method!r} instead.", parameter="response_method")
    parts = _split_parts(splits)
    method = _method(estimator, response_method)
    classes = _classes(estimator)
    family = model_family if model_family is not None else family_of(estimator)
    y_true, y_pred, proba, split, weight, index, metadata = [], [], [], [], [], [], []
    held: dict[str, tuple[Any, np.ndarray, np.ndarray]] = {}  # split -> X, y, which rows the model got wrong
    names = _feature_names(parts, features)
    sampled = features is None and names is not None and len(names) < len(_columns_of(parts[0][1]) or [])
    if method == "predict_proba":
        options = _deployed_threshold(estimator, classes, options)
    for name, X, y, w in parts:
        n = _rows(X, name)
        if n == 0:
            raise UsageError(f"split {name!r} has no rows.", parameter="splits")
        y = _labels(_column(y, f"y of split {name!r}", n), classes, name)
        if method == "predict_proba":
            p = np.asarray(estimator.predict_proba(X), dtype=np.float64)
            if p.ndim != 2 or p.shape != (n, len(classes)):
                raise UsageError(f"estimator.predict_proba gave shape {p.shape} on split {name!r}; expected "
                                 f"({n}, {len(classes)}), a column per class of estimator.classes_.")
            proba.append(p)
            predicted = _decisions(p, classes, options)
        else:
            predicted = _column(estimator.predict(X), f"estimator.predict on split {name!r}", n)
            y_pred.append(predicted)
        if reference_models:
            held[SPLIT_ALIASES[name.strip().lower()]] = (X, y, predicted != y)
        y_true.append(y)
        split.append(np.full(n, name, dtype=object))
        weight.append(None if w is None else _column(w, f"sample_weight of split {name!r}", n))
        index.append(_index(X, n))
        metadata.append(_features(X, names, name))
    result = _analyse(
        y_true=y_true, y_pred=y_pred or None, proba=proba or None, classes=classes or None, split=split,
        weight=weight,
        index=index, metadata=metadata, goal=goal, family=family, options=options,
        split_names=[name for name, *_ in parts],
    )
    if reference_models:
        result = _with_references(result, held, family)
    if method != "predict_proba":
        how = "was asked for" if hasattr(estimator, "predict_proba") else "has no predict_proba, so it gives"
        result = _with_warning(result, "no_probabilities", (
            f"{type(estimator).__name__} {how} predictions only: the checks that need probabilities "
            "(thresholds, calibration, loss, likely label errors) are left out; wrap it in "
            "CalibratedClassifierCV for probabilities."))
    return _named(result, describe(estimator), sampled)


def from_predictions(
    y_true: Any,
    y_pred: Any = None,
    *,
    proba: Any = None,
    classes: Any = None,
    split: Any = None,
    sample_weight: Any = None,
    features: Any = None,
    goal: float | None = None,
    model_family: str | None = None,
    **options: Any,
) -> Result:
    """Diagnose predictions given as arrays, with the features that produced them.

    As :func:`erranalysis.analyze`'s array form (``y_true``, ``y_pred``, ``proba`` with
    its ``classes``, ``split``), plus ``features``: a table with one row per
    prediction (a pandas or Polars DataFrame, a pyarrow Table), whose columns are kept
    as metadata for slices, cohorts and feature shift; its index names the rows.
    ``model_family`` fits the next steps' actions to the kind of model
    (``"tree"``, ``"linear"``, ``"neural"``, ``"other"``).
    """
    _check_options(options, model_family, "from_predictions")
    labels = _column(y_true, "y_true", None)
    n = len(labels)
    _check_classes(labels)
    meta = None if features is None else _as_pandas(features, "features")
    if meta is not None and len(meta) != n:
        raise UsageError(f"features must have one row per entry of y_true ({n}). Got {len(meta)} instead.",
                         parameter="features")
    result = _analyse(
        y_true=[labels], y_pred=None if y_pred is None else [_column(y_pred, "y_pred", n, "entry of y_true")],
        proba=None if proba is None else [proba], classes=classes,
        split=None if split is None else [_column(split, "split", n, "entry of y_true")],
        weight=[None if sample_weight is None else _column(sample_weight, "sample_weight", n, "entry of y_true")],
        index=[_index(meta, n) if meta is not None else pd.RangeIndex(n)],
        metadata=[None if meta is None else meta.reset_index(drop=True)], goal=goal, family=model_family,
        options=options,
    )
    return result


# ------------------------------------------------------------------------ the estimator


def family_of(estimator: Any) -> str | None:
    """The family of a classifier (``kinds.MODEL_FAMILIES``), told from its class: the last
    step of a pipeline, the model inside a search, calibration or threshold wrapper. None
    when unknown, or for an ensemble of several families."""
    model = _innermost(estimator)
    kind = type(model)
    module, name = (kind.__module__ or ""), kind.__name__
    package = module.partition(".")[0]
    if name == "CalibratedClassifierCV":  # reached without an inner model: its default, LinearSVC
        return "linear"
    if package in ("lightgbm", "xgboost", "catboost") or module.startswith("sklearn.tree"):
        return "tree"
    if package in ("skorch", "scikeras", "keras", "tensorflow", "torch") or module.startswith("sklearn.neural_network"):
        return "neural"
    if module.startswith("sklearn.ensemble"):
        if name in ("VotingClassifier", "StackingClassifier"):
            families = {family_of(e) for _, e in getattr(model, "estimators", [])}
            return families.pop() if len(families) == 1 else None
        inner = getattr(model, "estimator", None)  # bagging and AdaBoost: trees unless told otherwise
        return "tree" if inner is None else family_of(inner)
    if module.startswith(("sklearn.linear_model", "sklearn.discriminant_analysis")) and name != \
            "QuadraticDiscriminantAnalysis":
        return "linear"
    if module.startswith("sklearn.svm"):
        return "linear" if name == "LinearSVC" or getattr(model, "kernel", None) == "linear" else "other"
    if module.startswith(("sklearn.neighbors", "sklearn.naive_bayes", "sklearn.gaussian_process",
                          "sklearn.discriminant_analysis", "sklearn.semi_supervised")):
        return "other"
    return None


def _innermost(estimator: Any, depth: int = 0) -> Any:
    """The model that makes the decisions: through pipelines and wrapping estimators."""
    if depth > 10:
        return estimator
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        return _innermost(steps[-1][1], depth + 1)
    name = type(estimator).__name__
    if name in ("GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV"):
        inner = getattr(estimator, "best_estimator_", None) or getattr(estimator, "estimator", None)
        return estimator if inner is None else _innermost(inner, depth + 1)
    if name in ("CalibratedClassifierCV", "TunedThresholdClassifierCV", "FixedThresholdClassifier",
                "OneVsRestClassifier", "OneVsOneClassifier", "OutputCodeClassifier", "SelfTrainingClassifier",
                "FrozenEstimator"):
        inner = getattr(estimator, "estimator", None)
        return estimator if inner is None else _innermost(inner, depth + 1)
    return estimator


def describe(estimator: Any) -> str:
    """A short name: the class, and for a pipeline its steps' classes."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        return f"{type(estimator).__name__}({', '.join(describe(step) for _, step in steps)})"
    return type(estimator).__name__


def _method(estimator: Any, response_method: str) -> str:
    """The method that gives the predictions."""
    has_proba = hasattr(estimator, "predict_proba")  # False where scikit-learn disables it
    if response_method == "predict_proba" and not has_proba:
        raise UsageError(f"{type(estimator).__name__} has no predict_proba.", parameter="response_method",
                         hint="Pass response_method='predict', or wrap the model in CalibratedClassifierCV.")
    if response_method in ("auto", "predict_proba") and has_proba:
        return "predict_proba"
    if not hasattr(estimator, "predict"):
        raise UsageError(f"estimator must be a fitted classifier with predict_proba or predict. Got "
                         f"{type(estimator).__name__} instead.", parameter="estimator")
    return "predict"


def _deployed_threshold(estimator: Any, classes: list, options: dict) -> dict:
    """``options`` with the threshold and positive class the estimator decides with, when
    it is a binary threshold classifier (scikit-learn's ``FixedThresholdClassifier`` and
    ``TunedThresholdClassifierCV``, alone or as a pipeline's last step) on its
    probabilities: its errors are then those of its own decisions, not of the argmax. A
    threshold or positive label the caller gives wins."""
    model = estimator
    while isinstance(getattr(model, "steps", None), list) and model.steps:
        model = model.steps[-1][1]
    name = type(model).__name__
    if len(classes) != 2 or name not in ("FixedThresholdClassifier", "TunedThresholdClassifierCV"):
        return options
    threshold = getattr(model, "best_threshold_", getattr(model, "threshold", None))
    response = getattr(model, "response_method", "auto")
    inner = getattr(model, "estimator_", None) or getattr(model, "estimator", None)
    on_probabilities = response == "predict_proba" or (response == "auto" and hasattr(inner, "predict_proba"))
    if threshold == "auto" and on_probabilities:
        threshold = 0.5
    if not on_probabilities or not isinstance(threshold, numbers.Real):
        warnings.warn(f"{name} decides on {response} values, which are not probabilities: its errors here are "
                      "those of the most probable class; pass response_method='predict' for its own decisions.",
                      DataWarning, stacklevel=3)
        return options
    pos_label = getattr(model, "pos_label", None)
    # TunedThresholdClassifierCV has no pos_label: its scoring's positive class decides.
    scored = getattr(getattr(model, "_curve_scorer", None), "_get_pos_label", None)
    if pos_label is None and callable(scored):
        pos_label = scored()
    decided = {"threshold": float(threshold), "positive_label": classes[1] if pos_label is None else pos_label}
    return {**decided, **options}


def _check_classes(labels: np.ndarray) -> None:
    """Warn when numeric labels look like a regression target: more than 50 distinct
    values, at least one for every five rows (each distinct value is taken as a class;
    the analysis refuses numbers with fractions itself)."""
    if labels.dtype.kind not in "iuf" or len(labels) == 0:
        return
    distinct = len(pd.unique(labels))
    if distinct > 50 and distinct >= 0.2 * len(labels):
        warnings.warn(f"y_true holds {distinct:,} distinct numbers in {len(labels):,} rows, each taken as a class: "
                      "erranalysis diagnoses classifiers, not regression targets.", DataWarning, stacklevel=3)


def _decisions(p: np.ndarray, classes: list, options: dict) -> np.ndarray:
    """The class each row is predicted as, as the analysis reads the same probabilities:
    the most probable, or for two classes the positive one where its probability reaches
    the threshold (0.5 unless given; a tie at 0.5 is the positive class, where the
    argmax would take the first)."""
    labels = np.asarray(classes, dtype=object)
    pos = positive_class(classes, options.get("positive_label"), "the estimator")
    if pos is None:  # not two classes
        return labels[p.argmax(axis=1)]
    threshold = options.get("threshold")
    return np.where(p[:, pos] >= (0.5 if threshold is None else threshold), labels[pos], labels[1 - pos])


def _labels(y: np.ndarray, classes: list, split: str) -> np.ndarray:
    """The labels of one split, each as the estimator's class it stands for: the class
    written the same (``1`` for the class ``'1'``, ``1.0`` for ``1``) or equal to it
    (``True`` is the class ``1`` of a model fitted on 0 and 1, as scikit-learn scores
    it). The model's decisions are then compared with labels of their own type. A
    missing label is an error naming its row."""
    missing = pd.isna(y)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise UsageError(f"y of split {split!r} has a missing label at row {row} (counting from 0).",
                         parameter="splits", hint="Drop the rows without a label, or label them.")
    texts = [class_text(c) for c in classes]
    values = pd.unique(y)
    mapping = {v: classes[texts.index(class_text(v))] if class_text(v) in texts else
               next((c for c in classes if c == v), v) for v in values}
    if not any(class_text(mapping[v]) in texts for v in values):
        shown = ", ".join(repr(v) for v in values[:5])
        raise UsageError(f"y of split {split!r} holds none of the estimator's classes ({', '.join(sorted(texts))}). "
                         f"Got {shown}{', ...' if len(values) > 5 else ''} instead.", parameter="splits",
                         hint="Pass the labels the model was fitted on, encoded as they were then.")
    as_given = all(mapping[v] == v and np.asarray(mapping[v]).dtype.kind == np.asarray(v).dtype.kind for v in values)
    if as_given and (y.dtype != object or all(isinstance(v, str) for v in values)):
        return y  # the classes already, as values of their type (no object array of numbers)
    return pd.Series(y, dtype=object).map(mapping).infer_objects().to_numpy()


def _is_regressor(estimator: Any) -> bool:
    tags = getattr(estimator, "__sklearn_tags__", None)
    try:
        return tags is not None and tags().estimator_type == "regressor"
    except Exception:  # noqa: BLE001 - tags of a third-party object: only a guess for the message
        return getattr(estimator, "_estimator_type", None) == "regressor"


def _classes(estimator: Any) -> list:
    """The estimator's classes, in the order of its probability columns (every fitted
    classifier has them; a regressor or an unfitted model does not)."""
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        kind = "a regressor" if _is_regressor(estimator) else "not fitted, or not a classifier"
        raise UsageError(f"estimator must be a fitted classifier: {type(estimator).__name__} has no classes_ "
                         f"({kind}).", parameter="estimator",
                         hint="Fit it first. For predictions made elsewhere, use from_predictions.")
    classes = np.asarray(classes)
    if classes.ndim != 1:
        raise UsageError("estimator.classes_ must list one set of classes; multi-output models are not "
                         "supported.", parameter="estimator")
    return classes.tolist()


# --------------------------------------------------------------------------- the splits


def _check_options(options: Mapping[str, Any], family: str | None, function: str = "from_estimator") -> None:
    """Before any prediction is made: no argument these functions set, no unknown one, a
    known family."""
    taken = [k for k in options if k in _OWN]
    if taken:
        raise UsageError(f"{taken[0]} is set from the estimator and its splits, and cannot be given here.",
                         parameter=taken[0])
    known = set(inspect.signature(analyze).parameters) - set(_OWN)
    unknown = [k for k in options if k not in known]
    if unknown:
        raise UsageError(f"{function}() got an unknown argument {unknown[0]!r}. Other arguments it passes on to "
                         f"analyze(): {', '.join(sorted(k for k in known if k != 'column_names'))}.",
                         parameter=unknown[0])
    check_choice("model_family", family, MODEL_FAMILIES)


def _split_parts(splits: Any) -> list[tuple[str, Any, Any, Any]]:
    """``(name, X, y, sample_weight)`` of each split, in the order given."""
    if isinstance(splits, Mapping):
        items = list(splits.items())
    elif isinstance(splits, (tuple, list)) and len(splits) in (2, 3) and not all(
            isinstance(part, (tuple, list)) and len(part) in (2, 3) for part in splits):
        items = [("test", splits)]
    else:
        raise UsageError(f"splits must map split names to (X, y) pairs, as {{'train': (X_train, y_train), "
                         f"'test': (X_test, y_test)}}, or be one (X, y). Got {type(splits).__name__} instead.",
                         parameter="splits")
    if not items:
        raise UsageError("splits must hold at least one split.", parameter="splits")
    parts = []
    seen: dict[str, str] = {}  # split -> the key that named it
    for name, value in items:
        if not isinstance(name, str):
            raise UsageError(f"splits must be keyed by split names (strings). Got {name!r} instead.",
                             parameter="splits")
        split = SPLIT_ALIASES.get(name.strip().lower())
        if split is None:
            raise UsageError(f"splits must be keyed by split names ({', '.join(sorted(SPLIT_ALIASES))}). Got "
                             f"{name!r} instead.", parameter="splits")
        if split in seen:  # their rows would be pooled into one split without a word
            raise UsageError(f"splits must name each split once. Got {seen[split]!r} and {name!r}, both the "
                             f"{split} split.", parameter="splits")
        seen[split] = name
        if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
            raise UsageError(f"splits[{name!r}] must be (X, y) or (X, y, sample_weight). Got "
                             f"{type(value).__name__} instead.", parameter="splits")
        X, y, *w = value
        parts.append((name, X, y, w[0] if w else None))
    weighted = [name for name, _, _, w in parts if w is not None]
    if weighted and len(weighted) < len(parts):
        raise UsageError(f"sample_weight must be given for every split or for none. Got it for "
                         f"{', '.join(map(repr, weighted))} alone.", parameter="splits")
    return parts


def _rows(X: Any, name: str) -> int:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        raise UsageError(f"X of split {name!r} must be a table or an array. Got {type(X).__name__} instead.",
                         parameter="splits") from None


def _column(values: Any, what: str, n: int | None, per: str = "row of X") -> np.ndarray:
    """A one-dimensional column of ``n`` values, one per ``per`` (labels keep their type)."""
    if (type(values).__module__ or "").startswith("pyarrow"):
        values = values.to_numpy(zero_copy_only=False)  # an Array of text or with nulls has no view
    elif hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()  # pandas and Polars series: categories and nullable types as values
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise UsageError(f"{what} must be one-dimensional. Got shape {array.shape} instead.")
    if n is not None and len(array) != n:
        raise UsageError(f"{what} must have one entry per {per} ({n}). Got {len(array)} instead.")
    return array


def _index(X: Any, n: int) -> pd.Index:
    """What the rows are called: a pandas DataFrame's index, else their positions."""
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.index
    return pd.RangeIndex(n)


def _as_pandas(table: Any, what: str) -> pd.DataFrame:
    """A table of features as pandas (Polars and Arrow through Arrow), its columns named
    by text as :func:`_columns_of` names them (a DataFrame of an array has numbers)."""
    if isinstance(table, pd.DataFrame):
        return table.set_axis([str(c) for c in table.columns], axis=1)
    if hasattr(table, "to_arrow"):  # Polars
        table = table.to_arrow()
    if hasattr(table, "to_pandas") and hasattr(table, "schema"):  # pyarrow Table or RecordBatch
        return table.to_pandas()
    raise UsageError(f"{what} must be a table (pandas, Polars or Arrow). Got {type(table).__name__} instead.",
                     parameter=what)


def _columns_of(X: Any) -> list[str] | None:
    """The column names of a table ``X`` (pandas, Polars or Arrow), None for an array."""
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    package = (type(X).__module__ or "").partition(".")[0]
    if package == "polars" and hasattr(X, "columns"):
        return list(X.columns)
    if package == "pyarrow" and hasattr(X, "schema"):
        return list(X.schema.names)
    return None


def _feature_names(parts: list, features: Any) -> list[str] | None:
    """The feature columns every split keeps (None: none)."""
    first = parts[0][1]
    columns = _columns_of(first)
    if isinstance(features, (list, tuple)):
        names = [str(f) for f in features]
        if columns is None:
            width = np.shape(first)[1] if np.ndim(first) == 2 else None
            if width != len(names):
                raise UsageError(f"features must name every column of an array X ({width}). Got {len(names)} "
                                 "names instead.", parameter="features")
        else:
            missing = [f for f in names if f not in columns]
            if missing:
                raise UsageError(f"features names a column X does not have: {missing[0]!r}.",
                                 parameter="features")
        return names
    if features is False:
        return None
    if features is True:  # every column; an array's named as scikit-learn names them
        if columns is None and np.ndim(first) == 2:
            return [f"x{i}" for i in range(np.shape(first)[1])]
        return columns
    if features is not None:
        raise UsageError(f"features must be a list of column names, True, False or None. Got "
                         f"{type(features).__name__} instead.", parameter="features")
    if columns is None or len(columns) <= MAX_FEATURES:
        return columns
    keep = np.sort(np.random.default_rng(0).choice(len(columns), MAX_FEATURES, replace=False))
    return [columns[i] for i in keep]


def _features(X: Any, names: list[str] | None, split: str) -> pd.DataFrame | None:
    """The metadata columns of one split's ``X``, numbered from 0."""
    if names is None:
        return None
    columns = _columns_of(X)
    if columns is None:
        array = np.asarray(X)
        if array.ndim != 2 or array.shape[1] != len(names):
            raise UsageError(f"X of split {split!r} has shape {array.shape}; features names {len(names)} columns.",
                             parameter="features")
        return pd.DataFrame(array, columns=names)
    missing = [f for f in names if f not in columns]
    if missing:
        raise UsageError(f"X of split {split!r} has no column {missing[0]!r}, which the first split has.",
                         parameter="splits")
    if isinstance(X, pd.DataFrame):
        return _as_pandas(X, "X").loc[:, names].reset_index(drop=True)
    return _as_pandas(X.select(names), "X")


# ------------------------------------------------------------------------ one analysis


def _renamed(metadata: list) -> tuple[list, dict[str, str]]:
    """The features with the names of the input contract's columns (``label``, ``split``,
    ``score``, ``proba_*``, ...) renamed to ``feature: <name>``, so that none is read as
    anything but metadata; and what was renamed."""
    defaults = Columns()
    roles = {defaults.label, defaults.pred, defaults.split, defaults.score, defaults.weight, defaults.loss,
             defaults.id}
    taken = dict.fromkeys(c for m in metadata if m is not None for c in m.columns)
    renames = {c: f"feature: {c}" for c in taken if c in roles or c.startswith(defaults.proba_prefix)}
    if not renames:
        return metadata, renames
    return [None if m is None else m.rename(columns=renames) for m in metadata], renames


def _analyse(*, y_true: list, y_pred: list | None, proba: list | None, classes: Any, split: list | None,
             weight: list, index: list, metadata: list, goal: float | None, family: str | None,
             options: dict, split_names: list[str] | None = None) -> Result:
    """One table of every split's rows and features, analysed; ``split_names``: the
    split of each part, when the parts are the splits of ``from_estimator``."""
    metadata, renames = _renamed(metadata)
    labels = np.concatenate(y_true)
    p = None if proba is None else np.concatenate([np.asarray(a) for a in proba])
    if p is not None:
        p, classes = _with_unseen(p, classes, labels)
    frame = frame_from_arrays(
        labels, None if y_pred is None else np.concatenate(y_pred), p, None if split is None else np.concatenate(split),
        # then every split has them (_split_parts)
        np.concatenate(weight) if any(w is not None for w in weight) else None, classes)
    if any(m is not None for m in metadata):
        frame = pd.concat([frame, pd.concat(metadata, ignore_index=True)], axis=1)
    frame.index = index[0].append(index[1:]) if len(index) > 1 else index[0]
    try:
        result = analyze(frame, goal=goal, model_family=family, **options)
    except InputError as exc:
        raise _placed(exc, [len(y) for y in y_true], split_names) from None
    if renames:
        result = _with_warning(result, "features_renamed", (
            "features named as columns of a predictions table are kept as metadata under new names: "
            + ", ".join(f"{old!r} as {new!r}" for old, new in renames.items()) + "."))
    return result


def _argument_words(text: str, column: str | None, estimator: bool) -> str:
    """``text`` with the internal table's column named as the argument it came from."""
    if column is None or f"column {column!r}" not in text:
        return text
    defaults = Columns()
    if column.startswith(defaults.proba_prefix):
        what = (f"{'predict_proba' if estimator else 'proba'}'s column for class "
                f"{column[len(defaults.proba_prefix):]!r}")
    else:
        what = {defaults.label: "y" if estimator else "y_true", defaults.pred: "y_pred", defaults.score: "proba",
                defaults.weight: "sample_weight", defaults.split: "split"}.get(column, f"column {column!r}")
    return text.replace(f"column {column!r}", what, 1)


def _placed(exc: InputError, sizes: list[int], names: list[str] | None) -> InputError:
    """An error found in the table of every split, placed where the caller can find it:
    in its split and at the row of that split's ``X`` (without a command-line hint)."""
    error = exc._copy(hint=None if exc.hint and "--" in exc.hint else exc.hint, file=None,
                      text=_argument_words(exc.text, exc.column, estimator=names is not None))
    if exc.row is None or names is None:
        return error
    starts = np.cumsum([0, *sizes])
    part = int(np.searchsorted(starts, exc.row, side="right")) - 1
    return error._copy(file=f"split {names[part]!r}", row=exc.row - int(starts[part]))


def _with_unseen(p: np.ndarray, classes: Any, labels: np.ndarray) -> tuple[np.ndarray, Any]:
    """The probability columns with a zero column for each label the model never saw (it
    gives them no probability), and the classes they stand for. Anything else about them
    (shape, numbers, one class per column) is for :func:`frame_from_arrays` to check."""
    if classes is None or np.ndim(p) != 2 or np.shape(p)[1] != len(classes):
        return p, classes
    known = {class_text(c) for c in classes}
    unseen = [c for c in pd.unique(labels).tolist() if class_text(c) not in known]
    if not unseen:
        return p, classes
    warnings.warn(f"the labels {', '.join(repr(c) for c in unseen)} are not among the estimator's classes; "
                  "they count with probability 0.", DataWarning, stacklevel=4)
    return np.hstack([p, np.zeros((len(p), len(unseen)))]), [*classes, *unseen]


def _with_references(result: Result, held: dict, family: str | None) -> Result:
    """``result`` with the reference models of the other families, and their findings in
    the plan."""
    from .reference import compare_families

    if "train" not in held:
        raise UsageError("reference models need a train split to be fitted on.", parameter="reference_models")
    split = next((s for s in ("val", "test", "train_val") if s in held), None)
    if split is None:
        raise UsageError("reference models need a held-out split (val, test or train_val) to be scored on.",
                         parameter="reference_models")
    confidence = result.provenance.settings["confidence"]
    X_train, y_train, _ = held["train"]
    X_eval, y_eval, wrong = held[split]
    references, findings = compare_families(family, (_table(X_train), y_train), split, (_table(X_eval), y_eval),
                                            wrong, confidence)
    learns = _learns(references, result, confidence) if family == "linear" else None
    if learns is not None:
        # A linear model learned nothing, but another family learned from the same inputs
        # and labels: they line up, so it is not a pipeline bug, and the model cannot use
        # them (a boundary no line draws, as an interaction's). Not for a flexible model:
        # trees or a network that learn nothing point to their training data (labels
        # misaligned when they were fitted), and a reference fitted on the right labels
        # cannot tell that apart. Nor when the model is surely worse than a constant
        # (fitted on inverted labels): both stay a bug to find first.
        reading = {"reference_learns": learns}
        kept = [replace(f, blocking=False, evidence={**f.evidence, **reading})
                if f.kind == "below_baseline" and f.evidence["improvement_ci"][1] >= 0 else f
                for f in result.findings]
        result = replace(result, findings=kept)
    return replanned(replace(result, references=references, findings=[*result.findings, *findings]), confidence)


def _learns(references: list, result: Result, confidence: float) -> dict | None:
    """The best reference better than the model that also beats always predicting the
    most frequent class on its split (its interval below that error), if any."""
    from .stats.intervals import wilson

    majority = {b.split: b.majority_error for b in result.baselines}
    for ref in sorted(references, key=lambda r: r.change):
        top = wilson(ref.error, ref.rows, confidence)[1]
        if ref.verdict == "better" and ref.split in majority and top < majority[ref.split]:
            return {"name": ref.name, "family": ref.family, "error": ref.error, "split": ref.split,
                    "majority_error": majority[ref.split]}
    return None


def _table(X: Any) -> pd.DataFrame:
    """Every column of ``X`` as pandas (an array's named x0, x1, ...)."""
    if _columns_of(X) is not None:
        return _as_pandas(X, "X").reset_index(drop=True)
    array = np.asarray(X)
    if array.ndim != 2:
        raise UsageError(f"reference models need a two-dimensional X. Got shape {array.shape} instead.",
                         parameter="reference_models")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _with_warning(result: Result, code: str, text: str) -> Result:
    warnings.warn(text, DataWarning, stacklevel=3)
    return replace(result, warnings=[*result.warnings, InputWarning(code, text)])


def _named(result: Result, model: str, sampled: bool) -> Result:
    """The result with the model in its provenance, and a word on sampled features."""
    result = replace(result, provenance=replace(result.provenance, input="estimator", model=model))
    if sampled:
        result = _with_warning(result, "features_sampled", (
            f"X has more than {MAX_FEATURES} columns: slices, cohorts and feature shift use a seeded sample of "
            f"{MAX_FEATURES} of them; pass features=[...] to choose them."))
    return result
