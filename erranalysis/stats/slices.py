"""Error analysis on the metadata columns: weak slices, cohorts, shifted features,
examples to look at, likely label errors and leakage of metadata across splits.

Methods that need rows (the cohort tree, the domain classifier, label errors) work on
a deterministic sample when the table is large; the result says how many rows they saw.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..io.validate import SPLITS, Predictions, class_text
from ..result import (Cohort, FeatureShift, Interval, Record, SliceAnalysis, SliceDecomposition, SliceStat,
                      SplitErrorRate)
from ..settings import Settings
from ..sources import held_out_rows
from .accumulate import HELD_OUT, ID_SKETCH_CAPACITY, SKETCH_CAPACITY, Accumulator
from .columns import (MAX_CATEGORIES, NUM_BINS, column_kind, grouped, numeric_values, quantile_cuts, time_step,
                      time_text, time_values)
from .confident import label_issues, ranked_label_issues
from .intervals import chi_square, difference_interval, wilson, wilson_array, z_value
from .rows import SAMPLE_ROWS, TRAIN_SAMPLE_ROWS, fmix64
from .tree import Tree, fit_tree

_SEED = 20260101
#: Numbers given to the fitted models stay within float32, which the trees use.
_FLOAT32_LIMIT = 3.0e38


# ------------------------------------------------------------------------- columns


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (as ``scipy.stats.false_discovery_control``,
    without importing scipy.stats, which costs most of a second at start-up)."""
    n = p.size
    if n == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = np.clip(p[order], 0.0, 1.0) * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def ks_two_sample(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov statistic and its asymptotic p-value."""
    from scipy.special import kolmogorov

    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    d = float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                            - np.searchsorted(b, grid, side="right") / b.size)))
    en = math.sqrt(a.size * b.size / (a.size + b.size))
    return d, float(kolmogorov(en * d))


# ------------------------------------------------------------------------- slices


def _pooled(array: np.ndarray, codes: tuple) -> np.ndarray:
    """Sum of ``array[code]`` over the split codes (a table's per-split counts, pooled)."""
    return array[list(codes)].sum(axis=0)


def _split_totals(tables: dict, codes: tuple):
    """(rows, weighted rows, sum of w², weighted errors) of the pooled splits, from any table."""
    for t in tables.values():
        if not t.dropped:
            counts = _pooled(t.counts, codes)
            n = float(counts.sum())
            if t.wsum is None:
                return n, n, n, float(counts[:, 1].sum())
            wsum = _pooled(t.wsum, codes)
            return n, float(wsum.sum()), float(_pooled(t.w2sum, codes).sum()), float(wsum[:, 1].sum())
    return 0.0, 0.0, 0.0, 0.0


def slice_p_values(e: np.ndarray, n_eff: np.ndarray, rest_rate: np.ndarray, z_p: np.ndarray) -> np.ndarray:
    """One-sided p-values of "the slice's error exceeds the rest's".

    The larger of two: the exact binomial tail P(X >= e) for X ~ Bin(n, rest rate)
    (the normal approximation understates it for slices of tens of rows: 9 errors in
    16 rows against a 7.7% rate give 6.6e-7 exactly, 1.6e-13 by z), and the
    two-proportion z test (which accounts for the uncertainty of
    the rest's rate when the slice is a large part of the split). Counts may be
    fractional (Kish effective rows): the tail is the regularised incomplete beta.
    """
    from scipy.special import betainc

    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(
            e <= 0, 1.0,
            np.where(rest_rate <= 0, 0.0,
                     betainc(np.maximum(e, 1e-12), np.maximum(n_eff - e + 1, 1e-12), np.clip(rest_rate, 0, 1))))
    return np.maximum(np.nan_to_num(tail, nan=1.0), z_p)


def weak_slices(tables: dict, split_codes, settings: Settings) -> tuple[list[SliceStat], list[Record], float]:
    """Error per slice of every metadata column on the pooled ``split_codes``, ranked by
    excess errors.

    Each slice is tested against the rest of the pooled rows (one-sided, the larger of
    an exact binomial tail and a two-proportion z test: see :func:`slice_p_values`);
    the p-values of all slices of all columns are adjusted together with
    Benjamini–Hochberg, so the share of false discoveries among the slices called
    significant stays below ``slice_fdr``.
    """
    from scipy.special import ndtr

    codes = (split_codes,) if isinstance(split_codes, (int, np.integer)) else tuple(split_codes)
    n_all, w_all, w2_all, e_all = _split_totals(tables, codes)
    # Weights are rescaled to sum to the row count, so errors stay in row units; the
    # tests and intervals use Kish effective counts, as the split errors do.
    scale = n_all / w_all if w_all > 0 else 1.0
    total_err, total_w2 = e_all * scale, w2_all * scale * scale
    overall = total_err / n_all if n_all else float("nan")
    stats, columns, pending = [], [], []
    for col, table in tables.items():
        sliced = table.slicing()
        if sliced is None:
            continue
        mapping, names = sliced
        columns.append({"column": col, "kind": table.kind, "slices": len(names)})
        size = len(names)
        per_split = grouped(table.counts[list(codes)], mapping, size)  # [split, slice, wrong]
        counts = per_split.sum(axis=0)  # [slice, wrong]
        rows = counts.sum(axis=1)
        if table.wsum is None:
            n, w2, e = rows, rows, counts[:, 1]
        else:
            wsum = grouped(_pooled(table.wsum, codes)[None], mapping, size)[0] * scale
            n, e = wsum.sum(axis=1), wsum[:, 1]
            w2 = grouped(_pooled(table.w2sum, codes)[None, :, None], mapping, size)[0, :, 0] * scale * scale
        for i, name in enumerate(names):
            # w2 is 0 with rows only when their weights are so far below the largest that
            # their squares underflow: such a slice weighs nothing.
            if rows[i] == 0 or n[i] <= 0 or w2[i] <= 0:
                continue
            n_eff = n[i] ** 2 / w2[i]
            rest_n, rest_e, rest_w2 = n_all - n[i], total_err - e[i], total_w2 - w2[i]
            p_s = e[i] / n[i]
            if rest_n > 0 and rest_w2 > 0:
                rest_eff = rest_n ** 2 / rest_w2
                pooled = total_err / n_all
                se = math.sqrt(max(pooled * (1 - pooled) * (1 / n_eff + 1 / rest_eff), 1e-300))
                z = (p_s - rest_e / rest_n) / se
                p_value = float(1 - ndtr(z))
                rest_rate = rest_e / rest_n
            else:
                p_value, rest_rate = 1.0, 1.0
            split_rows = per_split[:, i].sum(axis=1)
            by_split = {SPLITS[c]: (int(r), float(per_split[j, i, 1] / r)) for j, (c, r) in
                        enumerate(zip(codes, split_rows)) if r > 0}
            pending.append((col, name, int(rows[i]), float(e[i]), p_s, p_value, float(n[i]), float(n_eff),
                            rest_rate, by_split))
    if not pending:
        return [], columns, overall
    n_eff = np.array([x[7] for x in pending])
    p = slice_p_values(np.array([x[4] for x in pending]) * n_eff, n_eff, np.array([x[8] for x in pending]),
                       np.array([x[5] for x in pending]))
    q = benjamini_hochberg(p)
    lo, hi = wilson_array(np.array([x[4] for x in pending]), n_eff, settings.confidence)
    for j, (col, name, n_s, e_s, p_s, _, n_w, _, _, by_split) in enumerate(pending):
        excess = e_s - n_w * overall
        significant = bool(q[j] < settings.slice_fdr and n_s >= settings.min_support
                           and p_s >= overall * settings.slice_min_ratio and excess >= settings.slice_min_excess)
        stats.append(SliceStat(col, name, n_s, e_s, p_s, (float(lo[j]), float(hi[j])),
                               e_s / total_err if total_err else 0.0, excess, float(p[j]), float(q[j]), significant,
                               by_split))
    stats.sort(key=lambda s: -s.excess_errors)
    return stats, columns, overall


def slice_decompositions(tables: dict, columns: list[str], goal, metric, settings: Settings) -> list[SliceDecomposition]:
    """The error decomposition per value of the given columns (shift told apart from bias)."""
    from .decomposition import decompose
    from .intervals import wilson

    out = []
    sliced = {}
    for col in columns:
        s = tables[col].slicing() if col in tables else None
        if s is not None and len(s[1]) <= 12:
            sliced[col] = s
    # Many slices are judged at once (and decompose() adjusts for the terms within each):
    # a Bonferroni-adjusted confidence keeps chance from making some slice's term "material".
    tested = sum(len(names) for _, names in sliced.values())
    settings = settings.replace(confidence=1 - (1 - settings.confidence) / max(tested, 1))
    for col, (mapping, names) in sliced.items():
        counts = grouped(tables[col].counts, mapping, len(names))  # [split, slice, wrong]
        for i, name in enumerate(names):
            errors, rows = {}, {}
            for s_code, split in enumerate(SPLITS):
                n = int(counts[s_code, i].sum())
                if n == 0:
                    continue
                rows[split] = n
                if n < settings.min_support:
                    continue
                err = float(counts[s_code, i, 1] / n)
                errors[split] = SplitErrorRate(split, err, wilson(err, n, settings.confidence), n, float(n))
            if len(errors) < 2:
                out.append(SliceDecomposition(col, name, rows, {s: e.error for s, e in errors.items()}, {}, "too_small"))
                continue
            dec = decompose(errors, goal, "error", settings)
            comps = {
                k: None if c is None else {"value": c.value, "ci": c.ci, "verdict": c.verdict}
                for k, c in dec.components.items()
            }
            material = {k: c.value for k, c in dec.components.items() if c is not None and c.verdict == "material"}
            pattern = {"avoidable_bias": "bias", "variance": "variance", "distribution_shift": "shift",
                       "val_overfitting": "val_overfitting"}.get(
                max(material, key=material.__getitem__) if material else "", "none")
            out.append(SliceDecomposition(col, name, rows, {s: e.error for s, e in errors.items()}, comps, pattern))
    return out


# ------------------------------------------------------------------------- samples and features


def _sample(idx: np.ndarray, limit: int) -> np.ndarray:
    """The first ``limit`` of ``idx``: the rows of the sample are in a random (key) order."""
    return idx[:limit]


def feature_matrix(meta: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, list[str], list[bool], dict, dict]:
    """Numeric matrix of the metadata on ``rows`` (categoricals as codes of their most
    frequent values among those rows), the category names of each categorical, and for
    each numeric or time column a function that writes a threshold in its terms.

    Times (in seconds) are centred on the rows' median, so that the trees keep the
    precision of their thresholds, and every number is held within float32's range:
    infinite or huge values are the largest ones instead of an error.
    """
    cols, names, categorical, categories, shown = [], [], [], {}, {}
    for col in meta.columns:
        values = meta[col].iloc[rows]
        kind = column_kind(values)
        if kind != "categorical":
            x = time_values(values) if kind == "time" else numeric_values(values)
            finite = x[np.isfinite(x)]
            centre = float(np.median(finite)) if kind == "time" and finite.size else 0.0
            with np.errstate(invalid="ignore", over="ignore"):
                x = np.clip(x - centre, -_FLOAT32_LIMIT, _FLOAT32_LIMIT)
            cols.append(x)
            categorical.append(False)
            shown[col] = _threshold_text(kind, centre, finite)
        else:
            text = values.astype(object).astype("string").fillna("(missing)")
            counts = text.value_counts()
            # Most frequent first, ties by text: the same codes whatever the column's dtype.
            counts = counts.iloc[sorted(range(len(counts)), key=lambda i: (-counts.iloc[i], str(counts.index[i])))]
            if len(counts) > 0.5 * len(text) or len(counts) < 2:
                continue
            top = counts.index[:MAX_CATEGORIES]
            codes = pd.Index(top).get_indexer(text).astype(float)
            codes[codes < 0] = len(top)
            cols.append(codes)
            categorical.append(True)
            categories[col] = [str(v) for v in top] + (["(other)"] if len(counts) > MAX_CATEGORIES else [])
        names.append(col)
    if not cols:
        return np.empty((rows.size, 0)), [], [], {}, {}
    return np.column_stack(cols), names, categorical, categories, shown


def _threshold_text(kind: str, centre: float, finite: np.ndarray):
    """How a tree's threshold on a centred column reads: as a time rounded down to the
    column's unit (a row is at or below the threshold when it is at or below that time),
    or as a number with enough digits for the column's spread."""
    if kind == "time":
        step = time_step(finite)

        def text(threshold: float) -> str:
            value = threshold + centre
            if 1 <= step < math.inf and math.isfinite(value):
                value = math.floor(value / step) * step
            return time_text(value, step)

        return text
    with np.errstate(over="ignore"):
        spread = float(finite.max() - finite.min()) if finite.size else 0.0
        # Digits enough to tell thresholds apart across the spread, however far from zero
        # the values sit (unix seconds over a day need 10).
        far = abs(centre) if centre else (float(np.abs(finite).max()) if finite.size else 0.0)
        ratio = far / spread if spread > 0 and math.isfinite(spread) else 1.0
    digits = min(17, 4 + max(0, math.ceil(math.log10(ratio)) - 1)) if ratio > 1 else 4

    def number_text(threshold: float) -> str:
        value = threshold + centre
        # Whole numbers with more digits than that are written out (1600050000, not
        # 1.60005e+09), up to where floats stop holding whole numbers exactly.
        if math.isfinite(value) and 10 ** digits <= abs(value) < 1e16:
            return f"{value:.0f}"
        return f"{value:.{digits}g}"

    return number_text


def _rule_text(t: Tree, feature_names, categorical, categories, shown, leaf) -> str:
    """The path to ``leaf`` as a readable rule."""
    parent = {}
    for node in range(t.node_count):
        for child, side in ((t.children_left[node], "le"), (t.children_right[node], "gt")):
            if child >= 0:
                parent[child] = (node, side)
    conds = []
    node = leaf
    while node in parent:
        p, side = parent[node]
        f, thr = t.feature[p], t.threshold[p]
        name = feature_names[f]
        if categorical[f]:
            cats = categories[name]
            chosen = [c for i, c in enumerate(cats) if (i <= thr) == (side == "le")]
            if not chosen:
                node = p
                continue
            chosen = chosen[:4] + (["…"] if len(chosen) > 4 else [])
            conds.append(f"{name} in {{{', '.join(chosen)}}}")
        else:
            conds.append(f"{name} {'≤' if side == 'le' else '>'} {shown[name](float(thr))}")
        node = p
    return " and ".join(reversed(conds)) or "all rows"


def error_cohorts(preds: Predictions, settings: Settings) -> tuple[list[Cohort], int]:
    """Readable rules for where errors concentrate, from a shallow decision tree.

    The tree learns "is this row an error" from the metadata on one half of the
    val/test rows; each leaf is then measured on the other half, and only leaves whose
    held-out error is significantly above that of the other held-out rows (a
    two-sample interval, Bonferroni over the leaves) are kept.
    """
    if preds.meta is None:
        return [], 0
    held = np.flatnonzero(np.isin(preds.split, [SPLITS.index("val"), SPLITS.index("test")]))
    if held.size == 0:
        held = np.flatnonzero(preds.split == preds.split.max())
    rows = _sample(held, SAMPLE_ROWS // 2)
    X, names, categorical, categories, shown = feature_matrix(preds.meta, rows)
    if X.shape[1] == 0 or rows.size < 4 * settings.cohort_min_rows:
        return [], int(rows.size)
    wrong = (preds.y[rows] != preds.pred[rows]).astype(int)
    if wrong.sum() < 10:
        return [], int(rows.size)
    rng = np.random.default_rng(_SEED)
    fit = rng.random(rows.size) < 0.5
    X = np.nan_to_num(X, nan=-1e12)
    min_leaf = max(settings.cohort_min_rows, int(0.02 * fit.sum()))
    tree = fit_tree(X[fit], wrong[fit], max_depth=3, min_samples_leaf=min_leaf)
    leaves_fit = tree.apply(X[fit])
    leaves_hold = tree.apply(X[~fit])
    overall = wrong[~fit].mean()
    n_hold = int((~fit).sum())
    out = []
    # Only the leaves where the fitting half saw errors concentrate are hypotheses; the
    # held-out half then tests them (a leaf that was clean in the fitting half and is
    # poor in the held-out one is chance, whichever half it is).
    fit_overall = wrong[fit].mean()
    leaves = np.array([leaf for leaf in np.unique(leaves_fit)
                       if wrong[fit][leaves_fit == leaf].mean() >= fit_overall * settings.slice_min_ratio])
    # Every leaf is tested: a Bonferroni-adjusted interval keeps chance leaves out.
    adjusted = 1 - settings.cohort_alpha / max(leaves.size, 1)
    for leaf in leaves:
        in_fit = leaves_fit == leaf
        in_hold = leaves_hold == leaf
        n_h = int(in_hold.sum())
        if n_h < settings.cohort_min_rows:
            continue
        err_h = float(wrong[~fit][in_hold].mean())
        lo, hi = wilson(err_h, n_h, settings.confidence)
        # The leaf against the other held-out rows (both rates are estimates): Newcombe's
        # interval of the difference, at the Bonferroni-adjusted level, must exclude zero.
        n_rest = int(n_hold - n_h)
        if n_rest == 0:
            continue
        err_rest = float(wrong[~fit][~in_hold].mean())
        low, _ = difference_interval(err_rest, wilson(err_rest, n_rest, adjusted),
                                     err_h, wilson(err_h, n_h, adjusted))
        if low <= 0 or err_h < overall * settings.slice_min_ratio:
            continue
        out.append(Cohort(
            rule=_rule_text(tree, names, categorical, categories, shown, leaf),
            n=int(in_fit.sum()),
            error=float(wrong[fit][in_fit].mean()),
            share_of_rows=float(in_fit.mean()),
            holdout_n=n_h,
            holdout_error=err_h,
            holdout_ci=(lo, hi),
        ))
    out.sort(key=lambda c: -(c.holdout_error - overall) * c.share_of_rows)
    return out, int(rows.size)


def _psi(a: np.ndarray, b: np.ndarray) -> float:
    """Population stability index between two histograms of the same bins."""
    pa = (a + 0.5) / (a.sum() + 0.5 * a.size)
    pb = (b + 0.5) / (b.sum() + 0.5 * b.size)
    return float(np.sum((pb - pa) * np.log(pb / pa)))


def _binned_ks(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Kolmogorov–Smirnov statistic of two histograms on the same fine bins, with its
    asymptotic p-value (the largest gap between the two CDFs at the bin edges)."""
    from scipy.special import kolmogorov

    na, nb = a.sum(), b.sum()
    d = float(np.max(np.abs(np.cumsum(a) / na - np.cumsum(b) / nb)))
    return d, float(kolmogorov(math.sqrt(na * nb / (na + nb)) * d))


def feature_shift(tables: dict, sample: Predictions,
                  settings: Settings) -> tuple[list[FeatureShift], float | None, Interval | None, int]:
    """Which metadata features differ between train and val/test.

    Per feature, on every row: Kolmogorov–Smirnov (numeric, on the fine bins) or
    chi-square (categorical) and the population stability index; a feature moved when
    its test is significant after a Bonferroni correction and its PSI reaches
    ``shift_min_psi``. Overall, on the sample: a gradient-boosted domain classifier
    telling train from val/test (:func:`~erranalysis.stats.boosting.domain_auc`), with
    its two-fold cross-fitted ROC AUC and a Hanley–McNeil interval (0.5 means no shift).
    """
    train, later = SPLITS.index("train"), [SPLITS.index("val"), SPLITS.index("test")]
    measured = []
    usable = {}
    for col, table in tables.items():
        sliced = table.slicing()
        if sliced is None:
            continue
        usable[col] = sliced
        rows = table.rows()
        ra, rb = rows[train], rows[later].sum(axis=0)
        if ra.sum() < 50 or rb.sum() < 50:
            continue
        if table.kind == "categorical":
            mapping, names = sliced
            ca = np.bincount(mapping, weights=ra, minlength=len(names))
            cb = np.bincount(mapping, weights=rb, minlength=len(names))
            keep = (ca + cb) > 0
            stat, p = chi_square(np.vstack([ca[keep], cb[keep]]))
            psi = _psi(ca[keep], cb[keep])
        else:
            fa, fb = ra[:NUM_BINS], rb[:NUM_BINS]
            if fa.sum() < 10 or fb.sum() < 10:
                continue
            stat, p = _binned_ks(fa, fb)
            cuts = np.array(quantile_cuts(fa, 10), dtype=np.int64)
            bins = np.searchsorted(cuts, np.arange(NUM_BINS), side="right")
            psi = _psi(np.bincount(bins, weights=fa, minlength=cuts.size + 1),
                       np.bincount(bins, weights=fb, minlength=cuts.size + 1))
        measured.append((col, table.kind, float(stat), float(p), psi))
    tests = len(measured)
    out = [FeatureShift(col, kind, stat, p, psi, bool(p * tests < 0.01 and psi >= settings.shift_min_psi))
           for col, kind, stat, p, psi in measured]
    out.sort(key=lambda f: -f.psi)
    meta = sample.meta
    if not out or meta is None:
        return out, None, None, 0

    a_rows = _sample(np.flatnonzero(sample.split == train), TRAIN_SAMPLE_ROWS)
    b_rows = _sample(np.flatnonzero(np.isin(sample.split, later)), TRAIN_SAMPLE_ROWS)
    if a_rows.size < 50 or b_rows.size < 50:
        return out, None, None, 0
    rows = np.concatenate([a_rows, b_rows])
    X, names, categorical, _, _ = feature_matrix(meta[[c for c in meta.columns if c in usable]], rows)
    if X.shape[1] == 0:
        return out, None, None, 0
    domain = np.r_[np.zeros(a_rows.size), np.ones(b_rows.size)]
    from .boosting import domain_auc  # imports scipy.special

    auc = domain_auc(X, domain, np.array(categorical, dtype=bool))
    n1, n2 = a_rows.size, b_rows.size
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt(max((auc * (1 - auc) + (n2 - 1) * (q1 - auc * auc) + (n1 - 1) * (q2 - auc * auc)) / (n1 * n2), 0.0))
    z = z_value(settings.confidence)
    ci = (max(0.0, auc - z * se), min(1.0, auc + z * se))
    return out, auc, ci, int(rows.size)


# ------------------------------------------------------------------------- rows to look at


def _row_dict(preds: Predictions, i: int, loss: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "row": int(i if preds.rows is None else preds.rows[i]),
        "split": SPLITS[preds.split[i]],
        "label": class_text(preds.classes[preds.y[i]]),
        "pred": class_text(preds.classes[preds.pred[i]]),
        "loss": float(loss),
    }
    if out["row"] < 0:
        del out["row"]  # no row numbers where rows have no global order (Spark)
    if preds.ids is not None:
        out["id"] = str(preds.ids[i])
    if preds.meta is not None:
        for col in list(preds.meta.columns)[:6]:
            value = preds.meta[col].iloc[i]
            # A metadata column may be called "label" or "row" too: it never hides those fields.
            key = col if col not in out else f"{col} (metadata)"
            out[key] = None if pd.isna(value) else (value.item() if hasattr(value, "item") else str(value))
    return out


def _index_value(label):
    """A DataFrame index label as a JSON value: numbers and text as they are, times as
    ISO text, a MultiIndex tuple as a list, anything else as its text."""
    if isinstance(label, tuple):
        return [_index_value(v) for v in label]
    if label is None or (not isinstance(label, str) and pd.isna(label)):
        return None
    if isinstance(label, (bool, np.bool_)):
        return bool(label)
    if isinstance(label, (int, np.integer)):
        return int(label)
    if isinstance(label, (float, np.floating)):
        return float(label)
    if isinstance(label, (pd.Timestamp, pd.Timedelta)):
        return label.isoformat()
    return label if isinstance(label, str) else str(label)


def _index_text(value) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_index_text(v) for v in value) + ")"
    return repr(value) if isinstance(value, str) else str(value)


def locate(rows: list[dict], index: pd.Index | None = None, files: list | None = None) -> list[dict]:
    """The example rows, each with a ``locator`` a user can find the row by.

    The id when the input has one; else the split and, for a DataFrame with an index of
    its own, the index label (also given as ``index``; with the position beside it when
    several rows share the label); else the row's 0-based position
    in the input (``df.iloc``, pyarrow's row index), within its file when the input is
    several files (``files``: ``(first row, path)`` pairs, in row order). Only the few
    example rows are looked up, by position, once the pass is over.
    """
    if not rows:
        return rows
    labels = None
    if index is not None:
        at = np.array([r.get("row", -1) for r in rows], dtype=np.int64)
        found = (at >= 0) & (at < len(index))
        labels = {int(i): _index_value(index[int(i)]) for i in at[found]}
    # A label shared by several rows does not find one row: the position goes with it.
    shared = index is not None and not index.is_unique
    starts = None if not files else np.array([start for start, _ in files], dtype=np.int64)
    out = []
    for r in rows:
        where, row = r["split"], r.get("row")
        extra = {"index": labels[row]} if labels is not None and row in labels else {}
        if r.get("id") is not None:
            text = f"id {r['id']}"
        elif extra:
            text = f"{where} index {_index_text(extra['index'])}" + (f" (row {row})" if shared else "")
        elif row is not None and files and starts is not None:
            k = int(np.searchsorted(starts, row, side="right")) - 1
            text = f"{where} row {row - files[k][0]} of {files[k][1]}"
        elif row is not None:
            text = f"{where} row {row}"
        else:
            text = f"{where}, row unknown"  # rows without an order (Spark partitions)
        out.append({"locator": text, **r, **extra})
    return out


def top_losses(top: Predictions) -> dict:
    """The highest-loss rows of each split, from the rows the pass kept (highest loss first)."""
    if top is None or top.loss is None:
        return {}
    out = {}
    for s_code, split in enumerate(SPLITS):
        idx = np.flatnonzero(top.split == s_code)
        if idx.size:
            idx = idx[np.argsort(-top.loss[idx], kind="stable")]
            out[split] = [_row_dict(top, int(i), top.loss[i]) for i in idx]
    return out


#: Seed of the hash behind the labels drawn from the model's probabilities.
LABEL_DRAW_SEED = 20_240_601


def _prob_hash(probs: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's probabilities, sorted (blind to the class order) and
    quantised to 2^-32."""

    ranked = -np.sort(-probs, axis=1)
    # Quantised to 2^-32 first: the same probabilities read in another column order may
    # differ in their last bits after normalisation.
    bits = np.round(np.clip(ranked, 0.0, 1.0) * 2.0 ** 32).astype(np.uint64)
    h = np.full(probs.shape[0], np.uint64(LABEL_DRAW_SEED), dtype=np.uint64)
    for j in range(bits.shape[1]):
        h ^= bits[:, j]
        h = fmix64(h)
    return h


def _draw_labels(probs: np.ndarray) -> np.ndarray:
    """One label per row drawn from its probabilities (vectorised inverse CDF).

    The draw depends only on the rows' probabilities, not on class names, class order
    or row order: the classes are walked from most to least probable, and the uniform
    numbers come from a hash of each row's sorted probabilities. Rows that share a
    vector (a tree's leaves, a kNN's fractions) are stratified: the m rows of a group
    get the m evenly spaced numbers (r + 0.5)/m shifted by the group's hash, so their
    labels follow the probabilities instead of all drawing the same one.
    """
    n = probs.shape[0]
    order = np.argsort(-probs, axis=1, kind="stable")
    ranked = np.take_along_axis(probs, order, axis=1)
    h = _prob_hash(probs)
    by_hash = np.argsort(h, kind="stable")
    sorted_h = h[by_hash]
    starts = np.flatnonzero(np.r_[True, sorted_h[1:] != sorted_h[:-1]])
    sizes = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, sizes)
    shift = (sorted_h >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    u = np.empty(n)
    u[by_hash] = np.mod(shift + (rank + 0.5) / np.repeat(sizes, sizes), 1.0)
    cum = np.cumsum(ranked, axis=1)
    pick = np.minimum((cum < u[:, None] * cum[:, -1:]).sum(axis=1), probs.shape[1] - 1)
    return order[np.arange(n), pick]


def label_errors(preds: Predictions, held_out_rows: int, shown: int = 20) -> dict:
    """Likely label errors by confident learning (:mod:`.confident`) on the held-out splits.

    Only rows the model did not train on (train_val, val, test) are examined: on
    training rows the probabilities are fitted to the very labels being checked.
    ``expected_if_clean`` is the count flagged when the same rows get labels drawn from
    the model's own probabilities: what a calibrated model on clean labels shows.
    ``preds`` is the sample; ``held_out_rows`` the held-out rows of the whole table.
    """
    if preds.proba is None:
        return {}
    held = np.flatnonzero(preds.split != SPLITS.index("train"))
    if held.size < 50:
        return {}
    rows = _sample(held, SAMPLE_ROWS)
    labels = preds.y[rows]
    present = np.unique(labels)
    if present.size < 2:
        return {}
    # Confident learning wants classes 0..m-1 that all occur: keep the columns of present classes.
    remap = np.full(preds.n_classes, -1)
    remap[present] = np.arange(present.size)
    probs = preds.proba[rows][:, present]
    probs = probs / np.clip(probs.sum(axis=1, keepdims=True), 1e-12, None)
    # A row order that depends on neither class names nor input order (ties are broken
    # by position): by the hash of each row's sorted probabilities, then by the
    # probability of its given label.
    by_content = np.lexsort((probs[np.arange(rows.size), remap[labels]], _prob_hash(probs)))
    rows, labels, probs = rows[by_content], labels[by_content], probs[by_content]
    # Rounding ties are also broken by class index: put the classes in an order
    # that depends on their rows, not their names (most frequent first, then by mass).
    given = remap[labels]
    canon = np.lexsort((-probs.sum(axis=0), -np.bincount(given, minlength=present.size)))
    to_canon = np.empty_like(canon)
    to_canon[canon] = np.arange(canon.size)
    probs = probs[:, canon]
    remap[present] = to_canon
    ranked = ranked_label_issues(remap[labels], probs)
    # What the model's own uncertainty gives: labels drawn from its probabilities are
    # clean by construction, so the rows flagged among them are its confident mistakes.
    drawn = _draw_labels(probs)
    expected = int(label_issues(drawn, probs).sum()) if np.unique(drawn).size == present.size else None
    # Overconfidence where labels are not in question: on the rows confident learning
    # does not flag, wrong labels are rare, so confidence above accuracy there is the
    # model's own (and its confident mistakes elsewhere are no evidence of wrong labels).
    kept = np.ones(rows.size, dtype=bool)
    kept[ranked] = False
    over = None
    if kept.sum() >= 50:
        confidence = probs[kept].max(axis=1)
        right = (probs[kept].argmax(axis=1) == remap[labels][kept])
        acc = float(right.mean())
        over = {"gap": float(confidence.mean() - acc),
                "se": float(math.sqrt(max(acc * (1 - acc), 1.0 / kept.sum()) / kept.sum()))}
    flagged = rows[ranked]
    from .aggregates import cross_entropy

    loss = cross_entropy(preds.proba[flagged], preds.y[flagged]) if flagged.size else np.empty(0)
    examples = []
    for i, l in zip(flagged[:shown], loss[:shown]):
        d = _row_dict(preds, int(i), l)
        d["suggested"] = class_text(preds.classes[int(np.argmax(preds.proba[i]))])
        examples.append(d)
    return {
        "count": int(flagged.size),
        "expected_if_clean": expected,
        "overconfidence": over,
        "sharp_share": float((probs.max(axis=1) >= 1 - 1e-9).mean()),
        "examined": int(rows.size),
        "share": float(flagged.size / rows.size),
        "sampled": bool(rows.size < held_out_rows),
        "examples": examples,
    }


def duplicate_metadata(sketch, held_out: int, alpha: float = 1e-3) -> dict:
    """Distinct val/test metadata rows that repeat a train row exactly, against chance.

    Returns ``{rows, expected, p_value, beyond_chance, exact}``. Held-out rows drawn
    from the training distribution repeat a train row as often as train rows repeat
    each other: with c train rows of which D are distinct, a new row meets an earlier
    one with probability about 2(c − D)/c while repeats are sparse (the birthday
    regime). ``expected`` is that probability times the distinct held-out rows; the
    repeats are beyond chance when a Poisson count with that mean reaches the observed
    one with probability below ``alpha`` (``Settings.duplicate_alpha``). Beyond the sketch's capacity the
    counts are estimated from the hashes it kept.
    """
    from scipy.special import pdtrc

    train = SPLITS.index("train")
    if sketch is None or sketch.counts.get(train, 0) < 20 or not sketch.counts.get(held_out, 0):
        return {}
    distinct, exact_train = sketch.distinct(train)
    held_distinct, exact_held = sketch.distinct(held_out)
    rows = sketch.counts[train]
    chance = min(1.0, 2.0 * max(rows - distinct, 0.0) / rows)
    expected = chance * held_distinct
    count, exact = sketch.shared(train, held_out)
    count = int(round(count))
    p_value = float(pdtrc(count - 1, expected)) if count > 0 and expected > 0 else (0.0 if count > 0 else 1.0)
    return {"rows": count, "expected": float(expected), "p_value": p_value,
            "beyond_chance": bool(count > 0 and p_value < alpha and count >= 2 * expected),
            "exact": bool(exact and exact_train and exact_held)}


#: A categorical column with at most this many slices is decomposed even when no slice
#: of it is weak: its few slices read as a table.
SMALL_COLUMN_SLICES = 6
#: At most this many columns get a decomposition per slice.
MAX_DECOMPOSED_COLUMNS = 4


def decomposed_columns(stats: list[SliceStat], columns: list[dict]) -> list[str]:
    """The columns whose slices get a decomposition: those with a weak slice (weakest
    first), then small categorical ones, at most :data:`MAX_DECOMPOSED_COLUMNS`."""
    weak = list(dict.fromkeys(s.column for s in stats if s.significant))
    small = [c["column"] for c in columns
             if c["kind"] == "categorical" and c["slices"] <= SMALL_COLUMN_SLICES and c["column"] not in weak]
    return (weak + small)[:MAX_DECOMPOSED_COLUMNS]


# ------------------------------------------------------------------------- the whole analysis


def slice_analysis(acc: Accumulator, base: Predictions, sample: Predictions, pool: list[str], goal: float | None,
                   metric: str, settings: Settings, index: pd.Index | None = None,
                   files: list | None = None) -> SliceAnalysis:
    """Error analysis on the metadata columns (on the pooled held-out splits ``pool``),
    the examples to look at and the likely label errors, built whole.

    Each example row gets a locator (see :func:`locate`): ``index`` is the input
    DataFrame's index, ``files`` the ``(first row, path)`` of each input file.
    """
    metadata = _metadata_figures(acc, sample, pool, goal, metric, settings) if acc.tables else {}
    label_found = label_errors(sample, held_out_rows(acc.aggs))
    if label_found.get("examples"):
        label_found = {**label_found, "examples": locate(label_found["examples"], index, files)}
    notes = list(metadata.pop("notes", []))
    if acc.ids is not None and any(acc.ids.settle().full.values()):
        notes.append(f"Ids shared between splits are estimated from a sketch of {ID_SKETCH_CAPACITY:,} "
                     "id hashes per split (a split has more distinct ids).")
    sampled = _sampled_note(acc, metadata.get("cohort_rows", 0), metadata.get("domain_rows", 0),
                            bool(label_found.get("sampled", False)))
    return SliceAnalysis(
        split="/".join(pool),
        overall_error=metadata.pop("overall_error", None),
        splits=list(pool),
        top_losses={s: locate(rows, index, files) for s, rows in top_losses(acc.top_predictions(base)).items()},
        label_errors=label_found,
        notes=notes + sampled,
        **metadata,
    )


def _metadata_figures(acc: Accumulator, sample: Predictions, pool: list[str], goal: float | None, metric: str,
                      settings: Settings) -> dict[str, Any]:
    """The fields of :class:`SliceAnalysis` measured on the metadata columns: weak slices,
    their decompositions, error cohorts, shifted features and repeated rows."""
    tables = acc.tables
    stats, columns, overall = weak_slices(tables, [SPLITS.index(s) for s in pool], settings)
    cohorts, cohort_rows = error_cohorts(sample, settings)
    features, auc, ci, rows = feature_shift(tables, sample, settings)
    duplicates = duplicate_metadata(acc.meta_rows, HELD_OUT, settings.duplicate_alpha)
    notes = []
    if not duplicates.get("exact", True):
        notes.append("The count of val/test metadata rows repeated from train is estimated from a "
                     f"sketch of {SKETCH_CAPACITY:,} hashes per split.")
    return {
        "slices": stats, "columns": columns, "overall_error": overall,
        "decompositions": slice_decompositions(tables, decomposed_columns(stats, columns), goal, metric, settings),
        "cohorts": cohorts, "cohort_rows": cohort_rows,
        "features": features, "domain_auc": auc, "domain_ci": ci, "domain_rows": rows,
        "duplicates": duplicates, "duplicate_rows": duplicates.get("rows", 0), "notes": notes,
    }


def _sampled_note(acc: Accumulator, cohort_rows: int, domain_rows: int, label_sampled: bool) -> list[str]:
    """The note that names the figures measured on a sample of the rows, if any are."""
    def rows_of(*names: str) -> int:
        return sum(acc.aggs[s].n_rows for s in names if s in acc.aggs)

    sampled = {
        "cohorts": cohort_rows and rows_of("val", "test") > cohort_rows,
        "the domain classifier": domain_rows and rows_of("train", "val", "test") > domain_rows,
        "label errors": label_sampled,
    }
    used = [what for what, on in sampled.items() if on]
    if not used:
        return []
    named = used[0] if len(used) == 1 else ", ".join(used[:-1]) + " and " + used[-1]
    return [f"{named.capitalize()} use a deterministic sample of the rows (at most {SAMPLE_ROWS:,}; "
            f"the same rows on every run and engine); every other figure counts all {acc.n_rows:,} rows."]
