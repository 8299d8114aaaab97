"""The result tree is typed and frozen all the way down: every dataclass reachable from
ResultData's fields is frozen, and no field is typed ``object`` or ``Any``."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

import pytest

from erranalysis import result
from erranalysis.result import ResultData


def _parts(hint: Any) -> list[Any]:
    """The types a field's type is built from: its union members and element types."""
    args = typing.get_args(hint)
    return list(args) if args else []


def _reachable(root: type) -> dict[type, dict[str, Any]]:
    """Every dataclass reachable from ``root`` through its fields' types, with its type hints."""
    found: dict[type, dict[str, Any]] = {}
    todo: list[Any] = [root]
    while todo:
        hint = todo.pop()
        if hint is type(None) or isinstance(hint, typing.TypeVar):
            continue
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            if hint in found:
                continue
            found[hint] = typing.get_type_hints(hint, vars(result))
            todo += found[hint].values()
        todo += _parts(hint)
    return found


def _loose(hint: Any) -> bool:
    return hint is Any or hint is object


def test_the_tree_reaches_every_part():
    tree = _reachable(ResultData)
    names = {cls.__name__ for cls in tree}
    assert {"SplitErrorRate", "Component", "Decomposition", "Finding", "NextStep", "Baseline", "ClassMetrics",
            "CalibrationResult", "Confusion", "ConfusedPair", "ThresholdAnalysis", "ClassBalance", "LabelShiftTest",
            "HistoryAnalysis", "Diagnosis", "SliceAnalysis", "SliceStat", "SliceDecomposition", "Cohort",
            "FeatureShift", "Comparison", "Change", "Provenance", "Verdict", "InputWarning"} <= names


@pytest.mark.parametrize("cls", sorted(_reachable(ResultData), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_every_part_is_frozen_and_typed(cls):
    assert cls.__dataclass_params__.frozen, f"{cls.__name__} is not frozen"
    for name, hint in typing.get_type_hints(cls, vars(result)).items():
        assert not _loose(hint), f"{cls.__name__}.{name} is typed {hint!r}"
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            assert not any(_loose(a) for a in typing.get_args(hint)), f"{cls.__name__}.{name} is typed {hint!r}"
        assert hint not in (dict, list, tuple), f"{cls.__name__}.{name} is a bare {hint.__name__}"


def test_a_loose_or_mutable_part_would_be_caught():
    @dataclasses.dataclass
    class Loose:
        anything: object
        items: list

    loose = _reachable(Loose)
    assert not Loose.__dataclass_params__.frozen
    assert _loose(loose[Loose]["anything"]) and loose[Loose]["items"] is list
