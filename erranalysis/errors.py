"""Exceptions and warnings raised by erranalysis."""

from __future__ import annotations


class ErranalysisError(Exception):
    """Base class for every error erranalysis raises on purpose.

    ``hint`` says what the user can do about it (which flag or argument fixes it).
    """

    def __init__(self, message: str, hint: str | None = None):
        # One line each, whatever the names and values quoted in them hold.
        message, hint = one_line(message), None if hint is None else one_line(hint)
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(ErranalysisError):
    """The input data (file, DataFrame or arrays) breaks the input contract."""


class UsageError(ErranalysisError):
    """The arguments given to ``analyze`` or the command line do not fit together.

    ``parameter`` names the argument of ``analyze`` at fault (``"goal"``,
    ``"errors['train']"``) when one is; the command line words the message with the
    flag that sets it.
    """

    def __init__(self, message: str, hint: str | None = None, *, parameter: str | None = None):
        super().__init__(message, hint)
        self.parameter = parameter


def one_line(text: str) -> str:
    """``text`` with its line breaks written as ``\\n`` (a name or value may hold one)."""
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when the message is empty),
    for one-line errors that wrap a library's."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class DataWarning(UserWarning):
    """Suspicious but usable input; each one is also kept in ``Result.warnings``."""
