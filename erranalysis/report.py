"""Result → plain context → HTML (Jinja) and PDF (WeasyPrint). The only renderer imports.

The context holds only str, int, float, bool, list and dict, with every number
already formatted, so templates never compute. Jinja autoescapes everything (class
names and metadata come from data) and fails on a missing key. Templates run in
Jinja's sandbox and are read only from inside their folder, so a ``--template-dir``
from someone else can restyle the report but not run code or read other files.

:class:`Rendering` builds the context of one result once and renders the HTML and
the PDF from it (and writes the JSON beside them).
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import UsageError
from .files import write_atomic
from .fmt import VERDICTS, ci_pct, ci_pts, pct, pts, shown_path
from .fmt import level as level_text
from .resources import templates_dir
from .result import (CalibrationResult, ClassBalance, Decomposition, NextStep, Provenance, ResultData,
                     ThresholdAnalysis)
from .verdict import gap_shares

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

    from .result import Change

#: A template's context, or a part of it: plain values (str, int, float, bool, None,
#: lists and dicts of them) under string keys.
Context = dict[str, Any]
_T = TypeVar("_T")

PAGE_SIZES = ("A4", "letter")

SECTIONS = [
    ("headline", "The next step"),
    ("decomposition", "Where the error comes from"),
    ("plan", "The plan"),
    ("comparison", "What changed"),
    ("errors", "Error per split"),
    ("terms", "Decomposition terms"),
    ("next-steps", "Next steps"),
    ("findings", "All findings"),
    ("data-quality", "Data quality and warnings"),
    ("baselines", "Baselines"),
    ("references", "Reference models"),
    ("confusion", "Confusion"),
    ("per-class", "Per-class metrics"),
    ("threshold", "Thresholds"),
    ("calibration", "Calibration"),
    ("class-balance", "Class balance"),
    ("slices", "Where the errors live"),
    ("shift", "Shifted features"),
    ("examples", "Examples to look at"),
    ("training-history", "Training history"),
    ("appendix", "Appendix"),
    ("provenance", "Provenance"),
]
#: The sections of the first page, before the contents: what to do, the verdict, the
#: chart and the plan.
PAGE_ONE = ("headline", "decomposition", "plan")
#: Reports with more sections than this get a contents box (after page 1's content).
MIN_SECTIONS_FOR_CONTENTS = 10
#: At most this many steps are named in the plan on page 1; the rest are counted.
MAX_PLAN_STEPS = 8
#: Columns of the printed contents box (``nav.toc ol`` in print.css).
CONTENTS_COLUMNS = 3

#: How strongly each hyperparameter tends to move the result (appendix table).
SENSITIVITY = [
    ("Learning rate", "high", "Tune first; try values a factor of 3 to 10 apart."),
    ("Learning-rate schedule", "high", "Warm-up and decay often matter as much as the rate itself."),
    ("Loss function", "high", "Must match the task; class weights belong here."),
    ("Layer size (width)", "high", "The main capacity knob against underfitting."),
    ("Weight initialisation", "medium", "Matters for deep networks without normalisation."),
    ("Model depth", "medium", "More capacity; also harder to optimise."),
    ("Layer parameters (kernel size, ...)", "medium", "Architecture-specific."),
    ("Regularisation strength", "medium", "The main knob against overfitting."),
    ("Optimizer choice", "low", "Adam is a sound default."),
    ("Other optimizer parameters", "low", "Defaults rarely need changing."),
    ("Batch size", "low", "Mostly what fits in memory; scale the learning rate with it."),
    ("Nonlinearity", "low", "ReLU-like defaults are fine."),
]

GLOSSARY = [
    ("Goal", "The error you aim for, often human-level error or a business requirement. It stands in "
     "for the irreducible error."),
    ("Avoidable bias", "Train error minus the goal: what a better fit to the training data could still "
     "win. Large avoidable bias is underfitting."),
    ("Variance", "train_val error minus train error, on data from the training distribution the model "
     "did not see. Large variance is overfitting."),
    ("Distribution shift", "val error minus train_val error: what the model loses because val/test data "
     "differ from training data."),
    ("Val overfitting", "test error minus val error: what was lost by making too many decisions on the "
     "same validation set."),
    ("train_val", "A held-out split drawn from the training distribution. It separates variance from "
     "distribution shift."),
    ("Confidence interval", "The range of values consistent with the data at 95% confidence. An interval "
     "that spans zero means the sign of a difference is not settled. The intervals of the decomposition's "
     "terms hold together (simultaneous intervals), so chance rarely makes any of them look material."),
    ("Material / negligible / too noisy to tell", "A term is material when its interval lies above zero "
     "and it is at least 10% of the gap to the goal; too noisy when its interval spans zero but could be "
     "material; negligible otherwise."),
    ("Majority baseline", "The error of always predicting the most frequent training class. A model that "
     "does not beat it has learned nothing usable."),
    ("ROC AUC", "The chance that a random example of a class gets a higher score than a random example of "
     "the other classes; independent of the threshold."),
    ("Threshold", "The score above which a class is predicted. Good ranking with near-zero recall means "
     "the threshold, not the model, is wrong."),
    ("Expected calibration error", "The average gap between predicted probability and observed frequency, "
     "weighted by rows."),
    ("Label shift", "A change in class frequencies between splits."),
]

#: Glossary terms that only explain a section, by that section: left out without it.
_GLOSSARY_NEEDS = {"Majority baseline": "baselines", "ROC AUC": "per-class", "Threshold": "threshold",
                   "Expected calibration error": "calibration", "Label shift": "class-balance"}
_GLOSSARY_DEFAULT = "terms"  # the other terms explain the decomposition

_SEVERITY_ORDER = ("high", "medium", "low", "info")
#: At most this many classes get a threshold section (flagged ones first); the JSON has all.
MAX_THRESHOLD_SECTIONS = 10
_GENERIC_STEMS = {"predictions", "prediction", "preds", "pred", "output", "outputs", "results", "scores"}


#: Figures drawn for each result still alive: every rendering of one result (a notebook
#: shows it again, a script writes its HTML and then its PDF) draws each figure once.
_FIGURES: dict[int, dict[tuple[object, ...], Any]] = {}


def _figure(result: ResultData, draw: Callable[..., _T], *args: object) -> _T:
    """``draw(*args)`` (``draw(result)`` without ``args``), drawn once per result."""
    drawn = _drawn(result)
    key = (draw.__name__, *(id(a) for a in args))
    if key not in drawn:
        drawn[key] = draw(*(args or (result,)))
    figure: _T = drawn[key]
    return figure


def _seed_figure(result: ResultData, draw: Callable[..., object], figure: object) -> None:
    """Put ``figure``, what ``draw(result)`` returns when drawn elsewhere, in the cache."""
    _drawn(result)[(draw.__name__,)] = figure


def _drawn(result: ResultData) -> dict:
    """The figures drawn for ``result`` so far, forgotten with it."""
    import weakref

    drawn = _FIGURES.get(id(result))
    if drawn is None:
        drawn = _FIGURES[id(result)] = {}
        weakref.finalize(result, _FIGURES.pop, id(result), None)
    return drawn


#: Height of a printed page's content in mm: US letter, the shorter page (279.4 mm less
#: the 18 mm top and bottom margins of print.css), less room for the running header.
PAGE_CONTENT_MM = 235.0
#: A table row in print (8.5 pt text and its padding), in mm, per line of text.
TABLE_ROW_MM = 6.5


def _fits_one_page(svg: str | None, max_height_mm: float, rows: list[str], line_chars: int,
                   extra_mm: float = 30.0) -> bool:
    """Whether a figure and its table fit one printed page together.

    ``rows`` are the texts of the cell that wraps first in each row, and ``line_chars``
    how many of its characters fit one line; ``extra_mm`` covers the caption, headings
    and the table header.
    Only a pair that fits is kept together: one taller than a page would open with a
    blank page end and break anyway.
    """
    height = 0.0
    if svg is not None:
        m = re.search(r'height="([0-9.]+)pt"', svg[:400])
        height = min(float(m.group(1)) * 25.4 / 72, max_height_mm) if m else max_height_mm
    lines = sum(1 + max(len(r) - 1, 0) // line_chars for r in rows)
    return height + extra_mm + lines * TABLE_ROW_MM <= PAGE_CONTENT_MM


def _svg_uri(svg: str | None) -> str | None:
    if svg is None:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _num(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _count(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.1f}"


def _share(row: dict | None) -> str:
    """A term's signed share of the gap in whole percent ("−20%"), blank without a gap."""
    if row is None:
        return ""
    return f"{row['percent']}%"


def _without_paths(text: str, prov: Provenance) -> str:
    """``text`` with the input's and the history's paths as :func:`shown_path` shows them."""
    for path in (prov.input, prov.history):
        shown = shown_path(path)
        if path and shown and shown != path:
            text = text.replace(path, shown)
    return text


def shown_command(command: str | None) -> str | None:
    """The command line with every absolute path (also in ``--flag=/path``) cut to its file name."""
    if not command:
        return command
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        return re.sub(r"(?:~|/)[^\s'\"]*/([^\s/'\"]+)", r"\1", command)
    out = []
    for word in words:
        flag, eq, value = word.partition("=")
        if eq and flag.startswith("-"):
            out.append(f"{flag}={shown_path(value)}")
        else:
            out.append(shown_path(word) or word)  # an empty word stays empty
    return shlex.join(out)


def _impact_text(step: NextStep, interval: bool = True) -> str:
    """ "explains 6.9 pts (3.2 to 12.4)" for a step with a measured effect, else "" (the
    one-line plan leaves the interval out). A term too noisy to tell explains nothing
    yet: more rows are what the step asks for."""
    if not step.impact or step.impact <= 0 or step.problem == "insufficient_data":
        return ""
    if step.problem == "leakage":  # a bound on how far the leak can move the error
        return f"moves the error by up to {pts(step.impact)}"
    text = f"explains {pts(step.impact)}"
    if interval and step.impact_ci is not None:
        text += f" ({ci_pts(step.impact_ci)})"
    return text


#: Finding kinds the data-quality section lists.
_QUALITY_KINDS = ("data_quality", "leakage", "below_baseline")


def build_context(result: ResultData, title: str | None = None, model_name: str | None = None,
                  page_size: str = "A4") -> Context:
    """The plain, pre-formatted context every template receives.

    Each section's part comes from a function of its own; which sections the report
    shows follows from those parts. Figures are drawn as their sections are built.
    """
    if page_size not in PAGE_SIZES:
        raise UsageError(f"--page-size must be one of {', '.join(PAGE_SIZES)}. Got {page_size!r} instead.")
    created = _created(result.provenance)
    steps = _steps_context(result)
    findings = _findings_context(result)
    quality = [f for f in findings if f["kind"] in _QUALITY_KINDS]
    thresholds_shown = _thresholds_shown(result)
    parts = {
        "confusion": _confusion_context(result),
        "thresholds": [_threshold_context(result, t) for t in thresholds_shown],
        "calibration": _calibration_context(result),
        "balance": _balance_context(result),
        "history": _history_context(result, findings),
        "slices": _slices_context(result),
        "baselines": _baselines_context(result),
    }
    has = _sections_present(result, steps, parts)
    checks = _checks(result, has, clean=not (quality or result.warnings))
    has["data-quality"] = bool(quality or result.warnings or checks["passed"] or checks["not_checked"])
    # Without the tuning table (no training history) the appendix is the glossary alone.
    titles = dict(SECTIONS, appendix="Appendix" if parts["history"] else "Glossary")
    sections = [{"id": i, "title": titles[i], "template": i.replace("-", "_")} for i, _ in SECTIONS if has[i]]
    _mark_column_ends(sections)
    level = level_text(result.provenance)
    return {
        **_page_context(result, title, model_name, created),
        "level": level,
        "page_size": page_size,
        "eval_split": result.eval_split or "—",
        "metric_name": "balanced error" if result.decomposition.metric == "balanced_error" else "error",
        "sections": sections,
        # A short report (summary figures: two pages) is read front to back without contents.
        "show_contents": len(sections) > MIN_SECTIONS_FOR_CONTENTS,
        "page_one": [sec for sec in sections if sec["id"] in PAGE_ONE],
        "rest": [sec for sec in sections if sec["id"] not in PAGE_ONE],
        "headline": _headline_context(result, steps),
        "verdict": _verdict_context(result),
        "plan": _plan_context(result, steps),
        "errors": _errors_context(result),
        # Summary figures without row counts have neither intervals nor rows to show.
        "errors_counted": any(e.n is not None for e in result.errors.values()),
        "goal": pct(result.decomposition.goal) if result.decomposition.goal is not None else None,
        "decomposition": _decomposition_context(result),
        "steps": steps,
        "findings": findings,
        "quality": quality,
        "warnings": [_without_paths(w.message, result.provenance) for w in result.warnings],
        "baselines": parts["baselines"],
        "references": _references_context(result),
        "checks": checks,
        "confusion": parts["confusion"],
        "thresholds": parts["thresholds"],
        "thresholds_hidden": max(len(result.thresholds) - len(thresholds_shown), 0),
        "calibration": parts["calibration"],
        "balance": parts["balance"],
        "history": parts["history"],
        "slices": parts["slices"],
        "comparison": _comparison_context(result),
        # The generic deep-learning tuning table belongs with a training history.
        "sensitivity": [{"name": n, "level": lvl, "note": note} for n, lvl, note in SENSITIVITY]
        if parts["history"] else [],
        "glossary": _glossary_context(result, has, level),
        "appendix_title": titles["appendix"],
        "provenance": _provenance_context(result.provenance, created),
    }


def _mark_column_ends(sections: list[Context]) -> None:
    """Mark the entries that end a column of the printed contents (``column_end``).

    Balanced columns of one-line entries hold ceil(n / columns) entries each, the last
    column the rest. The PDF's columns break after the marked entries (pdf.css), so
    WeasyPrint fills them in one pass instead of trying column heights (same columns,
    less work).
    """
    rows = -(-len(sections) // CONTENTS_COLUMNS)
    for i, section in enumerate(sections, 1):
        section["column_end"] = i % rows == 0 and i < len(sections)


def _created(prov: Provenance) -> str:
    """When the result was made, as "2025-01-31 14:05 UTC" (the stored text when it is no date)."""
    try:
        return _dt.datetime.fromisoformat(prov.created).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return prov.created


#: The inputs held in memory, as the provenance names them, and as the page header does.
_IN_MEMORY = {name: f"a {name}" for name in (
    "DataFrame", "mapping", "Spark DataFrame", "pyarrow Table", "pyarrow RecordBatch", "pyarrow Dataset",
    "polars DataFrame", "polars LazyFrame")} | {"estimator": "the estimator's predictions"}


def _page_context(result: ResultData, title: str | None, model_name: str | None, created: str) -> Context:
    """The page header: the title, the model's name, what the report was made from and when.

    Without a name given, the model is named after its input: the predictions file (its
    folder when the file's name is generic) or the training history's folder.
    """
    prov = result.provenance
    source = Path(prov.input).name if prov.input else "summary figures"
    model = model_name or "model"
    if prov.input is None and prov.history:
        source = f"training history {Path(prov.history).name}"
        if model_name is None:
            model = Path(prov.history).parent.name or Path(prov.history).stem
    if prov.sha256 is None:  # not read from a file
        source = {"arrays": "arrays"}.get(prov.input or "") or _IN_MEMORY.get(prov.input or "", source)
    if model_name is None and prov.model:
        model = prov.model
    elif prov.sha256 is not None and model_name is None and prov.input:
        path = Path(prov.input)
        model = path.name.split(".")[0]
        if model.lower() in _GENERIC_STEMS and path.parent.name:
            model = path.parent.name  # examples/digits/predictions.parquet -> digits
    return {"title": title or f"Error analysis: {model}", "model_name": model, "source": source, "created": created}


def _steps_context(result: ResultData) -> list[Context]:
    """The next steps, numbered from 1, each with its measured effect."""
    from .advice import PROBLEM_NAMES

    return [
        {
            "number": i,
            "name": s.name or PROBLEM_NAMES.get(s.problem, s.problem),
            "problem": s.problem,
            "why": s.why,
            "actions": list(s.actions),
            "severity": s.severity,
            "impact": _impact_text(s),
            "also": list(s.findings[1:]),
        }
        for i, s in enumerate(result.next_steps, 1)
    ]


def _headline_context(result: ResultData, steps: list[Context]) -> Context:
    """The first page's lead: the first step and its first action, or that nothing is material."""
    first = steps[0] if steps else None
    return {
        "text": result.headline,
        "has_step": first is not None,
        "name": first["name"] if first else "No material problem",
        "why": first["why"] if first else result.headline,
        "action": first["actions"][0] if first else "",
        "severity": first["severity"] if first else "info",
    }


def _verdict_context(result: ResultData) -> Context | None:
    """The evaluation error against the goal, in one line."""
    verdict = result.verdict
    return None if verdict is None else {"text": verdict.text, "status": verdict.status.replace("_", "-")}


def _plan_context(result: ResultData, steps: list[Context]) -> Context:
    """The first page's plan: the first steps in one line each, and how many more there are."""
    return {
        "steps": [{"number": st["number"], "name": st["name"], "severity": st["severity"],
                   "impact": _impact_text(result.next_steps[st["number"] - 1], interval=False)}
                  for st in steps[:MAX_PLAN_STEPS]],
        "more": max(len(steps) - MAX_PLAN_STEPS, 0),
    }


def _errors_context(result: ResultData) -> list[Context]:
    """One row per split: its error, interval, rows and the majority baseline's error."""
    baselines = {b.split: b for b in result.baselines}
    return [
        {
            "split": s,
            "error": pct(e.error),
            "ci": ci_pct(e.ci),
            "n": "—" if e.n is None else f"{e.n:,}",
            "majority": pct(baselines[s].majority_error) if s in baselines else "—",
            "is_eval": s == result.eval_split,
        }
        for s, e in result.errors.items()
    ]


def _decomposition_context(result: ResultData) -> Context:
    """The waterfall figure, one row per term, the gap to the goal and the materiality rule."""
    from . import figures

    dec = result.decomposition
    shares = {r["name"]: r for r in gap_shares(dec)}
    gap_text = ""
    if dec.gap is not None and dec.final_split:
        against = f"the goal of {pct(dec.goal)}" if dec.goal is not None else "train error"
        gap_text = f"{dec.final_split} error {pct(dec.final_error)} is {pts(dec.gap)} from {against}."
    mat = dec.materiality_threshold
    materiality = ("The final error is at or below the goal, so no term is material." if mat == float("inf")
                   else f"A term is material when its interval lies above zero and it reaches {pts(mat, 2)}.")
    return {
        "figure": _svg_uri(_figure(result, figures.decomposition)),
        "components": _component_rows(dec, shares),
        "gap": gap_text,
        "materiality": materiality,
        "negative_share": any(r["percent"] < 0 for r in shares.values()),
    }


def _component_rows(dec: Decomposition, shares: dict[str, dict]) -> list[Context]:
    """The decomposition table: each term with its interval, verdict and share of the gap.

    A term that cannot be measured says why; with a goal but no train split, a last row
    holds the stretch from the goal to the first split.
    """
    rows: list[Context] = []
    for name, comp in dec.components.items():
        label = name.replace("_", " ")
        if comp is None:
            rows.append({"name": label, "value": "—", "ci": "", "verdict": "not measurable",
                         "verdict_class": "not-measurable", "between": "", "share": "",
                         "note": dec.not_measurable.get(name, "")})
            continue
        note = ""
        if comp.includes:
            note = "Includes " + ", ".join(i.replace("_", " ") for i in comp.includes) + " (no split separates them)."
        if comp.rows_to_resolve:
            need = ", ".join(f"{n:,} {s}" for s, n in comp.rows_to_resolve.items())
            note = (note + " " if note else "") + f"About {need} rows would settle it."
        rows.append({
            "name": label,
            "value": pts(comp.value, signed=True),
            "ci": ci_pts(comp.ci),
            "verdict": VERDICTS[comp.verdict],
            "verdict_class": comp.verdict.replace("_", "-"),
            "between": f"{comp.earlier} → {comp.later}",
            "share": _share(shares.get(name)),
            "note": note,
        })
    if "rest" in shares:  # a goal but no train split: the stretch from the goal to the first split
        first = next((c.earlier for c in dec.components.values() if c is not None), dec.final_split)
        rows.append({
            "name": "not separated", "value": pts(shares["rest"]["value"], signed=True), "ci": "",
            "verdict": "not measurable", "verdict_class": "not-measurable", "between": f"goal → {first}",
            "share": _share(shares["rest"]), "note": f"Without a train split the stretch from the goal to {first} "
            "error cannot be split into avoidable bias and the terms after it.",
        })
    return rows


def _findings_context(result: ResultData) -> list[Context]:
    """Every finding, the most severe first."""
    return [
        {"severity": f.severity, "kind": f.kind, "title": f.title, "split": f.split or "—"}
        for f in sorted(result.findings, key=lambda f: _SEVERITY_ORDER.index(f.severity))
    ]


def _confusion_context(result: ResultData) -> Context | None:
    """The confusion section (heatmap and most-confused pairs) and the per-class metrics."""
    from . import figures

    c = result.confusion
    if c is None:
        return None
    svg, shown, cut = _figure(result, figures.confusion_heatmap)
    return {
        "split": c.split,
        "figure": _svg_uri(svg),
        "cut": cut,
        "shown": len(shown),
        "total": len(c.labels),
        "counts": len(shown) <= figures.HEATMAP_MAX_COUNTED,
        # the first column of eight is narrow: about 8 characters a line
        "keep_together": _fits_one_page(svg, 100, [str(p.actual) for p in c.most_confused], 8),
        "pairs": [
            {
                "actual": p.actual,
                "predicted": p.predicted,
                "count": _count(p.count),
                "rate": pct(p.rate),
                "share": pct(p.share_of_errors),
                "both": p.both_directions,
                "pattern": {"everywhere": "every split", "eval_only": "after the shift",
                            "held_out": "held-out rows"}.get(p.pattern, "—"),
                "train_rate": pct(p.rates_by_split.get("train")) if "train" in p.rates_by_split else "—",
            }
            for p in c.most_confused
        ],
        "never_predicted": list(c.never_predicted),
        "per_class": [
            {
                "label": m.label,
                "precision": _num(m.precision),
                "recall": _num(m.recall),
                "f1": _num(m.f1),
                "support": _count(m.support),
                "auc": _num(m.roc_auc),
                "weak": m.support > 0 and m.recall < 0.5,
            }
            for m in c.per_class[c.split]
        ],
    }


def _thresholds_shown(result: ResultData) -> list[ThresholdAnalysis]:
    """The classes that get a threshold section: flagged ones first, at most :data:`MAX_THRESHOLD_SECTIONS`."""
    return sorted(result.thresholds, key=lambda t: not t.flagged)[:MAX_THRESHOLD_SECTIONS]


def _threshold_context(result: ResultData, t: ThresholdAnalysis) -> Context:
    """One class's threshold sweep: the figure and its metrics before and after the recommended threshold."""
    from . import figures

    return {
        "label": t.label,
        "flagged": t.flagged,
        "figure": _svg_uri(_figure(result, figures.threshold_sweep, t)),
        "current": "argmax" if t.current_threshold is None else f"{t.current_threshold:.3g}",
        "recommended": f"{t.recommended_threshold:.3g}",
        "chosen_on": t.chosen_on,
        "evaluated_on": t.evaluated_on,
        "auc": _num(t.roc_auc),
        "optimistic": t.optimistic,
        "rows": [
            {"metric": name, "before": fmt(t.before[key]), "after": fmt(t.after[key])}
            for name, key, fmt in _THRESHOLD_ROWS
        ],
    }


#: The rows of a threshold section's table: heading, key of ``before``/``after``, format.
_THRESHOLD_ROWS: tuple[tuple[str, str, Callable[[float | None], str]], ...] = (
    ("recall", "recall", pct), ("precision", "precision", pct), ("F1", "f1", _num),
    ("error (all classes)", "error", pct),
)


def _calibration_context(result: ResultData) -> Context | None:
    """The reliability diagram, the calibration error against its noise floor, and the direction."""
    from . import figures

    cal = result.calibration
    if cal is None:
        return None
    return {
        "split": cal.split,
        "figure": _svg_uri(_figure(result, figures.reliability)),
        "ece": pct(cal.ece),
        "floor": pct(cal.noise_floor),
        "kind": "positive-class probability" if cal.kind == "positive_class" else "probability of the predicted class",
        "poor": any(f.kind == "poor_calibration" for f in result.findings),
        "direction": _calibration_direction(cal),
        "positive": cal.kind == "positive_class",
    }


def _balance_context(result: ResultData) -> Context | None:
    """Class shares per split, the imbalance, and the label-shift tests."""
    from . import figures

    bal = result.class_balance
    if bal is None:
        return None
    svg, cut = _figure(result, figures.class_balance)
    return {
        "figure": _svg_uri(svg),
        "cut": cut,
        "keep_together": _fits_one_page(svg, 80, [t.split for t in bal.tests], 12),
        "ratio": "—" if bal.imbalance_ratio is None else f"{bal.imbalance_ratio:,.1f} : 1",
        "ratio_split": bal.ratio_split,
        "balanced": _balanced_text(result, bal),
        "tests": [
            {"split": t.split, "reference": t.reference, "tvd": pct(t.tvd), "p": f"{t.p_value:.2g}"}
            for t in bal.tests
        ],
    }


_HISTORY_FORMATS = {"keras": "Keras CSVLogger", "lightning": "PyTorch Lightning metrics.csv",
                    "huggingface": "Hugging Face trainer_state.json", "table": "table"}


def _history_context(result: ResultData, findings: list[Context]) -> Context | None:
    """The training-history section: where the curves came from, their figure and their findings."""
    from . import figures

    h = result.history
    if h is None:
        return None
    return {
        "source": shown_path(h.source),
        "format": _HISTORY_FORMATS.get(h.format, h.format),
        "points": f"{h.n_train:,} train and {h.n_val:,} val values, by {h.x_name}",
        "summary": h.summary,
        "figure": _svg_uri(_figure(result, figures.loss_curves)),
        "findings": [f for f in findings if f["kind"].startswith("loss_")],
    }


def _baselines_context(result: ResultData) -> list[Context]:
    """The model's error beside the majority and stratified baselines, per split."""
    return [
        {"split": b.split, "model": pct(b.model_error), "majority": pct(b.majority_error),
         "stratified": pct(b.stratified_error), "majority_class": b.majority_class, "prior_from": b.prior_from,
         "beats": b.model_error < b.majority_error}
        for b in result.baselines
    ]


def _references_context(result: ResultData) -> list[Context]:
    """Each reference model beside the model, on the same held-out rows (with the level
    of their intervals: the report's, shared among the references)."""
    confidence = float(result.provenance.settings.get("confidence", 0.95))
    count = len(result.references)
    level = 1 - (1 - confidence) / max(count, 1)
    level_text = (f"{level * 100:g}% interval" if count < 2 else
                  f"{level * 100:g}% interval (the {count} references share the report's {confidence * 100:g}%)")
    return [
        {"family": r.family, "name": r.name, "split": r.split, "train_rows": f"{r.train_rows:,}",
         "rows": f"{r.rows:,}", "error": pct(r.error), "model_error": pct(r.model_error),
         "change": pts(r.change, signed=True), "ci": ci_pts(r.ci), "verdict": r.verdict,
         "better": r.verdict == "better", "level": level_text}
        for r in result.references
    ]


def _provenance_context(prov: Provenance, created: str) -> list[Context]:
    """What the report was made from and how, as key and value rows.

    Paths show as the user gave them when relative, else as file names only; rows with
    nothing to show (a summary-figures report has no hash, rows or columns) are left out.
    """
    rows = [
        ("Input", shown_path(prov.input) or ("none (training history only)" if prov.history else
                                             "summary figures (error rates per split)")),
        ("SHA-256", prov.sha256),
        ("Rows", None if prov.rows is None else f"{prov.rows:,}"),
        ("Rows per split", None if all(n is None for n in prov.rows_by_split.values()) else ", ".join(
            f"{s}: {'—' if n is None else f'{n:,}'}" for s, n in prov.rows_by_split.items())),
        ("Columns used", "; ".join(
            f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in prov.columns.items() if v
        ) or None),
        ("Training history", shown_path(prov.history)),
        ("Model", prov.model),
        ("Model family", None if prov.model_family is None else f"{prov.model_family} (next steps fitted to it)"),
        ("Metric", prov.metric),
        ("Goal", pct(prov.goal) if prov.goal is not None else "not given"),
        ("Command", shown_command(prov.command)),
        ("Created", f"{created} with erranalysis {prov.tool_version}"),
    ]
    return [{"key": k, "value": v} for k, v in rows if v]


def _sections_present(result: ResultData, steps: list[Context], parts: Context) -> dict[str, bool]:
    """Which sections the report shows, by section id.

    ``data-quality`` is settled by the caller, once the checks are known.
    """
    slices = parts["slices"]
    leads = {st.findings[0] for st in result.next_steps if st.findings}
    return {
        "headline": True,
        "decomposition": bool(result.errors),
        "plan": True,
        "errors": bool(result.errors),
        "terms": bool(result.errors),
        "comparison": result.comparison is not None,
        "next-steps": bool(steps),
        # Left out when every finding already leads a step of the plan (as from summary
        # figures): the table would repeat the steps' names, severities and kinds.
        "findings": any(f.title not in leads for f in result.findings),
        "data-quality": True,
        "baselines": bool(parts["baselines"]),
        "references": bool(result.references),
        "confusion": parts["confusion"] is not None,
        "per-class": parts["confusion"] is not None,
        # With probabilities every class was checked for a threshold problem, so "none
        # found" is a result; without them there is nothing to say.
        "threshold": bool(parts["thresholds"]) or parts["calibration"] is not None,
        "calibration": parts["calibration"] is not None,
        "class-balance": parts["balance"] is not None,
        "slices": bool(slices and slices["has_meta"]),
        "shift": bool(slices and slices["domain_auc"]),
        "examples": bool(slices and (slices["top_losses"] or slices["label_errors"] or slices["notes"])),
        "training-history": parts["history"] is not None,
        # The glossary explains the sections that rows make possible; a report from summary
        # figures has only the decomposition, whose table defines each term by its two
        # ends, and keeps to two pages without it. The tuning table needs a history.
        "appendix": bool(result.confusion is not None or result.provenance.rows is not None or parts["history"]),
        "provenance": True,
    }


def _glossary_context(result: ResultData, has: dict[str, bool], level: str) -> list[Context]:
    """The glossary terms that explain a section the report shows, at the report's confidence level."""
    with_intervals = any(e.ci is not None for e in result.errors.values())
    return [{"term": t, "meaning": m.replace("95%", level)} for t, m in GLOSSARY
            if has.get(_GLOSSARY_NEEDS.get(t, _GLOSSARY_DEFAULT))
            and (t != "Confidence interval" or with_intervals)]


_CHANGE_WORDS = {"better": "better", "worse": "worse", "no_change": "within noise", "not_comparable": "no interval"}


def _comparison_context(result: ResultData) -> Context | None:
    """The "What changed" section: the new run against the previous one."""
    c = result.comparison
    if c is None:
        return None

    def rows(changes: list[Change], rate: bool = True) -> list[Context]:
        return [{"name": x.name, "old": pct(x.old) if rate else pts(x.old), "new": pct(x.new) if rate else pts(x.new),
                 "change": pts(x.change, signed=True), "ci": ci_pts(x.ci), "verdict": _CHANGE_WORDS[x.verdict],
                 "verdict_class": x.verdict.replace("_", "-"),
                 "n": _count(x.n) if x.n is not None else ""} for x in changes]

    return {
        "line": c.text,
        "previous": shown_path(c.previous),
        "how": (f"Rows paired by {c.matched_by} ({_count(c.matched_rows)} rows): each change is measured on the "
                f"same rows under both models ("
                + ("a paired bootstrap within each class" if c.metric == "balanced_error"
                   else "Newcombe's paired score interval; McNemar's exact test") + ")."
                if c.paired else "The two runs are compared as independent samples (their rows could not be "
                "paired), so the intervals are wider than a paired comparison's."),
        "splits": rows(c.splits),
        "components": rows(c.components, rate=False),
        "classes": rows(c.classes),
        "slices": rows(c.slices),
        "new_findings": c.new_findings,
        "resolved_findings": c.resolved_findings,
        "kept": c.kept_findings,
        "notes": c.notes,
        "regression": c.regression,
    }


def _balanced_text(result: ResultData, bal: ClassBalance) -> str:
    """The evaluation split's imbalance and balanced error, and what they say about the error rate."""
    from .findings.classes import heavy_imbalance

    if bal.balanced_error is None or bal.eval_split is None:
        return ""
    limit = result.provenance.settings.get("imbalance_ratio", 10.0)
    ratio = "" if bal.eval_ratio is None or bal.eval_split == bal.ratio_split else \
        f"Largest to smallest class on {bal.eval_split}: {bal.eval_ratio:,.1f} : 1. "
    named = "balanced error (one minus the mean recall of the classes)"
    value = f"{pct(bal.balanced_error)} ({ci_pct(bal.balanced_error_ci)})"
    balanced = f"{named} {value}"
    error = result.errors.get(bal.eval_split)
    if not heavy_imbalance(bal, limit)[1] or error is None:
        return f"{ratio}On {bal.eval_split}, the {named} is {value}."
    if result.decomposition.metric == "balanced_error":
        return f"{ratio}Every figure of this report is in balanced error, which weighs every class alike: {balanced}."
    return (f"{ratio}At this imbalance the error rate ({pct(error.error)}) mostly counts the frequent classes and "
            f"is the wrong single figure to judge the model by: a model that misses the rare classes can still "
            f"show a small one. The {balanced} weighs every class alike (--metric balanced_error puts the whole "
            "report in it).")


def _calibration_direction(cal: CalibrationResult) -> str:
    """Which way the probabilities are off, with the signed gap and its interval."""
    from .findings.classes import calibration_direction

    if cal.overconfidence is None:
        return ""
    way = calibration_direction(cal)
    interval = f"interval {ci_pts(cal.overconfidence_ci)}"
    if way == "over":
        return (f"The model is over-confident: on average, weighted by rows, its confidence in the class it "
                f"predicts runs {pts(cal.overconfidence)} above how often that class is right ({interval}).")
    if way == "under":
        return (f"The model is under-confident: on average, weighted by rows, its confidence in the class it "
                f"predicts runs {pts(-cal.overconfidence)} below how often that class is right ({interval}).")
    return (f"On average the model is neither over- nor under-confident: confidence minus frequency is "
            f"{pts(cal.overconfidence, signed=True)} ({interval}); where the diagram strays from the diagonal, "
            "it strays both ways.")


_HISTORY_HOW = ("pass --history (history= in Python) with a Keras CSVLogger CSV, a Lightning metrics.csv "
                "or a Hugging Face trainer_state.json to diagnose the loss curves")


def _checks(result: ResultData, has: dict, clean: bool = True) -> dict:
    """What the input passed, and what could not be checked with what it holds and how to add it.

    Only checks that ran are claimed, and only when they raised nothing (``clean``: no
    data-quality finding and no warning): a report from summary figures has no rows, so
    it names what rows would allow instead of saying the input is clean.
    """
    prov = result.provenance
    has_rows = prov.rows is not None or result.confusion is not None
    ids = bool(prov.columns.get("id"))
    splits = len(result.errors)
    passed, missing = [], []
    if has_rows and clean:
        if ids and splits > 1:
            passed.append("no example id is shared between splits")
        if prov.columns.get("pred") and (prov.columns.get("proba") or prov.columns.get("score")):
            passed.append("the predicted classes agree with the probabilities")
        passed.append("no warning was raised")
    if has_rows:
        if not has["calibration"]:
            missing.append(("Calibration and threshold sweeps",
                            "need class probabilities: proba_<class> columns, or a binary score"))
        if not has["slices"]:
            missing.append(("Error slices and shifted features", "need metadata columns beside the predictions"))
        elif not has["shift"]:
            missing.append(("Shifted features", "need metadata columns and both a train and a val or test split"))
        if not has["examples"]:
            missing.append(("Examples to look at", "need probabilities or a per-row loss column"))
        if not ids and splits > 1:
            missing.append(("Leakage between splits", "needs an example id column (id, or name it with --id-col)"))
    else:
        rows_give = ("baselines, confusion, per-class metrics, thresholds, calibration, class balance, slices, "
                     "shifted features and leakage between splits")
        if result.errors:
            missing.append((rows_give[0].upper() + rows_give[1:], "need the predictions, one row per example"))
        else:  # a training history alone
            missing.append(("The errors per split, their decomposition, " + rows_give,
                            "need the predictions (one row per example); the errors per split alone "
                            "(--train, --val, --test) give the decomposition"))
        if result.errors and all(e.n is None for e in result.errors.values()):
            flags = ", ".join(f"--n-{s.replace('_', '-')}" for s in result.errors)
            missing.append(("Intervals on the errors and the terms",
                            f"need the rows of each split: pass {flags} (n= in Python)"))
    if result.history is None:
        missing.append(("Training history", _HISTORY_HOW))
    return {
        "has_rows": has_rows,
        "passed": ("The input passed these checks: " + "; ".join(passed) + ".") if passed else "",
        "not_checked": [{"what": w, "how": h} for w, h in missing],
    }


def _slices_context(result: ResultData) -> Context | None:
    """The slices with the most excess errors, shifted features and the examples to look at."""
    from . import figures

    sa = result.slices
    if sa is None:
        return None
    verdict_short = {"material": "material", "negligible": "—", "too_noisy": "noisy"}

    def comp(c):
        return "n/a" if c is None else f"{pts(c['value'], signed=True)} ({verdict_short[c['verdict']]})"

    examples = []
    for split, rows in sa.top_losses.items():
        if split == result.eval_split:
            examples = rows
    le = sa.label_errors or {}
    # The locator comes first and stands for the row, index and id; the split stays a
    # column of its own only where the locator does not name it (an id).
    hidden = ("locator", "row", "split", "index", "id")
    keys = [k for k in (examples[0].keys() if examples else []) if k not in hidden]
    le_rows = le.get("examples") or []
    le_keys = [k for k in (le_rows[0].keys() if le_rows else []) if k not in hidden]
    if le_rows and "id" in le_rows[0]:
        le_keys.insert(0, "split")
    loc_name, loc_note = _locator_header(examples or le_rows, result.provenance.input)
    return {
        "split": sa.split,
        "eval_split": result.eval_split,
        "overall": pct(sa.overall_error) if sa.overall_error is not None else "—",
        "has_meta": bool(sa.columns),
        "columns": ", ".join(c["column"] for c in sa.columns),
        "figure": _svg_uri(_figure(result, figures.slice_errors)),
        "keep_together": _fits_one_page(_figure(result, figures.slice_errors), 80,
                                        [f"{s.column} = {s.value}" for s in sa.slices[:15]], 24),
        "slices": [
            {"column": s.column, "value": s.value, "n": f"{s.n:,}", "error": pct(s.error), "ci": ci_pct(s.ci),
             "share": pct(s.share_of_errors), "excess": f"{s.excess_errors:+.0f}", "q": "<0.001" if s.q_value < 0.001 else f"{s.q_value:.2g}",
             "significant": s.significant}
            for s in sa.slices[:15]
        ],
        "decompositions": [
            {"column": d.column, "value": d.value, "pattern": d.pattern.replace("_", " "),
             "bias": comp(d.components.get("avoidable_bias")), "variance": comp(d.components.get("variance")),
             "shift": comp(d.components.get("distribution_shift")),
             "val_overfitting": comp(d.components.get("val_overfitting")),
             "rows": ", ".join(f"{k} {v:,}" for k, v in d.rows.items())}
            for d in sa.decompositions
        ],
        "cohorts": [
            {"rule": c.rule, "error": pct(c.holdout_error), "ci": ci_pct(c.holdout_ci), "rows": pct(c.share_of_rows),
             "n": f"{c.holdout_n:,}"}
            for c in sa.cohorts[:8]
        ],
        "cohort_rows": f"{sa.cohort_rows:,}",
        "domain_auc": None if sa.domain_auc is None else f"{sa.domain_auc:.2f}",
        "domain_ci": "" if sa.domain_ci is None else f"{sa.domain_ci[0]:.2f} to {sa.domain_ci[1]:.2f}",
        "domain_rows": f"{sa.domain_rows:,}",
        "features": [
            {"column": f.column, "kind": f.kind, "psi": f"{f.psi:.3f}", "p": f"{f.p_value:.2g}", "moved": f.moved}
            for f in sa.features[:12]
        ],
        "top_keys": [loc_name, *keys],
        "top_losses": [[_where(r), *(_cell(r.get(k)) for k in keys)] for r in examples],
        "label_errors": None if not le else {
            "count": f"{le['count']:,}", "share": pct(le["share"]), "examined": f"{le['examined']:,}",
            "columns": [loc_name, *le_keys],
            "rows": [[_where(r), *(_cell(r.get(k)) for k in le_keys)] for r in le_rows[:15]],
        },
        "locator_note": loc_note,
        "notes": list(sa.notes),
    }


def _locator_header(rows: list[dict], source: str | None) -> tuple[str, str]:
    """The heading of the locator column and the sentence that says how to read it."""
    if not rows:
        return "row", ""
    first = rows[0]
    if "id" in first:
        return "id", ""
    if "index" in first:
        return "DataFrame index", ("Rows are named by the index of the DataFrame given to analyze(): "
                                   "df.loc[label] finds them.")
    if "row" not in first:
        return "split", "These rows carry no row number (Spark keeps no row order): add an id column to find them."
    where = "within the file named, in its order" if " of " in first["locator"] else "in the input's order"
    note = f"Rows are counted from 0 {where}, as pandas df.iloc and pyarrow count them"
    if Path(source or "").suffix.lower() in (".csv", ".tsv", ".txt"):
        note += "; with the header on line 1, row r is on line r + 2 of the file"
    return "row (0-based)", note + "."


def _where(row: dict) -> str:
    """The locator cell: the id alone under an "id" heading, else the locator."""
    return _cell(row["id"]) if row.get("id") is not None else _cell(row.get("locator"))


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _loader(folder: Path, user: bool):
    """A Jinja loader for the templates of one folder, and of nothing outside it.

    ``..`` is refused (as by Jinja's own loader), and so is a file whose real path
    (links followed) leaves the folder: a template folder may come from anyone.
    """
    import os

    import jinja2
    from jinja2.loaders import split_template_path

    root = folder.resolve()

    class FolderLoader(jinja2.BaseLoader):
        def get_source(self, environment, template):
            pieces = split_template_path(template)  # TemplateNotFound for '..'
            shown = os.path.join(str(folder), *pieces)
            real = root.joinpath(*pieces).resolve()
            if not real.is_file():
                raise jinja2.TemplateNotFound(template)
            if root not in real.parents:
                raise UsageError(
                    f"template {template!r} in the folder {folder} links to {real}, outside the folder; "
                    "it is not read.",
                    hint="Copy the file into the template folder instead of linking to it." if user else None,
                )
            source = real.read_text(encoding="utf-8")
            mtime = real.stat().st_mtime
            return source, shown, lambda: real.is_file() and real.stat().st_mtime == mtime

    return FolderLoader()


#: Longest string or list a template may build by repetition, and the largest exponent.
TEMPLATE_MAX_ITEMS = 10_000_000
TEMPLATE_MAX_EXPONENT = 10_000


def _too_big(value, limit: float) -> bool:
    try:
        return abs(value) > limit
    except TypeError:
        return False


def _environment(template_dir: str | Path | None):
    """The Jinja environment: sandboxed, autoescaping, strict about undefined values.

    A ``--template-dir`` may come from anyone, so every render runs in Jinja's sandbox
    (no attribute starting with ``_``, no unsafe calls) and reads templates only from
    inside their folders. The user's folder comes first, then the built-in templates.
    """
    import jinja2
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class Environment(SandboxedEnvironment):
        #: (name, including template) of the last template not found, for the error.
        missing: tuple | None = None
        #: Repetition and powers could build a string or number that fills the memory.
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context, operator, left, right):
            if operator == "**" and _too_big(right, TEMPLATE_MAX_EXPONENT):
                raise SecurityError(f"a power of {right!r} is larger than templates may compute")
            if operator == "*":
                for seq, count in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(count, int) \
                            and len(seq) * count > TEMPLATE_MAX_ITEMS:
                        raise SecurityError("a repetition longer than templates may build")
            return super().call_binop(context, operator, left, right)

        def get_template(self, name, parent=None, globals=None):
            try:
                return super().get_template(name, parent, globals)
            except jinja2.TemplateNotFound:
                self.missing = (name, parent)
                raise

    loaders = []
    if template_dir is not None:
        loaders.append(_loader(templates_dir(template_dir), user=True))
    loaders.append(_loader(templates_dir(), user=False))
    return Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _template_line(exc: BaseException) -> str:
    """``file, line N`` of the innermost template frame in ``exc``'s traceback."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.endswith(".py") and not f.filename.startswith("<")]
    if not frames:
        return "the report template"
    return f"{frames[-1].filename}, line {frames[-1].lineno}"


def _template_error(env, exc: Exception, template_dir: str | Path | None) -> UsageError | None:
    """A one-line UsageError for a sandbox refusal or a template missing from the user's
    folder; None for what is not the user's doing (a built-in template missing)."""
    import jinja2
    from jinja2.sandbox import SecurityError

    from .errors import first_line

    if isinstance(exc, SecurityError):
        return UsageError(
            f"{_template_line(exc)}: the report template did something templates may not do: {first_line(exc)}",
            hint="Templates run in a sandbox: use the values of the context, not Python internals.",
        )
    if isinstance(exc, jinja2.TemplateNotFound) and template_dir is not None:
        name, parent = env.missing if env.missing is not None else (exc.name, None)
        missing = " or ".join(repr(str(n)) for n in (getattr(exc, "templates", None) or [name]))
        if parent is not None:
            try:
                where = env.get_template(parent).filename or parent
            except jinja2.TemplateNotFound:
                where = parent
            message = f"{where} includes {missing}, which is not in the folder {template_dir}."
        else:
            message = f"template {missing} is not in the folder {template_dir}."
        return UsageError(message.replace("\n", " "),
                          hint="Add the template to --template-dir, or fix the name that refers to it.")
    return None


def _fetcher(allowed_root: Path):
    """A WeasyPrint URL fetcher that serves data: URLs and files under the templates only."""
    from weasyprint.urls import URLFetcher

    root = allowed_root.resolve()

    class LocalOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file://"):
                from urllib.parse import unquote, urlparse

                path = Path(unquote(urlparse(url).path)).resolve()
                if path == root or root in path.parents:
                    return super().fetch(url, headers)
            raise ValueError(f"erranalysis renders offline; refused to fetch {url}")

    return LocalOnly(allowed_protocols=("data", "file"), allow_redirects=False, timeout=1)


class Rendering:
    """The report of one result under one set of options, to be written as HTML, PDF or JSON.

    The page context, and with it every figure, is built the first time an output needs
    it and serves every output after: the HTML (with the small-screen rules) and the PDF
    (print rules only) of one result come from one context.
    ``options``: ``title``, ``model_name``, ``template_dir``, ``page_size``.
    """

    def __init__(self, result: ResultData, *, title: str | None = None, model_name: str | None = None,
                 template_dir: str | Path | None = None, page_size: str = "A4") -> None:
        self.result = result
        self.title = title
        self.model_name = model_name
        self.template_dir = template_dir
        self.page_size = page_size
        self._context: Context | None = None
        self._environment: SandboxedEnvironment | None = None  # with its compiled templates

    def context(self) -> Context:
        """The page context, built on the first call."""
        if self._context is None:
            self._context = build_context(self.result, title=self.title, model_name=self.model_name,
                                          page_size=self.page_size)
        return self._context

    def environment(self) -> SandboxedEnvironment:
        """The sandboxed Jinja environment of the templates, made on the first call."""
        if self._environment is None:
            self._environment = _environment(self.template_dir)
        return self._environment

    def html(self, screen: bool = True) -> str:
        """The report as one self-contained HTML document (``screen``: include the small-screen rules)."""
        env = self.environment()
        # A copy for each render: a template may change the lists it is given, and the
        # next output must see the context as it was built.
        context = copy.deepcopy(self.context())
        import jinja2
        from jinja2.sandbox import SecurityError
        from markupsafe import Markup

        # The stylesheets are the template folder's own files, not data: mark them safe so
        # autoescaping leaves their quotes alone. Everything from the result stays escaped.
        sheets = ("report.css", "screen.css", "print.css") if screen else ("report.css", "print.css")
        try:
            css = Markup(_stylesheets(env, sheets))
            page_css = Markup(f"@page {{ size: {self.page_size}; }}")
            return env.get_template("report.html.j2").render(**context, css=css, page_css=page_css)
        except (jinja2.TemplateNotFound, SecurityError) as exc:
            error = _template_error(env, exc, self.template_dir)
            if error is None:
                raise
            raise error from None

    def pdf(self) -> bytes:
        """The report as PDF bytes (WeasyPrint, print stylesheet and pdf.css, no network)."""
        return _layout(self.html(screen=False), self.template_dir, _stylesheets(self.environment(), ("pdf.css",)))

    def json(self) -> str:
        """The JSON document, as its file holds it."""
        return self.result.to_json() + "\n"

    def write(self, path: str | Path) -> Path:
        """Write the report to ``path``, choosing HTML, PDF or JSON by the extension."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".html", ".htm", ".pdf", ".json"):
            self._check_folder(path)  # before anything is rendered
        if suffix in (".html", ".htm"):
            write_atomic(path, self.html())
        elif suffix == ".pdf":
            write_atomic(path, self.pdf())
        elif suffix == ".json":
            write_atomic(path, self.json())
        else:
            raise UsageError(f"the report path must end in .html, .pdf or .json. Got {str(path)!r} instead.")
        return path

    def _check_folder(self, path: Path) -> None:
        if not path.parent.is_dir():
            raise UsageError(f"{path}: the folder {path.parent} does not exist.",
                             hint="Create it first, or pick a path in an existing folder.")


def _stylesheets(env, names: tuple[str, ...]) -> str:
    """The stylesheets ``names`` of the template folders, one after the other."""
    loader = env.loader
    if loader is None:  # _environment always gives it one
        raise TypeError("the report's template environment has no loader")
    return "\n".join(loader.get_source(env, name)[0] for name in names)


def _layout(html: str, template_dir: str | Path | None, pdf_css: str = "") -> bytes:
    """``html`` laid out as PDF pages by WeasyPrint, fetching nothing from outside the templates.

    ``pdf_css``, the template folder's pdf.css: rules for WeasyPrint alone, which a
    browser printing the HTML must not follow.
    """
    import logging

    from weasyprint import CSS, HTML

    folder = templates_dir(template_dir)
    base, fetcher = str(folder) + "/", _fetcher(folder)
    rules = CSS(string=pdf_css, base_url=base, url_fetcher=fetcher)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    pdf: bytes = HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(stylesheets=[rules])
    return pdf


def render_html(result: ResultData, *, screen: bool = True, **options: Any) -> str:
    """The report as one self-contained HTML document (``screen``: include the small-screen rules)."""
    return Rendering(result, **options).html(screen=screen)


def render_pdf(result: ResultData, **options: Any) -> bytes:
    """The report as PDF bytes (WeasyPrint, print stylesheet, no network)."""
    return Rendering(result, **options).pdf()


# ------------------------------------------------------------------ notebook card

#: At most this many next steps are shown on a notebook's card; the rest are counted.
CARD_STEPS = 5
#: At most this many actions of each step are shown on the card.
CARD_ACTIONS = 3
#: How to get the whole report (every step's actions, the evidence) from the card's result.
CARD_SAVE = ('result.save("report.html")', 'result.save("report.pdf")')


def card_context(result: ResultData) -> Context:
    """The plain context of the notebook card: the report's first page, shortened.

    The headline, verdict, chart and plan come from the same context functions as the
    report's first page, so the card and the report say the same thing in the same words.
    """
    from . import figures

    steps = _steps_context(result)
    headline = _headline_context(result, steps)
    page = _page_context(result, None, None, _created(result.provenance))
    comparison = result.comparison
    titles = dict(SECTIONS)
    return {
        "title": page["title"],
        "source": page["source"],
        "eval_split": result.eval_split,
        "headline_title": titles["headline"],
        "headline": headline,
        "verdict": _verdict_context(result),
        "comparison": None if comparison is None else {
            "line": comparison.text, "change": "regression" if comparison.regression else
            "improvement" if comparison.improvement else "unsettled"},
        "figure_title": titles["decomposition"],
        # A data URI, as the report has it, not inline SVG: the ids of matplotlib's SVG
        # (clip paths, markers, hatches) are hashes under a fixed svg.hashsalt, so two
        # inline charts would repeat ids in one notebook page and a url(#id) of the
        # second would resolve to the first card's element. Inside an <img> each chart
        # is a document of its own, and nothing in it can reach the notebook's page.
        "figure": _svg_uri(_figure(result, figures.decomposition)),
        "plan_title": titles["plan"],
        "steps": [_card_step(st, skip_why=headline["has_step"] and st["number"] == 1) for st in steps[:CARD_STEPS]],
        "more": _more_steps(len(steps) - CARD_STEPS),
        "analysed": _analysed_text(result),
        "save": list(CARD_SAVE),
    }


def _card_step(step: Context, skip_why: bool) -> Context:
    """One step of the card's plan with its first actions (the report lists them all).

    ``skip_why``: the headline above already gives this step's reason (the first step).
    """
    return {
        "name": step["name"],
        "problem": step["problem"],
        "severity": step["severity"],
        "impact": step["impact"],
        "why": "" if skip_why else step["why"],
        "actions": step["actions"][:CARD_ACTIONS],
    }


def _more_steps(more: int) -> str:
    """ "And 2 more steps in the full report." for ``more`` > 0, else ""."""
    if more <= 0:
        return ""
    return f"And {more:,} more step{'' if more == 1 else 's'} in the full report."


def _analysed_text(result: ResultData) -> str:
    """What the result was computed from, in one sentence: the rows per split (the error
    figures when no row counts were given) and the training history."""
    splits = list(result.errors)
    counts = {s: e.n for s, e in result.errors.items() if e.n is not None}
    plural = "" if len(splits) == 1 else "s"
    parts = []
    if splits and len(counts) == len(splits):
        per_split = ", ".join(f"{s} {_count(n)}" for s, n in counts.items())
        parts.append(f"{_count(sum(counts.values()))} rows in {len(splits)} split{plural} ({per_split})")
    elif splits:
        parts.append(f"the error figures of {len(splits)} split{plural} ({', '.join(splits)})")
    if result.provenance.history:
        parts.append(f"the training history {Path(result.provenance.history).name}")
    return f"Analysed {' and '.join(parts)}." if parts else ""


def render_card(result: ResultData) -> str:
    """The compact HTML card a notebook shows for ``result``: the next step, the verdict,
    the decomposition chart and the plan, with its own scoped styles.

    It is a fragment, not a page: one ``<div class="erranalysis-card">`` whose
    stylesheet (templates/card.css) only styles the card's own elements, so the
    notebook's styles stay as they were. No WeasyPrint, no network.
    """
    from markupsafe import Markup

    env = _environment(None)
    css = Markup(_stylesheets(env, ("card.css",)))
    return env.get_template("card.html.j2").render(**card_context(result), css=css)
