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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import UsageError
from .fmt import shown_path
from .io import SPLITS
from .io.read import table_kind
from .result import SCHEMA_VERSION, Change, Comparison
from .stats.intervals import difference_interval, kish_n, paired_change, wilson

#: Rows of the two runs that must match (same id or position, same split and label) to
#: compare on paired rows; below this share of either run the comparison is unpaired.
MIN_MATCHED_SHARE = 0.9
#: At most this many classes and slices are listed as moved (largest moves first).
MAX_LISTED = 12


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

    def add(self, preds, offset: int = 0) -> None:
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

    def add(self, preds, offset: int = 0) -> None:
        self.state.add(preds, offset)
        self.rows.add(preds, offset)

    def merge(self, other: "WithOutcomes") -> "WithOutcomes":
        self.state = self.state.merge(other.state)
        self.rows = self.rows.merge(other.rows)
        return self


# ------------------------------------------------------------------------------ the previous run

def read_previous_json(path: str | Path) -> dict | None:
    """A previous run's JSON document, or None when ``path`` is not one (a predictions
    file in JSON Lines, say). Raises UsageError for a JSON of another schema.

    Only the first line is parsed to tell them apart: a line that is a whole JSON
    object is a JSON Lines row (unless it is a compact run document), so a large
    predictions file is not read whole here."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline(1 << 20)
            try:
                doc = json.loads(first)
            except ValueError:
                fh.seek(0)
                doc = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        return None
    check_schema(doc, str(path))
    return doc


def check_schema(doc: dict, name: str) -> None:
    ours, theirs = SCHEMA_VERSION.split(".")[0], str(doc.get("schema_version", "")).split(".")[0]
    if theirs != ours:
        raise UsageError(
            f"--compare {name}: JSON schema version {doc.get('schema_version')!r} cannot be compared with "
            f"this version's {SCHEMA_VERSION!r}.",
            hint="Run this version of erranalysis on the previous model's predictions and compare with those.")
    if not isinstance(doc.get("errors"), dict):
        raise UsageError(f"--compare {name}: the JSON document has no 'errors' table of the error per split.",
                         hint="Give the JSON that erranalysis wrote with --json, unedited.")


def check_settings(new_doc: dict, old_doc: dict, name: str) -> bool:
    """Refuses runs measured in another metric or at another confidence level (their
    figures are not the same quantity); returns whether the goals are the same (the
    decomposition's first term depends on it)."""
    def setting(doc, key):
        prov = doc.get("provenance") or {}
        return prov.get(key), (prov.get("settings") or {}).get("confidence")

    (m_new, c_new), (m_old, c_old) = setting(new_doc, "metric"), setting(old_doc, "metric")
    if m_new and m_old and m_new != m_old:
        raise UsageError(f"--compare {name}: the previous run is in {m_old}, this one in {m_new}; the figures "
                         f"are not comparable.", hint=f"Run both with the same --metric ({m_new}).")
    if c_new and c_old and abs(float(c_new) - float(c_old)) > 1e-9:
        raise UsageError(f"--compare {name}: the previous run's intervals are at {float(c_old):.0%}, this one's "
                         f"at {float(c_new):.0%}.", hint="Run both with the same confidence level.")
    g_new = (new_doc.get("decomposition") or {}).get("goal")
    g_old = (old_doc.get("decomposition") or {}).get("goal")
    return g_new == g_old or (g_new is not None and g_old is not None and abs(g_new - g_old) < 1e-12)


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
    """Rows of the two runs that are the same example. Returns (how, new rows, old rows,
    note); ``how`` is None when the rows do not pair.

    By ``id`` when both runs have ids, unique in each: the rows with the same id, split
    and label (at least MIN_MATCHED_SHARE of either run's rows). By position only when
    neither run has usable ids, both have the same number of rows, and every row agrees
    on split and label: partial agreement by position is what a reordered file shows by
    chance (two rows of a 96:4 problem share their label 92% of the time), so it pairs
    nothing. When ids repeat, position serves only if every row also has the same id."""
    if list(new.classes) != list(old.classes):  # same set (checked), other order or type: old codes to new's
        order = {str(c): i for i, c in enumerate(new.classes)}
        remap = np.array([order[str(c)] for c in old.classes], dtype=np.int64)
        old = Outcomes(new.classes, old.split, remap[old.y], remap[old.pred], old.weight, old.ids)
    n_new, n_old = new.y.size, old.y.size
    none = np.empty(0, int)
    if new.ids is not None and old.ids is not None:
        if not (pd.Index(new.ids).is_unique and pd.Index(old.ids).is_unique):
            same = (n_new == n_old and np.array_equal(new.ids.astype(str), old.ids.astype(str))
                    and np.array_equal(new.split, old.split) and np.array_equal(new.y, old.y))
            if same:  # the same file layout: every row has the same id, split and label
                i = np.arange(n_new)
                return "position", i, i, ("ids repeat within a run, so rows are matched by position (every row has "
                                          "the same id, split and label in both runs)")
            return None, none, none, "ids repeat within a run, so its rows cannot be matched to the other run's"
        a = pd.Series(np.arange(n_new), index=pd.Index(new.ids).astype(str))
        b = pd.Series(np.arange(n_old), index=pd.Index(old.ids).astype(str))
        both = a.index.intersection(b.index)
        i, j = a[both].to_numpy(), b[both].to_numpy()
        same = (new.split[i] == old.split[j]) & (new.y[i] == old.y[j])
        i, j = i[same], j[same]
        share = i.size / max(n_new, n_old, 1)
        if share < MIN_MATCHED_SHARE:
            return None, none, none, (f"only {i.size:,} rows share an id, split and label ({share:.0%})")
        note = None
        if i.size < max(n_new, n_old):
            note = (f"{max(n_new, n_old) - i.size:,} rows have no match by id (same split and label) and are "
                    f"left out of the paired figures")
        return "id", i, j, note
    if n_new != n_old:
        return None, none, none, f"the rows could not be paired (no ids, and {n_new:,} rows against {n_old:,})"
    if not (np.array_equal(new.split, old.split) and np.array_equal(new.y, old.y)):
        return None, none, none, ("the rows could not be paired: without ids, matching by position needs every "
                                  "row to have the same split and label in both runs")
    i = np.arange(n_new)
    return "position", i, i, None


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
        both, new_share, old_share = cells
        change, lo, hi = (float(v) for v in paired_change(both, new_share, old_share, n_eff, confidence))
        new_only, old_only = int(np.sum(nw & ~ow)), int(np.sum(~nw & ow))
        p = None  # McNemar's exact test counts rows: none for weighted rows
        if w is None:
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
    """Per class on the evaluation split: the paired change of its error (1 - recall),
    weighted like the split's (effective row counts of the weights, per class)."""
    rows = new.split[i] == split_code
    y = new.y[i][rows]
    nw = (new.pred[i] != new.y[i])[rows]
    ow = (old.pred[j] != old.y[j])[rows]
    w = np.ones(y.size) if new.weight is None else new.weight[i][rows]
    K = len(new.classes)
    total = np.bincount(y, weights=w, minlength=K)
    n_eff = np.array([kish_n(t, q) for t, q in zip(total, np.bincount(y, weights=w * w, minlength=K))])
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(total > 0, n_eff / total, 0.0)
    a, b, c = (np.bincount(y, weights=w * m, minlength=K) * scale for m in (nw & ow, nw & ~ow, ~nw & ow))
    present = n_eff > 0
    level = 1 - (1 - confidence) / max(int(present.sum()), 1)
    change, lo, hi = paired_change(a, b, c, n_eff, level)
    out = []
    for k in np.flatnonzero(present):
        old_err = float((a[k] + c[k]) / n_eff[k])
        out.append(Change(str(new.classes[k]), old_err, old_err + float(change[k]), float(change[k]),
                          (float(lo[k]), float(hi[k])), _verdict(float(lo[k]), float(hi[k])), True,
                          float(np.sum(y == k))))
    return out


def _verdict(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return "not_comparable"
    if hi < 0:
        return "better"
    if lo > 0:
        return "worse"
    return "no_change"


#: One split's error then and now: old, new, change, its interval, the new run's rows and
#: McNemar's p-value.
SplitChange = tuple[float, float, float, "tuple[float, float] | None", "int | None", "float | None"]


def _split_changes(new_doc: dict, old_doc: dict) -> dict[str, SplitChange]:
    out: dict[str, SplitChange] = {}
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


def _component_changes(new_doc: dict, old_doc: dict, same_goal: bool = True) -> list:
    """The decomposition terms of both runs (avoidable bias only against the same goal)."""
    out = []
    for name in ("avoidable_bias", "variance", "distribution_shift", "val_overfitting"):
        if name == "avoidable_bias" and not same_goal:
            continue
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


def _slice_changes(new_doc: dict, old_doc: dict, confidence: float) -> tuple[list, str | None]:
    """Slices of both runs on the same pool of held-out splits, as independent samples
    (a slice's rows are few, and their pairing is not kept), with Bonferroni's level."""
    def table(doc):
        sl = (doc.get("slices") or {}).get("slices") or []
        return {(str(r["column"]), str(r["value"])): r for r in sl if r.get("n")}

    pools = [(doc.get("slices") or {}).get("split") for doc in (old_doc, new_doc)]
    a, b = table(old_doc), table(new_doc)
    common = [k for k in b if k in a]
    if not common:
        return [], None
    if pools[0] != pools[1]:
        return [], (f"Slices are not compared: the previous run measured them on {pools[0]}, this one on "
                    f"{pools[1]} (the pool of held-out splits follows each model's distribution shift).")
    level = 1 - (1 - confidence) / len(common)
    out = []
    for key in common:
        old, new = a[key], b[key]
        ci = difference_interval(old["error"], wilson(old["error"], old["n"], level),
                                 new["error"], wilson(new["error"], new["n"], level))
        out.append(Change(f"{key[0]} = {key[1]}", old["error"], new["error"], new["error"] - old["error"], ci,
                          _verdict(*ci), False, float(new["n"])))
    return out, None


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


#: Finding kinds read from the errors per split alone; every other kind needs the rows.
_FROM_ERRORS = {"underfitting", "overfitting", "distribution_shift", "val_overfitting", "insufficient_data"}


def _checkable(f: dict, doc: dict) -> bool:
    """Whether the run of ``doc`` could have raised finding ``f``: its kind needs rows the
    run had, and the split it was seen on is among the run's splits."""
    if f.get("kind") not in _FROM_ERRORS and doc.get("confusion") is None:
        return False
    if str(f.get("kind", "")).startswith("loss_"):
        return doc.get("history") is not None
    split = f.get("split")
    return not (split in SPLITS and split not in (doc.get("errors") or {}))


def _moved(changes: list) -> list:
    moved = [c for c in changes if c.verdict in ("better", "worse")]
    return sorted(moved, key=lambda c: -abs(c.change or 0.0))[:MAX_LISTED]


def compare_docs(new_doc: dict, old_doc: dict, *, previous: str, source: str, confidence: float = 0.95,
                 new_rows: Outcomes | None = None, old_rows: Outcomes | None = None,
                 metric: str = "error") -> Comparison:
    """The comparison of two runs' documents, on paired rows where both are given and match."""
    check_labels(new_doc, old_doc, previous)
    same_goal = check_settings(new_doc, old_doc, previous)
    eval_split = new_doc.get("eval_split")
    notes = []
    how, i, j = None, None, None
    if new_rows is not None and old_rows is not None:
        how, i, j, note = match_rows(new_rows, old_rows)
        if note:
            tail = "" if how else ", so the runs are compared as independent samples"
            notes.append(note[0].upper() + note[1:] + tail + ".")
    elif source == "json":
        notes.append("The previous run is a JSON document: its figures are compared as independent samples "
                     "(its rows are not at hand to pair).")
    else:
        notes.append("The rows of one run are not at hand (summary figures, or computed in Spark): the runs are "
                     "compared as independent samples.")
    if not same_goal:
        notes.append("The runs have different goals: avoidable bias, which is measured from the goal, is not "
                     "compared.")
    splits = _split_changes(new_doc, old_doc)
    if how is not None and new_rows is not None and old_rows is not None:
        if new_rows.weight is not None:
            notes.append("Paired intervals use the effective row count of the weights (Kish); McNemar's test, "
                         "which counts rows, is not given.")
        splits.update(_paired_split_changes(new_rows, old_rows, i, j, metric, confidence))
    split_changes = [Change(s, v[0], v[1], v[2], v[3], _verdict(*(v[3] or (None, None))), how is not None,
                            v[4], v[5]) for s, v in ((s, splits[s]) for s in SPLITS if s in splits)]
    if how is not None and new_rows is not None and old_rows is not None and eval_split in SPLITS:
        classes = _paired_classes(new_rows, old_rows, i, j, SPLITS.index(eval_split), confidence)
    else:
        classes = _class_changes_unpaired(new_doc, old_doc, eval_split, confidence)
    slices, slice_note = _slice_changes(new_doc, old_doc, confidence)
    if slice_note:
        notes.append(slice_note)
    old_keys = {_finding_key(f): f for f in old_doc.get("findings") or []}
    new_keys = {_finding_key(f): f for f in new_doc.get("findings") or []}
    new_findings = [_brief(f) for k, f in new_keys.items() if k not in old_keys]
    gone = [f for k, f in old_keys.items() if k not in new_keys]
    resolved = [_brief(f) for f in gone if _checkable(f, new_doc)]
    unchecked = [_brief(f) for f in gone if not _checkable(f, new_doc)]
    if unchecked:
        notes.append(f"{len(unchecked)} of the previous run's findings could not be checked by this run (it lacks "
                     f"the rows, splits or history they need) and are not counted as resolved.")
    kept = sum(k in old_keys for k in new_keys)
    main = next((c for c in split_changes if c.name == eval_split), None)
    new_n = ((new_doc.get("errors") or {}).get(eval_split) or {}).get("n")
    comparison = Comparison(
        previous=previous, source=source, paired=how is not None, matched_by=how,
        matched_rows=None if i is None or how is None else int(i.size), eval_split=eval_split,
        splits=split_changes, components=_component_changes(new_doc, old_doc, same_goal), classes=_moved(classes),
        slices=_moved(slices), new_findings=new_findings, resolved_findings=resolved, kept_findings=int(kept),
        regression=bool(main and main.verdict == "worse"), improvement=bool(main and main.verdict == "better"),
        text="", confidence=confidence, notes=notes, metric=metric, unchecked_findings=unchecked)
    partial = bool(main and main.paired and new_n and main.n is not None and main.n < new_n)
    return replace(comparison, text=comparison_line(comparison, partial))


def _pts(x: float) -> str:
    return f"{x * 100:+.1f} pts".replace("-", "−")


def comparison_line(c: Comparison, partial: bool = False) -> str:
    """One sentence for the verdict: the evaluation split's error then and now (on the
    matched rows when not all of the split's rows matched, so it can differ from the
    verdict's error of the whole split)."""
    where = f"Against the previous run ({shown_path(c.previous)})"
    main = next((s for s in c.splits if s.name == c.eval_split), None)
    if main is None or main.change is None:
        return f"{where}: no split to compare."
    word = {"better": "better", "worse": "worse", "no_change": "no change beyond noise",
            "not_comparable": "no interval to decide"}[main.verdict]
    how = (f"paired on {main.n:,.0f} rows matched by {c.matched_by}" if main.paired
           else "independent samples")
    ci = "" if main.ci is None else (
        f" ({c.confidence:.0%} interval {_pts(main.ci[0])} to {_pts(main.ci[1])}, {how})")
    on = f" on the {main.n:,.0f} matched rows" if partial else ""
    name = "balanced error" if c.metric == "balanced_error" else "error"
    return (f"{where}: {main.name} {name}{on} {main.old:.1%} → {main.new:.1%}, {_pts(main.change)}{ci}: {word}.")


def previous_name(compare: Any) -> str:
    if isinstance(compare, (str, Path)):
        return str(compare)
    if isinstance(compare, pd.DataFrame):
        return "DataFrame"
    return table_kind(compare) or type(compare).__name__
