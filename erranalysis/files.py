"""File output: atomic writes, and the checks that keep every output off the inputs."""

from __future__ import annotations

import glob
import os
import re
import stat
import tempfile
import time
from pathlib import Path

#: A temporary file older than this (seconds) was left by a run that was killed.
STALE_SECONDS = 600
_TAG = ".erranalysis-"
_WILDCARDS = "*?["


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` so that readers never see a half-written file.

    The data goes to a temporary file next to the target, then replaces it in one
    rename. A symlink is written through (its target gets the content, the link
    stays), and temporary files of the same target left by a killed run are removed.
    """
    path = Path(os.path.realpath(path))
    directory = path.parent
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _temp_prefix(name: str) -> str:
    return f".{name}{_TAG}"


def remove_stale_temps(path: str | Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove the temporary files of target ``path`` older than ``older_than`` seconds.

    Only names this module makes for that very target (``.NAME.erranalysis-XXXXXXXX.tmp``,
    regular files) are candidates; a fresh one may belong to a write still running.
    """
    path = Path(path)
    directory = path.parent
    pattern = re.compile(re.escape(_temp_prefix(path.name)) + r"[a-z0-9_]{8}\.tmp")
    limit = time.time() - older_than
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < limit:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------------- outputs vs inputs


def is_pattern(path: str | Path) -> bool:
    """A path is a glob pattern only when it has a wildcard and names nothing that exists:
    an existing file or folder (``preds[1].parquet``) is always taken literally."""
    text = str(path)
    return any(ch in text for ch in _WILDCARDS) and not os.path.exists(text)


def input_paths(path: str | Path, pattern: bool = True) -> tuple[list[str], list[str]]:
    """The files and the folders an input names: itself, or every file a glob matches.

    Nothing that does not exist is listed (there is nothing to overwrite).
    """
    text = str(path)
    if pattern and is_pattern(text):
        return sorted(m for m in glob.glob(text, recursive=True) if os.path.isfile(m)), []
    if os.path.isdir(text):
        return [], [text]
    if os.path.exists(text):
        return [text], []
    return [], []


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` are one file: the same real path (symlinks resolved), or
    both exist and are hard links to the same data."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def inside(path: str | Path, folder: str | Path) -> bool:
    """True when ``path`` (symlinks resolved) is in ``folder`` or below it."""
    real, root = os.path.realpath(path), os.path.realpath(folder)
    try:
        return os.path.commonpath([real, root]) == root
    except ValueError:  # different drives
        return False


def input_overlap(output: str | Path, files: list[str], folders: list[str]) -> tuple[str, str] | None:
    """What writing ``output`` would change among the inputs: ``("file", name)`` when it is
    one of ``files`` or a file of ``folders`` (hard links included), ``("folder", name)``
    when it lies inside one of ``folders``; ``None`` when it touches no input."""
    for name in files:
        if same_file(output, name):
            return "file", name
    for folder in folders:
        if inside(output, folder):
            if not os.path.lexists(output):
                return "folder", folder
            relative = os.path.relpath(os.path.realpath(output), os.path.realpath(folder))
            return "file", os.path.normpath(os.path.join(folder, relative))
    try:
        linked = os.stat(output).st_nlink > 1
    except OSError:
        linked = False
    if linked:  # a hard link elsewhere to a file of an input folder
        for folder in folders:
            for root, _, names in os.walk(folder):
                for name in names:
                    if same_file(output, os.path.join(root, name)):
                        return "file", os.path.join(root, name)
    return None


def folder_problem(output: str | Path) -> tuple[str, str] | None:
    """Why ``output`` cannot be written, found before anything is computed: ``(kind,
    message)`` with kind ``"is_folder"``, ``"missing"`` (its folder does not exist) or
    ``"not_folder"`` (its folder is a file); ``None`` when it can be written."""
    text = str(output)
    if os.path.isdir(text):
        return "is_folder", f"{text} is a folder, not a file."
    real_parent = os.path.dirname(os.path.realpath(text))
    shown = os.path.dirname(text) or "."
    if os.path.realpath(shown) != real_parent:  # a symlink pointing elsewhere: name its target's folder
        shown = real_parent
    if not os.path.exists(real_parent):
        return "missing", f"{text}: folder {shown!r} does not exist."
    if not os.path.isdir(real_parent):
        return "not_folder", f"{text}: {shown!r} is not a folder."
    return None
