"""Exceptions and warnings raised by erranalysis."""

from __future__ import annotations

import copy
from typing import Any, TypeVar

_E = TypeVar("_E", bound="ErranalysisError")

#: Where a bad value was found when the rows have no order (a Spark DataFrame's head):
#: a row number there would name no particular row.
UNORDERED_PLACE = "in the first rows Spark returned"


class ErranalysisError(Exception):
    """Base class for every error erranalysis raises on purpose.

    ``hint`` says what the user can do about it (which flag or argument fixes it).

    An error about the input also says where the problem is, as fields a program can
    read: ``file`` (the input's name), ``column``, ``row`` (0-based, within ``file``)
    and ``value`` (the offending value as found). The message joins ``file``, the
    ``message`` text, the row and ``rest`` (the words after the row) in
    :func:`compose`, so that a copy with another file or row (:meth:`in_file`,
    :meth:`shifted`) reads right without editing any text. ``column`` and ``value``
    are named in the text in the words that fit each problem.
    """

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
        value: Any = None,
        rest: str = "",
        partition: int | None = None,
        unordered: bool = False,
    ) -> None:
        # One line each, whatever the names and values quoted in them hold.
        self.text = one_line(message)
        self.hint = None if hint is None else one_line(hint)
        self.file = None if file is None else one_line(file)
        self.column = column
        self.row = row
        self.value = value
        self.rest = one_line(rest)
        #: The Spark partition whose rows held the problem (rows counted within it).
        self.partition = partition
        #: The problem was found at a row of rows without order: no row number is given.
        self.unordered = unordered
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The one line the user reads (without the hint)."""
        return compose(self)

    def __str__(self) -> str:
        return self.message

    def _copy(self: _E, **changes: Any) -> _E:
        """This error with some fields changed (every other attribute kept as it is)."""
        other = copy.copy(self)
        other.__dict__.update(changes)
        other.args = (other.message,)
        return other

    def shifted(self: _E, offset: int) -> _E:
        """The error of a batch with its row counted from ``offset`` rows earlier
        (a batch's row made a row of its file); unchanged without a row."""
        return self if self.row is None or not offset else self._copy(row=self.row + offset)

    def in_file(self: _E, file: str) -> _E:
        """The same error, found in ``file`` (one file of a dataset)."""
        return self._copy(file=one_line(file))

    def in_partition(self: _E, partition: int) -> _E:
        """The same error, found in a Spark partition (its row counted within it)."""
        return self._copy(partition=partition)

    def without_order(self: _E) -> _E:
        """The same error among rows that have no order: the row number is dropped and
        the message says the value was among the first rows returned."""
        return self if self.row is None else self._copy(row=None, unordered=True)


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


def compose(error: ErranalysisError) -> str:
    """The message of ``error``, from its parts: ``<file>: [Spark partition <n>, ]<text>
    [ at row <row> | in the first rows Spark returned]<rest>``."""
    head = "" if error.file is None else f"{error.file}: "
    if error.partition is not None:
        head += f"Spark partition {error.partition}, "
    if error.row is not None:
        place = f" at row {error.row}"
    elif error.unordered:
        place = f" {UNORDERED_PLACE}"
    else:
        place = ""
    return f"{head}{error.text}{place}{error.rest}"


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
