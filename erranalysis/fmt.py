"""Number formatting shared by the terminal summary and the report (never in templates)."""

from __future__ import annotations

import math
import re
from pathlib import Path


#: Rates this close to 0 or 1 are float rounding (weights summed in another order),
#: not a row's worth of difference: they read as exactly 0% or 100%.
ROUNDING = 1e-12


def pct(x: float | None, digits: int = 1) -> str:
    """A rate as a percentage; "0%" and "100%" only when true up to float rounding."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) < ROUNDING:
        return "0%"
    if abs(x - 1) < ROUNDING:
        return "100%"
    text = f"{x * 100:.{digits}f}%"
    smallest = 10 ** -digits
    if abs(x * 100) < smallest:
        return f"<{smallest:.{digits}f}%" if x > 0 else f">-{smallest:.{digits}f}%"
    if x < 1 and x * 100 > 100 - smallest:
        return f">{100 - smallest:.{digits}f}%"
    return text


def pts(x: float | None, digits: int = 1, signed: bool = False) -> str:
    """A difference of rates in percentage points."""
    if x is None:
        return "n/a"
    sign = "+" if signed and x > 0 else ""
    return f"{sign}{x * 100:.{digits}f} pts"


def level(provenance) -> str:
    """The confidence level of a run's intervals, as "95%" (95% without provenance)."""
    confidence = provenance.settings.get("confidence", 0.95) if provenance is not None else 0.95
    return f"{confidence * 100:g}%"


def ci_pct(ci) -> str:
    return "—" if ci is None else f"{pct(ci[0])} to {pct(ci[1])}"


def ci_pts(ci) -> str:
    return "—" if ci is None else f"{pts(ci[0])} to {pts(ci[1])}"


VERDICTS = {"material": "material", "negligible": "negligible", "too_noisy": "too noisy to tell"}


def shown_path(path: str | None) -> str | None:
    """A path as a report shows it: as given when relative, else only its file name,
    so a report sent to others does not carry the layout of the machine it ran on."""
    if not path:
        return path
    if path.startswith("~") or Path(path).is_absolute() or re.match(r"^[A-Za-z]:[\\/]", path):
        return Path(path.replace("\\", "/")).name or path
    return path
