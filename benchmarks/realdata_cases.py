"""Real data sets, model families and planted-problem scenarios for ``realdata.py``.

Every data set ships inside an installed package (scikit-learn's bundled files,
``statsmodels.datasets``, ``vega_datasets``' local files); nothing is downloaded. A
data set whose package is missing raises :class:`Missing` and its scenarios are
skipped.

A scenario is a function ``(data, family, seed) -> Case``: the predictions table
``erranalysis.analyze`` reads, the goal, the first next step the planted mechanism
calls for (``None``: not scored), the finding kinds that must be raised and those that
would be wrong for the mechanism. Everything is seeded.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread per model: 2 cores, and no spin-waiting under load

import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

SPLITS = ("train", "train_val", "val", "test")
HELD_OUT = ("train_val", "val", "test")


class Missing(Exception):
    """The package that ships a data set is not installed."""


# --------------------------------------------------------------------------- data sets


@dataclass(frozen=True)
class Data:
    name: str
    X: np.ndarray  # float features
    y: np.ndarray  # labels (int 0/1 when binary)
    features: tuple[str, ...]
    binary: bool
    source: str  # where it ships
    date: np.ndarray | None = None  # for a time split
    groups: np.ndarray | None = None  # rows that must share a split (one person, ...)

    @property
    def classes(self) -> np.ndarray:
        return np.unique(self.y)


def _sklearn(name: str) -> Data:
    from sklearn import datasets as skd

    if name == "digits":
        b = skd.load_digits()
        return Data("digits", b.data / 16.0, b.target, tuple(b.feature_names), False, "sklearn")
    if name == "breast_cancer":  # label 1 = malignant (sklearn codes malignant as 0)
        b = skd.load_breast_cancer()
        return Data("breast_cancer", b.data, 1 - b.target, tuple(b.feature_names), True, "sklearn")
    if name == "wine":
        b = skd.load_wine()
        return Data("wine", b.data, b.target, tuple(b.feature_names), False, "sklearn")
    if name == "iris":  # text labels
        b = skd.load_iris()
        return Data("iris", b.data, np.asarray(b.target_names)[b.target], tuple(b.feature_names), False, "sklearn")
    if name == "diabetes":  # disease progression above the median
        b = skd.load_diabetes()
        return Data("diabetes", b.data, (b.target > np.median(b.target)).astype(int), tuple(b.feature_names),
                    True, "sklearn")
    raise KeyError(name)


def _statsmodels(name: str) -> Data:
    try:
        import statsmodels.datasets as smd
    except ImportError as e:
        raise Missing("statsmodels is not installed (pip install statsmodels)") from e
    if name == "fair":  # 6,366 women surveyed in 1974; label: any extramarital affair
        d = smd.fair.load_pandas().data
        X = d.drop(columns="affairs")
        return Data("fair", X.to_numpy(float), (d.affairs > 0).astype(int).to_numpy(), tuple(X.columns), True,
                    "statsmodels")
    if name == "randhie":  # RAND health insurance experiment, 20,190 person-years; label: any outpatient visit
        d = smd.randhie.load_pandas().data
        X = d.drop(columns="mdvis")
        # One person's years repeat the same covariates (2,760 distinct rows): a group per person.
        groups = X.groupby(list(X.columns), sort=False).ngroup().to_numpy()
        return Data("randhie", X.to_numpy(float), (d.mdvis > 0).astype(int).to_numpy(), tuple(X.columns), True,
                    "statsmodels", groups=groups)
    if name == "anes96":  # 1996 US election survey, 944 voters; label: voted Dole
        d = smd.anes96.load_pandas().data
        X = d.drop(columns="vote")
        return Data("anes96", X.to_numpy(float), d.vote.astype(int).to_numpy(), tuple(X.columns), True,
                    "statsmodels")
    raise KeyError(name)


def _vega(name: str) -> Data:
    try:
        from vega_datasets import local_data
    except ImportError as e:
        raise Missing("vega_datasets is not installed (pip install vega_datasets)") from e
    if name == "seattle_weather":  # 1,461 days of 2012-2015; label: the day's weather (5 classes)
        d = local_data.seattle_weather()
        day = d.date.dt.dayofyear.to_numpy()
        years = (d.date - pd.Timestamp("2012-01-01")).dt.days.to_numpy() / 365.25
        X = np.c_[d.precipitation, d.temp_max, d.temp_min, d.wind, np.sin(2 * np.pi * day / 365.25),
                  np.cos(2 * np.pi * day / 365.25), years]
        return Data("seattle_weather", X.astype(float), d.weather.to_numpy().astype(str),
                    ("precipitation", "temp_max", "temp_min", "wind", "season_sin", "season_cos", "years"),
                    False, "vega_datasets", date=d.date.to_numpy())
    raise KeyError(name)


LOADERS: dict[str, Callable[[str], Data]] = {
    **{n: _sklearn for n in ("digits", "breast_cancer", "wine", "iris", "diabetes")},
    **{n: _statsmodels for n in ("fair", "randhie", "anes96")},
    "seattle_weather": _vega,
}


@functools.cache
def load(name: str) -> Data:
    return LOADERS[name](name)


# ------------------------------------------------------------------------------ splits


def random_splits(data: Data, seed: int, p=(0.4, 0.2, 0.2, 0.2)) -> np.ndarray:
    """Each row drawn into train (40 %), train_val, val or test (20 % each).

    Rows, not groups: randhie's person-years then spread over the splits alike, so every
    split comes from one distribution (a split per person would leave clusters of
    correlated rows that make same-distribution splits differ beyond row-level intervals).
    """
    rng = np.random.default_rng([seed, 1])
    return rng.choice(np.array(SPLITS), size=len(data.y), p=list(p))


# ------------------------------------------------------------------------------ models

FAMILIES = ("logreg", "rf", "hgb", "nb", "knn", "mlp", "tree")


def _scaled(model):
    return make_pipeline(StandardScaler(), model)


def good_model(family: str, seed: int):
    """The family's ordinary, reasonably tuned model."""
    return {
        "logreg": lambda: _scaled(LogisticRegression(max_iter=3000)),
        "rf": lambda: RandomForestClassifier(100, min_samples_leaf=5, n_jobs=1, random_state=seed),
        "hgb": lambda: HistGradientBoostingClassifier(max_iter=100, max_depth=3, random_state=seed),
        "nb": lambda: GaussianNB(),
        "knn": lambda: _scaled(KNeighborsClassifier(15)),
        "mlp": lambda: _scaled(MLPClassifier((64,), alpha=1e-3, max_iter=400, random_state=seed)),
        "tree": lambda: DecisionTreeClassifier(min_samples_leaf=20, random_state=seed),
    }[family]()


def memorising_model(family: str, seed: int):
    """A model that fits its training rows (nearly) exactly."""
    return {
        "knn": lambda: _scaled(KNeighborsClassifier(1)),
        "tree": lambda: DecisionTreeClassifier(random_state=seed),
        "rf": lambda: RandomForestClassifier(50, bootstrap=False, max_features=0.5, n_jobs=1, random_state=seed),
        "hgb": lambda: HistGradientBoostingClassifier(max_iter=300, learning_rate=0.3, max_leaf_nodes=None,
                                                      min_samples_leaf=1, l2_regularization=0.0,
                                                      early_stopping=False, random_state=seed),
    }[family]()


#: Goal reference: the strongest of the good models per data set (fitted on train, its
#: train_val error is what the data allow).
STRONG = {"digits": "mlp", "breast_cancer": "logreg", "wine": "rf", "iris": "logreg", "diabetes": "logreg",
          "fair": "logreg", "randhie": "hgb", "anes96": "logreg", "seattle_weather": "rf"}


def fit(model, X, y, mask, sample_weight=None):
    return model.fit(X[mask], y[mask]) if sample_weight is None else model.fit(X[mask], y[mask], sample_weight)


def error(model, X, y) -> float:
    return float(np.mean(model.predict(X) != y)) if len(y) else float("nan")


@functools.cache
def strong_error(name: str, seed: int, family: str | None = None) -> float:
    """The held-out error (train_val, val and test pooled) of the data set's strong model
    (or of ``family``'s good model) on the seed's random split of the clean data: what
    the data allow."""
    data = load(name)
    split = random_splits(data, seed)
    model = fit(good_model(family or STRONG[name], seed), data.X, data.y, split == "train")
    held = split != "train"
    return error(model, data.X[held], data.y[held])


# ---------------------------------------------------------------------- the tables


def predictions(model, data: Data, X: np.ndarray, y: np.ndarray, split: np.ndarray,
                offset: float = 0.0) -> pd.DataFrame:
    """label + score (binary, positive class 1) or pred + proba_<class>, and split.

    ``offset`` is added to the binary score's log-odds (a shifted intercept).
    """
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    if data.binary:
        p = proba[:, classes.index(1)] if 1 in classes else np.zeros(len(y))
        if offset:
            p = expit(logit(np.clip(p, 1e-12, 1 - 1e-12)) + offset)
        return pd.DataFrame({"label": y, "score": p, "split": split})
    full = np.zeros((len(y), len(data.classes)))
    for j, c in enumerate(data.classes):
        if c in classes:
            full[:, j] = proba[:, classes.index(c)]
    frame = pd.DataFrame({"label": y, "pred": data.classes[full.argmax(1)], "split": split})
    for j, c in enumerate(data.classes):
        frame[f"proba_{c}"] = full[:, j]
    return frame


DEVICES = np.array([f"device_{i:02d}" for i in range(25)])


def noise_metadata(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Metadata with no effect, drawn independently of everything else: a region (5
    values), a device (25 values, skewed frequencies), an integer age, a skewed number,
    a timestamp within 2023, and unique ids."""
    rng = np.random.default_rng([seed, 7])
    n = len(frame)
    frame = frame.copy()
    frame["region"] = rng.choice(["north", "south", "east", "west", "centre"], n)
    weights = 1.0 / np.arange(1, len(DEVICES) + 1)
    frame["device"] = rng.choice(DEVICES, n, p=weights / weights.sum())
    frame["age"] = rng.integers(18, 91, n)
    frame["session_length"] = rng.gamma(2.0, 30.0, n).round(1)
    frame["logged_at"] = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
    frame["id"] = np.arange(n)
    return frame


def split_errors(frame: pd.DataFrame) -> dict:
    """Error per split from the table itself (pred, else score >= 0.5)."""
    pred = frame["pred"] if "pred" in frame else (frame["score"] >= 0.5).astype(int)
    wrong = pred.to_numpy() != frame["label"].to_numpy()
    return {s: float(wrong[frame.split.to_numpy() == s].mean()) for s in SPLITS if (frame.split == s).any()}


# ------------------------------------------------------------------------------ cases


@dataclass
class Case:
    frame: pd.DataFrame
    goal: float
    expected_first: str | None
    must_find: tuple[str, ...] = ()
    must_not_find: tuple[str, ...] = ()
    planted_slice: tuple[str, str] | None = None  # (column, value) of a planted weak slice
    effect: str = ""  # the planted effect as measured on the table


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # planted kind, or "null"
    dataset: str
    family: str
    build: Callable[[Data, str, int], Case]
    model: str = ""  # the model's description

    def __call__(self, seed: int) -> Case:
        return self.build(load(self.dataset), self.family, seed)


#: Never right for a model that learned, with no ids shared and no slice planted.
CLEAN = ("below_baseline", "leakage", "weak_slice", "data_quality")
#: Wrong on a random split (every split from one distribution, no val used in training).
RANDOM_SPLIT = ("distribution_shift", "val_overfitting")


def _not(*kinds: str, keep: tuple[str, ...] = ()) -> tuple[str, ...]:
    out = []
    for k in kinds:
        if k not in keep and k not in out:
            out.append(k)
    return tuple(out)


def _fmt(errors: dict) -> str:
    return " ".join(f"{s} {e:.1%}" for s, e in errors.items())


# ------------------------------------------------------------------- planted problems


class Columns:
    """Keep only some feature columns (a model starved of features)."""

    def __init__(self, cols):
        self.cols = list(cols)

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X[:, self.cols]


#: The few features a starved model sees (weak ones).
FEW_FEATURES = {"iris": [1], "breast_cancer": [1, 4]}  # sepal width; mean texture, mean smoothness


def crippled_model(family: str, data: Data, seed: int):
    """A model that cannot fit what the data allow."""
    few = FEW_FEATURES.get(data.name, [0])
    return {
        "logreg": lambda: _scaled(LogisticRegression(C=1e-4, max_iter=3000)),  # regularised to near-constant
        "rf": lambda: RandomForestClassifier(20, max_depth=1, n_jobs=1, random_state=seed),  # stumps
        "mlp": lambda: _scaled(MLPClassifier((2,), max_iter=400, random_state=seed)),  # two hidden units
        "nb": lambda: make_pipeline(Columns(few), GaussianNB()),
        "hgb": lambda: make_pipeline(Columns(few), HistGradientBoostingClassifier(max_depth=2, max_iter=20,
                                                                                   random_state=seed)),
        "tree": lambda: DecisionTreeClassifier(max_depth=1, random_state=seed),
    }[family]()


def underfitting(data: Data, family: str, seed: int) -> Case:
    """A crippled model (near-constant logistic regression, stumps, two hidden units, one or
    two weak features) on a random split; the goal is what a strong model reaches on the
    same held-out rows. Planted: train error 10-40 points above the goal."""
    split = random_splits(data, seed)
    model = fit(crippled_model(family, data, seed), data.X, data.y, split == "train")
    frame = noise_metadata(predictions(model, data, data.X, data.y, split), seed)
    goal = strong_error(data.name, seed)
    return Case(frame, goal, "underfitting", ("underfitting",), _not(*CLEAN, *RANDOM_SPLIT),
                effect=f"{_fmt(split_errors(frame))}; goal = strong model {goal:.1%}")


def overfitting(data: Data, family: str, seed: int) -> Case:
    """A memorising model (1-NN, unpruned tree, unbootstrapped forest, unregularised
    boosting) on noisy data; the goal is the strong model's held-out error, at or above
    the memoriser's train error. Planted: train error near 0, held-out 10-35 points higher."""
    split = random_splits(data, seed)
    model = fit(memorising_model(family, seed), data.X, data.y, split == "train")
    frame = noise_metadata(predictions(model, data, data.X, data.y, split), seed)
    errs = split_errors(frame)
    goal = max(strong_error(data.name, seed), errs["train"])
    return Case(frame, goal, "overfitting", ("overfitting",), _not(*CLEAN, *RANDOM_SPLIT, "underfitting"),
                effect=f"{_fmt(errs)}; goal {goal:.1%}")


def _size_in_other_units(data: Data, X: np.ndarray, rng) -> np.ndarray:
    """Lengths (radius, perimeter) in tenths and areas in hundredths of their unit."""
    X = X.copy()
    for i, f in enumerate(data.features):
        if "radius" in f or "perimeter" in f:
            X[:, i] /= 10.0
        elif "area" in f:
            X[:, i] /= 100.0
    return X


def _reversed(data: Data, X: np.ndarray, feature: str, top: float) -> np.ndarray:
    """A rating scale coded the other way round (x -> top - x)."""
    X = X.copy()
    i = data.features.index(feature)
    X[:, i] = top - X[:, i]
    return X


#: Corruptions of the val/test inputs, per data set.
CORRUPT = {
    # pixel noise: a noisier scanner (sd 0.35 on pixels in [0, 1])
    "digits": lambda data, X, rng: np.clip(X + rng.normal(0, 0.35, X.shape), 0, 1),
    # a coding change: the 1-5 marriage rating reversed (5 = very poor instead of very good)
    "fair": lambda data, X, rng: _reversed(data, X, "rate_marriage", 6),
    "breast_cancer": _size_in_other_units,
    # a coding change: party identification 0-6 reversed (6 = strong Democrat instead of strong Republican)
    "anes96": lambda data, X, rng: _reversed(data, X, "PID", 6),
}


def shift_corrupt(data: Data, family: str, seed: int) -> Case:
    """train/train_val clean, val/test inputs corrupted (see CORRUPT); the model is fitted
    on clean train rows. Planted: val/test error well above train_val."""
    split = random_splits(data, seed)
    model = fit(good_model(family, seed), data.X, data.y, split == "train")
    X = data.X.copy()
    moved = np.isin(split, ["val", "test"])
    X[moved] = CORRUPT[data.name](data, data.X[moved], np.random.default_rng([seed, 11]))
    frame = noise_metadata(predictions(model, data, X, data.y, split), seed)
    goal = strong_error(data.name, seed)
    return Case(frame, goal, "distribution_shift", ("distribution_shift",),
                _not(*CLEAN, "val_overfitting"), effect=f"{_fmt(split_errors(frame))}; goal {goal:.1%}")


def shift_time(data: Data, family: str, seed: int) -> Case:
    """A real time split: train and train_val drawn at random from 2012-2013 (2:1), val
    and test at random from 2014-2015 (1:1). Seattle's weather labels drift over the
    years (mostly rain in 2012, fog and sun from 2014 on, rain almost never). The model
    sees the weather and the season, not the year (a date index cannot extrapolate)."""
    rng = np.random.default_rng([seed, 12])
    late = pd.DatetimeIndex(data.date).year >= 2014
    split = np.where(late, rng.choice(["val", "test"], len(late)),
                     rng.choice(["train", "train", "train_val"], len(late)))
    X = data.X[:, [i for i, f in enumerate(data.features) if f != "years"]]
    model = fit(good_model(family, seed), X, data.y, split == "train")
    frame = noise_metadata(predictions(model, data, X, data.y, split), seed)
    goal = strong_error(data.name, seed)
    return Case(frame, goal, "distribution_shift", ("distribution_shift",), _not(*CLEAN, "val_overfitting"),
                effect=f"{_fmt(split_errors(frame))}; goal (random split) {goal:.1%}")


def shift_region(data: Data, family: str, seed: int) -> Case:
    """Another population: train/train_val from the people with at most the median
    chronic-disease count, val/test from the rest (each person's years kept in one
    split). In distribution the model beats the majority class; on the sicker people,
    who mostly do see a doctor, it loses to it (a shift, not a pipeline bug)."""
    rng = np.random.default_rng([seed, 13])
    disea = data.X[:, data.features.index("disea")]
    sick = disea > np.median(disea)
    per_group = rng.random(data.groups.max() + 1)
    u = per_group[data.groups]
    split = np.where(sick, np.where(u < 0.5, "val", "test"), np.where(u < 2 / 3, "train", "train_val"))
    model = fit(good_model(family, seed), data.X, data.y, split == "train")
    frame = noise_metadata(predictions(model, data, data.X, data.y, split), seed)
    goal = strong_error(data.name, seed)
    return Case(frame, goal, "distribution_shift", ("distribution_shift",), _not(*CLEAN, "val_overfitting"),
                effect=f"{_fmt(split_errors(frame))}; goal (random split) {goal:.1%}")


def val_model(family: str, k: int, seed: int):
    """Leaves of at least ``k`` rows: smooth on train rows, while ``k`` copies of one row
    can fill a leaf of their own."""
    return {
        "rf": lambda: RandomForestClassifier(100, min_samples_leaf=k, bootstrap=False, n_jobs=1, random_state=seed),
        "hgb": lambda: HistGradientBoostingClassifier(max_iter=200, min_samples_leaf=k, max_leaf_nodes=None,
                                                      max_depth=8, early_stopping=False, random_state=seed),
    }[family]()


def val_overfitting(data: Data, family: str, seed: int, k: int = 25) -> Case:
    """Val leaked into training: the model is fitted on train plus every val row repeated
    ``k`` times (as when a model is fine-tuned on its validation set). Its leaves of at
    least ``k`` rows keep train close to train_val, while each val row can be fitted by
    its own copies. Planted: val error near 0, test error 10-35 points higher."""
    split = random_splits(data, seed)
    model = val_model(family, k, seed)
    fit_rows = np.r_[np.flatnonzero(split == "train"), np.repeat(np.flatnonzero(split == "val"), k)]
    model.fit(data.X[fit_rows], data.y[fit_rows])
    frame = noise_metadata(predictions(model, data, data.X, data.y, split), seed)
    # The goal the team reads off train and val (which agree); never above what the data allow.
    goal = min(strong_error(data.name, seed), split_errors(frame)["train"])
    return Case(frame, goal, "val_overfitting", ("val_overfitting",), _not(*CLEAN, "distribution_shift"),
                effect=f"{_fmt(split_errors(frame))}; goal {goal:.1%}")


#: Binary threshold scenarios: (positive class, share of positives kept).
RARE = {"digits": (0, 0.04), "anes96": (1, 0.08), "breast_cancer": (1, 0.10)}
RARE_DIGIT = {"mlp": 3}


def threshold(data: Data, family: str, seed: int) -> Case:
    """Rare positives (4-10 %: positives subsampled) and a model whose log-odds are shifted
    down (its intercept is off) so that only about 5 % of train positives pass 0.5: recall
    near 0 while the ranking (ROC AUC) stays that of a good model."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng([seed, 14])
    positive, share = RARE[data.name]
    if data.name == "digits":
        positive = RARE_DIGIT.get(family, positive)
    y = (data.y == positive).astype(int)
    pos = np.flatnonzero(y == 1)
    n_pos = int(round(share / (1 - share) * (y == 0).sum()))
    keep = np.sort(np.r_[np.flatnonzero(y == 0), rng.choice(pos, min(n_pos, len(pos)), replace=False)])
    binary = Data(data.name, data.X[keep], y[keep], data.features, True, data.source)
    split = random_splits(binary, seed)
    model = fit(good_model(family, seed), binary.X, binary.y, split == "train")
    clean = predictions(model, binary, binary.X, binary.y, split)
    train_pos = clean.score[(clean.split == "train") & (clean.label == 1)].clip(1e-12, 1 - 1e-12)
    offset = -float(np.quantile(logit(train_pos), 0.95))
    frame = noise_metadata(predictions(model, binary, binary.X, binary.y, split, offset=offset), seed)
    held = frame.split != "train"
    recall = float((frame.score[held & (frame.label == 1)] >= 0.5).mean())
    auc = roc_auc_score(frame.label[held], frame.score[held])
    goal = split_errors(clean)["train_val"]
    return Case(frame, goal, "threshold", ("threshold",), _not(*CLEAN, *RANDOM_SPLIT),
                effect=(f"{int(binary.y.sum())} positives of {len(binary.y)}; log-odds {offset:+.1f}; held-out "
                        f"recall {recall:.0%}, ROC AUC {auc:.3f}; {_fmt(split_errors(frame))}; "
                        f"goal = same model at 0.5 without the offset {goal:.1%}"))


def shuffled_labels(data: Data, family: str, seed: int) -> Case:
    """Features and labels out of order (labels permuted over all rows, as after joining
    two unsorted listings); the model is trained and evaluated on the misaligned pairs."""
    y = np.random.default_rng([seed, 15]).permutation(data.y)
    split = random_splits(data, seed)
    model = fit(good_model(family, seed), data.X, y, split == "train")
    frame = noise_metadata(predictions(model, data, data.X, y, split), seed)
    goal = strong_error(data.name, seed)
    return Case(frame, goal, "below_baseline", ("below_baseline",),
                _not("leakage", "weak_slice", "data_quality", *RANDOM_SPLIT),
                effect=f"{_fmt(split_errors(frame))}; goal {goal:.1%}")


def leakage(data: Data, family: str, seed: int, share: float = 0.5) -> Case:
    """A memorising model; half of the test rows replaced by copies of train rows (same
    id, features, label and metadata), as when a test file is rebuilt from a listing
    that overlaps train. Planted: test error far below val."""
    split = random_splits(data, seed)
    model = fit(memorising_model(family, seed), data.X, data.y, split == "train")
    frame = noise_metadata(predictions(model, data, data.X, data.y, split), seed)
    rng = np.random.default_rng([seed, 16])
    test = np.flatnonzero(split == "test")
    n = int(round(share * len(test)))
    dropped = rng.choice(test, n, replace=False)
    copies = frame.iloc[rng.choice(np.flatnonzero(split == "train"), n, replace=False)].assign(split="test")
    honest = frame.drop(index=frame.index[dropped])
    before = split_errors(frame)["test"]
    frame = pd.concat([honest, copies], ignore_index=True)
    goal = strong_error(data.name, seed)
    return Case(frame, goal, "leakage", ("leakage",), _not("below_baseline", "weak_slice", "data_quality",
                                                           "distribution_shift"),
                effect=f"{n} train rows copied into test; test {before:.1%} -> {split_errors(frame)['test']:.1%}; "
                       f"{_fmt(split_errors(frame))}; goal {goal:.1%}")


#: The pair whose labels are swapped, per data set (and family for digits).
PAIRS = {"digits": (3, 8), "iris": ("versicolor", "virginica"), "wine": (0, 1)}
PAIR_DIGITS = {"mlp": (1, 7)}


def confused_pair(data: Data, family: str, seed: int, rate: float = 0.35) -> Case:
    """Label ambiguity: in every split, ``rate`` of class a is labelled b and ``rate`` of
    b is labelled a; the model is trained on these labels. Planted: most errors in the pair."""
    a, b = PAIR_DIGITS.get(family, PAIRS["digits"]) if data.name == "digits" else PAIRS[data.name]
    rng = np.random.default_rng([seed, 17])
    draw = rng.random(len(data.y))
    y = data.y.copy()
    y[(data.y == a) & (draw < rate)] = b
    y[(data.y == b) & (draw < rate)] = a
    split = random_splits(data, seed)
    model = fit(good_model(family, seed), data.X, y, split == "train")
    frame = noise_metadata(predictions(model, data, data.X, y, split), seed)
    wrong = frame.pred != frame.label
    in_pair = wrong & frame.label.isin([a, b]) & frame.pred.isin([a, b])
    goal = strong_error(data.name, seed)
    return Case(frame, goal, "confused_pair", ("confused_pair",), _not(*CLEAN, *RANDOM_SPLIT),
                effect=f"{a}<->{b} swapped at {rate:.0%}; {in_pair.sum() / max(wrong.sum(), 1):.0%} of errors in "
                       f"the pair; {_fmt(split_errors(frame))}; goal (clean labels) {goal:.1%}")


SOURCES = ("site_a", "site_b", "site_c", "site_d", "site_e")


def _rows_shuffled(data: Data, X: np.ndarray, rng) -> np.ndarray:
    """The site's feature rows joined to the wrong labels (permuted among its rows)."""
    return X[rng.permutation(len(X))]


#: What goes wrong at the bad site, per data set.
SITE_CORRUPT = {
    "digits": lambda data, X, rng: np.clip(X + rng.normal(0, 0.5, X.shape), 0, 1),  # a noisy scanner
    "anes96": _rows_shuffled,
    "breast_cancer": _rows_shuffled,
}


def weak_slice(data: Data, family: str, seed: int) -> Case:
    """A ``source`` metadata column with five values (about 20 % of rows each); at one
    source the inputs are broken (see SITE_CORRUPT: pixel noise, or feature rows joined
    to the wrong labels) in every split, train included, and the model is fitted on all
    train rows. Planted: that source's error far above the others', which stay near the
    goal. (Data sets whose best model barely beats the majority class, such as fair or
    randhie, cannot make a slice much worse than the rest, and seattle_weather has a
    real ambiguous pair (fog/sun) larger than any slice, so they are not used here.)"""
    rng = np.random.default_rng([seed, 18])
    source = rng.choice(np.array(SOURCES), len(data.y))
    bad = SOURCES[seed % len(SOURCES)]
    X = data.X.copy()
    rows = source == bad
    X[rows] = SITE_CORRUPT[data.name](data, X[rows], rng)
    split = random_splits(data, seed)
    model = fit(good_model(family, seed), X, data.y, split == "train")
    frame = noise_metadata(predictions(model, data, X, data.y, split), seed)
    frame["source"] = source
    pred = frame["pred"] if "pred" in frame else (frame.score >= 0.5).astype(int)
    wrong = (pred != frame.label).to_numpy()
    held = split != "train"
    goal = strong_error(data.name, seed, family)  # the same model on clean inputs
    return Case(frame, goal, "weak_slice", ("weak_slice",), _not("below_baseline", "leakage", "data_quality",
                                                                 *RANDOM_SPLIT),
                planted_slice=("source", bad),
                effect=f"source={bad}: held-out error {wrong[held & rows].mean():.1%} vs "
                       f"{wrong[held & ~rows].mean():.1%} at the other sources; {_fmt(split_errors(frame))}; "
                       f"goal = same model on clean inputs {goal:.1%}")


#: Label shift: the classes kept at ``share`` in val and test.
SHIFTED_CLASSES = {"digits": ([5, 6, 7, 8, 9], 0.25), "breast_cancer": ([1], 0.3), "anes96": ([1], 0.3)}


def label_shift(data: Data, family: str, seed: int) -> Case:
    """val/test class frequencies changed by subsampling some classes (see
    SHIFTED_CLASSES); the model is good and the inputs of each class unchanged. The goal is
    the model's own train/train_val error, so nothing else is material."""
    rng = np.random.default_rng([seed, 19])
    split = random_splits(data, seed)
    model = fit(good_model(family, seed), data.X, data.y, split == "train")
    classes, share = SHIFTED_CLASSES[data.name]
    drop = np.isin(split, ["val", "test"]) & np.isin(data.y, classes) & (rng.random(len(split)) > share)
    frame = noise_metadata(predictions(model, data, data.X, data.y, split), seed)[~drop].reset_index(drop=True)
    errs = split_errors(frame)
    goal = max(errs["train"], errs["train_val"])

    def tv(s):
        a = frame.label[frame.split == "train"].value_counts(normalize=True)
        b = frame.label[frame.split == s].value_counts(normalize=True)
        return 0.5 * a.sub(b, fill_value=0).abs().sum()

    return Case(frame, goal, "label_shift", ("label_shift",), _not(*CLEAN, "val_overfitting"),
                effect=f"total variation from train: val {tv('val'):.0%}, test {tv('test'):.0%}; {_fmt(errs)}; "
                       f"goal {goal:.1%}")


def label_errors(data: Data, family: str, seed: int, rate: float = 0.09) -> Case:
    """A good model trained on clean labels; ``rate`` of the held-out labels (train_val,
    val, test) flipped to another class at random. The goal is the model's clean
    held-out error."""
    rng = np.random.default_rng([seed, 20])
    split = random_splits(data, seed)
    model = fit(good_model(family, seed), data.X, data.y, split == "train")
    clean = predictions(model, data, data.X, data.y, split)
    goal = max(split_errors(clean)["train"], split_errors(clean)["train_val"])
    flip = (split != "train") & (rng.random(len(split)) < rate)
    y = data.y.copy()
    classes = data.classes
    for i in np.flatnonzero(flip):
        y[i] = rng.choice(classes[classes != y[i]])
    frame = noise_metadata(clean.assign(label=y), seed)
    return Case(frame, goal, "label_errors", ("label_errors",), _not(*CLEAN, *RANDOM_SPLIT),
                effect=f"{flip.sum()} held-out labels flipped ({flip.sum() / (split != 'train').sum():.1%}); "
                       f"{_fmt(split_errors(frame))}; goal = clean {goal:.1%}")


def poor_calibration(data: Data, family: str, seed: int) -> Case:
    """A model known to be badly calibrated on this data: naive Bayes on correlated
    features (over-confident), a forest averaging votes over 10 classes (under-confident),
    an unpruned tree's 0/1 probabilities. Expected calibration error on test 10-33 %.
    First step not scored."""
    split = random_splits(data, seed)
    model = fit(good_model(family, seed) if family != "tree" else memorising_model("tree", seed),
                data.X, data.y, split == "train")
    frame = noise_metadata(predictions(model, data, data.X, data.y, split), seed)
    goal = strong_error(data.name, seed)
    return Case(frame, goal, None, ("poor_calibration",), _not(*CLEAN, *RANDOM_SPLIT),
                effect=f"{_fmt(split_errors(frame))}; goal {goal:.1%}")


# ---------------------------------------------------------------------------- null runs


def null(data: Data, family: str, seed: int) -> Case:
    """A good, low-variance model on a random split, its own train/train_val error as the
    goal, metadata without effect (a random region, a random number, unique ids)."""
    split = random_splits(data, seed)
    model = fit(good_model(family, seed), data.X, data.y, split == "train")
    frame = noise_metadata(predictions(model, data, data.X, data.y, split), seed)
    errs = split_errors(frame)
    goal = max(errs["train"], errs["train_val"])
    return Case(frame, goal, None, (), (), effect=f"{_fmt(errs)}; goal {goal:.1%}")


# --------------------------------------------------------------------------- registry


def _s(kind, build, dataset, family, model=""):
    return Scenario(f"{kind}/{dataset}/{family}", kind, dataset, family, build, model)


SCENARIOS: list[Scenario] = [
    _s("underfitting", underfitting, "digits", "logreg", "logistic regression, C=1e-4"),
    _s("underfitting", underfitting, "digits", "rf", "20 depth-1 trees"),
    _s("underfitting", underfitting, "digits", "mlp", "MLP with 2 hidden units"),
    _s("underfitting", underfitting, "iris", "nb", "naive Bayes on sepal width alone"),
    _s("underfitting", underfitting, "breast_cancer", "hgb", "boosting on 2 weak features"),
    _s("underfitting", underfitting, "seattle_weather", "tree", "depth-1 tree"),
    _s("overfitting", overfitting, "digits", "tree", "unpruned tree"),
    _s("overfitting", overfitting, "breast_cancer", "tree", "unpruned tree"),
    _s("overfitting", overfitting, "diabetes", "knn", "1-NN"),
    _s("overfitting", overfitting, "anes96", "knn", "1-NN"),
    _s("overfitting", overfitting, "seattle_weather", "tree", "unpruned tree"),
    _s("distribution_shift", shift_corrupt, "digits", "rf", "pixel noise on val/test"),
    _s("distribution_shift", shift_corrupt, "fair", "logreg", "marriage rating coded backwards in val/test"),
    _s("distribution_shift", shift_corrupt, "breast_cancer", "knn", "size features in other units in val/test"),
    _s("distribution_shift", shift_corrupt, "anes96", "mlp", "party id coded backwards in val/test"),
    _s("distribution_shift", shift_time, "seattle_weather", "logreg", "trained on 2012-13, val/test 2014-15"),
    _s("distribution_shift", shift_region, "randhie", "hgb", "healthier people -> sicker people"),
    _s("val_overfitting", val_overfitting, "fair", "rf", "val rows x25 in training"),
    _s("val_overfitting", val_overfitting, "randhie", "hgb", "val rows x25 in training"),
    _s("val_overfitting", val_overfitting, "seattle_weather", "rf", "val rows x25 in training"),
    _s("val_overfitting", val_overfitting, "diabetes", "rf", "val rows x25 in training"),
    _s("val_overfitting", val_overfitting, "anes96", "rf", "val rows x25 in training"),
    _s("threshold", threshold, "digits", "logreg", "0 vs rest, 4% positives"),
    _s("threshold", threshold, "digits", "mlp", "3 vs rest, 4% positives"),
    _s("threshold", threshold, "anes96", "nb", "Dole voters, 8% positives"),
    _s("threshold", threshold, "breast_cancer", "rf", "malignant, 10% positives"),
    _s("below_baseline", shuffled_labels, "fair", "logreg"),
    _s("below_baseline", shuffled_labels, "digits", "rf"),
    _s("below_baseline", shuffled_labels, "randhie", "nb"),
    _s("below_baseline", shuffled_labels, "seattle_weather", "hgb"),
    _s("leakage", leakage, "fair", "tree", "unpruned tree"),
    _s("leakage", leakage, "seattle_weather", "rf", "forest of unpruned trees"),
    _s("leakage", leakage, "diabetes", "knn", "1-NN"),
    _s("leakage", leakage, "anes96", "hgb", "boosting without limits"),
    _s("confused_pair", confused_pair, "digits", "knn", "3<->8"),
    _s("confused_pair", confused_pair, "digits", "mlp", "1<->7"),
    _s("confused_pair", confused_pair, "iris", "logreg", "versicolor<->virginica"),
    _s("confused_pair", confused_pair, "wine", "rf", "class 0<->1"),
    _s("weak_slice", weak_slice, "digits", "knn", "one site's scanner adds pixel noise"),
    _s("weak_slice", weak_slice, "anes96", "logreg", "one site's answers joined to the wrong voters"),
    _s("weak_slice", weak_slice, "anes96", "knn", "one site's answers joined to the wrong voters"),
    _s("weak_slice", weak_slice, "breast_cancer", "nb", "one lab's measurements joined to the wrong patients"),
    _s("label_shift", label_shift, "digits", "logreg", "digits 5-9 kept at 25% in val/test"),
    _s("label_shift", label_shift, "digits", "knn", "digits 5-9 kept at 25% in val/test"),
    _s("label_shift", label_shift, "breast_cancer", "rf", "malignant kept at 30% in val/test"),
    _s("label_shift", label_shift, "anes96", "logreg", "Dole voters kept at 30% in val/test"),
    _s("label_errors", label_errors, "digits", "logreg"),
    _s("label_errors", label_errors, "digits", "mlp"),
    _s("label_errors", label_errors, "breast_cancer", "logreg"),
    _s("label_errors", label_errors, "anes96", "rf"),
    _s("poor_calibration", poor_calibration, "digits", "nb", "naive Bayes (over-confident)"),
    _s("poor_calibration", poor_calibration, "digits", "rf", "forest over 10 classes (under-confident)"),
    _s("poor_calibration", poor_calibration, "diabetes", "nb", "naive Bayes (over-confident)"),
    _s("poor_calibration", poor_calibration, "anes96", "tree", "unpruned tree (0/1 probabilities)"),
]

NULLS: list[Scenario] = [
    _s("null", null, "fair", "logreg"),
    _s("null", null, "fair", "hgb"),
    _s("null", null, "randhie", "hgb"),
    _s("null", null, "anes96", "logreg"),
    _s("null", null, "anes96", "knn"),
    _s("null", null, "breast_cancer", "logreg"),
    _s("null", null, "diabetes", "logreg"),
    _s("null", null, "wine", "nb"),
    _s("null", null, "iris", "logreg"),
    _s("null", null, "digits", "knn"),
]
