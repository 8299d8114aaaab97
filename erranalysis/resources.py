"""Where the report templates live: inside the installed package, or the source tree."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def templates_dir(override: str | Path | None = None) -> Path:
    """The folder of report templates.

    ``override`` (``--template-dir``) wins; then the copy installed with the wheel
    (``erranalysis/_templates``); then the top-level ``templates/`` of a source checkout.
    """
    if override is not None:
        path = Path(override)
        if not path.is_dir():
            from .errors import UsageError

            raise UsageError(f"--template-dir must be a folder. Got {str(path)!r} instead.")
        return path
    for candidate in (_PACKAGE / "_templates", _PACKAGE.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("erranalysis templates are missing from this installation; reinstall the package.")
