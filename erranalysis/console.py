"""The console command's entry point: fork the renderer first, then load the command line.

Importing the command line loads pandas, pyarrow and SciPy (about half a second). A
renderer forked before those imports loads matplotlib and WeasyPrint on the second
core meanwhile, so its libraries are ready by the time the analysis ends. Whether the
run writes reports at all is known only once the flags are checked: the command line
then takes this renderer, or stops it (see :func:`erranalysis.cli._renderer`).
"""

from __future__ import annotations

import sys
from typing import Sequence


def main() -> None:
    """``erranalysis`` on the command line."""
    if writes_reports(sys.argv[1:]):
        from . import renderer

        renderer.start_early()
    from .cli import main as run

    run()


def writes_reports(args: Sequence[str]) -> bool:
    """Whether these arguments look like a ``report`` run that writes HTML or PDF on this
    machine: a guess from the words alone, made before any import; the command line
    decides once it has parsed them."""
    if not args or args[0] != "report" or "-h" in args or "--help" in args:
        return False
    words = list(args[1:])
    if _value(words, "--engine") not in (None, "local"):
        return False
    if "-o" in words or "--output" in words or any(w.startswith("--output=") for w in words):
        return True  # one report, whatever --format says
    return _value(words, "--format") != "none"


def _value(words: list[str], flag: str) -> str | None:
    """The last value given to ``flag`` (``--flag VALUE`` or ``--flag=VALUE``), lower-cased."""
    value = None
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            value = words[i + 1]
        elif word.startswith(flag + "="):
            value = word[len(flag) + 1:]
    return value.lower() if value is not None else None
