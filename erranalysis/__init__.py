"""erranalysis: turn a model's predictions into a diagnosis and the next thing to do."""

from ._version import __version__
from .analysis import analyze
from .errors import DataWarning, ErranalysisError, InputError, UsageError
from .io import Columns
from .output import Result
from .result import (
    Component,
    Decomposition,
    Finding,
    NextStep,
    SplitError,
    SplitErrorRate,
)
from .settings import Settings

__all__ = [
    "__version__", "analyze", "Columns", "Component", "DataWarning", "Decomposition",
    "ErranalysisError", "Finding", "InputError", "NextStep", "Result", "Settings",
    "SplitError", "SplitErrorRate", "UsageError",
]
