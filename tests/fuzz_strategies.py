"""Hypothesis strategies for the fuzz suite: prediction tables that follow the input
contract (and ways to break it), plus writers for every input format."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import strategies as st

CONTRACT = {"label", "pred", "split", "score", "weight", "loss", "id"}

#: Names that have broken renderers before: terminal markup, HTML, Jinja, newlines,
#: quotes, emoji and non-Latin scripts.
NASTY_NAMES = [
    "[bold]x", "a[1]", "]", "[", "[/]", "[red]warn[/red]", "<script>alert(1)</script>", "&amp;", "<b>",
    "a\nb", "tab\there", "cr\rx", 'quo"te', "it's", "`tick`", "🙂", "🔥 fire", "Ελληνικά", "中文", "עברית",
    "{{ x }}", "{% if x %}", "%s", "%(x)s", "$1", "\\", "x" * 90, " padded ", "-", "—", "a,b", "a;b",
    "#hash", "NaN-ish", "é", "ß", "İ", "\u200b", "Ω",
]

#: The split names of the contract, with their aliases.
SPLIT_SPELLINGS = {
    "train": ["train", "training"],
    "train_val": ["train_val", "train-val", "trainval", "train_dev", "train-dev"],
    "val": ["val", "validation", "valid", "dev", "test_val", "test-val"],
    "test": ["test", "holdout"],
}

FLOAT_EXTREMES = [math.inf, -math.inf, math.nan, 1e308, -1e308, 3.5e38, -3.5e38, -0.0, 0.0,
                  float(2**63), -float(2**63), 5e-324, 1e-300]
INT_EXTREMES = [2**63 - 1, -(2**63), 0, -1, 2**31, 10**18]
#: Valid (finite, non-negative) weights and losses at the edges of float64.
NONNEG_EXTREMES = [0.0, -0.0, 1e-300, 5e-324, 1e308, 3.5e38, float(2**63), 1e-5]


def rich_text(min_size: int = 1, max_size: int = 12):
    """Text with markup, HTML, newlines, emoji and non-Latin scripts, never blank."""
    chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
    free = st.text(alphabet=chars | st.sampled_from(list("\n\t[]<>&\"'/\\{}%")), min_size=min_size, max_size=max_size)
    return (st.sampled_from(NASTY_NAMES) | free).filter(lambda s: s.strip() != "")


def safe_text(text: str) -> str:
    """A string that survives a CSV round trip as the same string: never null-like,
    never a number, bool or date (prefixed), and without line breaks (CSV readers
    disagree about quoted line breaks)."""
    return "s:" + text.replace("\r", " ").replace("\n", " ")


def column_name(draw, taken: set, roundtrip: bool) -> str:
    name = draw(rich_text(max_size=16).filter(
        lambda s: not s.startswith("proba_") and s not in CONTRACT and s.strip().lower() not in CONTRACT))
    if roundtrip:
        name = safe_text(name)
    if name in taken or name.startswith("proba_"):
        name = f"{name}_{len(taken)}"
    taken.add(name)
    return name


@dataclass
class Problem:
    """A generated table and what the strategy knows about it."""

    frame: pd.DataFrame
    kind: str  # binary_score, binary_pred, multi_proba, multi_pred
    label_kind: str
    classes: list
    notes: list = field(default_factory=list)

    def __repr__(self) -> str:  # hypothesis prints this on failure
        with pd.option_context("display.max_columns", 50, "display.width", 200, "display.max_rows", 20):
            return (f"Problem(kind={self.kind!r}, label_kind={self.label_kind!r}, classes={self.classes!r}, "
                    f"notes={self.notes!r},\nframe(dtypes)={dict(self.frame.dtypes.astype(str))!r},\n"
                    f"frame=\n{self.frame!r})")


def _classes(draw, label_kind: str, k: int, roundtrip: bool) -> list:
    if label_kind == "bool":
        return [False, True]
    if label_kind in ("int", "float_int"):
        pool = st.integers(-5, 20) | st.sampled_from([10**6, -(10**9), 2**53])
        vals = sorted(draw(st.lists(pool, min_size=k, max_size=k, unique=True)))
        return [float(v) for v in vals] if label_kind == "float_int" else vals
    text = rich_text(max_size=10)
    if roundtrip:
        text = text.map(safe_text)
    return sorted(draw(st.lists(text, min_size=k, max_size=k, unique=True)))


def _metadata_column(draw, rng, kind: str, n: int, roundtrip: bool):
    """One metadata column of ``kind`` with ``n`` rows (values may be extreme)."""
    if kind == "int":
        vals = rng.integers(-3, 4, n).astype(np.int64)
        if not roundtrip and draw(st.booleans()):
            hits = rng.integers(0, n, max(1, n // 10))
            vals[hits] = rng.choice(np.array(INT_EXTREMES, dtype=np.int64), hits.size)
        return pd.Series(vals)
    if kind == "uint":
        return pd.Series(rng.choice(np.array([0, 2**64 - 1, 2**63, 7], dtype=np.uint64), n))
    if kind == "float":
        vals = np.round(rng.normal(size=n), 3)
        if draw(st.booleans()):
            extremes = FLOAT_EXTREMES if not roundtrip else [v for v in FLOAT_EXTREMES]
            chosen = draw(st.lists(st.sampled_from(extremes), min_size=1, max_size=4))
            hits = rng.integers(0, n, max(1, n // 8))
            vals[hits] = rng.choice(np.array(chosen), hits.size)
        if roundtrip and np.isnan(vals).all():
            vals[0] = 0.5
        return pd.Series(vals)
    if kind == "bool":
        return pd.Series(rng.random(n) < 0.5)
    if kind in ("str", "category"):
        vocab = draw(st.lists(rich_text(max_size=8), min_size=1, max_size=5, unique=True))
        if roundtrip:
            vocab = sorted({safe_text(v) for v in vocab})
        values = pd.Series(np.array(vocab, dtype=object)[rng.integers(0, len(vocab), n)], dtype=object)
        return values.astype("category") if kind == "category" else values
    if kind == "datetime":
        base = np.datetime64("2024-01-01T00:00:00", "ns")
        secs = rng.integers(-10**9, 10**9, n)
        vals = pd.Series(base + secs.astype("timedelta64[s]"))
        if draw(st.booleans()):
            vals[rng.integers(0, n, max(1, n // 10))] = pd.NaT
            if roundtrip and vals.isna().all():
                vals[0] = pd.Timestamp("2024-01-01")
        return vals
    if kind == "datetime_tz":
        return pd.Series(pd.date_range("2024-03-30", periods=n, freq="37min", tz="Europe/Berlin"))
    if kind == "timedelta":
        return pd.Series(pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"))
    if kind == "mixed":
        pool = np.array([1, "a", 2.5, None, True, "[b]", math.nan, -7, "中文"], dtype=object)
        return pd.Series(pool[rng.integers(0, len(pool), n)], dtype=object)
    if kind == "all_nan":
        return pd.Series(np.full(n, np.nan))
    if kind == "constant":
        return pd.Series(np.full(n, 3))
    raise AssertionError(kind)


META_KINDS = ["int", "uint", "float", "bool", "str", "category", "datetime", "datetime_tz", "timedelta", "mixed",
              "all_nan", "constant"]
#: Kinds whose values come back from a CSV file with the same type and value.
ROUNDTRIP_META_KINDS = ["int", "float", "bool", "str", "category", "datetime"]


def _spell(draw, split: str) -> str:
    word = draw(st.sampled_from(SPLIT_SPELLINGS[split]))
    case = draw(st.sampled_from(["same", "upper", "title"]))
    word = {"same": word, "upper": word.upper(), "title": word.title()}[case]
    return draw(st.sampled_from(["", " "])) + word + draw(st.sampled_from(["", "  "]))


@st.composite
def problems(draw, roundtrip: bool = False, max_rows: int = 200):
    """A prediction table that follows the input contract, so analyze() must accept it.

    ``roundtrip``: only values that come back unchanged from a CSV file.
    """
    notes = []
    kind = draw(st.sampled_from(["binary_score", "binary_pred", "multi_proba", "multi_pred"]))
    binary = kind.startswith("binary")
    k = 2 if binary else draw(st.integers(3, 5))
    label_kinds = ["int", "str", "float_int", "category"] + (["bool"] if binary else [])
    label_kind = draw(st.sampled_from(label_kinds))
    classes = _classes(draw, label_kind, k, roundtrip)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(k, max_rows))

    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)  # every class is present
    error_rate = draw(st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.0]))
    wrong = rng.random(n) < error_rate

    # A planted slice: a group whose rows are all right or all wrong.
    planted = None
    if draw(st.booleans()):
        size = draw(st.integers(1, 200))
        all_wrong = draw(st.booleans())
        y = np.concatenate([y, rng.integers(0, k, size)])
        wrong = np.concatenate([wrong, np.full(size, all_wrong)])
        planted = (size, all_wrong)
        notes.append(f"planted slice of {size} rows, {'100%' if all_wrong else '0%'} error")
        n += size
    shift = rng.integers(1, k, n)
    p_idx = np.where(wrong, (y + shift) % k, y)

    frame = pd.DataFrame()
    cls = np.array(classes, dtype=object)
    label = pd.Series(cls[y], dtype=object)
    if label_kind == "int":
        label = label.astype(np.int64)
    elif label_kind == "float_int":
        label = label.astype(np.float64)
    elif label_kind == "bool":
        label = label.astype(bool)
    elif label_kind == "category":
        label = label.astype(pd.CategoricalDtype(classes))
    frame["label"] = label

    if kind == "binary_score":
        positive = 1  # the last class in sorted order, for every label kind used here
        pos_prob = np.where(p_idx == positive, rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.4999, n))
        edge = draw(st.sampled_from([None, 0.0, 1.0, 0.5]))
        if edge is not None:
            pos_prob[0] = edge
            p_idx[0] = positive if edge >= 0.5 else 0
        frame["score"] = pos_prob
        if label_kind not in ("int", "bool", "float_int") or 1 not in classes and True not in classes:
            notes.append("positive class is guessed")
        if draw(st.booleans()):
            frame["pred"] = pd.Series(cls[p_idx], dtype=object).astype(frame["label"].dtype)
    elif kind == "multi_proba":
        p = rng.dirichlet(np.full(k, draw(st.sampled_from([0.3, 1.0, 5.0]))), n)
        # make the intended class the argmax
        top = p.argmax(1)
        rows = np.arange(n)
        p[rows, top], p[rows, p_idx] = p[rows, p_idx], p[rows, top]
        edge = draw(st.sampled_from([None, 0.99, 1.01, 0.995, 1.005]))
        if edge is not None:
            row0 = np.zeros(k)
            row0[p_idx[0]] = 0.51
            row0[(p_idx[0] + 1) % k] = round(edge - 0.51, 10)
            p[0] = row0
            notes.append(f"row 0 sums to {row0.sum()!r}")
        for j, c in enumerate(classes):
            frame[f"proba_{_class_text(c)}"] = p[:, j]
        if draw(st.booleans()):
            frame["pred"] = pd.Series(cls[p_idx], dtype=object).astype(frame["label"].dtype)
    else:
        frame["pred"] = pd.Series(cls[p_idx], dtype=object).astype(frame["label"].dtype)

    if draw(st.booleans()):
        splits = draw(st.lists(st.sampled_from(list(SPLIT_SPELLINGS)), min_size=1, max_size=4, unique=True))
        spelled = [_spell(draw, s) for s in splits]
        frame["split"] = np.array(spelled, dtype=object)[rng.integers(0, len(spelled), n)]
        if roundtrip:
            frame["split"] = frame["split"].str.strip()  # CSV readers may trim

    if draw(st.booleans()):
        weight = np.round(rng.uniform(0.1, 10.0, n), 4)
        if draw(st.booleans()):
            extremes = draw(st.lists(st.sampled_from(NONNEG_EXTREMES), min_size=1, max_size=3))
            hits = rng.integers(0, n, max(1, n // 10))
            weight[hits] = rng.choice(np.array(extremes), hits.size)
            notes.append(f"weights include {extremes!r}")
        if draw(st.booleans()) and not roundtrip:
            weight = np.clip(np.round(weight), 1, 2**62).astype(np.int64)
        frame["weight"] = weight
        if "split" in frame:  # no split may weigh nothing
            for s in frame["split"].unique():
                at = np.flatnonzero((frame["split"] == s).to_numpy())
                frame.loc[at[0], "weight"] = 1
        else:
            frame.loc[0, "weight"] = 1

    if draw(st.booleans()):
        loss = np.round(rng.exponential(1.0, n), 5)
        if draw(st.booleans()):
            extremes = draw(st.lists(st.sampled_from(NONNEG_EXTREMES), min_size=1, max_size=3))
            loss[rng.integers(0, n, max(1, n // 10))] = rng.choice(np.array(extremes), max(1, n // 10))
            notes.append(f"losses include {extremes!r}")
        frame["loss"] = loss

    if draw(st.booleans()):
        id_kind = draw(st.sampled_from(["int", "str", "dup"]))
        if id_kind == "int":
            frame["id"] = np.arange(n, dtype=np.int64) * 7 - 3
        elif id_kind == "str":
            frame["id"] = [f"s:{i}-ü" for i in range(n)]
        else:
            frame["id"] = rng.integers(0, max(1, n // 2), n)

    taken = set(frame.columns)
    kinds = ROUNDTRIP_META_KINDS if roundtrip else META_KINDS
    for _ in range(draw(st.integers(0, 3))):
        mkind = draw(st.sampled_from(kinds))
        name = column_name(draw, taken, roundtrip)
        frame[name] = _metadata_column(draw, rng, mkind, n, roundtrip).array
        notes.append(f"metadata {name!r}: {mkind}")
    if planted is not None:
        name = column_name(draw, taken, roundtrip)
        value = draw(rich_text(max_size=8))
        other = draw(rich_text(max_size=8).filter(lambda s: s != value))
        if roundtrip:
            value, other = safe_text(value), safe_text(other)
            if value == other:
                other = other + "_"
        group = np.full(n, other, dtype=object)
        group[n - planted[0]:] = value
        frame[name] = group
        notes.append(f"slice column {name!r} = {value!r}")
    if draw(st.booleans()):  # row order is not part of the contract
        frame = frame.sample(frac=1.0, random_state=seed % 1000).reset_index(drop=True)
    return Problem(frame=frame, kind=kind, label_kind=label_kind, classes=classes, notes=notes)


def _class_text(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------- broken input

BREAKS = ["drop_label", "nan_label", "blank_label", "proba_above_one", "proba_negative", "proba_sum",
          "proba_text", "unknown_split", "missing_split", "negative_weight", "inf_weight", "nan_weight",
          "inf_loss", "nan_loss", "unknown_pred", "float_label", "no_pred", "duplicate_column",
          "score_above_one", "empty_frame"]


@st.composite
def broken_problems(draw):
    """A table that breaks the input contract in one documented way: (problem, how)."""
    problem = draw(problems(max_rows=60))
    df = problem.frame.copy()
    n = len(df)
    how = draw(st.sampled_from(BREAKS))
    row = draw(st.integers(0, n - 1))
    proba_cols = [c for c in df.columns if c.startswith("proba_")]
    bad_text = draw(rich_text(max_size=10))
    if how == "drop_label":
        df = df.drop(columns=["label"])
    elif how == "nan_label":
        df["label"] = df["label"].astype(object)
        df.loc[row, "label"] = None
    elif how == "blank_label":
        df["label"] = df["label"].astype(str)
        df.loc[row, "label"] = draw(st.sampled_from(["", " ", "\t"]))
    elif how in ("proba_above_one", "proba_negative", "proba_sum", "proba_text"):
        if not proba_cols:
            return draw(broken_problems())
        col = draw(st.sampled_from(proba_cols))
        if how == "proba_above_one":
            df.loc[row, col] = draw(st.sampled_from([1.7, 1e308, math.inf, 1.0000001 + 1e-3]))
        elif how == "proba_negative":
            df.loc[row, col] = draw(st.sampled_from([-0.2, -math.inf, -1e-3]))
        elif how == "proba_sum":
            df.loc[row, proba_cols] = 0.0
            df.loc[row, col] = draw(st.sampled_from([0.5, 0.97, 0.0]))
        else:
            df[col] = df[col].astype(object)
            df.loc[row, col] = bad_text
    elif how == "unknown_split":
        known = {w for ws in SPLIT_SPELLINGS.values() for w in ws}
        value = bad_text if bad_text.strip().lower() not in known else "nope"
        if "split" not in df:
            df["split"] = "test"
        df["split"] = df["split"].astype(object)
        df.loc[row, "split"] = value
    elif how == "missing_split":
        if "split" not in df:
            df["split"] = "train"
        df["split"] = df["split"].astype(object)
        df.loc[row, "split"] = None
    elif how in ("negative_weight", "inf_weight", "nan_weight"):
        if "weight" not in df:
            df["weight"] = 1.0
        df["weight"] = df["weight"].astype(float)
        df.loc[row, "weight"] = {"negative_weight": -1e-3, "inf_weight": math.inf, "nan_weight": math.nan}[how]
    elif how in ("inf_loss", "nan_loss"):
        if "loss" not in df:
            df["loss"] = 1.0
        df.loc[row, "loss"] = math.inf if how == "inf_loss" else math.nan
    elif how == "unknown_pred":
        if problem.label_kind in ("str", "category"):
            value = bad_text if bad_text not in problem.classes else bad_text + "?"
        elif problem.label_kind == "bool":
            return draw(broken_problems())
        else:
            value = 10**12 + 17
        df["pred"] = df.get("pred", df["label"]).astype(object)
        df.loc[row, "pred"] = value
    elif how == "float_label":
        df["label"] = df["label"].astype(object)
        df.loc[row, "label"] = 0.5
        if problem.label_kind != "float_int":
            df["label"] = df["label"].astype(object)
    elif how == "no_pred":
        df = df.drop(columns=[c for c in df.columns if c in ("pred", "score") or c.startswith("proba_")])
    elif how == "duplicate_column":
        df = pd.concat([df, df[["label"]]], axis=1)
    elif how == "score_above_one":
        if "score" not in df:
            return draw(broken_problems())
        df.loc[row, "score"] = draw(st.sampled_from([1.5, math.inf, -0.1, math.nan]))
    elif how == "empty_frame":
        df = df.iloc[:0]
    return df, how


# ---------------------------------------------------------------------------- files

FORMATS = {"parquet": ".parquet", "csv": ".csv", "csv.gz": ".csv.gz", "tsv": ".tsv", "jsonl": ".jsonl",
           "feather": ".feather"}


def storable(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a file can hold it: columns of mixed Python objects become text."""
    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if col.dtype == object and col.map(type).nunique() > 1:
            out.isetitem(i, col.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)))
    return out


def write(frame: pd.DataFrame, folder: Path, fmt: str, stem: str = "preds") -> Path:
    """Write ``frame`` as ``fmt`` (floats written repr-exact in text formats)."""
    path = folder / f"{stem}{FORMATS[fmt]}"
    frame = storable(frame)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt in ("csv", "csv.gz"):
        frame.to_csv(path, index=False, float_format=_repr_float, compression="gzip" if fmt == "csv.gz" else None)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t", float_format=_repr_float)
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, date_format="iso", double_precision=15)
    else:
        frame.reset_index(drop=True).to_feather(path)
    return path


def _repr_float(value) -> str:
    return repr(float(value))
