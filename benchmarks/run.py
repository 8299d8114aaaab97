"""Time and measure `erranalysis report` on large synthetic predictions files.

    python benchmarks/run.py                                      # 1M rows x 10 classes, 3 repeats
    python benchmarks/run.py --sizes 1m,10m,50m --repeats 3,3,1 --write-results
    python benchmarks/run.py --sizes 1m,10m --binary              # 1% positives, a score column
    python benchmarks/run.py --variants multiclass,binary         # both kinds of file
    python benchmarks/run.py --rows 200k --classes 3
    python benchmarks/run.py --data my_preds.parquet
    python benchmarks/run.py --profile                            # also a cProfile of analyze()
    python benchmarks/run.py --breakdown                          # also per-stage figures

For every file, each command runs ``--repeats`` times in a fresh process and the
median is shown:

* floor 1, pyarrow: ``pq.read_table(FILE, columns=[...])`` with every column the
  analysis uses (interpreter start, ``import pyarrow`` and the read); the same process
  prints ``table.nbytes``, the in-memory size of those columns;
* with ``--pandas``, the same plus ``.to_pandas()``;
* floor 2, scikit-learn: read ``label`` and ``pred`` with pyarrow, then
  ``confusion_matrix(y, pred)`` and ``classification_report(y, pred)`` on all rows;
* ``erranalysis report FILE --goal 0.01 --json OUT`` with ``--format none`` (analysis +
  JSON), with ``--format html -o OUT.html``, and with the default HTML and PDF; the
  rendering cost is the difference to the first.

Wall time is measured around the child; peak RSS is the child's own ``ru_maxrss``
returned by ``os.wait4`` for that pid (not the RUSAGE_CHILDREN maximum over every
child so far), so each figure belongs to one command. Inside the optional breakdown
worker the peak RSS of each stage comes from resetting ``VmHWM``
(``/proc/self/clear_refs``) before the stage and reading it after.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import default_path, parse_rows  # noqa: E402

GOAL = 0.01
DEFAULT_RESULTS = HERE / "RESULTS.md"
#: RESULTS.md from this line on is written by hand and kept when the figures are rewritten.
NOTES_MARKER = "<!-- notes: kept by run.py --write-results -->"
#: Targets, stated for 10M rows.
TARGET_ROWS = 10_000_000
TARGET_WALL_VS_ARROW = 2.0
TARGET_PEAK_VS_COLUMNS = 2.0
#: Rendering counts as "roughly constant" when its extra time varies across sizes by at
#: most this many seconds or this share of its median, whichever is larger.
RENDER_SPREAD_S = 1.0
RENDER_SPREAD_SHARE = 0.25

FLOOR_READ = ("import sys, json, pyarrow.parquet as pq; "
              "t = pq.read_table(sys.argv[1], columns=json.loads(sys.argv[2])); print(t.nbytes)")
FLOOR_PANDAS = ("import sys, json, pyarrow.parquet as pq; "
                "pq.read_table(sys.argv[1], columns=json.loads(sys.argv[2])).to_pandas()")
FLOOR_SKLEARN = """\
import sys
import pyarrow.parquet as pq
from sklearn.metrics import classification_report, confusion_matrix
table = pq.read_table(sys.argv[1], columns=[sys.argv[2], sys.argv[3]])
y, pred = table.column(0).to_numpy(), table.column(1).to_numpy()
confusion_matrix(y, pred)
classification_report(y, pred)
"""


# ---------------------------------------------------------------------------- measuring


def measure(cmd: list[str], ok_codes: tuple[int, ...] = (0,), cwd: str | None = None,
            timeout: float | None = None) -> tuple[float, float, str]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB of that child, stdout)."""
    # Output goes to temporary files, not pipes: a full pipe would block the child.
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        start = time.perf_counter()
        # Default report files are named after the input in the working folder: keep them
        # out of the checkout.
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, cwd=cwd or tempfile.gettempdir())
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        try:
            # wait4 gives the rusage of this child (and the descendants it reaped) only.
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        out = out_f.read().decode(errors="replace")
        err = err_f.read().decode(errors="replace")
    if proc.returncode not in ok_codes:
        if timeout and proc.returncode == -9 and wall >= timeout:
            raise RuntimeError(f"killed after the {timeout:g} s timeout")
        lines = [line.strip() for line in err.splitlines() if line.strip()]
        last = lines[-1][:300] if lines else "(no message)"
        raise RuntimeError(f"exit code {proc.returncode}: {last}")
    return wall, usage.ru_maxrss / 1024.0, out  # ru_maxrss is in KiB on Linux


def compile_bytecode(*checkouts: Path) -> None:
    """Compile the bytecode of the erranalysis package imported here and of each checkout's
    ``erranalysis/``, as ``pip install`` does, so no timed run compiles the sources.

    An editable install under ``PYTHONDONTWRITEBYTECODE`` (set on some machines) would
    otherwise compile every module of the package in every process (0.15 s of the
    analysis-only run at 100k rows) where an installed package compiles it once.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("erranalysis")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    folders += [str(checkout / "erranalysis") for checkout in checkouts]
    for folder in dict.fromkeys(folders):
        compileall.compile_dir(folder, quiet=1)


def erranalysis_command() -> list[str]:
    """The console script next to this interpreter (skips pyenv/asdf shims), else PATH, else -m."""
    local = Path(sys.executable).parent / "erranalysis"
    if local.exists():
        return [str(local)]
    found = shutil.which("erranalysis")
    return [found] if found else [sys.executable, "-m", "erranalysis"]


def needed_columns(names: list[str], label: str = "label", pred: str = "pred", split: str = "split",
                   score: str = "score", proba_prefix: str = "proba_") -> list[str]:
    """Every column the analysis uses: label, pred, split, the probabilities or score, then the
    rest (metadata, and weight, loss or id when present). For the generated files: all of them."""
    first = [c for c in (label, pred, split) if c in names]
    proba = [c for c in names if c.startswith(proba_prefix)] or [c for c in (score,) if c in names]
    return first + proba + [c for c in names if c not in first and c not in proba]


# ---------------------------------------------------------------------------- workers (fresh processes)


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def worker_breakdown(path: str) -> dict:
    """Time each stage of analyze() in this (fresh) process; return the figures.

    Calls internal functions (the Parquet source, the accumulator, ``analyze_state``):
    when their names or signatures change this fails, and the driver prints a one-line
    note instead of the table. The sha256 is timed alone here; ``report`` overlaps it
    with the pass in a background thread.
    """
    import resource

    stages: dict[str, dict] = {}
    can_reset = _reset_peak()

    def stage(stage_name, fn, *args, **kwargs):
        _reset_peak()
        before = (_status_kb("VmRSS") or 0) / 1024
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        value = fn(*args, **kwargs)
        elapsed = time.perf_counter() - start
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        peak = _status_kb("VmHWM") if can_reset else None
        stages[stage_name] = {"s": elapsed, "peak_mb": peak / 1024 if peak else None,
                              "grow_mb": peak / 1024 - before if peak else None,
                              "user_s": usage1.ru_utime - usage0.ru_utime, "sys_s": usage1.ru_stime - usage0.ru_stime}
        return value

    def _import():
        import erranalysis.analysis  # noqa: F401 - the package itself loads its names lazily

    stage("import erranalysis", _import)

    from dataclasses import replace
    from functools import partial

    from erranalysis import analysis
    from erranalysis.io import Columns, file_sha256
    from erranalysis.settings import Settings
    from erranalysis.sources import DatasetSource, ReadSpec
    from erranalysis.stats.accumulate import Accumulator, layout_for

    settings = Settings()
    spec = ReadSpec(path, Columns(), None, None, settings)

    def _open():
        source = DatasetSource(path)
        head = source.head()
        first = spec.validate(head, partial=True)
        fixed = replace(spec, classes=first.classes)
        return source, fixed, fixed.validate(head, partial=True)

    source, fixed, base = stage("open + head", _open)
    acc = stage("pass over the rows", source.run, fixed, partial(Accumulator, layout_for(base, settings)))
    stage("sha256 of the file", file_sha256, *source.files)
    base = replace(base, warnings=acc.input_warnings(base.classes))
    from dataclasses import asdict

    from erranalysis._version import __version__
    from erranalysis.result import Provenance

    provenance = Provenance(input=path, sha256=None, rows=acc.n_rows, rows_by_split={}, columns=base.columns_used,
                            tool_version=__version__, command=None, created="", metric="error", goal=GOAL,
                            settings=asdict(settings))
    result = stage("analyses on the aggregates", analysis.analyze_state, acc, base, source, fixed, goal=GOAL,
                   metric="error", provenance=provenance)
    stage("Result.to_json", result.to_json)
    order = ["import erranalysis", "open + head", "pass over the rows", "sha256 of the file",
             "analyses on the aggregates", "Result.to_json"]
    peaks = [v["peak_mb"] for v in stages.values() if v["peak_mb"] is not None]
    if not can_reset:  # no per-stage figures: the peak of the whole process
        peaks = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]
    # (ru_maxrss is no use after clear_refs resets: it keeps the peak of the exec'd image.)
    return {"stages": {k: stages[k] for k in order}, "process_peak_mb": max(peaks),
            "per_stage_peak": can_reset}


def worker_profile(path: str, lines: int) -> None:
    """cProfile of the public erranalysis.analyze(path) (and to_json) in this process; print the top lines."""
    import cProfile
    import io
    import pstats

    import erranalysis

    profiler = cProfile.Profile()
    profiler.enable()
    result = erranalysis.analyze(path, goal=GOAL)
    if hasattr(result, "to_json"):
        result.to_json()
    profiler.disable()
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(key).print_stats(lines)
        text = buf.getvalue()
        # Drop the preamble up to the header line.
        text = text[text.index("   ncalls"):] if "   ncalls" in text else text
        print(f"### cProfile sorted by {key} (top {lines})\n")
        print(text.rstrip() + "\n")


# ---------------------------------------------------------------------------- machine


def _first_line_value(path: str, key: str, sep: str = ":") -> str | None:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(key):
                    return line.split(sep, 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_state() -> str | None:
    if not (ROOT / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "erranalysis"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"git {head}" + (", with uncommitted changes to erranalysis/" if dirty else "")


def machine() -> dict[str, str]:
    """CPU, cores, RAM, OS, Python and the versions of the packages involved."""
    cpu = _first_line_value("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
    flags = _first_line_value("/proc/cpuinfo", "flags") or ""
    cores = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = cores
    cores_text = f"{cores} logical cores" + (f" ({usable} usable)" if usable != cores else "")
    mem_kb = _first_line_value("/proc/meminfo", "MemTotal")
    ram = f"{int(mem_kb.split()[0]) / 1024 ** 2:.1f} GiB" if mem_kb else "?"
    os_name = _first_line_value("/etc/os-release", "PRETTY_NAME", "=") or platform.system()
    versions = []
    for dist in ("numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "cleanlab", "erranalysis"):
        version = _version(dist)
        if version:
            versions.append(f"{dist} {version}")
    git = _git_state()
    if git and versions and versions[-1].startswith("erranalysis"):
        versions[-1] += f" ({git})"
    try:
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        load = "?"
    return {
        "load": load,
        "cpu": f"{cpu}, {platform.machine()}" + (", virtual machine" if "hypervisor" in flags.split() else ""),
        "cores": cores_text,
        "ram": ram,
        "os": f"{os_name}, {platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(versions),
    }


# ---------------------------------------------------------------------------- driver


def _median_runs(cmd: list[str], repeats: int, cwd: str, timeout: float | None) -> dict:
    """Median wall and peak of ``repeats`` runs; on a failure, the error instead (no retry)."""
    runs = []
    for _ in range(repeats):
        try:
            runs.append(measure(cmd, ok_codes=(0, 1), cwd=cwd, timeout=timeout))  # 1 = a --fail-on gate
        except RuntimeError as exc:
            return {"wall_s": None, "peak_mb": None, "error": str(exc), "runs": len(runs), "stdout": ""}
    return {"wall_s": statistics.median(r[0] for r in runs), "peak_mb": statistics.median(r[1] for r in runs),
            "error": None, "runs": len(runs), "stdout": runs[-1][2]}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _x(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def _num(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def bench_file(path: Path, repeats: int, timeout: float | None, kind: str, pandas: bool = False) -> dict:
    """Every command on one file; return its figures."""
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    columns = needed_columns(names)
    # Warm the page cache so every command reads the file from memory alike.
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass

    py = sys.executable
    report = erranalysis_command() + ["report", str(path), "--goal", str(GOAL)]
    tmp = Path(tempfile.mkdtemp(prefix="erranalysis-bench-"))
    out_json = str(tmp / "out.json")
    cols = json.dumps(columns)
    commands = [
        ("arrow", "floor: pyarrow `pq.read_table(FILE, columns=[...])`", [py, "-c", FLOOR_READ, str(path), cols]),
        ("sklearn", "floor: scikit-learn `confusion_matrix` + `classification_report`",
         [py, "-c", FLOOR_SKLEARN, str(path), "label", "pred"]),
        ("json", f"`erranalysis report FILE --goal {GOAL} --json OUT --format none --quiet` (analysis + JSON)",
         report + ["--json", out_json, "--format", "none", "--quiet"]),
        ("html", f"`erranalysis report FILE --goal {GOAL} --json OUT --format html -o OUT.html --quiet` (plus HTML)",
         report + ["--json", out_json, "--format", "html", "-o", str(tmp / "out.html"), "--quiet"]),
        ("pdf", f"`erranalysis report FILE --goal {GOAL} --json OUT --quiet` (plus HTML and PDF, the default)",
         report + ["--json", out_json, "--quiet"]),
    ]
    if pandas:
        commands.insert(1, ("pandas", "`pq.read_table(FILE, columns=[...]).to_pandas()`",
                            [py, "-c", FLOOR_PANDAS, str(path), cols]))
    print(f"{path.name}: {meta.num_rows:,} rows, {repeats} repeat(s)", file=sys.stderr)
    try:
        measure(commands[0][2], timeout=timeout)  # untimed warm-up (imports, page cache)
    except RuntimeError as exc:
        print(f"  warm-up failed: {exc}", file=sys.stderr)
    figures: dict[str, dict] = {}
    for key, label, cmd in commands:
        figure = _median_runs(cmd, repeats, cwd=str(tmp), timeout=timeout)
        figure["command"] = label
        figures[key] = figure
        if figure["error"]:
            print(f"  {label}: FAILED ({figure['error']})", file=sys.stderr)
        else:
            print(f"  {label}: {figure['wall_s']:.2f} s, {figure['peak_mb']:.0f} MB", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)

    nbytes = None
    try:
        nbytes = int(figures["arrow"].pop("stdout").strip().splitlines()[-1])
    except (KeyError, ValueError, IndexError):
        pass
    for figure in figures.values():
        figure.pop("stdout", None)
    return {"file": str(path), "name": path.name, "kind": kind, "rows": meta.num_rows,
            "columns": columns, "file_mb": path.stat().st_size / 1e6,
            "columns_in_memory_mb": nbytes / 1e6 if nbytes else None, "repeats": repeats, "figures": figures}


class _WorkerError(Exception):
    """The breakdown worker's own report of what failed."""


def run_breakdown(path: Path, repeats: int, timeout: float | None) -> tuple[dict | None, str]:
    """The in-process breakdown (median per stage) as markdown; a one-line note when it fails."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", "breakdown", "--_path", str(path)]
    try:
        runs = []
        for _ in range(repeats):
            answer = json.loads(measure(cmd, timeout=timeout)[2].strip().splitlines()[-1])
            if "error" in answer:
                raise _WorkerError(answer["error"])
            runs.append(answer)
        names = list(runs[0]["stages"])

        def med(n, key):
            values = [r["stages"][n][key] for r in runs]
            return None if None in values else statistics.median(values)

        keys = ("s", "peak_mb", "grow_mb", "user_s", "sys_s")
        breakdown = {n: {key: med(n, key) for key in keys} for n in names}
        total = sum(v["s"] for v in breakdown.values())
        lines = [f"In-process breakdown of `{path.name}` (median per stage). user/sys: CPU seconds of the "
                 "process (all threads) in the stage; peak MB: process peak RSS during the stage; +MB: that "
                 "peak minus the RSS when the stage began.", "",
                 "| stage | wall s | share | user s | sys s | peak MB | +MB |", "|---|---:|---:|---:|---:|---:|---:|"]
        for n, v in breakdown.items():
            lines.append(f"| {n} | {v['s']:.3f} | {v['s'] / total:.0%} | {_num(v['user_s'], '.2f')} | "
                         f"{_num(v['sys_s'], '.2f')} | {_num(v['peak_mb'], '.0f')} | {_num(v['grow_mb'], '.0f')} |")
        process_peak = statistics.median(r["process_peak_mb"] for r in runs)
        lines.append(f"| **total** | **{total:.3f}** | | | | {process_peak:.0f} | |")
        return breakdown, "\n".join(lines)
    except Exception as exc:  # noqa: BLE001 - internal API in flux: a note, not a crash
        message = " ".join(str(exc).split())[:300]
        if not isinstance(exc, _WorkerError):
            message = f"{type(exc).__name__}: {message}"
        return None, f"In-process breakdown of `{path.name}` skipped: {message}"


def file_table(result: dict) -> str:
    f = result["figures"]
    arrow, sklearn = f["arrow"], f["sklearn"]
    columns_mb = result["columns_in_memory_mb"]
    lines = [f"### `{result['name']}`", "",
             f"{result['rows']:,} rows x {len(result['columns'])} columns "
             f"({'binary, 1% positives' if result['kind'] == 'binary' else 'multiclass'}), "
             f"{result['file_mb']:,.1f} MB Parquet, "
             f"columns in memory {_num(columns_mb, ',.1f') or '?'} MB (`table.nbytes` of the columns read). "
             f"Median of {result['repeats']} run{'s' if result['repeats'] != 1 else ''}.", "",
             "| command | wall s | peak MB | wall / pyarrow | peak / pyarrow | wall / scikit-learn "
             "| peak / columns in memory |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for figure in f.values():
        if figure["error"]:
            lines.append(f"| {figure['command']} | failed: {figure['error'].replace('|', '/')} | | | | | |")
            continue
        lines.append(
            f"| {figure['command']} | {figure['wall_s']:.2f} | {figure['peak_mb']:,.0f} | "
            f"{_x(_ratio(figure['wall_s'], arrow['wall_s']))} | {_x(_ratio(figure['peak_mb'], arrow['peak_mb']))} | "
            f"{_x(_ratio(figure['wall_s'], sklearn['wall_s']))} | {_x(_ratio(figure['peak_mb'], columns_mb))} |")
    return "\n".join(lines)


def rendering(results: list[dict]) -> tuple[str, list[str]]:
    """Rendering cost (difference to the JSON-only run) per file, and the constancy checks."""
    lines = ["| file | rows | HTML: extra s | HTML: extra MB | HTML + PDF: extra s | HTML + PDF: extra MB |",
             "|---|---:|---:|---:|---:|---:|"]
    extra: dict[tuple[str, str], list[float]] = {}
    for r in results:
        f = r["figures"]
        cells = []
        for key in ("html", "pdf"):
            if f["json"]["error"] or f[key]["error"]:
                cells += ["", ""]
                continue
            ds = f[key]["wall_s"] - f["json"]["wall_s"]
            cells += [f"{ds:+.2f}", f"{f[key]['peak_mb'] - f['json']['peak_mb']:+,.0f}"]
            extra.setdefault((r["kind"], key), []).append(ds)
        lines.append(f"| `{r['name']}` | {r['rows']:,} | " + " | ".join(cells) + " |")
    checks = []
    for (kind, key), values in extra.items():
        if len(values) < 2:
            continue
        spread, mid = max(values) - min(values), statistics.median(values)
        holds = spread <= max(RENDER_SPREAD_S, RENDER_SPREAD_SHARE * abs(mid))
        what = "HTML" if key == "html" else "HTML + PDF"
        checks.append(f"rendering {what} ({kind}) roughly constant across sizes: "
                      f"{'holds' if holds else 'misses'} ({min(values):.2f} to {max(values):.2f} s extra)")
    return "\n".join(lines), checks


def targets(result: dict) -> list[str]:
    f = result["figures"]
    js, arrow, sklearn = f["json"], f["arrow"], f["sklearn"]
    if js["error"]:
        return [f"`{result['name']}`: analysis + JSON failed, no target can be checked"]
    out = []
    checks = [
        (f"wall <= {TARGET_WALL_VS_ARROW:g}x pyarrow floor", _ratio(js["wall_s"], arrow["wall_s"]),
         lambda r: r <= TARGET_WALL_VS_ARROW),
        ("wall < scikit-learn floor", _ratio(js["wall_s"], sklearn["wall_s"]), lambda r: r < 1.0),
        (f"peak <= {TARGET_PEAK_VS_COLUMNS:g}x columns in memory", _ratio(js["peak_mb"], result["columns_in_memory_mb"]),
         lambda r: r <= TARGET_PEAK_VS_COLUMNS),
    ]
    for text, ratio, ok in checks:
        verdict = "n/a" if ratio is None else ("holds" if ok(ratio) else "misses")
        out.append(f"`{result['name']}` analysis + JSON {text}: {verdict} ({_x(ratio) or '?'})")
    return out


def report_markdown(results: list[dict], invocation: str, when: str, info: dict[str, str],
                    breakdowns: list[str]) -> str:
    lines = ["# Benchmark results", "",
             f"Produced on {when} by", "", "```bash", invocation, "```", "",
             "What the commands and figures mean: [README.md](README.md). The core aggregates in NumPy "
             "against DuckDB SQL and Ibis: [ENGINES.md](ENGINES.md) (`benchmarks/engines.py`).", "",
             "## Machine", "",
             f"- CPU: {info['cpu']}, {info['cores']}",
             f"- RAM: {info['ram']}",
             f"- OS: {info['os']}",
             f"- {info['python']}; {info['packages']}",
             f"- Load average (1, 5, 15 min) before the run: {info['load']}", "",
             "## Targets", "",
             f"Stated for {TARGET_ROWS // 1_000_000}M rows, shown for every file: analysis + JSON "
             f"wall <= {TARGET_WALL_VS_ARROW:g}x the pyarrow floor and below the scikit-learn floor, peak "
             f"<= {TARGET_PEAK_VS_COLUMNS:g}x the columns in memory; rendering adds a roughly constant few "
             f"seconds across sizes (spread at most {RENDER_SPREAD_S:g} s or {RENDER_SPREAD_SHARE:.0%} of "
             "its median).", ""]
    render_table, render_checks = rendering(results)
    for r in results:
        lines += [f"- {line}" for line in targets(r)]
    lines += [f"- {line}" for line in render_checks]
    lines += ["", "## Files", ""]
    for r in results:
        lines += [file_table(r), ""]
    lines += ["## Rendering", "",
              "Extra wall time and peak memory of the HTML and of the HTML + PDF runs over the "
              "analysis + JSON run of the same file.", "", render_table, ""]
    if breakdowns:
        lines += ["## In-process breakdown", ""]
        for text in breakdowns:
            lines += [text, ""]
    return "\n".join(lines).rstrip() + "\n"


def _sizes(text: str) -> list[int]:
    try:
        return [parse_rows(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rows(text: str) -> int:
    try:
        return parse_rows(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _repeats(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count or a comma list of counts: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("repeats must be at least 1")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, help="comma list of row counts, e.g. 1m,10m,50m (default: --rows)")
    parser.add_argument("--rows", type=_rows, default=1_000_000, help="one row count (default 1m)")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--binary", action="store_true",
                        help="binary files (1%% positives, score column); same as --variants binary")
    parser.add_argument("--variants", default=None,
                        help="comma list of multiclass, binary (default multiclass)")
    parser.add_argument("--data", type=Path, action="append",
                        help="a predictions file to measure instead of the generated ones (repeatable)")
    parser.add_argument("--repeats", type=_repeats, default=[3],
                        help="timed runs per figure, the median is shown; one count, or one per size "
                             "(e.g. 3,3,1) (default 3)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds after which a command is killed and reported as failed (default 3600)")
    parser.add_argument("--write-results", nargs="?", type=Path, const=DEFAULT_RESULTS, metavar="PATH",
                        help="also write the results as markdown (default benchmarks/RESULTS.md)")
    parser.add_argument("--pandas", action="store_true",
                        help="also time the pyarrow read plus .to_pandas() (about 2.7x the columns in memory)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also the in-process per-stage breakdown (uses engine internals)")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of an in-process erranalysis.analyze() of the first file")
    parser.add_argument("--profile-lines", type=int, default=25)
    parser.add_argument("--save", type=Path, help="also write the raw figures as JSON here")
    parser.add_argument("--_worker", choices=["breakdown", "profile"], help=argparse.SUPPRESS)
    parser.add_argument("--_path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._worker == "breakdown":
        try:
            answer = worker_breakdown(args._path)
        except Exception as exc:  # noqa: BLE001 - reported by the driver as a one-line note
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer))
        return
    if args._worker == "profile":
        worker_profile(args._path, args.profile_lines)
        return

    if args.binary and args.variants:
        parser.error("use either --binary or --variants")
    compile_bytecode()
    variants = ["binary"] if args.binary else [v.strip() for v in (args.variants or "multiclass").split(",")]
    if not variants or set(variants) - {"multiclass", "binary"}:
        parser.error("--variants takes multiclass, binary or both")
    sizes = args.sizes or [args.rows]

    files: list[tuple[Path, str, int]] = []  # path, kind, index of its size (for --repeats)
    if args.data:
        for path in args.data:
            if not path.exists():
                parser.error(f"no such file: {path}")
            files.append((path.resolve(), "file", len(files)))
    else:
        for kind in variants:
            for index, rows in enumerate(sizes):
                path = default_path(rows, args.classes, binary=kind == "binary")
                if not path.exists():
                    cmd = [sys.executable, str(HERE / "generate.py"), str(path), "--rows", str(rows),
                           "--classes", str(args.classes)] + (["--binary"] if kind == "binary" else [])
                    print(f"generating {path} ...", file=sys.stderr)
                    wall, peak, _ = measure(cmd)
                    print(f"  generated in {wall:.1f} s, peak {peak:.0f} MB", file=sys.stderr)
                files.append((path, kind, index))
    if len(args.repeats) not in (1, len(sizes) if not args.data else len(files)):
        parser.error("--repeats takes one count, or one per size")

    info = machine()
    invocation = shlex.join(["python", "benchmarks/run.py"] + (list(argv) if argv is not None else sys.argv[1:]))
    when = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    results = []
    breakdowns: list[str] = []
    raw_breakdowns = {}
    for path, kind, index in files:
        repeats = args.repeats[index] if len(args.repeats) > 1 else args.repeats[0]
        if kind == "file":
            import pyarrow.parquet as pq

            kind = "multiclass" if any(n.startswith("proba_") for n in pq.read_schema(path).names) else "binary"
        results.append(bench_file(path, repeats, args.timeout, kind, pandas=args.pandas))
        if args.breakdown:
            raw, text = run_breakdown(path, repeats, args.timeout)
            raw_breakdowns[path.name] = raw
            breakdowns.append(text)
            if raw is None:
                print(f"  {text}", file=sys.stderr)

    markdown = report_markdown(results, invocation, when, info, breakdowns)
    print()
    print(markdown)
    if args.write_results:
        # Hand-written notes below the marker (what the figures mean) survive a rewrite.
        kept = ""
        if args.write_results.exists():
            old = args.write_results.read_text()
            if NOTES_MARKER in old:
                kept = "\n" + old[old.index(NOTES_MARKER):]
        args.write_results.write_text(markdown + kept)
        print(f"wrote {args.write_results}", file=sys.stderr)
    if args.save:
        args.save.write_text(json.dumps({"date": when, "command": invocation, "machine": info, "files": results,
                                         "breakdown": raw_breakdowns or None}, indent=2) + "\n")

    if args.profile and files:
        path = files[0][0]
        print(f"## cProfile of `erranalysis.analyze({path.name!r}, goal={GOAL})`\n")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", "profile", "--_path", str(path),
               "--profile-lines", str(args.profile_lines)]
        try:
            print(measure(cmd, timeout=args.timeout)[2])
        except RuntimeError as exc:
            print(f"cProfile skipped: {exc}")


if __name__ == "__main__":
    main()
