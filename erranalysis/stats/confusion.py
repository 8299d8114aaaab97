"""Most-confused class pairs, compared across splits."""

from __future__ import annotations

import numpy as np

from ..result import ConfusedPair
from ..settings import Settings
from .aggregates import SplitAggregate


def most_confused(
    aggs: dict[str, SplitAggregate], eval_split: str, labels: list[str], settings: Settings
) -> list[ConfusedPair]:
    """The ``top_confused`` off-diagonal cells of ``eval_split``, largest first (with ties).

    Each pair carries its rate on every split. ``pattern`` is ``everywhere`` when the
    pair is at least half as frequent on every other split as on the evaluated one (the
    classes are hard or ambiguous in themselves); ``eval_only`` when it is less than half
    as frequent on train_val (or on train without a train_val): the pair appears with
    the shift to val/test; ``held_out`` when train_val shows it but train does not (the
    model fails on unseen rows: variance); ``unknown`` without a reference split.
    """
    cm = aggs[eval_split].confusion
    k = cm.shape[0]
    off = cm.copy()
    np.fill_diagonal(off, 0.0)
    errors_total = off.sum()
    if errors_total <= 0:
        return []
    order = np.argsort(-off, axis=None, kind="stable")
    keep = settings.top_confused
    # Pairs tied with the last one kept are kept too, so class names never decide.
    while keep < order.size and off.flat[order[keep]] == off.flat[order[keep - 1]] and off.flat[order[keep]] > 0:
        keep += 1
    flat = order[:keep]
    support = cm.sum(axis=1)
    scale = aggs[eval_split].row_scale
    pairs = []
    for idx in flat:
        a, b = divmod(int(idx), k)
        count = off[a, b]
        if count <= 0:
            break
        rate = count / support[a]
        rates = {}
        for name, agg in aggs.items():
            sup = agg.confusion[a].sum()
            rates[name] = float(agg.confusion[a, b] / sup) if sup > 0 else None
        reverse_rate = off[b, a] / support[b] if support[b] > 0 else 0.0
        both = bool(
            off[b, a] * scale >= settings.confused_min_count / 2
            and reverse_rate >= settings.confused_min_rate / 2
            and count * scale >= settings.confused_min_count / 2
            and rate >= settings.confused_min_rate / 2
        )
        others = {
            name: rates[name] for name, agg in aggs.items()
            if name != eval_split and agg.confusion[a].sum() * agg.row_scale >= settings.min_support
        }
        pattern = "unknown"
        # train_val is held out from the training distribution: a pair as frequent there as
        # on the evaluated split is the model failing on unseen rows (held_out), not a shift.
        reference = "train_val" if others.get("train_val") is not None else "train"
        if count * scale < settings.confused_min_count / 2:
            pass  # too few errors to say where the pair happens
        elif others and all(r >= 0.5 * rate for r in others.values()):
            pattern = "everywhere"
        elif others.get(reference) is not None and others[reference] < 0.5 * rate:
            pattern = "eval_only"
        elif reference == "train_val" and others.get("train") is not None and others["train"] < 0.5 * rate:
            pattern = "held_out"
        pairs.append(ConfusedPair(
            actual=labels[a],
            predicted=labels[b],
            count=float(count),
            rows=float(count * scale),
            rate=float(rate),
            share_of_errors=float(count / errors_total),
            both_directions=both,
            pattern=pattern,
            rates_by_split=rates,
        ))
    return pairs
