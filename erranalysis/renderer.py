"""Report files written by a forked process whose libraries were loaded during the analysis.

Drawing the figures and laying out the PDF need matplotlib and WeasyPrint: about a
second of imports and font loading before the first figure, and all of it Python that
holds the interpreter lock. The command line forks a renderer before it reads the
predictions; the child loads those libraries and compiles the templates on the second
core while the parent reads and analyses. The parent then hands over the result (a
small pickle) and the child writes the report files.

The child is only an accelerator. Where fork is not safe (not Linux, or other threads
running), it is not started; when it fails in any way, the parent writes the reports
itself, so every error reads exactly as it does without the child.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

#: The child's reply when every report file is written.
_DONE = b"done"
#: A page that makes WeasyPrint load the report's fonts.
_WARM_PAGE = ('<p style="font-family: \'DejaVu Sans\'">a <b>b</b> <i>c</i> '
              '<code style="font-family: \'DejaVu Sans Mono\'">d</code></p>')


class Renderer:
    """The parent's handle on a forked renderer: :meth:`write` hands it a result,
    :meth:`close` ends it (stopping it first unless it has finished)."""

    def __init__(self, pid: int, requests: int, replies: int) -> None:
        self.pid: int | None = pid
        self._requests: int | None = requests
        self._replies: int | None = replies
        self._finished = False

    @classmethod
    def start(cls) -> Renderer | None:
        """Fork the renderer, or None where forking is not safe or fails."""
        if not sys.platform.startswith("linux") or threading.active_count() > 1:
            return None
        requests_in, requests_out = os.pipe()
        replies_in, replies_out = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            for fd in (requests_in, requests_out, replies_in, replies_out):
                os.close(fd)
            return None
        if pid == 0:  # the child: never returns
            os.close(requests_out)
            os.close(replies_in)
            _serve(requests_in, replies_out, parent)
        os.close(requests_in)
        os.close(replies_out)
        return cls(pid, requests_out, replies_in)

    def write(self, result: Any, paths: list[Path], options: dict[str, Any]) -> bool:
        """Have the child write ``result``'s reports to ``paths`` (in that order) under
        ``options``; whether it wrote them all. On False the caller writes them itself."""
        if self._requests is None or self._replies is None:
            return False
        try:
            payload = pickle.dumps((result, paths, options), protocol=pickle.HIGHEST_PROTOCOL)
            _send(self._requests, payload)
            os.close(self._requests)
            self._requests = None
            reply = _receive(self._replies)
        except Exception:  # noqa: BLE001 - does not pickle, or the child is gone: render here
            return False
        self._finished = True
        if not reply.startswith(_DONE):
            return False
        # What the child printed to standard error (warnings), as rendering here would.
        sys.stderr.buffer.write(reply[len(_DONE):])
        sys.stderr.flush()
        return True

    def close(self) -> None:
        """Stop the child unless it finished (it ends its current step cleanly, leaving
        no half-written file), then reap it; calling it again does nothing."""
        if self.pid is None:
            return
        if not self._finished:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except OSError:
                pass
        for fd in (self._requests, self._replies):
            if fd is not None:
                os.close(fd)
        self._requests = self._replies = None
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.pid = None


def _serve(requests: int, replies: int, parent: int) -> None:
    """The child: load the libraries, wait for a result, write its reports, reply with
    what it printed to standard error, exit. It stops when its parent does."""
    try:
        # SIGTERM (from close(), or from the kernel when the parent dies) unwinds the
        # child's Python frames: locks and temporary files are released on the way.
        signal.signal(signal.SIGTERM, _stop)
        _die_with(parent)
        # Nothing of the child's goes to standard output, which may be the caller's pipe;
        # standard error goes back to the parent with the reply.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        errors = tempfile.TemporaryFile()
        os.dup2(errors.fileno(), 2)
        _warm()
        payload = _receive(requests)
        if payload:
            result, paths, options = pickle.loads(payload)
            try:
                _draw_figures(result, replies)
            except Exception:  # noqa: BLE001 - the report draws what is missing as it goes
                pass
            reports = result.reports(**options)
            if options.get("template_dir") is None and _ENVIRONMENT:
                reports._environment = _ENVIRONMENT[0]
            for path in paths:
                reports.write(path)
            sys.stderr.flush()
            errors.seek(0)
            _send(replies, _DONE + errors.read())
    except BaseException:  # noqa: BLE001 - the parent sees no reply and does the work itself
        pass
    finally:
        os._exit(0)


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(1)


def _die_with(parent: int) -> None:
    """Have the kernel send SIGTERM to this process when its parent ends (Linux)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it ended before the request took effect
        raise SystemExit(1)


#: The figures a second process draws while the renderer draws the others: about half
#: of the drawing time each (the confusion heatmap is the slowest figure).
_SHARED_OUT = ("confusion_heatmap", "reliability", "slice_errors")
_KEPT = ("decomposition", "class_balance", "loss_curves")


def _draw_figures(result: Any, replies: int) -> None:
    """Draw the report's figures on both cores: a forked helper draws ``_SHARED_OUT``
    while this process draws ``_KEPT``; both land in the report's figure cache. Should
    the helper fail, the report draws its figures itself as it goes."""
    from . import figures, report

    if threading.active_count() > 1:
        return
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return
    if pid == 0:  # the helper: draw, send, exit
        try:
            os.close(read)
            os.close(replies)  # the renderer's reply pipe: only the renderer may hold it open
            drawn = {name: getattr(figures, name)(result) for name in _SHARED_OUT}
            _send(write, pickle.dumps(drawn, protocol=pickle.HIGHEST_PROTOCOL))
        finally:
            os._exit(0)
    os.close(write)
    try:
        for name in _KEPT:
            report._figure(result, getattr(figures, name))
        payload = _receive(read)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    if payload:
        for name, figure in pickle.loads(payload).items():
            report._seed_figure(result, getattr(figures, name), figure)


#: The built-in templates' environment, every template compiled while the parent analyses.
_ENVIRONMENT: list[Any] = []


def _warm() -> None:
    """Import what rendering needs, compile the built-in templates and lay out a small
    page (WeasyPrint loads its fonts)."""
    from . import figures, report

    figures._plt()
    environment = report._environment(None)
    folder = report.templates_dir(None)
    for path in folder.rglob("*.j2"):
        environment.get_template(path.relative_to(folder).as_posix())
    _ENVIRONMENT.append(environment)
    report._layout(_WARM_PAGE, None)


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int) -> bytes:
    """Everything up to the end of the pipe."""
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
