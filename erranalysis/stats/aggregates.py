"""Per-split aggregates (confusion matrices, score histograms, calibration bins).

Every metric of the engine is computed from these mergeable sums, so the same
metrics apply whether the rows were held in memory or streamed in batches: two
aggregates of disjoint rows add up with :meth:`SplitAggregate.merge`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io.validate import SPLITS, Predictions

#: Score histograms are uniform in logit space over [-LOGIT_RANGE, LOGIT_RANGE]
#: (probabilities from about 4e-18 to 1 - 4e-18): fine near 0 and 1, where confident
#: and imbalanced models put most of their scores.
LOGIT_RANGE = 40.0
#: Histogram cells (splits × classes × 2 × bins) are capped so memory stays bounded
#: with many classes: about 64 MB of float64.
MAX_HIST_CELLS = 8_000_000


def bins_for(n_classes: int, wanted: int) -> int:
    """Bins per class histogram: ``wanted``, fewer (even, at least 256) for many classes."""
    cap = MAX_HIST_CELLS // (4 * 2 * max(n_classes, 1))
    return max(256, min(wanted, cap - cap % 2))


@dataclass
class SplitAggregate:
    """Sufficient statistics of one split."""

    split: str
    n_rows: int
    weight_sum: float
    weight_sq_sum: float
    #: confusion[actual, predicted], weighted.
    confusion: np.ndarray
    #: Unweighted class counts (for tests of label shift).
    class_counts: np.ndarray
    #: hist[k, is_class_k, bin]: weighted counts of P(class k) per logit bin, or None.
    hist: np.ndarray | None = None
    #: calib[bin] = (weight, sum of weight*confidence, sum of weight*outcome), or None.
    calib: np.ndarray | None = None
    #: Weighted sum of per-example loss, or None.
    loss_sum: float | None = None

    def merge(self, other: "SplitAggregate") -> "SplitAggregate":
        """Aggregate of the union of two disjoint sets of rows of the same split."""

        def add(a, b):
            return None if a is None or b is None else a + b

        return SplitAggregate(
            split=self.split,
            n_rows=self.n_rows + other.n_rows,
            weight_sum=self.weight_sum + other.weight_sum,
            weight_sq_sum=self.weight_sq_sum + other.weight_sq_sum,
            confusion=self.confusion + other.confusion,
            class_counts=self.class_counts + other.class_counts,
            hist=add(self.hist, other.hist),
            calib=add(self.calib, other.calib),
            loss_sum=add(self.loss_sum, other.loss_sum),
        )

    @property
    def row_scale(self) -> float:
        """Rows per unit of weight: turns weighted counts into row-like counts, so that
        count thresholds do not depend on the scale of the weights."""
        return self.n_rows / self.weight_sum if self.weight_sum > 0 else 1.0

    @property
    def support(self) -> np.ndarray:
        """Weighted rows per actual class."""
        return self.confusion.sum(axis=1)

    @property
    def predicted(self) -> np.ndarray:
        """Weighted rows per predicted class."""
        return self.confusion.sum(axis=0)


def bin_edges(n_bins: int) -> np.ndarray:
    """Thresholds on the probability scale at the edges of the score bins.

    ``p >= edges[j]`` holds exactly for the rows in bins ``j, j+1, ...``; edge 0 is 0
    and edge ``n_bins`` is 1 (above every row but p = 1).
    """
    logits = np.linspace(-LOGIT_RANGE, LOGIT_RANGE, n_bins + 1)
    edges = 1.0 / (1.0 + np.exp(-logits))
    edges[0], edges[-1] = 0.0, 1.0
    return edges


def score_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index (int64) of each probability in the logit-space histogram.

    One temporary of the size of ``p``, updated in place: the histograms call this on
    blocks of rows, where fresh temporaries per step would dominate the cost.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.subtract(1.0, p)
        np.divide(p, x, out=x)  # odds
        np.log(x, out=x)  # logit (-inf at p = 0, +inf at p = 1)
    x += LOGIT_RANGE
    x /= 2.0 * LOGIT_RANGE / n_bins
    np.floor(x, out=x)
    np.clip(x, 0, n_bins - 1, out=x)
    return x.astype(np.int64)


def cross_entropy(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-row cross-entropy ``-ln p(true class)``, clipped like scikit-learn's log_loss."""
    eps = np.finfo(proba.dtype).eps
    p_true = np.take_along_axis(proba, y[:, None].astype(np.intp), axis=1)[:, 0]
    return -np.log(np.clip(p_true, eps, 1.0))


def compute_aggregates(
    preds: Predictions, score_bin_count: int = 8192, calibration_bins: int = 15, per_row_loss: np.ndarray | None = None
) -> dict[str, SplitAggregate]:
    """One pass per statistic over all rows, grouped by split with ``np.bincount``.

    ``per_row_loss`` saves recomputing the cross-entropy when the caller has it.
    """
    k = preds.n_classes
    s_count = len(SPLITS)
    split = preds.split.astype(np.int64)
    y = preds.y.astype(np.int64)
    w = preds.weight
    weights = w if w is not None else None

    conf = np.bincount(split * k * k + y * k + preds.pred, weights=weights, minlength=s_count * k * k)
    conf = conf.reshape(s_count, k, k).astype(float)
    counts = np.bincount(split * k + y, minlength=s_count * k).reshape(s_count, k)
    rows = np.bincount(split, minlength=s_count)
    if w is None:
        wsum = rows.astype(float)
        wsq = rows.astype(float)
    else:
        wsum = np.bincount(split, weights=w, minlength=s_count)
        wsq = np.bincount(split, weights=w * w, minlength=s_count)

    hist = calib = loss = None
    if preds.proba is not None:
        hist = _histograms(preds, split, bins_for(k, score_bin_count))
        calib = _calibration(preds, split, calibration_bins)
    if per_row_loss is None:
        per_row_loss = preds.loss
    if per_row_loss is None and preds.proba is not None:
        per_row_loss = cross_entropy(preds.proba, preds.y)
    if per_row_loss is not None:
        with np.errstate(over="ignore"):  # a huge loss times a weight is an infinite mean loss, as it should be
            loss = np.bincount(split, weights=per_row_loss * w if w is not None else per_row_loss, minlength=s_count)

    out = {}
    for s, name in enumerate(SPLITS):
        if rows[s] == 0:
            continue
        out[name] = SplitAggregate(
            split=name,
            n_rows=int(rows[s]),
            weight_sum=float(wsum[s]),
            weight_sq_sum=float(wsq[s]),
            confusion=conf[s],
            class_counts=counts[s],
            hist=None if hist is None else hist[s],
            calib=None if calib is None else calib[s],
            loss_sum=None if loss is None else float(loss[s]),
        )
    return out


#: Rows per block when binning probabilities: keeps the n×K temporaries small.
_BLOCK_ROWS = 65536


def _histograms(preds: Predictions, split: np.ndarray, n_bins: int) -> np.ndarray:
    """hist[split, class, is_class, bin], built block by block in reused buffers."""
    k = preds.n_classes
    s_count = len(SPLITS)
    size = s_count * k * 2 * n_bins
    hist = np.zeros(size, dtype=float)
    proba, y, w = preds.proba, preds.y, preds.weight
    class_offset = (np.arange(k, dtype=np.int64) * 2 * n_bins)[None, :]
    for start in range(0, preds.n_rows, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, preds.n_rows)
        rows = stop - start
        idx = score_bins(proba[start:stop], n_bins)
        idx += class_offset
        idx += (split[start:stop] * (k * 2 * n_bins))[:, None]
        idx[np.arange(rows), y[start:stop]] += n_bins  # the "is this class" half
        # Flatten in memory order (no copy); the weights follow the same order.
        weights = None
        if w is not None:
            weights = np.repeat(w[start:stop], k) if idx.flags.c_contiguous else np.tile(w[start:stop], k)
        hist += np.bincount(idx.ravel(order="K"), weights=weights, minlength=size)
    return hist.reshape(s_count, k, 2, n_bins)


def calibration_inputs(preds: Predictions) -> tuple[np.ndarray, np.ndarray, str]:
    """The (probability, outcome) pairs a reliability diagram plots.

    Binary: P(positive class) against "is positive". Several classes: the
    probability of the predicted class against "the prediction is right"
    (top-label calibration).
    """
    kind = calibration_kind(preds.n_classes)
    if kind == "positive_class":
        return preds.proba[:, preds.positive], (preds.y == preds.positive).astype(float), kind
    p = np.take_along_axis(preds.proba, preds.pred[:, None].astype(np.intp), axis=1)[:, 0]
    return p, (preds.pred == preds.y).astype(float), kind


def calibration_kind(n_classes: int) -> str:
    """Binary problems calibrate the positive class; several classes the top label."""
    return "positive_class" if n_classes == 2 else "top_label"


def _calibration(preds: Predictions, split: np.ndarray, n_bins: int) -> np.ndarray:
    p, outcome, _ = calibration_inputs(preds)
    b = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    idx = split * n_bins + b
    s_count = len(SPLITS)
    w = preds.weight if preds.weight is not None else np.ones_like(p)
    size = s_count * n_bins
    out = np.stack(
        [
            np.bincount(idx, weights=w, minlength=size),
            np.bincount(idx, weights=w * p, minlength=size),
            np.bincount(idx, weights=w * outcome, minlength=size),
        ],
        axis=-1,
    )
    return out.reshape(s_count, n_bins, 3)
