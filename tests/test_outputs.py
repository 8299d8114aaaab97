"""Output files: never on an input (file, folder, glob, link), never two on one path, their
folders checked before any work, symlinks written through, stale temporary files removed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import erranalysis
from erranalysis.cli import cli, report_paths
from erranalysis.errors import UsageError
from erranalysis.files import write_atomic

from conftest import multiclass_frame


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def snapshot(root: Path = Path(".")) -> dict:
    """Every path under ``root`` with its link target or bytes and mtime: any write shows."""
    found = {}
    for p in sorted(root.rglob("*")):
        info = os.lstat(p)
        if p.is_symlink():
            found[str(p)] = ("link", os.readlink(p))
        elif p.is_file():
            found[str(p)] = (p.read_bytes(), info.st_mtime_ns)
        else:
            found[str(p)] = ("folder",)
    return found


@pytest.fixture
def dataset():
    """A folder ``ds`` of two Parquet files, and ``runs`` standing in for a log folder."""
    frame = multiclass_frame(n_per_split=50)
    Path("ds").mkdir()
    frame.iloc[:100].to_parquet("ds/part-0.parquet")
    frame.iloc[100:].to_parquet("ds/part-1.parquet")
    Path("runs").mkdir()
    (Path("runs") / "events.out.tfevents.1").write_bytes(b"not read before the check")
    return Path("ds")


def refused(args, stderr):
    before = snapshot()
    res = run("report", *args)
    assert res.exit_code == 2
    assert res.stderr == stderr
    assert "Traceback" not in res.output
    assert snapshot() == before  # nothing written, nothing created


@pytest.mark.parametrize("args,stderr", [
    (["ds", "--json", "ds/part-0.parquet"],
     "Error: --json ds/part-0.parquet is a file of the input ds; it would be overwritten.\n"
     "Hint: Pick another path for --json.\n"),
    (["ds/part-*.parquet", "--json", "ds/part-1.parquet"],
     "Error: --json ds/part-1.parquet is a file of the input ds/part-*.parquet; it would be overwritten.\n"
     "Hint: Pick another path for --json.\n"),
    (["ds/part-[01].parquet", "--json", "ds/part-0.parquet", "--format", "none"],
     "Error: --json ds/part-0.parquet is a file of the input ds/part-[01].parquet; it would be overwritten.\n"
     "Hint: Pick another path for --json.\n"),
    (["ds", "--json", "ds/new.json", "--format", "none"],
     "Error: --json ds/new.json is inside the input folder ds; writing there would change the input.\n"
     "Hint: Pick a path outside ds for --json.\n"),
    (["ds", "-o", "ds/r.html"],
     "Error: ds/r.html is inside the input folder ds; writing there would change the input.\n"
     "Hint: Pick an -o/--output outside ds.\n"),
    (["ds/part-0.parquet", "--history", "runs", "--json", "runs/x.json", "--format", "none"],
     "Error: --json runs/x.json is inside the input folder runs; writing there would change the input.\n"
     "Hint: Pick a path outside runs for --json.\n"),
    (["--history", "runs/", "--json", "runs/events.out.tfevents.1", "--format", "none"],
     "Error: --json runs/events.out.tfevents.1 is a file of the input runs; it would be overwritten.\n"
     "Hint: Pick another path for --json.\n"),
])
def test_no_output_lands_on_or_in_an_input(dataset, args, stderr):
    refused(args, stderr)


def test_links_to_an_input_are_refused(dataset):
    os.symlink("ds/part-0.parquet", "link.json")
    os.link("ds/part-1.parquet", "hard.json")
    os.symlink("ds/part-0.parquet", "link.html")
    refused(["ds/part-*.parquet", "--json", "link.json", "--format", "none"],
            "Error: --json link.json is ds/part-0.parquet, a file of the input ds/part-*.parquet; "
            "it would be overwritten.\nHint: Pick another path for --json.\n")
    refused(["ds", "--json", "hard.json", "--format", "none"],
            "Error: --json hard.json is ds/part-1.parquet, a file of the input ds; it would be overwritten.\n"
            "Hint: Pick another path for --json.\n")
    refused(["ds/part-0.parquet", "-o", "link.html"],
            "Error: link.html is the input file ds/part-0.parquet; it would be overwritten.\n"
            "Hint: Pick another -o/--output.\n")
    os.link("ds/part-0.parquet", "same.html")
    refused(["ds/part-0.parquet", "-o", "same.html"],
            "Error: same.html is the input file ds/part-0.parquet; it would be overwritten.\n"
            "Hint: Pick another -o/--output.\n")


def test_two_outputs_on_one_path_are_a_usage_error(dataset):
    refused(["ds", "-o", "x.html", "--json", "x.html"],
            "Error: --json x.html and -o x.html are the same file; two outputs cannot share one path.\n"
            "Hint: Pick another path for --json.\n")
    refused(["ds", "--format", "html", "--json", "ds.report.html"],
            "Error: --json ds.report.html and the report ds.report.html are the same file; two outputs "
            "cannot share one path.\nHint: Pick another path for --json.\n")
    os.symlink("x.html", "alias.json")
    refused(["ds", "-o", "x.html", "--json", "alias.json"],
            "Error: --json alias.json and -o x.html are the same file; two outputs cannot share one path.\n"
            "Hint: Pick another path for --json.\n")


def test_missing_output_folders_fail_before_any_report_is_written(dataset):
    refused(["ds", "--format", "html", "--json", "nodir/out.json"],
            "Error: nodir/out.json: folder 'nodir' does not exist.\n"
            "Hint: Create it first, or pick another path for --json.\n")
    refused(["ds", "--format", "html", "--json", "ds/part-0.parquet/out.json"],
            "Error: ds/part-0.parquet/out.json: 'ds/part-0.parquet' is not a folder.\n"
            "Hint: Pick another path for --json.\n")
    Path("ds.report.html").mkdir()
    refused(["ds", "--format", "html"],
            "Error: ds.report.html is a folder, not a file.\nHint: Pick another -o/--output.\n")


def test_a_symlinked_output_is_written_through(dataset):
    Path("out").mkdir()
    Path("out/real.json").write_text("old")
    os.symlink("out/real.json", "link.json")
    os.symlink("out/new.json", "dangling.json")
    res = run("report", "ds", "--format", "none", "--json", "link.json", "-q")
    assert res.exit_code == 0, res.output
    assert os.readlink("link.json") == "out/real.json"
    assert json.loads(Path("out/real.json").read_text())["provenance"]["input"] == "ds"
    res = run("report", "ds", "--format", "none", "--json", "dangling.json", "-q")
    assert res.exit_code == 0, res.output
    assert Path("dangling.json").is_symlink() and json.loads(Path("out/new.json").read_text())
    assert sorted(os.listdir("out")) == ["new.json", "real.json"]  # no temporary file left


def test_stale_temporary_files_of_the_target_are_removed(dataset):
    old = time.time() - 3600
    stale = Path(".out.json.erranalysis-ab12cd34.tmp")
    keep = [Path(".out.json.erranalysis-zz99zz99.tmp"),  # fresh: a write may still be running
            Path(".other.json.erranalysis-ab12cd34.tmp"),  # another target's
            Path(".out.json.ab12cd34.tmp"),  # not a name erranalysis makes
            Path("out.json.erranalysis-ab12cd34.tmp"),
            Path("notes.tmp")]
    for p in [stale, *keep]:
        p.write_text("partial")
    for p in [stale, *keep[1:]]:
        os.utime(p, (old, old))
    res = run("report", "ds", "--format", "none", "--json", "out.json", "-q")
    assert res.exit_code == 0, res.output
    assert not stale.exists()
    assert all(p.read_text() == "partial" for p in keep)
    assert sorted(p.name for p in Path(".").iterdir() if p.name.endswith(".tmp")) == sorted(p.name for p in keep)


def test_write_atomic_names_its_temporary_file_after_the_target(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_atomic(tmp_path / "r.html", "x")
    assert len(seen) == 1 and seen[0].startswith(".r.html.erranalysis-") and seen[0].endswith(".tmp")


def test_history_accepts_a_tensorboard_log_folder(tmp_path):
    pytest.importorskip("tbparse", reason="the tensorboard extra is not installed")
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    for run_name, values in (("train", [2.0 / (i + 1) for i in range(30)]),
                             ("validation", [2.0 / (i + 1) + 0.02 * max(0, i - 15) for i in range(30)])):
        writer = EventFileWriter(str(tmp_path / "logs" / run_name))
        for step, value in enumerate(values):
            writer.add_event(Event(wall_time=1.0, step=step,
                                   summary=Summary(value=[Summary.Value(tag="epoch_loss", simple_value=value)])))
        writer.close()
    res = run("report", "--history", "logs/", "--format", "none", "--json", "h.json")
    assert res.exit_code == 0, res.output
    doc = json.loads(Path("h.json").read_text())
    assert doc["history"]["format"] == "tensorboard"
    assert erranalysis.analyze(history=tmp_path / "logs").history is not None


def test_an_existing_path_with_brackets_is_not_a_glob(tmp_path):
    frame = multiclass_frame(n_per_split=50)
    frame.to_parquet("preds[1].parquet")
    frame.to_csv("preds[2].csv", index=False)
    for name in ("preds[1].parquet", "preds[2].csv"):
        res = run("report", name, "--format", "none", "--json", "out.json", "-q")
        assert res.exit_code == 0, res.output
        assert json.loads(Path("out.json").read_text())["provenance"]["input"] == name
    assert report_paths(Path("preds[1].parquet"), None, "html") == [Path("preds[1].report.html")]
    Path("ds").mkdir()
    frame.to_parquet("ds/part-1.parquet")
    assert report_paths(Path("ds/part-[0-9].parquet"), None, "pdf") == [Path("part.report.pdf")]
    res = run("report", "ds/part-[0-9].parquet", "--format", "none", "--json", "g.json", "-q")
    assert res.exit_code == 0, res.output


def test_result_save_refuses_the_inputs(dataset):
    r = erranalysis.analyze("ds")
    os.symlink("ds/part-1.parquet", "link.pdf")
    before = snapshot()
    with pytest.raises(UsageError, match=r"^ds/part-0\.parquet is a file of the input ds; it would be overwritten\.$"):
        r.save("ds/part-0.parquet")
    with pytest.raises(UsageError, match=r"^ds/r\.html is inside the input folder ds; writing there would change"):
        r.to_html("ds/r.html")
    with pytest.raises(UsageError, match=r"^link\.pdf is ds/part-1\.parquet, a file of the input ds; it would"):
        r.to_pdf("link.pdf")
    assert snapshot() == before
