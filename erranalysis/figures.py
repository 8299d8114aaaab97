"""Result → figures as SVG text (the only module that imports matplotlib).

Colours are the Okabe–Ito palette (safe for colour-blind readers), and every
distinction colour makes is also made by hatching, line style or markers, so the
figures read in grayscale print too. SVG output carries no date and fixed ids, so
the same result gives the same bytes.
"""

from __future__ import annotations

import io

import numpy as np

from .result import Result

OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}

#: At most this many classes in the confusion heatmap; more are cut to the most confused.
MAX_HEATMAP_CLASSES = 20
#: At most this many classes in the class-balance chart.
MAX_BALANCE_CLASSES = 15

_VERDICT_STYLE = {
    "material": {"color": OKABE_ITO["vermillion"], "hatch": None},
    "negligible": {"color": "#D9D9D9", "hatch": None},
    "too_noisy": {"color": "white", "hatch": "///"},
}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "svg.hashsalt": "erranalysis",
        "svg.fonttype": "none",  # text stays text: smaller files, rendered with local fonts
        "text.parse_math": False,  # class names such as "$10-$50" are text, not TeX
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
    })
    return plt


def _svg(fig) -> str:
    plt = _plt()
    import warnings

    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. glyphs missing from the font: the text still renders
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "erranalysis"})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype


def _pct_axis(ax, axis="y"):
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v * 100:.0f}%" if abs(v * 100 - round(v * 100)) < 1e-9 else f"{v * 100:.1f}%")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _error_bar(value: float, ci) -> np.ndarray:
    """The ``[[below], [above]]`` extents of an error bar from ``value`` to the ends of ``ci``.

    Both are clipped at 0: matplotlib refuses a negative extent, and an interval that
    misses its value by a rounding error (or at all) must not stop the report.
    """
    lo, hi = ci
    return np.maximum(np.array([[value - lo], [hi - value]], dtype=float), 0.0)


def decomposition(result: Result) -> str | None:
    """Waterfall from the goal to the final error: one bar per term, with its interval."""
    dec = result.decomposition
    if dec.final_error is None:
        return None
    plt = _plt()
    labels, bottoms, heights, styles, cis, notes = [], [], [], [], [], []
    first = next((c for c in dec.components.values() if c is not None), None)
    if dec.goal is not None and "train" in result.errors:
        level, start = dec.goal, "goal"
    elif first is not None and first.earlier in result.errors:
        level, start = result.errors[first.earlier].error, first.earlier  # no goal or no train: start there
    else:
        level, start = (dec.goal, "goal") if dec.goal is not None else (dec.final_error, dec.final_split)
    labels.append(start)
    bottoms.append(0.0)
    heights.append(level)
    styles.append({"color": OKABE_ITO["grey"], "hatch": None})
    cis.append(None)
    notes.append(f"{level * 100:.1f}%")
    for name, comp in dec.components.items():
        if comp is None:
            continue
        text = name.replace("_", " ").replace("distribution ", "distribution\n").replace("val ", "val\n")
        if comp.includes:
            text += "\n(incl. " + ", ".join(i.replace("_", " ") for i in comp.includes) + ")"
        labels.append(text)
        bottoms.append(level)
        heights.append(comp.value)
        styles.append(_VERDICT_STYLE[comp.verdict])
        cis.append(None if comp.ci is None else (level + comp.ci[0], level + comp.ci[1]))
        notes.append(f"{comp.value * 100:+.1f} pts")
        level += comp.value
    final = result.errors[dec.final_split]
    labels.append(f"{dec.final_split}\nerror")
    bottoms.append(0.0)
    heights.append(final.error)
    styles.append({"color": OKABE_ITO["blue"], "hatch": None})
    cis.append(final.ci)
    notes.append(f"{final.error * 100:.1f}%")

    fig, ax = plt.subplots(figsize=(7.0, 2.9))
    x = np.arange(len(labels))
    for i in range(len(labels)):
        st = styles[i]
        ax.bar(x[i], heights[i], bottom=bottoms[i], width=0.6, color=st["color"], hatch=st["hatch"],
               edgecolor="black", linewidth=0.6)
        if cis[i] is not None:
            top = bottoms[i] + heights[i]
            ax.errorbar(x[i], top, yerr=_error_bar(top, cis[i]), fmt="none", ecolor="black", capsize=3,
                        linewidth=0.9)
        end = max(bottoms[i], bottoms[i] + heights[i])
        if cis[i] is not None:
            end = max(end, cis[i][1])
        ax.annotate(notes[i], (x[i], end), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                    fontsize=8)
    for i in range(len(labels) - 2):  # connectors between consecutive levels
        y = bottoms[i + 1]
        ax.plot([x[i] + 0.3, x[i + 1] - 0.3], [y, y], color="black", linewidth=0.5, linestyle=":")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(x, labels, fontsize=8)
    _pct_axis(ax)
    ax.set_ylabel(f"{'balanced ' if dec.metric == 'balanced_error' else ''}error")
    top = max(max(b + max(h, 0) for b, h in zip(bottoms, heights)),
              max((c[1] for c in cis if c is not None), default=0.0))
    bottom = min(0.0, min(b + min(h, 0) for b, h in zip(bottoms, heights)),
                 min((c[0] for c in cis if c is not None), default=0.0))
    ax.set_ylim(bottom - 0.02 * (top - bottom), top + 0.12 * (top - bottom) + 1e-6)
    from matplotlib.patches import Patch

    legend = [Patch(facecolor=s["color"], hatch=s["hatch"], edgecolor="black", label=v.replace("_", " "))
              for v, s in _VERDICT_STYLE.items()]
    ax.legend(handles=legend, loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7.5, frameon=False, ncol=3)
    return _svg(fig)


def confusion_heatmap(result: Result) -> tuple[str | None, list[str], bool]:
    """Row-normalised confusion matrix of the evaluated split.

    Returns the SVG, the classes shown, and whether the matrix was cut to the classes
    of the most-confused pairs.
    """
    conf = result.confusion
    if conf is None:
        return None, [], False
    m = np.asarray(conf.matrix, dtype=float)
    labels = list(conf.labels)
    cut = False
    if len(labels) > MAX_HEATMAP_CLASSES:
        cut = True
        keep: list[str] = []
        for p in conf.most_confused:
            for name in (p.actual, p.predicted):
                if name not in keep:
                    keep.append(name)
        off = m.copy()
        np.fill_diagonal(off, 0)
        errors_per_class = off.sum(axis=1) + off.sum(axis=0)
        for i in np.argsort(-errors_per_class, kind="stable"):
            if len(keep) >= MAX_HEATMAP_CLASSES:
                break
            if labels[i] not in keep:
                keep.append(labels[i])
        keep = keep[:MAX_HEATMAP_CLASSES]
        idx = sorted(labels.index(k) for k in keep)
        m = m[np.ix_(idx, idx)]
        labels = [labels[i] for i in idx]
    support = m.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(support > 0, m / support, 0.0)
    plt = _plt()
    size = min(7.0, 2.2 + 0.32 * len(labels))
    fig, ax = plt.subplots(figsize=(size + 0.8, size))
    im = ax.imshow(rates, cmap="Greys", vmin=0, vmax=1)
    short = [lbl if len(lbl) <= 14 else lbl[:13] + "…" for lbl in labels]
    ax.set_xticks(range(len(labels)), short, rotation=60, ha="right", fontsize=7 if len(labels) > 10 else 8)
    ax.set_yticks(range(len(labels)), short, fontsize=7 if len(labels) > 10 else 8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.spines[:].set_visible(False)
    if len(labels) <= 12:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if m[i, j] > 0:
                    ax.text(j, i, f"{m[i, j]:.0f}", ha="center", va="center", fontsize=7,
                            color="white" if rates[i, j] > 0.5 else "black")
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("share of the actual class", fontsize=8)
    _pct_axis(cbar.ax)
    return _svg(fig), labels, cut


def threshold_sweep(t) -> str:
    """Precision, recall and F1 against the threshold, with the current and recommended ones."""
    plt = _plt()
    xs = np.array([p["threshold"] for p in t.sweep])
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    # Precision is undefined where nothing is predicted (recall 0): leave a gap there.
    precision = [p["precision"] if p["recall"] > 0 else np.nan for p in t.sweep]
    ax.plot(xs, precision, color=OKABE_ITO["blue"], linestyle="-", label="precision")
    ax.plot(xs, [p["recall"] for p in t.sweep], color=OKABE_ITO["orange"], linestyle="--", label="recall")
    ax.plot(xs, [p["f1"] for p in t.sweep], color=OKABE_ITO["green"], linestyle="-.", linewidth=2, label="F1")
    if t.current_threshold is not None:
        ax.axvline(t.current_threshold, color="black", linestyle=":", linewidth=1)
        ax.annotate("current", (t.current_threshold, 1.02), ha="center", fontsize=7.5,
                    xycoords=("data", "axes fraction"))
    ax.axvline(t.recommended_threshold, color=OKABE_ITO["vermillion"], linewidth=1.5)
    ax.annotate(f"recommended {t.recommended_threshold:.3g}", (t.recommended_threshold, 1.08), ha="center",
                fontsize=7.5, color=OKABE_ITO["vermillion"], xycoords=("data", "axes fraction"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.0)
    ax.set_xlabel(f"threshold on P({t.label}), swept on {t.chosen_on}")
    _pct_axis(ax)
    ax.legend(loc="center right", fontsize=8, frameon=False)
    return _svg(fig)


def reliability(result: Result) -> str | None:
    """Reliability diagram: mean probability against observed frequency per bin."""
    cal = result.calibration
    if cal is None or not cal.bins:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    conf = np.array([b["confidence"] for b in cal.bins])
    freq = np.array([b["frequency"] for b in cal.bins])
    weight = np.array([b["weight"] for b in cal.bins])
    ax.plot([0, 1], [0, 1], color=OKABE_ITO["grey"], linestyle="--", linewidth=1, label="perfectly calibrated")
    sizes = 12 + 150 * weight / weight.max()
    ax.plot(conf, freq, color=OKABE_ITO["blue"], linewidth=1)
    ax.scatter(conf, freq, s=sizes, color=OKABE_ITO["blue"], edgecolor="black", linewidth=0.5, zorder=3,
               label="bins (area: rows)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    if cal.kind == "positive_class":
        ax.set_xlabel("predicted probability of the positive class")
        ax.set_ylabel("observed share of positives")
    else:
        ax.set_xlabel("probability of the predicted class")
        ax.set_ylabel("observed accuracy")
    _pct_axis(ax)
    _pct_axis(ax, "x")
    ax.legend(loc="upper left", fontsize=7.5, frameon=False)
    return _svg(fig)


def class_balance(result: Result) -> tuple[str | None, bool]:
    """Class shares per split (the most frequent classes when there are many)."""
    bal = result.class_balance
    if bal is None or not bal.priors:
        return None, False
    splits = list(bal.priors)
    priors = np.array([bal.priors[s] for s in splits])
    order = np.argsort(-priors.max(axis=0), kind="stable")
    cut = len(order) > MAX_BALANCE_CLASSES
    order = order[:MAX_BALANCE_CLASSES]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 2.8))
    width = 0.8 / len(splits)
    # Dark, light, mid and pale fills tell the splits apart in grayscale; hatching on
    # every bar would multiply the size of the SVG.
    colors = [OKABE_ITO["blue"], OKABE_ITO["yellow"], OKABE_ITO["vermillion"], "#E8E8E8"]
    hatches = [None, None, None, None]
    x = np.arange(len(order))
    for i, s in enumerate(splits):
        ax.bar(x + (i - (len(splits) - 1) / 2) * width, priors[i, order], width=width, color=colors[i % 4],
               hatch=hatches[i % 4], edgecolor="black", linewidth=0.4, label=s)
    names = [bal.labels[i] if len(bal.labels[i]) <= 12 else bal.labels[i][:11] + "…" for i in order]
    ax.set_xticks(x, names, rotation=45 if len(order) > 6 else 0, ha="right" if len(order) > 6 else "center",
                  fontsize=8)
    _pct_axis(ax)
    ax.set_ylabel("share of rows")
    ax.legend(fontsize=7.5, frameon=False, ncol=len(splits))
    return _svg(fig), cut


_SHORT = {
    "loss_exploding": "exploding",
    "loss_oscillating": "oscillating",
    "loss_initial": "initial loss",
    "loss_still_decreasing": "still falling",
    "loss_plateau": "step",
    "loss_overfitting": "val turns up",
}


def loss_curves(result: Result) -> str | None:
    """Train and val loss against steps or epochs, marked where a diagnosis fired."""
    h = result.history
    if h is None or not h.plot["train"]:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    tx = np.asarray(h.plot["train_x"], float)
    ty = np.asarray([np.nan if v is None else v for v in h.plot["train"]], float)
    ax.plot(tx, ty, color=OKABE_ITO["blue"], linewidth=1.2, label="train loss")
    values = ty[np.isfinite(ty)]
    if h.plot["val"]:
        vx = np.asarray(h.plot["val_x"], float)
        vy = np.asarray([np.nan if v is None else v for v in h.plot["val"]], float)
        ax.plot(vx, vy, color=OKABE_ITO["orange"], linewidth=1.6, linestyle="--", marker="o" if vx.size <= 60 else None,
                markersize=3, label="val loss")
        values = np.concatenate([values, vy[np.isfinite(vy)]])
    if values.size and values.min() > 0 and values.max() / values.min() > 20:
        from matplotlib.ticker import FuncFormatter

        ax.set_yscale("log")
        # Plain numbers: with math parsing off, the default log labels would show TeX.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    if h.expected_initial is not None:
        ax.axhline(h.expected_initial, color=OKABE_ITO["grey"], linestyle=":", linewidth=1)
        ax.annotate(f"ln(K) = {h.expected_initial:.2f}", (1.0, h.expected_initial), xycoords=("axes fraction", "data"),
                    ha="right", va="bottom", fontsize=7.5, color="#555555")
    marks = []
    for d in h.diagnoses:
        label = _SHORT.get(d.kind, d.kind)
        if d.kind == "loss_plateau" and d.evidence.get("pattern") == "periodic":
            continue  # a pattern over the whole run: nothing to mark at one point
        if d.kind == "loss_plateau":
            marks += [(x, label) for x in d.evidence.get("at", [])]
        elif d.kind == "loss_oscillating" and d.evidence.get("period"):
            a, b = d.evidence["period"]
            ax.axvspan(a, b, color=OKABE_ITO["vermillion"], alpha=0.12, linewidth=0)
            marks.append((a, "unstable"))
        elif d.kind == "loss_overfitting":
            marks.append((d.evidence["began"], "val turns up"))
            if d.evidence["best_checkpoint"] != d.evidence["began"]:
                marks.append((d.evidence["best_checkpoint"], "best checkpoint"))
        elif isinstance(d.at, (int, float)):
            marks.append((d.at, label))
    for i, (x, label) in enumerate(marks[:12]):
        ax.axvline(x, color=OKABE_ITO["vermillion"], linewidth=1, alpha=0.8)
        ax.annotate(label, (x, 1.0 - 0.07 * (i % 3)), xycoords=("data", "axes fraction"), rotation=0, ha="left",
                    va="top", fontsize=7.5, color=OKABE_ITO["vermillion"], xytext=(2, 0), textcoords="offset points")
    ax.set_xlabel(h.x_name)
    ax.set_ylabel("loss")
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.8), fontsize=8, frameon=False)
    return _svg(fig)


def slice_errors(result: Result, top: int = 12) -> str | None:
    """Error of the slices with the most excess errors, with 95% intervals."""
    sa = result.slices
    if sa is None or not sa.slices:
        return None
    chosen = sa.slices[:top][::-1]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 0.8 + 0.32 * len(chosen)))
    ys = np.arange(len(chosen))
    for i, s in enumerate(chosen):
        color = OKABE_ITO["vermillion"] if s.significant else OKABE_ITO["grey"]
        ax.errorbar(s.error, i, xerr=_error_bar(s.error, s.ci), fmt="o" if s.significant else "s",
                    color=color, ecolor=color, capsize=2, markersize=5, markerfacecolor=color if s.significant else "white")
    ax.axvline(sa.overall_error, color="black", linestyle="--", linewidth=1)
    ax.annotate("overall", (sa.overall_error, len(chosen) - 0.4), xytext=(3, 0), textcoords="offset points",
                fontsize=7.5)
    labels = [f"{s.column} = {s.value}"[:40] for s in chosen]
    ax.set_yticks(ys, labels, fontsize=7.5)
    ax.set_xlabel(f"error on {sa.split} (filled: significantly worse, after FDR control)")
    ax.set_xlim(left=0)
    _pct_axis(ax, "x")
    return _svg(fig)
