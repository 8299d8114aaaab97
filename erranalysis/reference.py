"""Quick reference models of other families, fitted on the model's own features: does
a different family close the gap?

A regularised linear model and gradient-boosted trees, each with scikit-learn's
defaults, are fitted on a seeded sample of the training rows and scored on a seeded
sample of one held-out split, the same rows the model is scored on there. The change
of error (reference minus model) gets the paired interval of
:func:`~erranalysis.stats.intervals.paired_change`, at a confidence widened for the
number of references (Bonferroni). A reference that is better beyond that interval is
a ``reference_model`` finding; every reference is kept in ``result.references``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import UsageError
from .result import Finding, ReferenceModel
from .stats.intervals import paired_change

#: Training rows a reference is fitted on, and held-out rows it is scored on: a seeded
#: sample beyond these (a few seconds of fitting on two cores).
MAX_TRAIN_ROWS = 20_000
MAX_EVAL_ROWS = 20_000
#: The reference of each family, by name.
NAMES = {"linear": "LogisticRegression", "tree": "HistGradientBoostingClassifier"}
#: What each family's reference is, in words.
KINDS_OF_MODEL = {"linear": "linear", "tree": "gradient-boosted tree"}


def references_for(family: str | None) -> list[str]:
    """The families to try against a model of ``family``: every other one that has a
    reference (both for a network, another kind of model, or an unknown one)."""
    return [f for f in NAMES if f != family]


def compare_families(
    family: str | None, train: tuple[pd.DataFrame, np.ndarray], split: str, held_out: tuple[pd.DataFrame, np.ndarray],
    model_wrong: np.ndarray, confidence: float, seed: int = 0,
) -> tuple[list[ReferenceModel], list[Finding]]:
    """The reference models against a model of ``family`` whose errors on the held-out
    rows are ``model_wrong``; and a finding for each that is better beyond chance."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise UsageError("reference models need scikit-learn, which is not installed.",
                         parameter="reference_models", hint="pip install scikit-learn") from None
    rng = np.random.default_rng(seed)
    X_train, y_train = _sample(*train, MAX_TRAIN_ROWS, rng)
    eval_rows = _rows(len(held_out[1]), MAX_EVAL_ROWS, rng)
    X_eval, y_eval = held_out[0].iloc[eval_rows], held_out[1][eval_rows]
    wrong = np.asarray(model_wrong, dtype=bool)[eval_rows]
    families = references_for(family)
    level = 1 - (1 - confidence) / max(len(families), 1)
    numeric, categorical = _kinds(X_train)
    if not numeric and not categorical:
        raise UsageError("reference models need features: X has no numeric or text column.",
                         parameter="reference_models")
    references, findings = [], []
    for name in families:
        model = _reference(name, numeric, categorical).fit(_inputs(X_train, numeric, categorical), y_train)
        ref_wrong = model.predict(_inputs(X_eval, numeric, categorical)) != y_eval
        both, ref_only, model_only = (int(np.sum(m)) for m in (ref_wrong & wrong, ref_wrong & ~wrong,
                                                               ~ref_wrong & wrong))
        n = len(y_eval)
        change, lo, hi = (float(v) for v in paired_change(both, ref_only, model_only, n, level))
        verdict = "better" if hi < 0 else "worse" if lo > 0 else "no different"
        ref = ReferenceModel(family=name, name=NAMES[name], split=split, train_rows=len(y_train), rows=n,
                             error=(both + ref_only) / n, model_error=(both + model_only) / n, change=change,
                             ci=(lo, hi), verdict=verdict)
        references.append(ref)
        if verdict == "better":
            findings.append(_finding(ref, level))
    return references, findings


def _finding(ref: ReferenceModel, level: float) -> Finding:
    gain = -ref.change
    return Finding(
        kind="reference_model",
        # Closing a quarter or more of the model's error is as large as problems get.
        severity="high" if gain >= 0.25 * ref.model_error else "medium",
        title=f"A {KINDS_OF_MODEL[ref.family]} reference model is {gain * 100:.1f} pts better on {ref.split}",
        evidence={"family": ref.family, "kind_of_model": KINDS_OF_MODEL[ref.family], "name": ref.name,
                  "train_rows": ref.train_rows, "rows": ref.rows,
                  "error": ref.error, "model_error": ref.model_error, "change": ref.change, "ci": ref.ci,
                  "confidence": level},
        split=ref.split, impact=gain, impact_ci=(-ref.ci[1], -ref.ci[0]),
    )


def _rows(n: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= limit else np.sort(rng.choice(n, limit, replace=False))


def _sample(X: pd.DataFrame, y: np.ndarray, limit: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    rows = _rows(len(y), limit, rng)
    return X.iloc[rows], np.asarray(y)[rows]


def _kinds(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The numeric (and boolean) columns, and the text or categorical ones; time columns
    and anything else are left out."""
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric and (
        isinstance(X[c].dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(X[c])
        or pd.api.types.is_string_dtype(X[c]))]
    return numeric, categorical


def _inputs(X: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """The columns a reference reads: numbers as floats (an infinite one missing, as a
    ratio over zero gives: scikit-learn's imputer and linear models refuse them),
    categories as text ("(missing)" for none), in a fixed order."""
    out: dict[str, pd.Series] = {c: pd.to_numeric(X[c], errors="coerce").astype(float).replace([np.inf, -np.inf],
                                                                                                np.nan)
                                 for c in numeric}
    out.update({c: X[c].astype(object).where(X[c].notna(), "(missing)").astype(str) for c in categorical})
    return pd.DataFrame(out, index=X.index)


def _reference(family: str, numeric: list[str], categorical: list[str]) -> Any:
    """The reference model of ``family``, as a pipeline over the columns it reads."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    if family == "linear":
        columns = ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("text", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=10, max_categories=30),
             categorical),
        ])
        return make_pipeline(columns, LogisticRegression(max_iter=1000))
    columns = ColumnTransformer([
        ("numeric", "passthrough", numeric),
        ("text", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=250),
         categorical),
    ])
    is_text = [False] * len(numeric) + [True] * len(categorical)
    return make_pipeline(columns, HistGradientBoostingClassifier(categorical_features=is_text, random_state=0))
