"""What changed since the previous model: two runs on the same data, side by side.

A model review asks whether the new model is better than the last one and what moved.
The comparison works on the two runs' JSON documents (so a previous run's saved JSON
serves as well as its predictions), and on the rows themselves when both runs'
predictions are at hand and their rows match (by ``id``, else by position): the
change of an error rate is then measured on paired rows, which is far more precise
than comparing two independent rates, because both models get most rows right or
wrong together.

Every change carries an interval, and the interval decides: a change is ``better`` or
``worse`` only when its interval excludes zero, else ``no_change`` (within noise).
Classes and slices are many comparisons at once: their intervals are widened by
Bonferroni's correction so that chance alone rarely marks any of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import UsageError
from .io import SPLITS
from .result import SCHEMA_VERSION, plain
from .stats.intervals import difference_interval, kish_n, paired_change, wilson, wilson_array

#: Rows of the two runs that must match (same id or position, same split and label) to
#: compare on paired rows; below this share of either run the comparison is unpaired.
MIN_MATCHED_SHARE = 0.9
#: At most this many classes and slices are listed as moved (largest moves first).
MAX_LISTED = 12


@dataclass(frozen=True)
class Change:
    """One figure of the new run against the previous one: ``change = new - old``."""

    name: str
    old: float | None
    new: float | None
    change: float | None
    ci: tuple[float, float] | None
    verdict: str  # "better" | "worse" | "no_change" | "not_comparable"
    paired: bool = False
    n: float | None = None  # rows the change is measured on (paired: matched rows)
    p_value: float | None = None  # McNemar's exact test, paired split errors only

    def to_dict(self) -> dict:
        return {"name": self.name, "old": plain(self.old), "new": plain(self.new), "change": plain(self.change),
                "ci": plain(self.ci), "verdict": self.verdict, "paired": self.paired, "n": plain(self.n),
                "p_value": plain(self.p_value)}


@dataclass(frozen=True)
class Comparison:
    """The new run against a previous one (the ``comparison`` of the JSON)."""

    previous: str  # the previous run's input, as given
    source: str  # "predictions" | "json"
    paired: bool
    matched_by: str | None  # "id" | "position" | None
    matched_rows: int | None
    eval_split: str | None
    splits: list  # [Change], error per split
    components: list  # [Change], decomposition terms
    classes: list  # [Change], per-class error (1 - recall) on the evaluation split, moved ones
    slices: list  # [Change], slice error, moved ones
    new_findings: list  # [{kind, severity, title, split}]
    resolved_findings: list
    kept_findings: int
    regression: bool  # the evaluation split's error rose beyond its interval
    improvement: bool
    text: str
    confidence: float = 0.95
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "previous": self.previous, "source": self.source, "paired": self.paired,
            "matched_by": self.matched_by, "matched_rows": self.matched_rows, "eval_split": self.eval_split,
            "confidence": self.confidence,
            "splits": [c.to_dict() for c in self.splits],
            "components": [c.to_dict() for c in self.components],
            "classes": [c.to_dict() for c in self.classes],
            "slices": [c.to_dict() for c in self.slices],
            "new_findings": plain(self.new_findings), "resolved_findings": plain(self.resolved_findings),
            "kept_findings": self.kept_findings, "regression": self.regression, "improvement": self.improvement,
            "text": self.text, "notes": list(self.notes),
        }


# ------------------------------------------------------------------------------- row outcomes

@dataclass(frozen=True)
class Outcomes:
    """Per row: split code, label code, predicted code, weight and id (input order)."""

    classes: tuple
    split: np.ndarray
    y: np.ndarray
    pred: np.ndarray
    weight: np.ndarray | None
    ids: np.ndarray | None


class OutcomeState:
    """Keeps each batch's row outcomes (a read state beside the accumulator)."""

    def __init__(self) -> None:
        self.parts: list = []
        self.classes: tuple = ()

    def add(self, preds, offset: int = 0, row_numbers: bool = True) -> None:
        self.classes = preds.classes
        self.parts.append((offset, preds.split, preds.y, preds.pred, preds.weight, preds.ids))

    def merge(self, other: "OutcomeState") -> "OutcomeState":
        self.parts.extend(other.parts)
        self.classes = self.classes or other.classes
        return self

    def outcomes(self) -> Outcomes:
        parts = sorted(self.parts, key=lambda p: p[0])

        def cat(i):
            arrays = [p[i] for p in parts]
            if not arrays or any(a is None for a in arrays):
                return None
            return np.concatenate(arrays)

        return Outcomes(self.classes, cat(1), cat(2), cat(3), cat(4), cat(5))


class WithOutcomes:
    """A read state that feeds an accumulator and keeps the row outcomes as well."""

    def __init__(self, make_state) -> None:
        self.state = make_state()
        self.rows = OutcomeState()

    def add(self, preds, offset: int = 0, row_numbers: bool = True) -> None:
        self.state.add(preds, offset)
        self.rows.add(preds, offset)

    def merge(self, other: "WithOutcomes") -> "WithOutcomes":
        self.state = self.state.merge(other.state)
        self.rows = self.rows.merge(other.rows)
        return self


# ------------------------------------------------------------------------------ the previous run

def read_previous_json(path: str | Path) -> dict | None:
    """A previous run's JSON document, or None when ``path`` is not one (a predictions
    file in JSON Lines, say). Raises UsageError for a JSON of another schema."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        return None
    check_schema(doc, str(path))
    return doc


def check_schema(doc: dict, name: str) -> None:
    ours, theirs = SCHEMA_VERSION.split(".")[0], str(doc.get("schema_version", "")).split(".")[0]
    if theirs != ours or not isinstance(doc.get("errors"), dict):
        raise UsageError(
            f"--compare {name}: JSON schema version {doc.get('schema_version')!r} cannot be compared with "
            f"this version's {SCHEMA_VERSION!r}.",
            hint="Run this version of erranalysis on the previous model's predictions and compare with those.")


def _labels(doc: dict) -> list | None:
    confusion = doc.get("confusion") or {}
    labels = confusion.get("labels")
    return None if labels is None else [str(v) for v in labels]


def check_labels(new_doc: dict, old_doc: dict, name: str) -> None:
    new, old = _labels(new_doc), _labels(old_doc)
    if new is None or old is None or set(new) == set(old):
        return
    only_new, only_old = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    parts = [f"only in the new run: {', '.join(map(repr, only_new[:5]))}" if only_new else "",
             f"only in the previous run: {', '.join(map(repr, only_old[:5]))}" if only_old else ""]
    raise UsageError(
        f"--compare {name}: the two runs have different label sets ({'; '.join(p for p in parts if p)}).",
        hint="Compare two models' predictions on the same data with the same classes.")


# ----------------------------------------------------------------------------------- pairing

def match_rows(new: Outcomes, old: Outcomes) -> tuple[str | None, np.ndarray, np.ndarray, str | None]:
    """Rows of the two runs that are the same example: by ``id`` when both have unique
    ids, else by position when both have the same rows, splits and labels. Returns
    (how, new rows, old rows, note); ``how`` is None when the rows do not pair."""
    if list(new.classes) != list(old.classes):  # same set (checked), other order: old codes to new's
        order = {c: i for i, c in enumerate(new.classes)}
        remap = np.array([order[c] for c in old.classes], dtype=np.int64)
        old = Outcomes(new.classes, old.split, remap[old.y], remap[old.pred], old.weight, old.ids)
    n_new, n_old = new.y.size, old.y.size
    if new.ids is not None and old.ids is not None and pd.Index(new.ids).is_unique and pd.Index(old.ids).is_unique:
        a = pd.Series(np.arange(n_new), index=pd.Index(new.ids).astype(str))
        b = pd.Series(np.arange(n_old), index=pd.Index(old.ids).astype(str))
        both = a.index.intersection(b.index)
        i, j = a[both].to_numpy(), b[both].to_numpy()
        how = "id"
    elif n_new == n_old:
        i = j = np.arange(n_new)
        how = "position"
    else:
        return None, np.empty(0, int), np.empty(0, int), (
            f"the rows could not be paired (no shared ids, and {n_new:,} rows against {n_old:,})")
    same = (new.split[i] == old.split[j]) & (new.y[i] == old.y[j])
    i, j = i[same], j[same]
    share = i.size / max(n_new, n_old, 1)
    if share < MIN_MATCHED_SHARE:
        return None, np.empty(0, int), np.empty(0, int), (
            f"only {i.size:,} rows match by {how} with the same split and label ({share:.0%}), so the runs are "
            f"compared as independent samples")
    note = None
    if i.size < max(n_new, n_old):
        note = (f"{max(n_new, n_old) - i.size:,} rows have no match by {how} (same split and label) and are "
                f"left out of the paired figures")
    return how, i, j, note


def _paired_split_changes(new: Outcomes, old: Outcomes, i, j, metric: str, confidence: float) -> dict:
    """Per split: the paired change of the error (or balanced error) on the matched rows."""
    from scipy.stats import binomtest

    new_wrong = new.pred[i] != new.y[i]
    old_wrong = old.pred[j] != old.y[j]
    split, y = new.split[i], new.y[i]
    w = new.weight[i] if new.weight is not None else None
    out = {}
    for code in np.unique(split):
        rows = split == code
        if metric == "balanced_error":
            out[SPLITS[code]] = _paired_balanced(new_wrong[rows], old_wrong[rows], y[rows],
                                                 None if w is None else w[rows], confidence)
            continue
        nw, ow = new_wrong[rows], old_wrong[rows]
        weights = np.ones(nw.size) if w is None else w[rows]
        total = weights.sum()
        n_eff = kish_n(total, float(np.sum(weights * weights)))
        cells = [float(np.sum(weights[m])) / total * n_eff for m in (nw & ow, nw & ~ow, ~nw & ow)]
        change, lo, hi = (float(v) for v in paired_change(*cells, n_eff, confidence))
        new_only, old_only = int(np.sum(nw & ~ow)), int(np.sum(~nw & ow))
        p = float(binomtest(new_only, new_only + old_only, 0.5).pvalue) if new_only + old_only else 1.0
        old_err = float(np.sum(weights[ow]) / total)
        out[SPLITS[code]] = (old_err, old_err + change, change, (lo, hi), float(rows.sum()), p)
    return out


def _paired_balanced(nw, ow, y, w, confidence: float, draws: int = 4000):
    """Paired bootstrap of the balanced error's change: rows are resampled within each
    class (the class sizes are fixed by design), which for 0/1 outcomes is a
    multinomial draw over the four agreement cells of each class."""
    rng = np.random.default_rng(0)
    weights = np.ones(nw.size) if w is None else w
    classes = np.unique(y)
    diffs = np.zeros(draws)
    old_rate, change = 0.0, 0.0
    for k in classes:
        rows = y == k
        total = weights[rows].sum()
        cells = np.array([weights[rows][m].sum() for m in (nw[rows] & ~ow[rows], ~nw[rows] & ow[rows])]) / total
        old_rate += float(weights[rows][ow[rows]].sum() / total)
        change += cells[0] - cells[1]
        n_k = int(rows.sum())
        draw = rng.multinomial(n_k, [cells[0], cells[1], max(0.0, 1 - cells.sum())], size=draws)
        diffs += (draw[:, 0] - draw[:, 1]) / n_k
    m = classes.size
    old_rate, change, diffs = old_rate / m, change / m, diffs / m
    lo, hi = np.quantile(diffs, [(1 - confidence) / 2, (1 + confidence) / 2])
    return (old_rate, old_rate + change, change, (float(min(lo, change)), float(max(hi, change))),
            float(nw.size), None)


def _paired_classes(new: Outcomes, old: Outcomes, i, j, split_code: int, confidence: float) -> list:
    """Per class on the evaluation split: the paired change of its error (1 - recall)."""
    rows = new.split[i] == split_code
    y = new.y[i][rows]
    nw = (new.pred[i] != new.y[i])[rows]
    ow = (old.pred[j] != old.y[j])[rows]
    K = len(new.classes)
    n = np.bincount(y, minlength=K).astype(float)
    a = np.bincount(y, weights=nw & ow, minlength=K)
    b = np.bincount(y, weights=nw & ~ow, minlength=K)
    c = np.bincount(y, weights=~nw & ow, minlength=K)
    present = n > 0
    level = 1 - (1 - confidence) / max(int(present.sum()), 1)
    change, lo, hi = paired_change(a, b, c, n, level)
    out = []
    for k in np.flatnonzero(present):
        old_err = float((a[k] + c[k]) / n[k])
        out.append(Change(str(new.classes[k]), old_err, old_err + float(change[k]), float(change[k]),
                          (float(lo[k]), float(hi[k])), _verdict(float(lo[k]), float(hi[k])), True, float(n[k])))
    return out


# ------------------------------------------------------------------------- from the documents

def _verdict(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return "not_comparable"
    if hi < 0:
        return "better"
    if lo > 0:
        return "worse"
    return "no_change"


def _split_changes(new_doc: dict, old_doc: dict) -> dict:
    out = {}
    for s in SPLITS:
        a, b = (old_doc.get("errors") or {}).get(s), (new_doc.get("errors") or {}).get(s)
        if not a or not b or a.get("error") is None or b.get("error") is None:
            continue
        if a.get("ci") is None or b.get("ci") is None:
            out[s] = (a["error"], b["error"], b["error"] - a["error"], None, b.get("n"), None)
            continue
        lo, hi = difference_interval(a["error"], tuple(a["ci"]), b["error"], tuple(b["ci"]))
        out[s] = (a["error"], b["error"], b["error"] - a["error"], (lo, hi), b.get("n"), None)
    return out


def _component_changes(new_doc: dict, old_doc: dict) -> list:
    out = []
    for name in ("avoidable_bias", "variance", "distribution_shift", "val_overfitting"):
        a, b = (old_doc.get("decomposition") or {}).get(name), (new_doc.get("decomposition") or {}).get(name)
        if not a or not b or a.get("value") is None or b.get("value") is None:
            continue
        ci = None
        if a.get("ci") and b.get("ci"):
            ci = difference_interval(a["value"], tuple(a["ci"]), b["value"], tuple(b["ci"]))
        out.append(Change(name, a["value"], b["value"], b["value"] - a["value"], ci,
                          _verdict(*(ci or (None, None)))))
    return out


def _class_changes_unpaired(new_doc: dict, old_doc: dict, split: str | None, confidence: float) -> list:
    def table(doc):
        per = ((doc.get("confusion") or {}).get("per_class") or {}).get(split) or []
        return {str(r["label"]): r for r in per if r.get("support")}

    a, b = table(old_doc), table(new_doc)
    common = [k for k in b if k in a]
    if not common:
        return []
    level = 1 - (1 - confidence) / len(common)
    out = []
    for k in common:
        e_old, e_new = 1 - a[k]["recall"], 1 - b[k]["recall"]
        ci = difference_interval(e_old, wilson(e_old, a[k]["support"], level), e_new, wilson(e_new, b[k]["support"], level))
        out.append(Change(k, e_old, e_new, e_new - e_old, ci, _verdict(*ci), False, float(b[k]["support"])))
    return out


def _slice_changes(new_doc: dict, old_doc: dict, confidence: float) -> list:
    def table(doc):
        sl = (doc.get("slices") or {}).get("slices") or []
        return {(str(r["column"]), str(r["value"])): r for r in sl if r.get("n")}

    a, b = table(old_doc), table(new_doc)
    common = [k for k in b if k in a]
    if not common:
        return []
    level = 1 - (1 - confidence) / len(common)
    e_old = np.array([a[k]["error"] for k in common], dtype=float)
    e_new = np.array([b[k]["error"] for k in common], dtype=float)
    n_old = np.array([a[k]["n"] for k in common], dtype=float)
    n_new = np.array([b[k]["n"] for k in common], dtype=float)
    lo_o, hi_o = wilson_array(e_old, n_old, level)
    lo_n, hi_n = wilson_array(e_new, n_new, level)
    change = e_new - e_old
    lo = change - np.sqrt((e_new - lo_n) ** 2 + (hi_o - e_old) ** 2)
    hi = change + np.sqrt((hi_n - e_new) ** 2 + (e_old - lo_o) ** 2)
    return [Change(f"{k[0]} = {k[1]}", float(e_old[i]), float(e_new[i]), float(change[i]),
                   (float(lo[i]), float(hi[i])), _verdict(float(lo[i]), float(hi[i])), False, float(n_new[i]))
            for i, k in enumerate(common)]


def _finding_key(f: dict) -> tuple:
    """What a finding is about, so that the same problem in both runs is one finding: its
    kind and subject (the term, slice, class or pair; a pair confused both ways is the
    same pair whichever way round its larger count lies), or its kind and split when it
    has no subject. A slice's split is left out: it names the pool of held-out splits
    the slice was found on, which can differ between runs."""
    ev = f.get("evidence") or {}
    subject = tuple(str(ev[k]) for k in ("component", "label", "class") if isinstance(ev.get(k), (str, int)))
    if "column" in ev:
        subject += (str(ev["column"]), str(ev.get("value")))
    if "actual" in ev and "predicted" in ev:
        pair = (str(ev["actual"]), str(ev["predicted"]))
        subject += tuple(sorted(pair)) if ev.get("both_directions") else pair
    return (f.get("kind"), subject) if subject else (f.get("kind"), f.get("split"))


def _brief(f: dict) -> dict:
    return {"kind": f.get("kind"), "severity": f.get("severity"), "title": f.get("title"), "split": f.get("split")}


def _moved(changes: list) -> list:
    moved = [c for c in changes if c.verdict in ("better", "worse")]
    return sorted(moved, key=lambda c: -abs(c.change or 0.0))[:MAX_LISTED]


def compare_docs(new_doc: dict, old_doc: dict, *, previous: str, source: str, confidence: float = 0.95,
                 new_rows: Outcomes | None = None, old_rows: Outcomes | None = None,
                 metric: str = "error") -> Comparison:
    """The comparison of two runs' documents, on paired rows where both are given and match."""
    check_labels(new_doc, old_doc, previous)
    eval_split = new_doc.get("eval_split")
    notes = []
    how, i, j = None, None, None
    if new_rows is not None and old_rows is not None:
        how, i, j, note = match_rows(new_rows, old_rows)
        if note:
            notes.append(note[0].upper() + note[1:] + ".")
    elif source == "json":
        notes.append("The previous run is a JSON document: its figures are compared as independent samples "
                     "(its rows are not at hand to pair).")
    else:
        notes.append("The rows of one run are not at hand (summary figures, or computed in Spark): the runs are "
                     "compared as independent samples.")
    splits = _split_changes(new_doc, old_doc)
    if how is not None:
        if new_rows.weight is not None:
            notes.append("Paired intervals use the effective row count of the weights (Kish).")
        splits.update(_paired_split_changes(new_rows, old_rows, i, j, metric, confidence))
    split_changes = [Change(s, v[0], v[1], v[2], v[3], _verdict(*(v[3] or (None, None))), how is not None,
                            v[4], v[5]) for s, v in ((s, splits[s]) for s in SPLITS if s in splits)]
    if how is not None and eval_split in SPLITS:
        classes = _paired_classes(new_rows, old_rows, i, j, SPLITS.index(eval_split), confidence)
    else:
        classes = _class_changes_unpaired(new_doc, old_doc, eval_split, confidence)
    old_keys = {_finding_key(f): f for f in old_doc.get("findings") or []}
    new_keys = {_finding_key(f): f for f in new_doc.get("findings") or []}
    new_findings = [_brief(f) for k, f in new_keys.items() if k not in old_keys]
    resolved = [_brief(f) for k, f in old_keys.items() if k not in new_keys]
    kept = sum(k in old_keys for k in new_keys)
    main = next((c for c in split_changes if c.name == eval_split), None)
    regression = bool(main and main.verdict == "worse")
    improvement = bool(main and main.verdict == "better")
    comparison = Comparison(
        previous=previous, source=source, paired=how is not None, matched_by=how,
        matched_rows=None if i is None or how is None else int(i.size), eval_split=eval_split,
        splits=split_changes, components=_component_changes(new_doc, old_doc), classes=_moved(classes),
        slices=_moved(_slice_changes(new_doc, old_doc, confidence)), new_findings=new_findings,
        resolved_findings=resolved, kept_findings=int(kept), regression=regression, improvement=improvement,
        text="", confidence=confidence, notes=notes)
    from dataclasses import replace

    return replace(comparison, text=comparison_line(comparison))


def shown_path(previous: str) -> str:
    """The previous run's input as the report shows it: as given when relative, else its
    file name (no local absolute paths in a report that travels)."""
    path = Path(previous)
    return path.name if path.is_absolute() else previous


def _pts(x: float) -> str:
    return f"{x * 100:+.1f} pts".replace("-", "−")


def comparison_line(c: Comparison) -> str:
    """One sentence for the verdict: the evaluation split's error then and now."""
    main = next((s for s in c.splits if s.name == c.eval_split), None)
    if main is None:
        return f"Against the previous run ({shown_path(c.previous)}): no split to compare."
    word = {"better": "better", "worse": "worse", "no_change": "no change beyond noise",
            "not_comparable": "no interval to decide"}[main.verdict]
    how = (f"paired on {main.n:,.0f} rows matched by {c.matched_by}" if main.paired
           else "independent samples")
    ci = "" if main.ci is None else (
        f" ({c.confidence:.0%} interval {_pts(main.ci[0])} to {_pts(main.ci[1])}, {how})")
    return (f"Against the previous run ({shown_path(c.previous)}): {main.name} error "
            f"{main.old:.1%} → {main.new:.1%}, {_pts(main.change)}{ci}: {word}.")


def previous_name(compare: Any) -> str:
    if isinstance(compare, (str, Path)):
        return str(compare)
    if isinstance(compare, pd.DataFrame):
        return "DataFrame"
    return type(compare).__name__


