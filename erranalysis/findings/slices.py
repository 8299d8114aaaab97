"""Findings from the metadata: weak slices, shifted features, label errors, leaked rows."""

from __future__ import annotations

from dataclasses import replace

from ..result import Finding
from ..stats.intervals import z_value
from .evidence import Evidence, severity_for


def weak_slices(ev: Evidence) -> list[Finding]:
    """Slices significantly worse than the rest of the pooled held-out rows (after FDR
    control). The effect is the error that would vanish if the slice erred at the
    overall rate, in points of the pooled error, with the interval of the slice's rate."""
    sa = ev.slices
    overall = None if sa is None else sa.overall_error
    if sa is None or not sa.slices or overall is None:
        return []
    splits = sa.splits or [sa.split]
    n_pool = sum(ev.errors[s].n or 0 for s in splits if s in ev.errors)
    patterns = {(d.column, d.value): d.pattern for d in sa.decompositions}
    where: dict[str | None, str] = {"bias": "it fails on every split (bias)", "shift": "it fails only after the shift to val/test",
             "variance": "it fails on held-out rows only (variance)", "val_overfitting": "it fails on test only"}
    out = []
    for s in [s for s in sa.slices if s.significant][:5]:
        pattern = patterns.get((s.column, s.value))
        impact = s.excess_errors / n_pool if n_pool else 0.0
        ci = None
        if n_pool:
            ci = ((s.ci[0] - overall) * s.n / n_pool, (s.ci[1] - overall) * s.n / n_pool)
        per_split = "; ".join(f"{sp} {err:.1%} of {rows:,}" for sp, (rows, err) in s.by_split.items())
        out.append(Finding(
            kind="weak_slice",
            severity=severity_for(ev, impact, ci),
            title=(f"{s.column} = {s.value}: {s.error:.1%} error against {sa.overall_error:.1%} overall on "
                   f"{sa.split} ({s.n:,} rows, {s.excess_errors:.0f} errors above the overall rate)"),
            evidence={"column": s.column, "value": s.value, "rows": s.n, "error": s.error, "ci": s.ci,
                      "overall_error": sa.overall_error, "share_of_errors": s.share_of_errors,
                      "excess_errors": s.excess_errors, "p_value": s.p_value, "q_value": s.q_value,
                      "pattern": pattern, "where": where.get(pattern),
                      "by_split": {sp: {"rows": r, "error": e} for sp, (r, e) in s.by_split.items()},
                      "per_split": per_split},
            split=sa.split,
            impact=impact,
            impact_ci=ci,
        ))
    return out


def shifted_features(ev: Evidence, found: list[Finding]) -> list[Finding]:
    """Add the moved features to the distribution_shift finding, or raise one from them."""
    sa = ev.slices
    if sa is None or sa.domain_auc is None:
        return found
    moved = [f for f in sa.features if f.moved]
    real = sa.domain_ci is not None and sa.domain_ci[0] > ev.settings.shift_min_auc
    evidence = {
        "domain_auc": sa.domain_auc, "domain_ci": sa.domain_ci, "domain_rows": sa.domain_rows,
        "features": [{"column": f.column, "psi": f.psi, "p_value": f.p_value} for f in moved[:10]],
    }
    existing = [i for i, f in enumerate(found) if f.kind == "distribution_shift"]
    if existing:
        i = existing[0]
        found[i] = replace(found[i], evidence={**found[i].evidence, **evidence})
        return found
    if moved and real:
        names = ", ".join(f.column for f in moved[:5])
        found.append(Finding(
            kind="distribution_shift",
            severity="medium",
            title=(f"Features moved between train and val/test: {names} "
                   f"(a classifier tells the splits apart with ROC AUC {sa.domain_auc:.2f})"),
            evidence=evidence,
            split="val/test",
            impact=0.0,
        ))
    return found




def label_errors(ev: Evidence) -> list[Finding]:
    sa = ev.slices
    if sa is None:
        return []
    le = sa.label_errors
    if not le or le["count"] < 10 or le["share"] < ev.settings.label_error_share:
        return []
    # Confident learning tells wrong labels from the model's mistakes only beyond what the
    # model's own uncertainty gives (labels drawn from its probabilities flag
    # ``expected_if_clean`` rows), and not at all when nearly every probability is 0 or 1.
    expected = le.get("expected_if_clean")
    settings = ev.settings
    if expected is None or le.get("sharp_share", 0.0) >= settings.sharp_share:
        return []
    # A model overconfident on the rows whose labels are not in question explains its
    # confident mistakes by itself: the clean-label draw then understates them.
    over = le.get("overconfidence")
    if over is None or over["gap"] > max(settings.overconfidence_margin, 3 * over["se"]):
        return []  # overconfident, or too few unflagged rows to tell
    excess = le["count"] - expected
    spread = z_value(settings.confidence) * (le["count"] + expected) ** 0.5
    ci = (max(excess - spread, 0.0) / le["examined"], (excess + spread) / le["examined"])
    significant = excess / max(le["count"] + expected, 1) ** 0.5 >= z_value(1 - 2 * settings.label_error_alpha)
    if not significant or excess / le["examined"] < settings.label_error_share:
        return []
    # Confidently wrong predictions in one weak slice point to bad inputs there (a
    # degraded source), not to wrong labels: say so, and let the slice lead.
    crowded = None
    examples = le["examples"]
    for s in [s for s in sa.slices if s.significant]:
        inside = sum(1 for ex in examples if str(ex.get(s.column)) == s.value)
        if examples and inside >= 0.5 * len(examples):
            crowded = s
            break
    # Confident mistakes on one class that a threshold fix finds, or inside a pair of
    # classes whose labels are ambiguous, are that problem's symptom.
    explained_by: dict[str, str | list[str]] | None = None
    for f in ev.thresholds:
        if f.flagged and examples and sum(str(ex.get("label")) == f.label for ex in examples) >= 0.5 * len(examples):
            explained_by = {"kind": "threshold", "class": f.label}
    conf = ev.confusion
    for p in (conf.most_confused if conf is not None else []):
        pair = {p.actual, p.predicted}
        if p.both_directions and examples and sum(
                str(ex.get("label")) in pair and str(ex.get("suggested")) in pair for ex in examples) >= 0.5 * len(examples):
            explained_by = explained_by or {"kind": "confused_pair", "classes": sorted(pair)}
            break
    title = (f"{le['count']:,} rows ({le['share']:.1%} of {le['examined']:,} held-out rows) look mislabelled: "
             f"the model is confident in another class (about {expected:,} would on clean labels)")
    if crowded is not None:
        title += (f"; most are in the weak slice {crowded.column} = {crowded.value}, so check that slice's inputs "
                  "before the labels")
    return [Finding(
        kind="label_errors",
        severity="low" if crowded is not None else severity_for(ev, excess / le["examined"], ci),
        title=title,
        evidence={"count": le["count"], "share": le["share"], "examined": le["examined"],
                  "expected_if_clean": expected, "excess": excess,
                  "examples": examples[:5], "in_weak_slice": None if crowded is None else
                  {"column": crowded.column, "value": crowded.value}, "explained_by": explained_by},
        split="held-out",
        # The flagged rows beyond what clean labels give: error that relabelling removes
        # from the measured figures (none of its own when the rows sit in a weak slice).
        impact=0.0 if crowded is not None else excess / le["examined"],
        impact_ci=None if crowded is not None else ci,
    )]


def duplicate_rows(ev: Evidence) -> list[Finding]:
    """Val/test rows whose metadata repeat a train row beyond what chance gives.

    Chance is what the training rows show among themselves: where they repeat each
    other's metadata (a few demographic columns), held-out rows repeat them as often.
    """
    from .quality import _leak_finding

    sa = ev.slices
    if sa is None:
        return []
    dup = sa.duplicates
    if not dup or dup["rows"] <= 0 or not dup["beyond_chance"]:
        return []
    split = "test" if "test" in ev.errors else ("val" if "val" in ev.errors else None)
    if split is None:
        return []
    held = sum(ev.errors[s].n or 0 for s in ("val", "test") if s in ev.errors)
    # The repeated rows spread over val and test in proportion to their sizes.
    rows = dup["rows"] * (ev.errors[split].n or 0) / held if held else dup["rows"]
    return [_leak_finding(
        ev, rows, split,
        f"{dup['rows']:,} val/test rows repeat a train row's metadata exactly (about {dup['expected']:.1f} "
        "expected by chance)",
        {"rows": dup["rows"], "expected_by_chance": dup["expected"], "p_value": dup["p_value"],
         "columns": [c["column"] for c in sa.columns]},
        train=True,
    )]
