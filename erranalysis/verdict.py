"""The verdict: the evaluation error against the goal, and where the gap comes from."""

from __future__ import annotations

import math

from .fmt import ROUNDING, ci_pct, pct, pts
from .result import Verdict

STATUSES = ("met", "not_met", "cannot_tell", "no_goal")


def gap_shares(dec) -> list[dict]:
    """Each measured term's signed share of the gap, in whole percent that add up to 100.

    The gap is the final error less the goal (less the first split's error without a
    goal), and the terms add up to it, so their exact shares add up to one: a term that
    lowers the error gets a negative share and the others then exceed the gap together.
    When the terms do not reach back to the goal (a goal but no train split), the
    stretch they cannot split is listed as ``rest`` so the shares still add up to 100.
    The shares are rounded by largest remainders, so the rounded figures also add up to
    exactly 100 and no one reads 109% off a table of rounded terms.

    Returns ``[{"name", "value", "share", "percent"}]`` in the decomposition's order,
    ``rest`` last; empty when the gap is not positive (nothing left to explain) or is a
    rounding residue (below :data:`~erranalysis.fmt.ROUNDING`), whose shares would be noise or
    overflow.
    """
    gap = dec.gap
    if gap is None or not math.isfinite(gap) or gap <= ROUNDING:
        return []
    rows = [{"name": name, "value": c.value, "share": c.value / gap}
            for name, c in dec.components.items() if c is not None]
    rest = gap - sum(r["value"] for r in rows)
    if abs(rest) > 1e-9 * max(1.0, abs(gap)):
        rows.append({"name": "rest", "value": rest, "share": rest / gap})
    exact = [100.0 * r["share"] for r in rows]
    floors = [math.floor(x) for x in exact]
    left = 100 - sum(floors)
    order = sorted(range(len(rows)), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in order[:max(left, 0)]:
        floors[i] += 1
    for r, p in zip(rows, floors):
        r["percent"] = p
    return rows


def judge(errors: dict, eval_split: str | None, dec, level: str = "95%") -> Verdict | None:
    """The evaluation split's error against the goal; None when there is no error figure.

    The goal is met when the whole interval lies at or below it, not met when the whole
    interval lies above it, and the data cannot tell otherwise. Figures given without
    row counts have no interval: the point estimate decides and the text says so.
    """
    if eval_split is None or eval_split not in errors:
        return None
    e = errors[eval_split]
    goal = dec.goal
    ci = tuple(e.ci) if e.ci is not None else None
    lo, hi = ci if ci is not None else (e.error, e.error)
    if goal is None:
        status = "no_goal"
    elif hi <= goal:
        status = "met"
    elif lo > goal:
        status = "not_met"
    else:
        status = "cannot_tell"

    name = eval_split.replace("_", " ")
    interval = f"{level} interval {ci_pct(ci)}" if ci is not None else "no interval: the row count was not given"
    text = f"{name[0].upper()}{name[1:]} error {pct(e.error)} ({interval})"
    if status == "no_goal":
        text += "; no goal was given, so it is not judged against one (pass --goal, e.g. human-level error)."
    else:
        text += f" against a goal of {pct(goal)}: " + {
            "met": "met.", "not_met": "not met.",
            "cannot_tell": "cannot tell yet, the interval spans the goal.",
        }[status]
    shares = gap_shares(dec)
    material = sorted((r for r in shares if r["name"] != "rest" and dec.components[r["name"]].verdict == "material"),
                      key=lambda r: r["value"], reverse=True)
    against = "the gap" if goal is not None else f"the rise from {_first_split(dec)} error"
    if status != "met" and material:
        parts = [f"{r['name'].replace('_', ' ')} ({pts(r['value'])}, {r['percent']}%)" for r in material]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        how = "mostly" if sum(r["share"] for r in material) >= 0.5 else "partly"
        text += f" {against[0].upper()}{against[1:]} comes {how} from {listed}."
        lowering = [r for r in shares if r["share"] < 0 and r["name"] != "rest"]
        if sum(r["percent"] for r in material) > 100 and lowering:
            # A term below zero (train error under the goal) makes the others add up to more.
            named = " and ".join(f"{r['name'].replace('_', ' ')} ({pts(r['value'])})" for r in lowering)
            text += f" Shares pass 100% because {named} lower{'s' if len(lowering) == 1 else ''} the error."
    elif status != "met" and shares:
        text += f" No term of the decomposition is established as material, so {against} has no clear source yet."
    rest = next((r for r in shares if r["name"] == "rest"), None)
    if status != "met" and rest is not None:
        text += (f" The {pts(rest['value'])} ({rest['percent']}%) from the goal to {_first_split(dec)} error"
                 " cannot be split without a train split.")
    return Verdict(
        split=eval_split, error=e.error, ci=ci, goal=goal, status=status, text=text,
        sources=tuple({"term": r["name"], "value": r["value"], "share": r["share"]} for r in material),
    )


def _first_split(dec) -> str:
    """The split the decomposition starts from when there is no goal."""
    for comp in dec.components.values():
        if comp is not None:
            return comp.earlier
    return dec.final_split or "train"
