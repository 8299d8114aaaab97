"""Result → figures as SVG text (the only module that imports matplotlib).

Colours are the Okabe–Ito palette (safe for colour-blind readers), and every
distinction colour makes is also made by hatching, line style or markers, so the
figures read in grayscale print too. SVG output carries no date and fixed ids, so
the same result gives the same bytes.
"""

from __future__ import annotations

import io
import re

import numpy as np

from .result import ResultData

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

#: At most this many classes in the confusion heatmap; more are cut to the classes with
#: the most errors (at 20 the rows are 10 pt apart: 8 pt labels still read in print).
MAX_HEATMAP_CLASSES = 20
#: Up to this many classes the heatmap's cells are large enough to hold their counts.
HEATMAP_MAX_COUNTED = 11
#: At most this many classes in the class-balance chart.
MAX_BALANCE_CLASSES = 15

# Figures are drawn at the size they print (print.css), so the stylesheet never scales
# them and the font sizes below are the sizes on paper. Chart text is 8 to 9 pt, beside
# body text of 10 pt and tables of 8.5 pt.
_MM = 1 / 25.4  # inches per mm
#: Widest figure: under the 180 mm content width of A4 (US letter leaves 185.9 mm).
PRINT_WIDTH = 175 * _MM
#: Tallest figure: ``figure.fig img { max-height: 80mm }``.
PRINT_HEIGHT = 78 * _MM
#: The decomposition's own limit (60 mm, which keeps it on page 1).
DECOMPOSITION_HEIGHT = 60 * _MM
#: The confusion heatmap's own limit (100 mm), room for 20 classes at 8 pt.
HEATMAP_HEIGHT = 98 * _MM
#: The reliability diagram's width (``figure.small-fig img { max-width: 26rem }`` = 247 pt at the 9.5 pt print font).
SMALL_WIDTH = 86 * _MM
#: Smallest chart text, in pt.
SMALL_FONT = 8

_VERDICT_STYLE: dict[str, dict[str, str | None]] = {
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
        "font.size": 8.5,
        "axes.labelsize": 8.5,
        "xtick.labelsize": SMALL_FONT,
        "ytick.labelsize": SMALL_FONT,
        "legend.fontsize": SMALL_FONT,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 9,
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
        # Constrained layout fits every label inside the figure, so the tight box only
        # trims margins: the SVG is never larger than the figure size it was drawn at.
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.02, metadata={"Date": None, "Creator": "erranalysis"})
    plt.close(fig)
    return _lean(buf.getvalue())


_SVG = "{http://www.w3.org/2000/svg}"
#: Style properties matplotlib writes that SVG also takes as attributes of the same
#: name and meaning.
_PRESENTATION = frozenset({
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "opacity",
    "font-size", "font-family", "font-style", "font-weight", "text-anchor",
})


def _declarations(css: str) -> list[tuple[str, str]] | None:
    """``"fill: #fff; stroke: none"`` as (property, value) pairs; None if a property
    is not a presentation attribute."""
    pairs = []
    for declaration in filter(str.strip, css.split(";")):
        name, colon, value = declaration.partition(":")
        if not colon or name.strip() not in _PRESENTATION:
            return None
        pairs.append((name.strip(), value.strip()))
    return pairs


def _lean(svg: str) -> str:
    """``svg`` as matplotlib writes it, with the same drawing in fewer, simpler nodes.

    A renderer works per node and parses every style attribute as CSS (WeasyPrint
    takes about a third longer to paint matplotlib's own SVG), so: no metadata; the
    stylesheet's one rule for every element (``*{stroke-linejoin: round; ...}``)
    becomes attributes of the root, which every element inherits unless it sets its
    own; style declarations become presentation attributes; and the groups that do
    nothing but name an artist (``<g id="patch_3">``, ``<g>``) give their children to
    their parent. Without a stylesheet, attributes and inheritance give every element
    the values it had. Also drops the XML prolog and doctype.
    """
    import xml.etree.ElementTree as ET

    ET.register_namespace("", _SVG[1:-1])
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    try:
        root = ET.fromstring(svg)
    except ET.ParseError:  # e.g. a control character from a class name: left as matplotlib wrote it
        return svg[svg.index("<svg"):]
    referenced = set(re.findall(r"#([^\s\"')]+)", svg))
    for metadata in root.findall(_SVG + "metadata"):
        root.remove(metadata)
    for defs in root.findall(_SVG + "defs"):
        for style in defs.findall(_SVG + "style"):
            rule = re.fullmatch(r"\s*\*\s*\{([^{}]*)\}\s*", style.text or "")
            pairs = _declarations(rule.group(1)) if rule else None
            if pairs is None:
                return ET.tostring(root, encoding="unicode")  # a stylesheet it does not know: as it is
            for name, value in pairs:
                root.set(name, value)
            defs.remove(style)
        if not len(defs):
            root.remove(defs)

    def flatten(node) -> None:
        children = []
        for child in node:
            flatten(child)
            if child.tag == _SVG + "g" and set(child.keys()) <= {"id"} and child.get("id") not in referenced:
                children.extend(child)
            else:
                children.append(child)
        node[:] = children
        pairs = _declarations(node.get("style", ""))
        if pairs is not None:
            node.attrib.pop("style", None)
            for name, value in pairs:
                node.set(name, value)

    flatten(root)
    return ET.tostring(root, encoding="unicode")


def _figure(width: float, height: float):
    """A figure and its axes of ``width`` × ``height`` inches, laid out to fit."""
    return _plt().subplots(figsize=(width, height), layout="constrained")


def _pct_axis(ax, axis="y"):
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v * 100:.0f}%" if abs(v * 100 - round(v * 100)) < 1e-9 else f"{v * 100:.1f}%")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _error_bar(value: float, ci: tuple[float, float]) -> np.ndarray:
    """The ``[[below], [above]]`` extents of an error bar from ``value`` to the ends of ``ci``.

    Both are clipped at 0: matplotlib refuses a negative extent, and an interval that
    misses its value by a rounding error (or at all) must not stop the report.
    """
    lo, hi = ci
    return np.maximum(np.array([[value - lo], [hi - value]], dtype=float), 0.0)


def decomposition(result: ResultData) -> str | None:
    """Waterfall from the goal to the final error: one bar per term, with its interval."""
    dec = result.decomposition
    if dec.final_error is None or dec.final_split is None:
        return None
    labels: list[str] = []
    bottoms: list[float] = []
    heights: list[float] = []
    styles: list[dict[str, str | None]] = []
    cis: list[tuple[float, float] | None] = []
    notes: list[str] = []
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

    fig, ax = _figure(PRINT_WIDTH, DECOMPOSITION_HEIGHT)
    x = np.arange(len(labels))
    for i in range(len(labels)):
        st, ci = styles[i], cis[i]
        ax.bar(x[i], heights[i], bottom=bottoms[i], width=0.6, color=st["color"], hatch=st["hatch"],
               edgecolor="black", linewidth=0.6)
        if ci is not None:
            top = bottoms[i] + heights[i]
            ax.errorbar(x[i], top, yerr=_error_bar(top, ci), fmt="none", ecolor="black", capsize=3,
                        linewidth=0.9)
        end = max(bottoms[i], bottoms[i] + heights[i])
        if ci is not None:
            end = max(end, ci[1])
        ax.annotate(notes[i], (x[i], end), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                    fontsize=SMALL_FONT)
    for i in range(len(labels) - 2):  # connectors between consecutive levels
        y = bottoms[i + 1]
        ax.plot([x[i] + 0.3, x[i + 1] - 0.3], [y, y], color="black", linewidth=0.5, linestyle=":")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(x, labels, fontsize=SMALL_FONT)
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
    ax.legend(handles=legend, loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=SMALL_FONT, frameon=False, ncol=3)
    return _svg(fig)


def heatmap_classes(matrix, labels: list[str], limit: int = MAX_HEATMAP_CLASSES) -> list[int]:
    """Indices of the classes the heatmap shows, in the matrix's order.

    Every class when there are at most ``limit``; otherwise the ``limit`` classes with
    the most errors, counted as the actual class and as the predicted one, leaving out
    classes with none. Rows and columns show the same classes.
    """
    m = np.asarray(matrix, dtype=float)
    if len(labels) <= limit:
        return list(range(len(labels)))
    off = m.copy()
    np.fill_diagonal(off, 0)
    errors = off.sum(axis=1) + off.sum(axis=0)
    ranked = [i for i in np.argsort(-errors, kind="stable") if errors[i] > 0][:limit]
    return sorted(int(i) for i in ranked)


def _count_text(v: float) -> str:
    """A cell count in at most four characters, so it fits its cell."""
    if v < 1000:
        return f"{v:.0f}"
    if v < 9950:
        return f"{v / 1000:.1f}k"
    if v < 999500:
        return f"{v / 1000:.0f}k"
    return f"{v / 1e6:.0f}M"


def confusion_heatmap(result: ResultData) -> tuple[str | None, list[str], bool]:
    """Confusion matrix of the evaluated split, each row as shares of its actual class.

    Only the errors (off-diagonal cells) are coloured, on a scale up to the largest error
    share, so the diagonal does not wash the scale out; diagonal cells are grey and
    hatched. Returns the SVG, the classes shown, and whether the matrix was cut to the
    classes with the most errors (see :func:`heatmap_classes`).
    """
    conf = result.confusion
    if conf is None:
        return None, [], False
    full = np.asarray(conf.matrix, dtype=float)
    all_labels = list(conf.labels)
    idx = heatmap_classes(full, all_labels)
    if not idx:  # no errors at all among many classes: the largest classes
        idx = sorted(np.argsort(-full.sum(axis=1), kind="stable")[:MAX_HEATMAP_CLASSES].tolist())
    cut = len(idx) < len(all_labels)
    support = full.sum(axis=1)[idx][:, None]  # the whole row, with errors into classes not shown
    m = full[np.ix_(idx, idx)]
    labels = [all_labels[i] for i in idx]
    n = len(labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(support > 0, m / support, 0.0)
    # The diagonal and cells without errors stay out of the colour scale (blank).
    errors = np.ma.masked_array(rates, mask=np.eye(n, dtype=bool) | (m <= 0))
    top = max(float(errors.max()) if errors.count() else 0.0, 1e-9)

    from matplotlib.patches import Rectangle

    short = [lbl if len(lbl) <= 12 else lbl[:11] + "…" for lbl in labels]
    # Cells up to 26 pt wide; down to 18 pt (11 classes) they hold a count; 10 pt at 20 classes.
    cell = min(26.0, 200.0 / max(n, 1)) / 72
    numbers = n <= HEATMAP_MAX_COUNTED
    label_len = max((len(s) for s in short), default=1) * 0.6 * SMALL_FONT / 72  # DejaVu Sans: ~0.6 em a character
    width = min(PRINT_WIDTH, n * cell + label_len + 0.35 + 1.0)
    # At least 2 in: the colour bar's label stands beside the matrix.
    height = min(HEATMAP_HEIGHT, max(2.0, n * cell + (0.87 if numbers else 1.0) * label_len + 0.45))
    fig, ax = _figure(width, height)
    cmap = _plt().get_cmap("Oranges").with_extremes(bad="white")
    im = ax.imshow(errors, cmap=cmap, vmin=0, vmax=top)
    for i in range(n):
        ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, facecolor="#E6E6E6", edgecolor="#9A9A9A", hatch="////",
                               linewidth=0))
    if numbers:
        ax.set_xticks(range(n), short, rotation=60, ha="right", rotation_mode="anchor")
    else:  # upright labels 10 pt apart would touch at a slant
        ax.set_xticks(range(n), short, rotation=90)
    ax.set_yticks(range(n), short)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.spines[:].set_visible(False)
    ax.tick_params(length=2)
    if numbers:  # the counts lie inside their cells: the layout need not measure them
        for i in range(n):
            for j in range(n):
                if m[i, j] > 0:
                    dark = i != j and rates[i, j] > 0.6 * top
                    ax.text(j, i, _count_text(m[i, j]), ha="center", va="center", fontsize=SMALL_FONT,
                            color="white" if dark else "black", in_layout=False)
    cbar = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.03)
    cbar.set_label("share of the actual class", fontsize=SMALL_FONT)
    cbar.ax.tick_params(labelsize=SMALL_FONT)
    _pct_axis(cbar.ax)
    return _svg(fig), labels, cut


def threshold_sweep(t) -> str:
    """Precision, recall and F1 against the threshold, with the current and recommended ones."""
    xs = np.array([p["threshold"] for p in t.sweep])
    fig, ax = _figure(0.85 * PRINT_WIDTH, 0.8 * PRINT_HEIGHT)
    # Precision is undefined where nothing is predicted (recall 0): leave a gap there.
    precision = [p["precision"] if p["recall"] > 0 else np.nan for p in t.sweep]
    ax.plot(xs, precision, color=OKABE_ITO["blue"], linestyle="-", label="precision")
    ax.plot(xs, [p["recall"] for p in t.sweep], color=OKABE_ITO["orange"], linestyle="--", label="recall")
    ax.plot(xs, [p["f1"] for p in t.sweep], color=OKABE_ITO["green"], linestyle="-.", linewidth=2, label="F1")
    if t.current_threshold is not None:
        ax.axvline(t.current_threshold, color="black", linestyle=":", linewidth=1)
        ax.annotate("current", (t.current_threshold, 1.02), ha="center", fontsize=SMALL_FONT,
                    xycoords=("data", "axes fraction"))
    ax.axvline(t.recommended_threshold, color=OKABE_ITO["vermillion"], linewidth=1.5)
    ax.annotate(f"recommended {t.recommended_threshold:.3g}", (t.recommended_threshold, 1.08), ha="center",
                fontsize=SMALL_FONT, color=OKABE_ITO["vermillion"], xycoords=("data", "axes fraction"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.0)
    ax.set_xlabel(f"threshold on P({t.label}), swept on {t.chosen_on}")
    _pct_axis(ax)
    ax.legend(loc="center right", fontsize=SMALL_FONT, frameon=False)
    return _svg(fig)


def reliability(result: ResultData) -> str | None:
    """Reliability diagram: mean probability against observed frequency per bin.

    Sparse bins are merged with their neighbours until each holds
    :data:`~erranalysis.stats.metrics.MIN_RELIABILITY_BIN_ROWS` rows, and each point
    carries the Wilson interval of its frequency.
    """
    from .stats.intervals import wilson
    from .stats.metrics import MIN_RELIABILITY_BIN_ROWS, merge_bins

    cal = result.calibration
    if cal is None or not cal.bins:
        return None
    total = sum(b["weight"] for b in cal.bins)
    rows = (result.provenance.rows_by_split.get(cal.split) if result.provenance else None) or total
    per_row = total / rows  # bin weights are rows when rows are unweighted
    bins = merge_bins(cal.bins, MIN_RELIABILITY_BIN_ROWS * per_row)
    fig, ax = _figure(SMALL_WIDTH, min(SMALL_WIDTH, PRINT_HEIGHT))
    conf = np.array([b["confidence"] for b in bins])
    freq = np.array([b["frequency"] for b in bins])
    weight = np.array([b["weight"] for b in bins])
    level = result.provenance.settings.get("confidence", 0.95) if result.provenance else 0.95
    ci = [wilson(f, w / per_row, level) for f, w in zip(freq, weight)]
    ax.plot([0, 1], [0, 1], color=OKABE_ITO["grey"], linestyle="--", linewidth=1, label="perfectly calibrated")
    sizes = 10 + 80 * weight / weight.max()
    ax.plot(conf, freq, color=OKABE_ITO["blue"], linewidth=1)
    ax.errorbar(conf, freq, yerr=np.hstack([_error_bar(f, c) for f, c in zip(freq, ci)]), fmt="none",
                ecolor=OKABE_ITO["blue"], elinewidth=0.8, capsize=0)
    ax.scatter(conf, freq, s=sizes, color=OKABE_ITO["blue"], edgecolor="black", linewidth=0.5, zorder=3,
               label=f"bins of ≥ {MIN_RELIABILITY_BIN_ROWS} rows (area: rows)", clip_on=False)  # whole at 0 or 100%
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
    # Above the axes: points can lie anywhere inside them.
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False, handletextpad=0.3, borderaxespad=0.2)
    return _svg(fig)


def class_balance(result: ResultData) -> tuple[str | None, bool]:
    """Class shares per split (the most frequent classes when there are many)."""
    bal = result.class_balance
    if bal is None or not bal.priors:
        return None, False
    splits = list(bal.priors)
    priors = np.array([bal.priors[s] for s in splits])
    order = np.argsort(-priors.max(axis=0), kind="stable")
    cut = len(order) > MAX_BALANCE_CLASSES
    order = order[:MAX_BALANCE_CLASSES]
    fig, ax = _figure(PRINT_WIDTH, 0.85 * PRINT_HEIGHT)
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
                  fontsize=SMALL_FONT)
    _pct_axis(ax)
    ax.set_ylabel("share of rows")
    ax.legend(fontsize=SMALL_FONT, frameon=False, ncol=len(splits))
    return _svg(fig), cut


#: Behind labels drawn over curves: the label stays legible, the curve shows around it.
_LABEL_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}

_SHORT = {
    "loss_exploding": "exploding",
    "loss_oscillating": "oscillating",
    "loss_initial": "initial loss",
    "loss_still_decreasing": "still falling",
    "loss_plateau": "step",
    "loss_overfitting": "val turns up",
}


def loss_curves(result: ResultData) -> str | None:
    """Train and val loss against steps or epochs, marked where a diagnosis fired."""
    h = result.history
    if h is None or not h.plot["train"]:
        return None
    fig, ax = _figure(PRINT_WIDTH, 0.9 * PRINT_HEIGHT)
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
        # Under the line, at the right end: the curves have mostly fallen below it there,
        # and the legend stands above the axes.
        ax.annotate(f"ln(K) = {h.expected_initial:.2f}", (1.0, h.expected_initial), xycoords=("axes fraction", "data"),
                    xytext=(-2, -2), textcoords="offset points", ha="right", va="top", fontsize=SMALL_FONT,
                    color="#555555", bbox=_LABEL_BOX)
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
                    va="top", fontsize=SMALL_FONT, color=OKABE_ITO["vermillion"], xytext=(2, 0), textcoords="offset points",
                    bbox=_LABEL_BOX)
    ax.set_xlabel(h.x_name)
    ax.set_ylabel("loss")
    # Above the axes, clear of the curves and of the labels of the marks.
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False, borderaxespad=0.2)
    return _svg(fig)


def slice_errors(result: ResultData, top: int = 12) -> str | None:
    """Error of the slices with the most excess errors, with 95% intervals."""
    sa = result.slices
    if sa is None or not sa.slices:
        return None
    chosen = sa.slices[:top][::-1]
    # 13 pt a row: 8 pt labels with room between them; 12 slices fit the height.
    fig, ax = _figure(PRINT_WIDTH, min(PRINT_HEIGHT, 0.75 + 13 / 72 * len(chosen)))
    ys = np.arange(len(chosen))
    for i, s in enumerate(chosen):
        color = OKABE_ITO["vermillion"] if s.significant else OKABE_ITO["grey"]
        ax.errorbar(s.error, i, xerr=_error_bar(s.error, s.ci), fmt="o" if s.significant else "s",
                    color=color, ecolor=color, capsize=2, markersize=5, markerfacecolor=color if s.significant else "white")
    ax.axvline(sa.overall_error, color="black", linestyle="--", linewidth=1)
    ax.annotate("overall", (sa.overall_error, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 1),
                textcoords="offset points", va="bottom", fontsize=SMALL_FONT)
    labels = [f"{s.column} = {s.value}"[:40] for s in chosen]
    ax.set_yticks(ys, labels, fontsize=SMALL_FONT)
    ax.set_xlabel(f"error on {sa.split} (filled: significantly worse, after FDR control)")
    ax.set_xlim(left=0)
    _pct_axis(ax, "x")
    return _svg(fig)
