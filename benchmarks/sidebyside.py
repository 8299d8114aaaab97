"""erranalysis beside its floors and its peers, on the same files, interleaved.

    python benchmarks/sidebyside.py                          # 100k x 10, 1M x 10, 1M binary; 3 rounds
    python benchmarks/sidebyside.py --sizes 100k --rounds 5
    python benchmarks/sidebyside.py --sizes 100k,1m,10m --binary-sizes 1m --write-results
    python benchmarks/sidebyside.py --peer evidently=/opt/ev/bin/python --peer deepchecks=/opt/dc/bin/python
    git worktree add /tmp/before <commit> && python benchmarks/sidebyside.py --no-peers --baseline /tmp/before

Per file, every command runs once per round, in the same order, in a fresh process, so
a slow spell of the machine touches all of them alike; the table shows the median wall
time of the rounds (and the peak RSS of each command's own process):

* pyarrow read: ``pq.read_table`` of every column the analysis uses (interpreter start,
  import, read);
* scikit-learn floor: read ``label`` and ``pred``, then ``confusion_matrix`` and
  ``classification_report`` on all rows;
* analysis (JSON): ``erranalysis report FILE --goal 0.01 --json OUT --format none``;
* + HTML: the same with ``--format html``;
* + HTML + PDF: the default run, ``erranalysis report FILE --goal 0.01 --json OUT``;
* each peer that is installed: its classification-quality and train-vs-test drift
  report written as HTML (``benchmarks/peers/run_<name>.py``, run by the peer's own
  interpreter, because the peers pin library versions of their own).

With ``--baseline DIR`` (a checkout of an earlier commit), the analysis (JSON) and the
default run of that checkout's package run in the same rounds, beside this checkout's,
both as ``python -m erranalysis`` with ``PYTHONPATH`` set to their checkout: a before and
after measured interleaved on one machine. Before the first round, the bytecode of both
packages is compiled, as ``pip install`` compiles it: a run never compiles the sources.

Peers are found as ``--peer NAME=PYTHON`` or, without that flag, at
``benchmarks/.peers/<name>/bin/python`` (``benchmarks/peers/setup.sh`` creates those
environments from the package registry). A peer that is not installed is shown as "–".

The files are the synthetic ones of ``generate.py`` with float32 probabilities, written
to ``benchmarks/data/`` on first use. ``--write-results`` replaces the side-by-side
section of ``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import default_path, parse_rows  # noqa: E402
from run import (  # noqa: E402
    FLOOR_READ,
    FLOOR_SKLEARN,
    GOAL,
    compile_bytecode,
    erranalysis_command,
    machine,
    measure,
    needed_columns,
)

PEERS = ("evidently", "deepchecks")
PEER_DIR = HERE / ".peers"
RESULTS = HERE / "RESULTS.md"
START = "<!-- side-by-side:start (written by sidebyside.py --write-results) -->"
END = "<!-- side-by-side:end -->"
#: Column keys and headers, in table order.
COLUMNS = [("arrow", "pyarrow read"), ("sklearn", "sklearn floor"), ("json", "analysis (JSON)"),
           ("html", "+ HTML"), ("pdf", "+ HTML + PDF (default)")]


def peer_pythons(given: list[str]) -> dict[str, Path]:
    """The interpreter of each installed peer: ``--peer NAME=PYTHON``, else ``.peers/NAME``."""
    found = {}
    for item in given:
        name, _, python = item.partition("=")
        if name not in PEERS or not python:
            raise SystemExit(f"--peer wants NAME=PYTHON with NAME one of {', '.join(PEERS)}; got {item!r}")
        found[name] = Path(python)
    for name in PEERS:
        default = PEER_DIR / name / "bin" / "python"
        if name not in found and default.exists():
            found[name] = default
    return found


def peer_version(name: str, python: Path) -> str | None:
    code = f"from importlib.metadata import version; print(version({name!r}))"
    try:
        return measure([str(python), "-c", code])[2].strip() or None
    except RuntimeError:
        return None


def data_file(rows: int, binary: bool) -> Path:
    """The generated file of that size (float32 probabilities), written if missing."""
    path = default_path(rows, binary=binary, float32=not binary)
    if not path.exists():
        # In a process of its own: on Linux a child's peak RSS starts from its parent's at
        # fork, so this process must stay small for the peaks of the commands to be theirs.
        print(f"writing {path.name} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(path), "--rows", str(rows),
                        *(["--binary"] if binary else ["--float32"])], check=True)
    return path


def _module_run(checkout: Path) -> list[str]:
    """``python -m erranalysis`` importing the package of ``checkout``."""
    return ["env", f"PYTHONPATH={checkout}", sys.executable, "-m", "erranalysis"]


def commands(path: Path, peers: dict[str, Path], tmp: Path,
             baseline: Path | None = None) -> list[tuple[str, list[str]]]:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    py = sys.executable
    report = erranalysis_command() + ["report", str(path), "--goal", str(GOAL), "--quiet"]
    out_json = str(tmp / "out.json")
    out = [
        ("arrow", [py, "-c", FLOOR_READ, str(path), json.dumps(needed_columns(names))]),
        ("sklearn", [py, "-c", FLOOR_SKLEARN, str(path), "label", "pred"]),
        ("json", report + ["--json", out_json, "--format", "none"]),
        ("html", report + ["--json", out_json, "--format", "html", "-o", str(tmp / "out.html")]),
        # No -o: the default outputs, report HTML and PDF named after the input, in tmp.
        ("pdf", report + ["--json", out_json]),
    ]
    if baseline is not None:
        for key, checkout in (("before", baseline), ("after", HERE.parent)):
            run = _module_run(checkout) + ["report", str(path), "--goal", str(GOAL), "--quiet"]
            out.append((f"json {key}", run + ["--json", str(tmp / f"{key}.json"), "--format", "none"]))
            out.append((f"pdf {key}", run + ["--json", str(tmp / f"{key}.json")]))  # HTML + PDF, in tmp
    for name, python in peers.items():
        out.append((name, [str(python), str(HERE / "peers" / f"run_{name}.py"), str(path), str(tmp / f"{name}.html")]))
    return out


def bench(path: Path, peers: dict[str, Path], rounds: int, timeout: float, baseline: Path | None = None) -> dict:
    """Every command on one file, interleaved over ``rounds`` rounds; medians per command."""
    import pyarrow.parquet as pq

    tmp = Path(tempfile.mkdtemp(prefix="erranalysis-sidebyside-"))
    try:
        cmds = commands(path, peers, tmp, baseline)
        with open(path, "rb") as handle:  # the page cache, warm for everyone
            while handle.read(1 << 24):
                pass
        runs: dict[str, list] = {key: [] for key, _ in cmds}
        errors: dict[str, str] = {}
        for r in range(rounds):
            for key, cmd in cmds:
                if key in errors:
                    continue
                try:
                    wall, peak, _ = measure(cmd, cwd=str(tmp), timeout=timeout)
                except RuntimeError as exc:
                    errors[key] = str(exc)
                    print(f"  {key}: FAILED ({exc})", file=sys.stderr)
                    continue
                runs[key].append((wall, peak))
                print(f"  round {r + 1} {key}: {wall:.2f} s, {peak:.0f} MB", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures = {key: {"wall_s": statistics.median(w for w, _ in v), "peak_mb": statistics.median(p for _, p in v),
                     "runs": [round(w, 3) for w, _ in v]} for key, v in runs.items() if v}
    return {"file": path.name, "rows": pq.read_metadata(path).num_rows, "binary": path.name.startswith("binary"),
            "figures": figures, "errors": errors}


def _label(entry: dict) -> str:
    rows = entry["rows"]
    size = f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows // 1000}k"
    return f"{size} binary" if entry["binary"] else f"{size} × 10 classes"


def table(entries: list[dict], versions: dict[str, str | None]) -> str:
    peers = [name for name in PEERS if name in versions]
    head = [h for _, h in COLUMNS] + [f"{name.capitalize()} {versions[name] or ''}".strip() for name in peers]
    lines = ["| data | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for entry in entries:
        cells = []
        for key in [k for k, _ in COLUMNS] + peers:
            fig = entry["figures"].get(key)
            cells.append("failed" if key in entry["errors"] else "–" if fig is None else f"{fig['wall_s']:.2f} s")
        lines.append(f"| {_label(entry)} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Peak memory (MB, the command's own process):")
    lines.append("")
    lines.append("| data | " + " | ".join(head) + " |")
    lines.append("|---" * (len(head) + 1) + "|")
    for entry in entries:
        cells = [f"{entry['figures'][key]['peak_mb']:.0f}" if key in entry["figures"] else "–"
                 for key in [k for k, _ in COLUMNS] + peers]
        lines.append(f"| {_label(entry)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def before_after(entries: list[dict], baseline: Path) -> str:
    """The baseline checkout's runs beside this one's: median (every run) and peak memory."""
    lines = [f"Before (`{baseline}`) and after (this checkout), `python -m erranalysis`, interleaved:", "",
             "| data | run | before | after | peak MB before | peak MB after |", "|---|---|---|---|---|---|"]
    for entry in entries:
        for key, name in (("json", "analysis (JSON)"), ("pdf", "default (HTML + PDF)")):
            b, a = entry["figures"].get(f"{key} before"), entry["figures"].get(f"{key} after")
            if b is None or a is None:
                continue
            runs = [", ".join(f"{w:.2f}" for w in fig["runs"]) for fig in (b, a)]
            lines.append(f"| {_label(entry)} | {name} | {b['wall_s']:.2f} s ({runs[0]}) | {a['wall_s']:.2f} s "
                         f"({runs[1]}) | {b['peak_mb']:.0f} | {a['peak_mb']:.0f} |")
    return "\n".join(lines)


def write_results(text: str) -> None:
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{START}\n{text}\n{END}"
    if START in current and END in current:
        before, rest = current.split(START, 1)
        current = before + block + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(current)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="multiclass (10 classes) file sizes (default 100k,1m)")
    parser.add_argument("--binary-sizes", default="1m", help="binary file sizes (default 1m; '' for none)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is shown (default 3)")
    parser.add_argument("--peer", action="append", default=[], metavar="NAME=PYTHON",
                        help=f"a peer's interpreter ({', '.join(PEERS)}); repeatable")
    parser.add_argument("--no-peers", action="store_true", help="leave the peers out")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a command is killed")
    parser.add_argument("--write-results", action="store_true", help="replace the side-by-side part of RESULTS.md")
    parser.add_argument("--save", type=Path, help="also write every run's figures to this JSON file")
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit to run beside this one")
    args = parser.parse_args(argv)

    compile_bytecode(HERE.parent, *([args.baseline] if args.baseline else []))
    peers = {} if args.no_peers else peer_pythons(args.peer)
    versions = {name: peer_version(name, python) for name, python in peers.items()}
    files = [data_file(parse_rows(s), False) for s in args.sizes.split(",") if s] + \
            [data_file(parse_rows(s), True) for s in args.binary_sizes.split(",") if s]
    entries = []
    for path in files:
        print(f"{path.name}: {args.rounds} interleaved round(s)", file=sys.stderr)
        entries.append(bench(path, peers, args.rounds, args.timeout, args.baseline))
    info = machine()
    command = "python benchmarks/sidebyside.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n".join([
        "## Side by side",
        "",
        f"Produced on {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC by `{command.strip()}`: median wall "
        f"time of {args.rounds} interleaved rounds, whole processes.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']}, {info['ram']} RAM; {info['os']}; {info['python']}",
        f"- Packages: {info['packages']}",
        f"- Load average (1, 5, 15 min) before the run: {info['load']}",
        "",
        table(entries, versions),
        *([] if args.baseline is None else ["", before_after(entries, args.baseline)]),
    ])
    print(text)
    if args.save:
        args.save.write_text(json.dumps({"versions": versions, "entries": entries}, indent=1))
    if args.write_results:
        write_results(text)


if __name__ == "__main__":
    main()
