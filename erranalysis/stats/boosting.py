"""A small histogram gradient-boosting classifier that tells two groups of rows apart.

It is the domain classifier of the feature-shift check (train rows against val/test
rows, each row scored by the model fitted on the other of two folds, the ROC AUC of
those scores the overall measure of shift), written so that the analysis need not
import scikit-learn. It grows the same trees as scikit-learn's
``HistGradientBoostingClassifier`` with the settings that check used: binary log loss,
learning rate 0.1, 60 trees of depth at most 4, 20 rows per leaf, no l2 penalty, up to
255 bins per numeric feature (quantiles of the fitting rows) and one for missing
values, categories ordered by gradient over hessian before a split is sought. As there,
a model fitted on more than 10,000 rows stops early: 10% of its rows (of each class)
are kept out of the fit, and it stops adding trees once ten trees in a row have not
lowered their log loss. Without a shift that is after a dozen or so trees.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from .metrics import roc_auc_exact

MAX_BINS = 255  # bins of non-missing values per feature
#: A model fitted on more rows than this stops early, on this share of them kept out,
#: when this many trees in a row have not lowered their loss by ``_TOLERANCE``.
EARLY_STOPPING_ROWS = 10_000
_VALIDATION_SHARE = 0.1
_PATIENCE = 10
_TOLERANCE = 1e-7
_SEED = 20_261_201
_MIN_HESSIAN = 1e-3  # no child with less hessian than this
_CAT_SMOOTH = 10.0  # shrinks a category's gradient/hessian ratio; less hessian: never sent left


def _edges(column: np.ndarray, categorical: bool) -> np.ndarray:
    """What bins a feature on the fitting rows: the sorted categories seen, or the
    thresholds between numeric bins (the midpoints between distinct values when there
    are at most 255 of them, else 254 quantiles); missing values are ignored."""
    values = column[~np.isnan(column)]
    if categorical:
        categories = np.unique(values[values >= 0])
        if categories.size > MAX_BINS:
            raise ValueError(f"A categorical feature must have at most {MAX_BINS} categories. "
                             f"Got {categories.size} instead.")
        return categories
    distinct = np.unique(values)
    if distinct.size <= 1:
        return np.empty(0)
    if distinct.size <= MAX_BINS:
        return np.minimum((distinct[:-1] + distinct[1:]) / 2, np.finfo(np.float64).max)
    cuts = np.percentile(values, np.linspace(0, 100, MAX_BINS + 1)[1:-1], method="averaged_inverted_cdf")
    return np.minimum(np.unique(cuts), np.finfo(np.float64).max)


def _bin(column: np.ndarray, edges: np.ndarray, categorical: bool, missing: int) -> np.ndarray:
    """The bin of each value: for a number, how many thresholds lie below it (a value
    equal to a threshold falls in the lower bin); for a category, its place among the
    fitting rows' categories. Missing values and unseen categories go to ``missing``."""
    out = np.searchsorted(edges, column, side="left")
    if categorical:
        seen = np.zeros(column.shape, dtype=bool)
        inside = out < edges.size
        seen[inside] = edges[out[inside]] == column[inside]
        out[~seen] = missing
    else:
        out[np.isnan(column)] = missing
    return out.astype(np.uint8)


class _Binned:
    """Both folds' rows binned for both models (model ``m`` is fitted on the rows of
    fold ``1 - m`` and scores those of fold ``m``), with what split search needs."""

    def __init__(self, X: np.ndarray, fold: np.ndarray, categorical: np.ndarray, fitting: np.ndarray):
        n, p = X.shape
        # ``fitting``: the rows that fit their model (the others only check its loss).
        self.fitting = fitting
        fits = [(fold == 1 - m) & fitting for m in (0, 1)]
        edges = [[_edges(X[fits[m], j], bool(categorical[j])) for j in range(p)] for m in (0, 1)]
        # Bins of non-missing values per model and feature; one more for numbers,
        # whose thresholds separate bins.
        end = np.array([[e.size + (not categorical[j]) for j, e in enumerate(row)] for row in edges])
        self.width = int(end.max()) + 1
        self.missing = self.width - 1
        self.fit = np.empty((p, n), dtype=np.uint8)  # each row under the model it fits
        self.held = np.empty((p, n), dtype=np.uint8)  # and under the model that scores it
        for j in range(p):
            for m in (0, 1):
                scored = fold == m
                self.fit[j, ~scored] = _bin(X[~scored, j], edges[m][j], bool(categorical[j]), self.missing)
                self.held[j, scored] = _bin(X[scored, j], edges[m][j], bool(categorical[j]), self.missing)
        # The same row by row, for routing rows through splits on different features.
        self.fit_by_row = self.fit.T.ravel()
        self.held_by_row = self.held.T.ravel()
        self.row_start = np.arange(n) * p
        # Each row's place in the histograms of the roots (model × width + bin), and
        # the rows per (model, feature, bin) there, the same for every tree.
        self.root_index = (1 - fold) * self.width + self.fit.astype(np.int64)
        self.root_counts = np.stack([np.stack([np.bincount(self.fit[j, fits[m]], minlength=self.width)
                                               for j in range(p)]) for m in (0, 1)]).astype(np.float64)
        self.has_missing = np.array([(self.fit[:, fits[m]] == self.missing).any(axis=1) for m in (0, 1)])
        self.numeric = np.flatnonzero(~categorical)
        self.cats = np.flatnonzero(categorical)
        # Categories are bins 0 .. categories - 1; split search on them packs the
        # missing bin right after those of the feature with most categories.
        self.categories = int(end[:, self.cats].max()) if self.cats.size else 0


def _gain(gl, hl, cl, sums: np.ndarray, min_leaf: int):
    """Gain of sending (gl, hl, cl) left and the rest of each node right, up to the
    node's own term; -inf where a child would have fewer than ``min_leaf`` rows or
    almost no hessian. ``sums`` holds the nodes' totals, shaped to broadcast."""
    g, h, c = sums
    gr, hr = g - gl, h - hl
    ok = (np.abs(cl - c / 2) <= c / 2 - min_leaf) & (np.minimum(hl, hr) >= _MIN_HESSIAN)
    return np.where(ok, gl * gl / hl + gr * gr / hr, -np.inf)


def _best_splits(hist: np.ndarray, sums: np.ndarray, data: _Binned,
                 min_leaf: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best split of each node: its gain (-inf when no split keeps ``min_leaf`` rows
    and some hessian on each side), feature and the bins that go left.

    A number splits at a threshold, missing values going right, or left when that
    gains strictly more. Categories with enough hessian are sorted by shrunk
    gradient/hessian ratio; a run of at most half of them from either end of that
    order goes left, the others right. Among equal gains, the first feature wins,
    then the lowest threshold (the highest when missing values go left) or the
    shortest run from the low end, as in scikit-learn.
    """
    k, p, width = hist.shape[1:]
    top = np.full((k, p), -np.inf)
    left = np.zeros((k, p, width), dtype=bool)
    nodes = np.arange(k)[:, None]
    num, cats = data.numeric, data.cats
    if num.size:
        part = hist[:, :, num]
        gl, hl, cl = np.cumsum(part[..., :-1], axis=-1)
        totals = sums[:, :, None, None]
        gain = _gain(gl, hl, cl, totals, min_leaf)
        cut = np.argmax(gain, axis=-1)
        best = np.take_along_axis(gain, cut[..., None], -1)[..., 0]
        missing_left = np.zeros(best.shape, dtype=bool)
        some = np.flatnonzero(data.has_missing[:, num].any(axis=0))  # the others: as above
        if some.size:
            miss = part[:, :, some, -1:]
            gain = _gain(gl[:, some] + miss[0], hl[:, some] + miss[1], cl[:, some] + miss[2], totals, min_leaf)
            gain = gain[..., ::-1]  # among equal gains, the highest threshold
            at = np.argmax(gain, axis=-1)
            best_down = np.take_along_axis(gain, at[..., None], -1)[..., 0]
            missing_left[:, some] = best_down > best[:, some]
            cut[:, some] = np.where(missing_left[:, some], width - 2 - at, cut[:, some])
            best[:, some] = np.maximum(best_down, best[:, some])
        top[:, num] = best
        left[:, num] = np.arange(width) <= cut[..., None]
        left[:, num, -1] = missing_left
    if cats.size:
        part = np.concatenate([hist[:, :, cats, :data.categories], hist[:, :, cats, -1:]], axis=-1)
        bins = np.append(np.arange(data.categories), width - 1)  # of the packed places
        used = part[1] * (sums[2] / sums[1])[:, None, None] >= _CAT_SMOOTH
        n_used = used.sum(axis=-1)
        up = np.argsort(np.where(used, part[0] / (part[1] + _CAT_SMOOTH), np.inf), axis=-1, kind="stable")
        pos = np.arange(bins.size)
        down = np.take_along_axis(up, np.where(pos < n_used[..., None], n_used[..., None] - 1 - pos, pos), -1)
        half = np.where(n_used >= 2, (n_used + 1) // 2, 0)
        longest = max(int(half.max()), 1)
        runs = np.stack([up[..., :longest], down[..., :longest]], axis=2)  # (node, feature, scan, place)
        flat = (np.arange(k * cats.size).reshape(k, cats.size, 1, 1) * bins.size + runs).reshape(-1)
        gl, hl, cl = np.cumsum(part.reshape(3, -1)[:, flat].reshape((3,) + runs.shape), axis=-1)
        gain = _gain(gl, hl, cl, sums[:, :, None, None, None], min_leaf)
        allowed = np.stack([half, half - 1], axis=-1)[..., None] > np.arange(longest)
        gain = np.where(allowed, gain, -np.inf).reshape(k, cats.size, -1)
        at = np.argmax(gain, axis=-1)
        top[:, cats] = np.take_along_axis(gain, at[..., None], -1)[..., 0]
        scan, length = np.divmod(at, longest)
        members = bins[np.take_along_axis(runs, scan[..., None, None], 2)[:, :, 0]]  # (node, feature, place)
        in_run = np.zeros((k, cats.size, width), dtype=bool)
        np.put_along_axis(in_run, members, np.arange(longest) <= length[..., None], -1)
        left[:, cats] = in_run
    feature = np.argmax(top, axis=1)
    return top[nodes[:, 0], feature] - sums[0] ** 2 / sums[1], feature, left[nodes[:, 0], feature]


def _histograms(binned: np.ndarray, slot: np.ndarray | None, slots: int, width: int, grad: np.ndarray,
                hess: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Sums of gradient, hessian and rows per (slot, feature, bin) of the rows given:
    ``binned`` is features × rows, ``slot`` the node of each row (None: ``binned``
    already holds slot × width + bin); ``counts``, the rows per (slot, feature, bin)
    when already known."""
    out = np.empty((3, slots, binned.shape[0], width))
    base = 0 if slot is None else slot * width
    for j in range(binned.shape[0]):
        idx = base + binned[j]
        out[0, :, j] = np.bincount(idx, weights=grad, minlength=slots * width).reshape(slots, width)
        out[1, :, j] = np.bincount(idx, weights=hess, minlength=slots * width).reshape(slots, width)
        if counts is None:
            out[2, :, j] = np.bincount(idx, minlength=slots * width).reshape(slots, width)
    if counts is not None:
        out[2] = counts
    return out


def _grow_trees(data: _Binned, fold: np.ndarray, grad: np.ndarray, hess: np.ndarray,
                max_depth: int, min_leaf: int) -> tuple[np.ndarray, np.ndarray]:
    """Grow one tree per model, level by level, and return each row's output (before
    the learning rate) from the tree of the model it fits and from that of the model
    that scores it.

    A node is split at its best gain if positive, unless it is at ``max_depth`` or has
    fewer than twice ``min_leaf`` rows. Only the smaller child of each split is
    counted into histograms; its sibling's are the parent's minus its own.
    """
    width = data.width
    # Node of each row at this level, the nodes of model 0 first; -1 once in a leaf,
    # which picks the last entry of the per-node tables below (a row of nothing).
    node = {"fit": 1 - fold, "held": fold.copy()}
    by_row = {"fit": data.fit_by_row, "held": data.held_by_row}
    out = {"fit": np.zeros(fold.size), "held": np.zeros(fold.size)}
    model = np.array([0, 1])
    hist = _histograms(data.root_index, None, 2, width, grad, hess, data.root_counts)
    sums = hist[:, :, 0].sum(axis=-1)  # gradient, hessian and rows per node
    for depth in range(max_depth + 1):
        k = model.size
        split = np.zeros(k, dtype=bool)
        if depth < max_depth:
            gain, feature, left = _best_splits(hist, sums, data, min_leaf)
            split = (gain > 0) & (sums[2] >= 2 * min_leaf)
        # A leaf outputs -G/H; a tree that never splits outputs nothing.
        value = np.zeros(k + 1)
        if depth > 0:
            value[:k] = np.where(split, 0.0, -sums[0] / sums[1])
        if depth > 0 and not split.all():
            for side, rows in node.items():
                out[side] += value.take(rows)
        if not split.any():
            break
        chosen = np.flatnonzero(split)
        feature, left, model = feature[chosen], left[chosen], model[chosen]
        left_sums = (hist[:, chosen, feature] * left).sum(axis=-1)
        right_sums = sums[:, chosen] - left_sums
        # Missing values of a feature that had none among the fitting rows, and unseen
        # categories, follow the larger child.
        lone = ~data.has_missing[model, feature]
        left[lone, -1] = left_sums[2, lone] > right_sums[2, lone]
        # Per node and bin, the next node: children 2r (left) and 2r + 1 of the r-th
        # node split, -1 for the rest.
        step = np.full((k + 1, width), -1)
        step[chosen] = 2 * np.arange(chosen.size)[:, None] + ~left
        split_on = np.zeros(k + 1, dtype=np.int64)
        split_on[chosen] = feature
        for side, rows in node.items():
            bins = by_row[side].take(data.row_start + split_on.take(rows))
            node[side] = step.take(rows * width + bins)
        sums = np.stack([left_sums, right_sums], axis=-1).reshape(3, -1)
        model = np.repeat(model, 2)
        if depth + 1 == max_depth:
            continue  # the children will be leaves
        small = 2 * np.arange(chosen.size) + (left_sums[2] > right_sums[2])
        slot_of = np.full(2 * chosen.size + 1, -1)
        slot_of[small] = np.arange(chosen.size)
        slot = slot_of.take(node["fit"])
        member = np.flatnonzero((slot >= 0) & data.fitting)
        counted = _histograms(data.fit[:, member], slot[member], chosen.size, width, grad[member], hess[member])
        children = np.empty((3, 2 * chosen.size) + hist.shape[2:])
        children[:, small] = counted
        children[:, small ^ 1] = hist[:, chosen] - counted
        hist = children
    return out["fit"], out["held"]


def cross_fitted_scores(X: np.ndarray, y: np.ndarray, categorical: np.ndarray, fold: np.ndarray, *,
                        iterations: int = 60, learning_rate: float = 0.1, max_depth: int = 4,
                        min_leaf: int = 20, early_stopping_rows: int | None = None) -> np.ndarray:
    """Log-odds that each row is of class 1, from boosted trees fitted on the rows of
    the other fold.

    Parameters
    ----------
    X : array of shape (rows, features)
        Numbers, NaN where missing; a categorical column holds codes (at most 255
        distinct non-negative ones; negative codes are missing values).
    y : array of 0/1, one per row
    categorical : array of bool, one per feature
    fold : array of 0/1, one per row; each fold must hold rows of both classes
    early_stopping_rows : a model with more fitting rows than this keeps 10% of them
        (of each class) out of its fit and stops adding trees once ten in a row have
        not lowered the loss on them; None: no model stops early

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(400.0)[:, None]
    >>> s = cross_fitted_scores(x, (x[:, 0] >= 200).astype(float), np.array([False]), np.arange(400) % 2)
    >>> bool((s[:200] < 0).all() and (s[200:] > 0).all())
    True
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    fold = np.asarray(fold, dtype=np.int64)
    # Model m fits the rows of fold 1 - m; with many, some of them check its loss instead.
    model_of = 1 - fold
    rows = np.bincount(model_of, minlength=2)
    early = (rows > early_stopping_rows) if early_stopping_rows is not None else np.zeros(2, dtype=bool)
    checking = _checking_rows(y, model_of) & early[model_of]
    fitting = ~checking
    data = _Binned(X, fold, np.asarray(categorical, dtype=bool), fitting)
    # Start from each model's log-odds of class 1 among its fitting rows.
    share = np.clip(np.bincount(model_of[fitting], weights=y[fitting], minlength=2)
                    / np.bincount(model_of[fitting], minlength=2),
                    np.finfo(np.float64).eps, 1 - np.finfo(np.float64).eps)
    raw = np.log(share / (1 - share))[model_of]  # as the model that fits (or checks) the row sees it
    raw_held = np.log(share / (1 - share))[fold]  # as the model that scores it sees it
    active = np.array([True, True])
    losses: list[list[float]] = [[], []]
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(iterations):
            if early.any():
                for m in np.flatnonzero(active & early):
                    losses[m].append(_log_loss(y, raw, checking & (model_of == m)))
                    active[m] = not _no_progress(losses[m])
                if not active.any():
                    break
            prob = expit(raw)
            # Rows outside the fit, and every row of a model that stopped, weigh nothing.
            weight = fitting & active[model_of]
            step, step_held = _grow_trees(data, fold, (prob - y) * weight, prob * (1 - prob) * weight,
                                          max_depth, min_leaf)
            raw += learning_rate * step
            raw_held += learning_rate * step_held
    return raw_held


def _checking_rows(y: np.ndarray, model_of: np.ndarray) -> np.ndarray:
    """The rows kept out of each model's fit to check its loss: a fixed random tenth of
    the rows of each class of each model (at least one of each when there are two)."""
    rng = np.random.default_rng(_SEED)
    order = rng.permutation(y.size)
    group = (model_of * 2 + (y > 0.5))[order]
    by_group = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=4)
    rank = np.arange(y.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    kept = np.where(sizes >= 2, np.maximum(np.round(sizes * _VALIDATION_SHARE), 1), 0)
    out = np.zeros(y.size, dtype=bool)
    out[order[by_group]] = rank < kept[group[by_group]]
    return out


def _log_loss(y: np.ndarray, raw: np.ndarray, rows: np.ndarray) -> float:
    """Mean binary log loss of log-odds ``raw`` on ``rows``."""
    r, t = raw[rows], y[rows]
    return float(np.mean(np.logaddexp(0.0, r) - t * r))


def _no_progress(losses: list[float]) -> bool:
    """Whether none of the last ``_PATIENCE`` losses is below the one before them by
    ``_TOLERANCE``."""
    if len(losses) <= _PATIENCE:
        return False
    reference = losses[-_PATIENCE - 1] - _TOLERANCE
    return not any(loss < reference for loss in losses[-_PATIENCE:])


def two_folds(y: np.ndarray) -> np.ndarray:
    """Fold (0 or 1) of each row, as scikit-learn's ``StratifiedKFold(2)`` without
    shuffling assigns them: each class's rows in order, the first part to fold 0,
    its size from dealing the rows sorted by class (classes in order of appearance)
    alternately to the two folds."""
    _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
    code = np.argsort(np.argsort(first))[inverse]
    counts = np.bincount(code)
    dealt = np.bincount(np.sort(code)[::2], minlength=counts.size)
    place = np.empty(code.size, dtype=np.int64)
    place[np.argsort(code, kind="stable")] = np.arange(code.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return (place >= dealt[code]).astype(np.int64)


def domain_auc(X: np.ndarray, domain: np.ndarray, categorical: np.ndarray) -> float:
    """ROC AUC of telling ``domain`` 1 from 0 by boosted trees, each row scored by the
    trees fitted on the other of two stratified folds (0.5: the groups look alike)."""
    domain = np.asarray(domain)
    fold = two_folds(domain)
    score = cross_fitted_scores(X, domain == 1, categorical, fold, early_stopping_rows=EARLY_STOPPING_ROWS)
    return roc_auc_exact(expit(score), domain == 1)  # probabilities, whose ties count
