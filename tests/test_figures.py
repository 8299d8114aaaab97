"""Every figure reads at print size: no chart text below 8 pt once the print stylesheet
has scaled the SVG to the content width and the figure's maximum height."""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import erranalysis
from erranalysis import figures

from conftest import multiclass_frame

#: Smallest chart text allowed on paper, in pt (body text is 10 pt, tables 8.5 pt).
MIN_PT = 8.0
MM = 72 / 25.4  # pt per mm
#: The narrower content width of the two page sizes: A4 (210 mm less 2 × 15 mm margins);
#: US letter leaves 185.9 mm.
CONTENT_WIDTH = 180 * MM
#: ``figure.small-fig img { max-width: 26rem }`` with the print root font of 9.5 pt.
SMALL_FIG_WIDTH = 26 * 9.5
#: ``figure.fig img { max-height }`` in print.css, and the decomposition's and the
#: confusion heatmap's own limits.
MAX_HEIGHT = 80 * MM
MAX_HEIGHT_DECOMPOSITION = 60 * MM
MAX_HEIGHT_CONFUSION = 100 * MM

_LENGTH = re.compile(r"^\s*([0-9.]+)\s*(pt|px)?\s*$")
_FONT_SIZE = re.compile(r"font-size\s*:\s*([0-9.]+)\s*(px|pt)?")
_FONT_SHORTHAND = re.compile(r"(?:^|;)\s*font\s*:[^;]*?([0-9.]+)(px|pt)")
_MATRIX = re.compile(r"matrix\(\s*([-0-9.e]+)[ ,]+([-0-9.e]+)[ ,]+([-0-9.e]+)[ ,]+([-0-9.e]+)")
_SCALE = re.compile(r"scale\(\s*([-0-9.e]+)(?:[ ,]+([-0-9.e]+))?\s*\)")


def _pt(value: str) -> float:
    """An SVG length in pt (matplotlib writes pt; a bare number is a CSS px)."""
    number, unit = _LENGTH.match(value).groups()
    return float(number) * (1.0 if unit == "pt" else 0.75)


def _scale(transform: str | None) -> float:
    """How much ``transform`` enlarges lengths (the square root of its area factor)."""
    factor = 1.0
    for m in _MATRIX.finditer(transform or ""):
        a, b, c, d = map(float, m.groups())
        factor *= math.sqrt(abs(a * d - b * c))
    for m in _SCALE.finditer(transform or ""):
        sx = float(m.group(1))
        sy = float(m.group(2)) if m.group(2) else sx
        factor *= math.sqrt(abs(sx * sy))
    return factor


def svg_fonts(svg: str) -> tuple[float, float, list[tuple[float, str]]]:
    """The SVG's width and height in pt, and (font size in pt, text) of every text.

    Sizes are in user units of the viewBox, scaled by the transforms above each text
    and by the ratio of the declared width to the viewBox width.
    """
    root = ET.fromstring(svg)
    width, height = _pt(root.get("width")), _pt(root.get("height"))
    view = [float(v) for v in root.get("viewBox").split()]
    unit = width / view[2]  # pt per user unit
    assert not re.search(r"<path[^>]*glyph|<use[^>]*#DejaVu", svg), "text drawn as paths cannot be measured"
    found: list[tuple[float, str]] = []

    def walk(node, scale):
        scale *= _scale(node.get("transform"))
        if node.tag.endswith("}text"):
            style = node.get("style", "")
            m = _FONT_SIZE.search(style) or _FONT_SHORTHAND.search(style)
            size = m and float(m.group(1)) * (1.0 if m.group(2) in (None, "px") else 4 / 3)  # user units
            if size is None and node.get("font-size"):
                size = float(re.match(r"[0-9.]+", node.get("font-size")).group())
            assert size, f"text without a font size: {ET.tostring(node)[:200]!r}"
            found.append((size * scale * unit, "".join(node.itertext())))
        for child in node:
            walk(child, scale)

    walk(root, 1.0)
    return width, height, found


def print_scale(width: float, height: float, max_width: float = CONTENT_WIDTH,
                max_height: float = MAX_HEIGHT) -> float:
    """The factor the print stylesheet shrinks an image by (never enlarges)."""
    return min(1.0, max_width / width, max_height / height)


def printed_fonts(name: str, svg: str) -> tuple[float, list[tuple[float, str]]]:
    width, height, fonts = svg_fonts(svg)
    limits = {
        "decomposition": {"max_height": MAX_HEIGHT_DECOMPOSITION},
        "confusion_heatmap": {"max_height": MAX_HEIGHT_CONFUSION},
        "reliability": {"max_width": min(CONTENT_WIDTH, SMALL_FIG_WIDTH)},
    }.get(name, {})
    s = print_scale(width, height, **limits)
    return s, [(size * s, text) for size, text in fonts]


# ------------------------------------------------------------------ scenarios


def _history(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1)
    train = 0.2 + 2.0 * np.exp(-t / 10) + 0.02 * rng.normal(size=n)
    val = 0.35 + 2.0 * np.exp(-t / 10) + 0.004 * np.maximum(t - 30, 0) + 0.02 * rng.normal(size=n)
    return pd.DataFrame({"epoch": t, "loss": train, "val_loss": val})


def _many_classes(k: int = 53, n: int = 16000, seed: int = 4) -> pd.DataFrame:
    """``k`` classes of uneven size with long names, errors spread over many pairs."""
    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.full(k, 2.0))
    y = rng.choice(k, size=n, p=prior)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += rng.uniform(1.5, 5.0, size=k)[y]
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    names = np.array([f"species_{i:02d}_{'long' * (i % 3)}" for i in range(k)])
    frame = pd.DataFrame({"label": names[y], "split": rng.choice(["train", "train_val", "val", "test"], n),
                          "site": rng.choice(["a", "b", "c", "d"], n)})
    for j in range(k):
        frame[f"proba_{names[j]}"] = p[:, j]
    return frame


def _binary(n: int = 8000, seed: int = 2) -> pd.DataFrame:
    """Binary with rare positives whose scores seldom pass 0.5: a threshold sweep."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.05).astype(int)
    score = 1 / (1 + np.exp(-(rng.normal(size=n) + 2.5 * y - 3.5)))
    return pd.DataFrame({"label": y, "score": score, "split": rng.choice(["train", "train_val", "val", "test"], n),
                         "device": rng.choice(["phone", "tablet", "desktop"], n)})


SCENARIOS = {
    "four classes with history": lambda: erranalysis.analyze(multiclass_frame(400, k=4, seed=3), goal=0.01,
                                                             history=_history()),
    "53 classes": lambda: erranalysis.analyze(_many_classes(), goal=0.01),
    "binary": lambda: erranalysis.analyze(_binary(), goal=0.01),
    "binary with history": lambda: erranalysis.analyze(_binary(seed=5), goal=0.02, history=_history(200, seed=1)),
}


@functools.lru_cache(maxsize=None)
def analysed(name: str):
    """The result of a scenario, analysed once for every test here."""
    return SCENARIOS[name]()


def _all_figures(result) -> dict[str, str]:
    out = {
        "decomposition": figures.decomposition(result),
        "confusion_heatmap": figures.confusion_heatmap(result)[0],
        "reliability": figures.reliability(result),
        "class_balance": figures.class_balance(result)[0],
        "loss_curves": figures.loss_curves(result),
        "slice_errors": figures.slice_errors(result),
    }
    for t in result.thresholds:
        out[f"threshold_sweep {t.label}"] = figures.threshold_sweep(t)
    return {k: v for k, v in out.items() if v is not None}


@pytest.fixture(scope="module", params=list(SCENARIOS))
def drawn(request):
    return request.param, _all_figures(analysed(request.param))


# ----------------------------------------------------------------------- tests


def test_svg_font_measure():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="200pt" height="100pt" viewBox="0 0 400 200">'
           '<g transform="scale(0.5)"><text style="font-size: 20px">a</text></g>'
           '<text style="font: 12px \'DejaVu Sans\'">b</text></svg>')
    width, height, fonts = svg_fonts(svg)
    assert (width, height) == (200, 100)
    assert fonts == [(5.0, "a"), (6.0, "b")]
    assert print_scale(2 * CONTENT_WIDTH, 10) == pytest.approx(0.5)
    assert print_scale(10, 2 * MAX_HEIGHT) == pytest.approx(0.5)
    assert print_scale(10, 10) == 1.0


def test_every_figure_is_drawn(drawn):
    name, figs = drawn
    expected = {"decomposition", "confusion_heatmap", "reliability", "class_balance", "slice_errors"}
    if "history" in name:
        expected.add("loss_curves")
    assert expected <= set(figs)
    if "binary" in name:
        assert any(k.startswith("threshold_sweep") for k in figs)


def test_figures_are_lean_svg(drawn):
    # what a renderer would parse or walk for nothing: metadata, CSS, groups that only name an artist
    name, figs = drawn
    for fig, svg in figs.items():
        root = ET.fromstring(svg)
        assert root.get("stroke-linejoin") == "round" and root.get("stroke-linecap") == "butt", fig
        for node in root.iter():
            tag = node.tag.rpartition("}")[2]
            assert tag not in ("metadata", "style") and "style" not in node.attrib, (fig, tag)
            assert not (tag == "g" and set(node.keys()) <= {"id"}), (fig, node.get("id"))


def test_lean_svg_keeps_what_it_cannot_turn_into_attributes():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt">'
           '<metadata>m</metadata><defs><style type="text/css">*{stroke-linecap: butt}</style></defs>'
           '<g id="a"><path d="M 0 0" style="fill: #fff; stroke-width: 2"/></g>'
           '<g id="b"><text style="font-size: 8px; mix-blend-mode: multiply">x</text></g>'
           '<use xlink:href="#b"/></svg>')
    lean = figures._lean(svg)
    assert lean.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and 'width="10pt"' in lean
    assert "metadata" not in lean and "<style" not in lean and 'stroke-linecap="butt"' in lean
    assert '<path d="M 0 0" fill="#fff" stroke-width="2" />' in lean and 'id="a"' not in lean
    assert '<g id="b"><text style="font-size: 8px; mix-blend-mode: multiply">x</text></g>' in lean
    # a stylesheet other than matplotlib's one rule stays, and so do the style attributes
    other = svg.replace("*{stroke-linecap: butt}", "path{fill: red}")
    assert "path{fill: red}" in figures._lean(other) and 'style="fill: #fff' in figures._lean(other)
    # not XML (a control character in a label): as matplotlib wrote it, without the prolog
    broken = svg.replace(">x<", ">x\x01<")
    assert figures._lean('<?xml version="1.0"?>\n' + broken) == broken


def test_figure_text_is_at_least_8pt_in_print(drawn):
    name, figs = drawn
    small = {}
    for fig, svg in figs.items():
        scale, fonts = printed_fonts(fig.split()[0], svg)
        assert fonts, f"{fig}: no text found"
        size, text = min(fonts)
        if size < MIN_PT - 1e-6:
            small[fig] = f"{size:.2f} pt ({text!r}, scaled by {scale:.2f})"
    assert not small, f"{name}: text below {MIN_PT} pt in print: {small}"


def test_limits_are_those_of_the_print_stylesheet():
    from erranalysis.resources import templates_dir

    css = (templates_dir() / "print.css").read_text()
    found = {sel.strip(): float(mm) for sel, mm in re.findall(r"([^{}]*img)\s*\{\s*max-height:\s*([0-9.]+)mm", css)}
    assert found == pytest.approx({
        "figure.fig img": MAX_HEIGHT / MM,
        "section#decomposition figure.fig img": MAX_HEIGHT_DECOMPOSITION / MM,
        "section#confusion figure.fig img": MAX_HEIGHT_CONFUSION / MM,
    })
    assert re.search(r"figure\.small-fig img\s*\{\s*max-width:\s*26rem", (templates_dir() / "report.css").read_text())
    assert re.search(r"@media print\s*\{\s*html\s*\{\s*font-size:\s*9\.5pt", css)


# ------------------------------------------------------- confusion heatmap at many classes


def test_heatmap_keeps_the_classes_with_the_most_errors():
    rng = np.random.default_rng(0)
    k = 53
    m = np.diag(rng.integers(50, 500, k)).astype(float)
    for _ in range(400):
        i, j = rng.integers(0, k, 2)
        if i != j:
            m[i, j] += rng.integers(1, 5) * (1 + (i % 7 == 0) * 10)
    labels = [f"c{i}" for i in range(k)]
    idx = figures.heatmap_classes(m, labels)
    assert len(idx) == figures.MAX_HEATMAP_CLASSES and idx == sorted(idx)
    off = m - np.diag(np.diag(m))
    errors = off.sum(axis=0) + off.sum(axis=1)
    assert min(errors[idx]) >= max(np.delete(errors, idx))
    # few classes: all of them; many classes but few with errors: only those
    assert figures.heatmap_classes(m[:5, :5], labels[:5]) == list(range(5))
    sparse = np.diag(np.full(k, 10.0))
    sparse[3, 40] = sparse[40, 7] = 2
    assert figures.heatmap_classes(sparse, labels) == [3, 7, 40]


def test_53_class_heatmap_shows_20_classes_and_colours_errors_only():
    r = analysed("53 classes")
    svg, shown, cut = figures.confusion_heatmap(r)
    conf = r.confusion
    assert cut and len(shown) == figures.MAX_HEATMAP_CLASSES
    assert [conf.labels[i] for i in figures.heatmap_classes(conf.matrix, list(conf.labels))] == shown
    texts = [t for _, t in svg_fonts(svg)[2]]
    # the same classes label the rows and the columns (truncated alike)
    assert all(texts.count(t) == 2 for t in texts if t.startswith("species"))
    # the diagonal is hatched grey, outside the colour scale, which ends near the largest error share
    assert len(re.findall(r'fill="url\(#h', svg)) >= len(shown)
    m = np.asarray(conf.matrix, float)
    rates = m / m.sum(axis=1, keepdims=True)
    np.fill_diagonal(rates, 0)
    ticks = [float(t[:-1]) for t in texts if t.endswith("%")]
    assert max(ticks) <= 100 * rates.max() + 1e-9 and max(ticks) < 50


def test_heatmap_caption_counts_the_classes_shown():
    r = analysed("53 classes")
    html = r.to_html()
    assert "20 of 53 classes" in html


# ------------------------------------------------- figures kept with their tables in print


def _kept(html: str, section: str) -> list[str]:
    """The keep-together blocks of a section (up to the next div of the section)."""
    body = html[html.index(f'<section id="{section}">'):]
    body = body[:body.index("</section>")]
    return re.findall(r'<div class="keep-together">(.*?)</div>', body, flags=re.S)


def test_figures_are_kept_with_their_tables():
    html = analysed("four classes with history").to_html()
    (confusion,) = _kept(html, "confusion")
    assert "<img" in confusion and "Most confused pairs" in confusion and "</table>" in confusion
    (calibration,) = _kept(html, "calibration")
    assert "Expected calibration error" in calibration and "<img" in calibration
    (balance,) = _kept(html, "class-balance")
    assert "<img" in balance and "total variation" in balance
    (slices,) = _kept(html, "slices")
    assert "<img" in slices and "excess errors" in slices


def test_a_pair_taller_than_a_page_is_not_kept_together():
    r = erranalysis.analyze(_many_classes(), goal=0.01,
                            settings=erranalysis.Settings().replace(top_confused=40, confused_min_count=1,
                                                                    confused_min_share=0.0, confused_min_rate=0.0))
    assert len(r.confusion.most_confused) >= 35  # 35 rows of 6.5 mm and the heatmap: more than a page
    html = r.to_html()
    assert _kept(html, "confusion") == []
    assert "Most confused pairs" in html


def test_fits_one_page():
    from erranalysis.report import PAGE_CONTENT_MM, TABLE_ROW_MM, _fits_one_page

    svg = '<svg width="400pt" height="283.46pt">'  # 100 mm
    rows = int((PAGE_CONTENT_MM - 100 - 30) // TABLE_ROW_MM)
    assert _fits_one_page(svg, 100, ["x"] * rows, 10)
    assert not _fits_one_page(svg, 100, ["x"] * (rows + 1), 10)
    assert _fits_one_page(svg, 100, ["x" * 10] * rows, 10)
    assert not _fits_one_page(svg, 100, ["x" * 11] * (rows // 2 + 1), 10)  # long cells wrap
    assert _fits_one_page(svg, 60, ["x"] * (rows + 5), 10)  # the stylesheet shrinks the figure to 60 mm
