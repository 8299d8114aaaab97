"""erranalysis: turn a model's predictions into a diagnosis and the next thing to do.

The public names load on first use, so that ``import erranalysis.cli`` (the command
line's ``--help``, its argument errors) does not pay for pandas, pyarrow and the
analysis modules until a report is actually made.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: Each public name and the module that defines it.
_HOME = {
    "analyze": ".analysis",
    "Columns": ".io",
    "Component": ".result",
    "DataWarning": ".errors",
    "Decomposition": ".result",
    "ErranalysisError": ".errors",
    "from_estimator": ".estimator",
    "from_predictions": ".estimator",
    "Finding": ".result",
    "InputError": ".errors",
    "NextStep": ".result",
    "Result": ".output",
    "Settings": ".settings",
    "SplitError": ".result",
    "SplitErrorRate": ".result",
    "UsageError": ".errors",
}

__all__ = [
    "__version__", "analyze", "Columns", "Component", "DataWarning", "Decomposition", "ErranalysisError",
    "from_estimator", "from_predictions", "Finding", "InputError", "NextStep", "Result", "Settings", "SplitError",
    "SplitErrorRate", "UsageError",
]

if TYPE_CHECKING:
    from .analysis import analyze
    from .errors import DataWarning, ErranalysisError, InputError, UsageError
    from .estimator import from_estimator, from_predictions
    from .io import Columns
    from .output import Result
    from .result import Component, Decomposition, Finding, NextStep, SplitError, SplitErrorRate
    from .settings import Settings


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'erranalysis' has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
