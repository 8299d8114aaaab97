"""Diagnosis benchmark on real data sets: is the first next step the planted problem,
and does the analysis raise no false alarms?

Each scenario (``realdata_cases.py``) trains a real scikit-learn model on a data set
that ships inside an installed package (scikit-learn, statsmodels, vega_datasets;
nothing is downloaded), plants one known problem, and runs
``erranalysis.analyze(frame, goal=...)``. A run is scored on:

- the first next step against the planted problem (scenarios whose first step is not
  decided by the mechanism are not scored);
- must-find kinds: present among the findings (any severity; also counted at high or
  medium). A must-find ``weak_slice`` has to name the planted column and value;
- must-not kinds: kinds that would be wrong for the mechanism, raised at high or medium;
- null runs (a good model at its own error, metadata without effect): every kind raised
  at high severity is a false alarm, medium counted apart;
- the weak-slice false discovery rate: weak_slice findings (medium or high) that do not
  name the planted column/value, over all weak_slice findings (medium or high).

    python benchmarks/realdata.py                      # 2 seeds, about 3-5 minutes on 2 cores
    python benchmarks/realdata.py --seeds 5 --json realdata.json
    python benchmarks/realdata.py --only 'threshold/*' --markdown

A data set whose package is missing is skipped with a note. The exit code is always 0:
this is a measurement, not a gate.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import collections  # noqa: E402
import fnmatch  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import erranalysis  # noqa: E402
import realdata_cases as rc  # noqa: E402
from tables import pct, table  # noqa: E402

RAISED = ("high", "medium")


def matches(name: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatch(name, pattern)
    return pattern in name


def names_slice(finding, planted) -> bool:
    return planted is not None and (str(finding.evidence.get("column")), str(finding.evidence.get("value"))) == (
        str(planted[0]), str(planted[1]))


def run(sc: rc.Scenario, seed: int) -> dict:
    """Build one scenario, analyse it, and score the result."""
    row = {"name": sc.name, "kind": sc.kind, "dataset": sc.dataset, "family": sc.family, "model": sc.model,
           "seed": seed}
    t0 = time.perf_counter()
    case = sc(seed)
    t1 = time.perf_counter()
    row.update(expected_first=case.expected_first, goal=case.goal, effect=case.effect, rows=len(case.frame),
               must_find=list(case.must_find), must_not_find=list(case.must_not_find),
               planted_slice=list(case.planted_slice) if case.planted_slice else None)
    try:
        result = erranalysis.analyze(case.frame, goal=case.goal)
    except Exception as e:  # a crash of the tool is a result too
        row.update(error=f"{type(e).__name__}: {e}", traceback=traceback.format_exc(), first=None,
                   first_severity=None, hit=False, findings=[], missing=list(case.must_find),
                   violations=[], found_any=[], found_raised=[], weak_slices=[], next_steps=[],
                   build_s=t1 - t0, analyze_s=time.perf_counter() - t1)
        return row
    t2 = time.perf_counter()
    first = result.next_steps[0] if result.next_steps else None
    findings = result.findings
    found_any, found_raised = [], []
    for kind in case.must_find:
        hits = [f for f in findings if f.kind == kind and (kind != "weak_slice" or names_slice(f, case.planted_slice))]
        if hits:
            found_any.append(kind)
        if any(f.severity in RAISED for f in hits):
            found_raised.append(kind)
    raised = {f.kind for f in findings if f.severity in RAISED}
    weak = [{"column": str(f.evidence.get("column")), "value": str(f.evidence.get("value")),
             "severity": f.severity, "planted": names_slice(f, case.planted_slice)}
            for f in findings if f.kind == "weak_slice" and f.severity in RAISED]
    row.update(
        first=first.problem if first else None,
        first_severity=first.severity if first else None,
        hit=(first.problem if first else None) == case.expected_first,
        missing=[k for k in case.must_find if k not in found_any],
        found_any=found_any, found_raised=found_raised,
        violations=[k for k in case.must_not_find if k in raised],
        weak_slices=weak,
        findings=[{"kind": f.kind, "severity": f.severity, "split": f.split, "title": f.title} for f in findings],
        next_steps=[{"problem": s.problem, "severity": s.severity} for s in result.next_steps],
        errors={s: round(float(e.error), 4) for s, e in result.errors.items()},
        majority={b.split: round(float(b.majority_error), 4) for b in result.baselines},
        build_s=round(t1 - t0, 3), analyze_s=round(t2 - t1, 3),
    )
    return row


def print_row(row: dict) -> None:
    if row.get("error"):
        print(f"  !  {row['name']:42s} seed {row['seed']}  analyze failed: {row['error']}")
        return
    if row["kind"] == "null":
        loud = [f"{f['kind']}({f['severity']})" for f in row["findings"] if f["severity"] in RAISED]
        print(f"  {'·' if not loud else '!'}  {row['name']:42s} seed {row['seed']}  first {row['first'] or '-'}"
              f"{' (' + row['first_severity'] + ')' if row['first'] else ''}  raised: {', '.join(loud) or '-'}")
    else:
        mark = "-" if row["expected_first"] is None else ("✓" if row["hit"] else "✗")
        first = f"{row['first']} ({row['first_severity']})" if row["first"] else "-"
        then = [s["problem"] for s in row["next_steps"][1:3]]
        print(f"  {mark}  {row['name']:42s} seed {row['seed']}  expected {row['expected_first'] or '(not scored)'}"
              f"  first {first}{' then ' + ', '.join(then) if then else ''}"
              f"  missing: {', '.join(row['missing']) or '-'}"
              f"  must-not present: {', '.join(row['violations']) or '-'}")
    base = row.get("majority") or {}
    print(f"       {row['effect']}" + (f"; majority class: {' '.join(f'{s} {e:.1%}' for s, e in base.items())}"
                                       if base else ""))


def summary(rows: list[dict], markdown: bool) -> None:
    planted = [r for r in rows if r["kind"] != "null"]
    nulls = [r for r in rows if r["kind"] == "null"]

    scored = [r for r in planted if r["expected_first"] is not None]
    if planted:
        per = collections.defaultdict(list)
        for r in scored:
            per[r["expected_first"]].append(r)
        out = [[k, pct(sum(r["hit"] for r in v), len(v)),
                ", ".join(f"{a or 'none'} x{n}" for a, n in collections.Counter(
                    r["first"] for r in v if not r["hit"]).most_common()) or "-"]
               for k, v in per.items()]
        out.append(["all", pct(sum(r["hit"] for r in scored), len(scored)), ""])
        table("First next step = planted problem (not-scored scenarios excluded)",
              ["expected first", "right", "first step instead"], out, markdown)
        for key, label in (("dataset", "data set"), ("family", "family")):
            groups = collections.defaultdict(list)
            for r in scored:
                groups[r[key]].append(r["hit"])
            table(f"First next step right, per {label}", [label, "right"],
                  [[k, pct(sum(v), len(v))] for k, v in sorted(groups.items())], markdown)

        recall = collections.defaultdict(lambda: [0, 0, 0])
        for r in planted:
            for k in r["must_find"]:
                recall[k][0] += 1
                recall[k][1] += k in r["found_any"]
                recall[k][2] += k in r["found_raised"]
        table("Must-find recall (weak_slice must name the planted column and value)",
              ["kind", "found (any severity)", "found (high/medium)"],
              [[k, pct(a, n), pct(b, n)] for k, (n, a, b) in recall.items()], markdown)

        viol = collections.defaultdict(lambda: [0, 0, []])
        for r in planted:
            for k in r["must_not_find"]:
                viol[k][0] += 1
                if k in r["violations"]:
                    viol[k][1] += 1
                    viol[k][2].append(f"{r['name']}#{r['seed']}")
        table("Must-not kinds raised at high/medium severity",
              ["kind", "violations / runs where wrong", "where"],
              [[k, pct(b, n), ", ".join(w[:6]) + (" ..." if len(w) > 6 else "") or "-"]
               for k, (n, b, w) in sorted(viol.items())], markdown)

    if nulls:
        hi, med = collections.Counter(), collections.Counter()
        for r in nulls:
            for k in {f["kind"] for f in r["findings"] if f["severity"] == "high"}:
                hi[k] += 1
            for k in {f["kind"] for f in r["findings"] if f["severity"] == "medium"}:
                med[k] += 1
        kinds = sorted(set(hi) | set(med))
        n = len(nulls)
        clean = sum(not any(f["severity"] in RAISED for f in r["findings"]) for r in nulls)
        table(f"Null runs ({n}): runs raising each kind (high = false alarm; medium apart); "
              f"{clean}/{n} runs raise nothing at high or medium",
              ["kind", "high", "medium"], [[k, pct(hi[k], n), pct(med[k], n)] for k in kinds] or [["none", "0", "0"]],
              markdown)

    weak = [(r, w) for r in rows for w in r["weak_slices"]]
    false = [(r, w) for r, w in weak if not w["planted"]]
    where = collections.Counter(f"{r['name']} ({w['column']}={w['value']})" for r, w in false)
    table("Weak-slice false discovery rate (medium/high weak_slice findings, all runs incl. null)",
          ["", "value"],
          [["not naming the planted column/value / all", pct(len(false), len(weak))],
           ["false ones", "; ".join(f"{k} x{n}" for k, n in where.most_common(8)) or "-"]], markdown)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=2, help="seeds per scenario (default 2)")
    parser.add_argument("--only", help="run the scenarios whose name (kind/dataset/family) contains "
                                       "this text or matches this glob")
    parser.add_argument("--json", help="write one row per run to this file")
    parser.add_argument("--markdown", action="store_true", help="print the summary tables as Markdown")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    print(f"erranalysis {erranalysis.__version__} from {erranalysis.__file__}")

    scenarios = [s for s in rc.SCENARIOS + rc.NULLS if matches(s.name, args.only)]
    missing = {}
    for name in sorted({s.dataset for s in scenarios}):
        try:
            rc.load(name)
        except rc.Missing as e:
            missing[name] = str(e)
    for name, why in missing.items():
        print(f"note: skipping data set {name}: {why}")
    scenarios = [s for s in scenarios if s.dataset not in missing]
    used = sorted({s.dataset for s in scenarios})
    families = sorted({s.family for s in scenarios})
    n_planted = sum(s.kind != "null" for s in scenarios)
    print(f"data sets: {', '.join(f'{d} ({rc.load(d).source}, {len(rc.load(d).y):,} rows)' for d in used)}")
    print(f"families: {', '.join(families)}")
    print(f"{n_planted} planted scenarios and {len(scenarios) - n_planted} null configurations "
          f"x {args.seeds} seeds")
    print()

    rows = []
    for sc in scenarios:
        for seed in range(args.seeds):
            try:
                row = run(sc, seed)
            except Exception as e:  # a broken scenario must not stop the measurement
                print(f"  !  {sc.name} seed {seed}: building the scenario failed: {type(e).__name__}: {e}")
                continue
            rows.append(row)
            print_row(row)
    if rows:
        summary(rows, args.markdown)
    elapsed = time.perf_counter() - start
    print(f"\n{len(rows)} runs in {elapsed:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"erranalysis": erranalysis.__file__, "seeds": args.seeds,
                                               "seconds": elapsed, "rows": rows}, indent=1, default=str))
        print(f"rows written to {args.json}")
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception:  # still exit 0: a measurement, not a gate
        traceback.print_exc()
    sys.exit(0)
