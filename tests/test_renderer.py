"""The forked renderer of the console command: the same files as rendering in the process,
and every failure handled by the process itself, with the same message and exit code.

Forking is only safe in a process without other threads, so these tests run their
checks in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import multiclass_frame

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the renderer forks on Linux only")


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd)


def test_the_child_writes_what_the_process_would(tmp_path):
    multiclass_frame(n_per_split=150, seed=3).to_parquet(tmp_path / "p.parquet")
    proc = _python("""
        import erranalysis
        from erranalysis.renderer import Renderer

        renderer = Renderer.start()
        assert renderer is not None
        result = erranalysis.analyze("p.parquet", goal=0.01)
        options = {"title": "T <b>", "model_name": None, "template_dir": None, "page_size": "letter"}
        assert renderer.write(result, ["child.html", "child.pdf"], options)
        reports = result.reports(**options)
        reports.write("own.html")
        reports.write("own.pdf")
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "child.html").read_bytes() == (tmp_path / "own.html").read_bytes()
    child, own = (tmp_path / "child.pdf").read_bytes(), (tmp_path / "own.pdf").read_bytes()
    assert child.startswith(b"%PDF") and child == own


def test_an_unused_child_is_ended_and_reaped(tmp_path):
    proc = _python("""
        import os
        from erranalysis.renderer import Renderer

        renderer = Renderer.start()
        pid = renderer.pid
        renderer.close()
        renderer.close()  # a second call does nothing
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("gone")
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "gone"


def test_a_failing_template_is_the_processs_own_error(tmp_path):
    # The child fails on the template; the process then renders it itself and exits 2
    # with the one-line message the in-process path gives.
    multiclass_frame(n_per_split=100).to_parquet(tmp_path / "p.parquet")
    folder = tmp_path / "tpl"
    (folder / "sections").mkdir(parents=True)
    (folder / "sections" / "headline.html.j2").write_text("{{ ''.__class__ }}")
    proc = subprocess.run([sys.executable, "-m", "erranalysis", "report", "p.parquet", "--template-dir", str(folder)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"Error: {folder / 'sections' / 'headline.html.j2'}, line 1: the report template did ")
    assert len(lines) == 2 and lines[1].startswith("Hint: ")
    assert not list(tmp_path.glob("p.report.*"))


def test_bad_input_is_exit_2_with_no_report(tmp_path):
    (tmp_path / "p.csv").write_text("label,pred\na,b\n,c\n")
    proc = subprocess.run([sys.executable, "-m", "erranalysis", "report", "p.csv"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("Error: p.csv"), proc.stderr
    assert not list(tmp_path.glob("p.report.*"))


def test_an_interrupted_parent_stops_the_child_before_it_writes(tmp_path):
    # The parent is interrupted while the child renders: close() stops the child, and
    # no report appears afterwards.
    multiclass_frame(n_per_split=100, seed=2).to_parquet(tmp_path / "p.parquet")
    proc = _python("""
        import os, signal, threading, time
        import erranalysis
        from erranalysis import renderer as module
        from erranalysis.output import Reports

        slow = Reports.write
        def write(self, path):
            time.sleep(3)
            return slow(self, path)
        Reports.write = write  # the child inherits the slow writer

        r = module.Renderer.start()
        result = erranalysis.analyze("p.parquet")
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        started = time.perf_counter()
        try:
            r.write(result, ["p.html"], {"title": None, "model_name": None, "template_dir": None, "page_size": "A4"})
        except KeyboardInterrupt:
            pass
        r.close()
        print(round(time.perf_counter() - started, 1))
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    time.sleep(3)
    assert not (tmp_path / "p.html").exists()
    assert float(proc.stdout.strip()) < 2.5
