"""Time and measure `erranalysis report` on a large synthetic predictions file.

    python benchmarks/run.py                        # 1M rows x 10 classes, 3 repeats
    python benchmarks/run.py --rows 200000 --classes 3
    python benchmarks/run.py --binary               # 1M rows, 1% positives, a score column
    python benchmarks/run.py --profile              # also a cProfile of an in-process analyze()

Every figure is the median of ``--repeats`` runs, each in a fresh process:

* the floor: ``pyarrow.parquet.read_table(FILE)`` in a fresh ``python`` (interpreter
  start, ``import pyarrow`` and the read), and the same plus ``.to_pandas()``;
* ``erranalysis report FILE --goal 0.01 --json OUT`` with ``--format none`` (analysis only), with
  ``-o OUT.html``, and with the default HTML and PDF;
* an in-process breakdown: ``import erranalysis``, ``read_table``, ``validate_frame``,
  ``file_sha256``, ``compute_aggregates``, the rest of ``analyze_predictions`` and
  ``Result.to_json``.

Wall time is measured around the child; peak RSS is the child's own ``ru_maxrss``
returned by ``os.wait4`` for that pid (not the RUSAGE_CHILDREN maximum over every
child so far), so each figure belongs to one command. Inside the breakdown worker the
peak RSS of each stage comes from resetting ``VmHWM`` (``/proc/self/clear_refs``)
before the stage and reading it after.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

GOAL = 0.01
FLOOR_READ = "import sys, pyarrow.parquet as pq; pq.read_table(sys.argv[1])"
FLOOR_PANDAS = "import sys, pyarrow.parquet as pq; pq.read_table(sys.argv[1]).to_pandas()"


# ---------------------------------------------------------------------------- measuring


def measure(cmd: list[str], ok_codes: tuple[int, ...] = (0,), cwd: str | None = None) -> tuple[float, float, str]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB of that child, stdout)."""
    # Output goes to temporary files, not pipes: a full pipe would block the child.
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        start = time.perf_counter()
        # Default report files are named after the input in the working folder: keep them
        # out of the checkout.
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, cwd=cwd or tempfile.gettempdir())
        # wait4 gives the rusage of this child (and the descendants it reaped) only.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        out = out_f.read().decode()
        err = err_f.read().decode()
    if proc.returncode not in ok_codes:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{err}")
    return wall, usage.ru_maxrss / 1024.0, out  # ru_maxrss is in KiB on Linux


def erranalysis_command() -> list[str]:
    """The console script next to this interpreter (skips pyenv/asdf shims), else PATH, else -m."""
    local = Path(sys.executable).parent / "erranalysis"
    if local.exists():
        return [str(local)]
    found = shutil.which("erranalysis")
    return [found] if found else [sys.executable, "-m", "erranalysis"]


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
    """Time each stage of analyze() in this (fresh) process; print a JSON line."""
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
        import erranalysis  # noqa: F401

    stage("import erranalysis", _import)

    from dataclasses import asdict

    from erranalysis import engine
    from erranalysis._version import __version__
    from erranalysis.io import file_sha256, read_table, validate_frame
    from erranalysis.result import Provenance
    from erranalysis.settings import Settings
    from erranalysis.stats import aggregates

    settings = Settings()
    frame = stage("read_table", read_table, Path(path))
    preds = stage("validate_frame", validate_frame, frame, name=path, settings=settings)
    sha = stage("file_sha256", file_sha256, Path(path))
    provenance = Provenance(
        input=path, sha256=sha, rows=preds.n_rows, rows_by_split={}, columns=preds.columns_used,
        tool_version=__version__, command=None, created="", metric="error", goal=GOAL,
        settings=asdict(settings),
    )

    # Time compute_aggregates where analyze_predictions calls it.
    agg_time: list[float] = []
    original = getattr(engine, "compute_aggregates", aggregates.compute_aggregates)

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            agg_time.append(time.perf_counter() - start)

    engine.compute_aggregates = timed
    try:
        result = stage("analyze_predictions", engine.analyze_predictions, preds, goal=GOAL, metric="error",
                       settings=settings, provenance=provenance)
    finally:
        engine.compute_aggregates = original
    stage("Result.to_json", result.to_json)

    total = stages.pop("analyze_predictions")
    agg = sum(agg_time)
    # compute_aggregates and the rest of analyze_predictions share one peak figure.
    stages["compute_aggregates"] = {"s": agg, "peak_mb": total["peak_mb"], "grow_mb": total["grow_mb"],
                                    "user_s": None, "sys_s": None}
    stages["analyze_predictions (rest)"] = {"s": total["s"] - agg, "peak_mb": None, "grow_mb": None,
                                            "user_s": None, "sys_s": None}
    # CPU figures of analyze_predictions as a whole go on the compute_aggregates line.
    stages["compute_aggregates"]["user_s"] = total["user_s"]
    stages["compute_aggregates"]["sys_s"] = total["sys_s"]
    order = ["import erranalysis", "read_table", "validate_frame", "file_sha256", "compute_aggregates",
             "analyze_predictions (rest)", "Result.to_json"]
    peaks = [v["peak_mb"] for v in stages.values() if v["peak_mb"] is not None]
    if not can_reset:  # no per-stage figures: the peak of the whole process
        peaks = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]
    # (ru_maxrss is no use after clear_refs resets: it keeps the peak of the exec'd image.)
    return {"stages": {k: stages[k] for k in order}, "process_peak_mb": max(peaks),
            "per_stage_peak": can_reset}


def worker_profile(path: str, lines: int) -> None:
    """cProfile of erranalysis.analyze(path) + to_json in this process; print the top lines."""
    import cProfile
    import io
    import pstats

    import erranalysis

    profiler = cProfile.Profile()
    profiler.enable()
    result = erranalysis.analyze(path, goal=GOAL)
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


# ---------------------------------------------------------------------------- driver


def _median_runs(cmd: list[str], repeats: int) -> tuple[float, float]:
    runs = [measure(cmd, ok_codes=(0, 1))[:2] for _ in range(repeats)]  # 1 = a --fail-on gate
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def _versions() -> str:
    import numpy
    import pandas
    import pyarrow

    try:
        from erranalysis._version import __version__ as ea
    except Exception:  # pragma: no cover
        ea = "?"
    return (f"Python {platform.python_version()}, numpy {numpy.__version__}, pandas {pandas.__version__}, "
            f"pyarrow {pyarrow.__version__}, erranalysis {ea}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="predictions file (default: benchmarks/data/<generated name>)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--binary", action="store_true", help="binary file (1%% positives, score column)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure; the median is shown")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the in-process breakdown")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of an in-process analyze()")
    parser.add_argument("--profile-lines", type=int, default=25)
    parser.add_argument("--save", type=Path, help="also write the raw figures as JSON here")
    parser.add_argument("--_worker", choices=["breakdown", "profile"], help=argparse.SUPPRESS)
    parser.add_argument("--_path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._worker == "breakdown":
        print(json.dumps(worker_breakdown(args._path)))
        return
    if args._worker == "profile":
        worker_profile(args._path, args.profile_lines)
        return

    if args.data is None:
        rows = f"{args.rows // 1_000_000}m" if args.rows % 1_000_000 == 0 else (
            f"{args.rows // 1000}k" if args.rows % 1000 == 0 else str(args.rows))
        name = f"binary_{rows}.parquet" if args.binary else (
            f"preds_{rows}.parquet" if args.classes == 10 else f"preds_{rows}_k{args.classes}.parquet")
        args.data = HERE / "data" / name
    path = args.data.resolve()
    if not path.exists():
        from generate import generate

        print(f"generating {path} ...", file=sys.stderr)
        generate(path, rows=args.rows, classes=args.classes, binary=args.binary)

    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    size_mb = path.stat().st_size / 1e6
    # Warm the page cache so every command reads the file from memory alike.
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass

    py = sys.executable
    report_cmd = erranalysis_command()
    tmp = Path(tempfile.mkdtemp(prefix="erranalysis-bench-"))
    out_json = tmp / "out.json"
    commands = [
        ("floor: `pq.read_table(FILE)`", [py, "-c", FLOOR_READ, str(path)]),
        ("`pq.read_table(FILE).to_pandas()`", [py, "-c", FLOOR_PANDAS, str(path)]),
        (f"`erranalysis report FILE --goal {GOAL} --json OUT --format none --quiet` (analysis only)",
         report_cmd + ["report", str(path), "--goal", str(GOAL), "--json", str(out_json), "--format", "none",
                       "--quiet"]),
        (f"`erranalysis report FILE --goal {GOAL} --json OUT -o OUT.html --quiet` (plus HTML)",
         report_cmd + ["report", str(path), "--goal", str(GOAL), "--json", str(out_json), "-o",
                       str(tmp / "out.html"), "--quiet"]),
        (f"`erranalysis report FILE --goal {GOAL} --json OUT --quiet` (plus HTML and PDF, the default)",
         report_cmd + ["report", str(path), "--goal", str(GOAL), "--json", str(out_json), "--quiet"]),
    ]
    measure(commands[0][1])  # untimed warm-up (imports, page cache)
    figures = []
    for label, cmd in commands:
        wall, peak = _median_runs(cmd, args.repeats)
        figures.append({"command": label, "wall_s": wall, "peak_mb": peak})
        print(f"  {label}: {wall:.2f} s, {peak:.0f} MB", file=sys.stderr)
    floor = figures[0]

    today = _dt.date.today().isoformat()
    invocation = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"\n## erranalysis benchmark, {today}\n")
    print(f"- command: `{invocation.strip()}`")
    print(f"- file: `{path.name}`, {meta.num_rows:,} rows x {meta.num_columns} columns, {size_mb:.1f} MB Parquet")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} cores, {_versions()}")
    print(f"- median of {args.repeats} runs, each command in a fresh process\n")
    print("| command | wall s | peak MB | ratio to floor (wall / peak) |")
    print("|---|---:|---:|---:|")
    for f in figures:
        print(f"| {f['command']} | {f['wall_s']:.2f} | {f['peak_mb']:.0f} | "
              f"{f['wall_s'] / floor['wall_s']:.1f}x / {f['peak_mb'] / floor['peak_mb']:.1f}x |")

    breakdown = None
    if not args.no_breakdown:
        cmd = [py, str(Path(__file__).resolve()), "--_worker", "breakdown", "--_path", str(path)]
        runs = [json.loads(measure(cmd)[2].strip().splitlines()[-1]) for _ in range(args.repeats)]
        names = list(runs[0]["stages"])

        def med(n, key):
            values = [r["stages"][n][key] for r in runs]
            return None if None in values else statistics.median(values)

        keys = ("s", "peak_mb", "grow_mb", "user_s", "sys_s")
        breakdown = {n: {key: med(n, key) for key in keys} for n in names}
        total = sum(v["s"] for v in breakdown.values())
        print("\nIn-process breakdown (median per stage). user/sys: CPU seconds of the process (all "
              "threads) in the stage; peak MB: process peak RSS during the stage; +MB: that peak minus "
              "the RSS when the stage began. compute_aggregates shares its CPU and memory figures with "
              "the rest of analyze_predictions.\n")
        print("| stage | wall s | share | user s | sys s | peak MB | +MB |")
        print("|---|---:|---:|---:|---:|---:|---:|")

        def cell(value, fmt):
            return "" if value is None else format(value, fmt)

        for n, v in breakdown.items():
            print(f"| {n} | {v['s']:.3f} | {v['s'] / total:.0%} | {cell(v['user_s'], '.2f')} | "
                  f"{cell(v['sys_s'], '.2f')} | {cell(v['peak_mb'], '.0f')} | {cell(v['grow_mb'], '.0f')} |")
        process_peak = statistics.median(r["process_peak_mb"] for r in runs)
        print(f"| **total** | **{total:.3f}** | | | | {process_peak:.0f} | |")

    if args.save:
        args.save.write_text(json.dumps({"date": today, "command": invocation, "file": str(path),
                                         "rows": meta.num_rows, "figures": figures, "breakdown": breakdown},
                                        indent=2) + "\n")

    if args.profile:
        print()
        cmd = [py, str(Path(__file__).resolve()), "--_worker", "profile", "--_path", str(path),
               "--profile-lines", str(args.profile_lines)]
        print(measure(cmd)[2])
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
