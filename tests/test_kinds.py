"""The registry of finding kinds: every kind complete, every kind raised somewhere,
documented in the README, and the names the specification promises kept."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from erranalysis.kinds import KINDS
from erranalysis.report import SECTIONS
from erranalysis.result import Finding

ROOT = Path(__file__).parents[1]
#: The kinds the public contract names (never renamed; more may be added).
PROMISED = ("data_quality leakage below_baseline underfitting overfitting distribution_shift val_overfitting "
            "threshold class_imbalance label_shift confused_pair never_predicted poor_calibration loss_initial "
            "loss_still_decreasing loss_oscillating loss_exploding loss_plateau loss_overfitting weak_slice "
            "label_errors").split()


def test_the_promised_kinds_are_registered():
    assert set(PROMISED) <= set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_is_complete(name):
    kind = KINDS[name]
    assert kind.name == name and re.fullmatch(r"[a-z]+(_[a-z]+)*", name)
    assert kind.section in {sid for sid, _ in SECTIONS}
    assert kind.problem and kind.problem[0].isupper() and not kind.problem.endswith(".")
    assert kind.actions and all(a.endswith((".", "?")) and "\n" not in a and a[0].isupper() for a in kind.actions)
    assert len(set(kind.actions)) == len(kind.actions)


def _strings(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


def test_every_kind_is_raised_by_a_rule_and_every_literal_kind_is_registered():
    rules = [*sorted((ROOT / "erranalysis" / "findings").glob("*.py")), ROOT / "erranalysis" / "stats" / "history.py",
             ROOT / "erranalysis" / "reference.py"]
    named = set().union(*(_strings(p) for p in rules))
    assert set(KINDS) <= named, set(KINDS) - named  # a registered kind no rule mentions
    # Literal kinds given to Finding(...) in the rules.
    for path in rules:
        for call in (n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)):
            if getattr(call.func, "id", None) not in ("Finding", "Diagnosis"):
                continue
            args = [k.value for k in call.keywords if k.arg == "kind"] + call.args[:1]
            for a in args:
                if isinstance(a, ast.Constant):
                    assert a.value in KINDS, (path.name, a.value)


def test_the_readme_documents_every_kind():
    text = (ROOT / "README.md").read_text()
    table = text[text.index("**Findings.**"):]
    table = table[:table.index("\n\n", table.index("| kind |"))]
    documented = set(re.findall(r"`([a-z_]+)`", "\n".join(line.split("|")[1] for line in table.splitlines()
                                                           if line.startswith("| `"))))
    assert documented == set(KINDS)


def test_a_finding_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown finding kind 'mystery'"):
        Finding("mystery", "high", "t", {})
    with pytest.raises(ValueError, match="unknown severity"):
        Finding("leakage", "urgent", "t", {})
