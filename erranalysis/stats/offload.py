"""The model fits of the slice analysis, run in a second process when one is at hand.

Three analyses fit models on the row sample: the error cohorts (a decision tree), the
domain classifier of the feature-shift test (gradient boosting) and the label errors
(confident learning). Their libraries take about a second to import (scikit-learn
loads most of SciPy; cleanlab loads scikit-learn) and the fits about half a second
more, all of it holding the interpreter lock, so a thread cannot overlap them with the
rest of the analysis.

The command line therefore starts a helper process before it reads the rows
(:func:`second_process`): the helper imports those libraries on the other core, then
runs the fits on the pickled sample while this process computes everything else. The
same functions run on the same inputs, so the results are the ones computed here
would be. Without a helper (the Python API, or a helper that failed to start or died)
the fits run in this process, where any error they raise surfaces as usual.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: The functions of :mod:`erranalysis.stats.slices` the helper may run.
JOBS = ("error_cohorts", "feature_shift", "label_errors")

_ACTIVE: contextvars.ContextVar[_Helper | None] = contextvars.ContextVar("erranalysis_offload", default=None)


class _Helper:
    """A child interpreter that runs :data:`JOBS` in the order they are sent."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.sent = 0
        self.received = 0
        self.results: dict[int, tuple[bool, Any]] = {}
        self.lock = threading.Lock()
        self.broken = False

    @classmethod
    def start(cls) -> _Helper | None:
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = f"import sys; sys.path.insert(0, {package_root!r}); from erranalysis.stats.offload import serve; serve()"
        try:
            proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
        except OSError:
            return None
        return cls(proc)

    def submit(self, name: str, args: tuple) -> int | None:
        """Send a job (in a thread: the helper reads it only once its imports are done)."""
        if self.broken:
            return None
        try:
            blob = pickle.dumps((name, args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an input that does not pickle runs here instead
            return None
        number = self.sent
        self.sent += 1
        pipe = self.proc.stdin
        assert pipe is not None

        def write() -> None:
            try:
                with self.lock:
                    pipe.write(blob)
                    pipe.flush()
            except OSError:
                self.broken = True

        threading.Thread(target=write, daemon=True).start()
        return number

    def result(self, number: int) -> tuple[bool, Any]:
        """(True, value) for job ``number``, or (False, None) when the helper could not run it."""
        pipe = self.proc.stdout
        assert pipe is not None
        while number not in self.results:
            if self.broken:
                return False, None
            try:
                self.results[self.received] = pickle.load(pipe)
            except Exception:  # noqa: BLE001 - a helper that died: the job runs here
                self.broken = True
                return False, None
            self.received += 1
        return self.results.pop(number)

    def close(self) -> None:
        """Close the pipes; the helper exits when it reads the end of its input."""
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.terminate()


@contextlib.contextmanager
def second_process() -> Iterator[None]:
    """Within this block, :func:`run` sends the model fits to a helper process."""
    helper = _Helper.start()
    token = _ACTIVE.set(helper)
    try:
        yield
    finally:
        _ACTIVE.reset(token)
        if helper is not None:
            helper.close()


def active() -> bool:
    """Whether a helper process takes the model fits."""
    return _ACTIVE.get() is not None


class Pending:
    """A fit that runs in the helper process, or here when its result is asked for."""

    def __init__(self, name: str, args: tuple):
        self.name, self.args = name, args
        helper = _ACTIVE.get()
        self.helper = helper
        self.number = helper.submit(name, args) if helper is not None else None

    def result(self) -> Any:
        if self.helper is not None and self.number is not None:
            done, value = self.helper.result(self.number)
            if done:
                return value
        from . import slices

        fn: Callable[..., Any] = getattr(slices, self.name)
        return fn(*self.args)


def run(name: str, *args: Any) -> Pending:
    """Start ``slices.<name>(*args)``; its value is ``.result()``."""
    if name not in JOBS:
        raise ValueError(f"not a job of the helper process: {name!r}")
    return Pending(name, args)


def serve() -> None:
    """The helper's loop: import the libraries, then run jobs until the input ends.

    A job that raises is answered (False, None), so that the parent runs it itself and
    its error surfaces there with the usual message.
    """
    import warnings

    warnings.simplefilter("ignore")
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    from importlib import import_module

    with contextlib.suppress(Exception):  # a failed import fails the job, which then runs in the parent
        for name in ("cleanlab.filter", "sklearn.ensemble", "sklearn.metrics", "sklearn.model_selection",
                     "sklearn.tree"):
            import_module(name)
    from . import slices

    while True:
        try:
            name, args = pickle.load(stdin)
        except (EOFError, OSError, pickle.UnpicklingError):
            return
        try:
            if name not in JOBS:
                raise ValueError(name)
            answer: tuple[bool, Any] = (True, getattr(slices, name)(*args))
            blob = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - the parent runs the job itself and reports
            blob = pickle.dumps((False, None), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            stdout.write(blob)
            stdout.flush()
        except OSError:
            return
