"""JSON-ready values: the conversion every part of the result tree is written with."""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

#: A mapping whose values differ in type from key to key, as JSON objects do (a finding's
#: evidence, an example row, a table's summary): each value's type is known where it is read.
Record = dict[str, Any]


def plain(value: Any) -> Any:
    """Convert dataclasses, tuples and NumPy scalars/arrays into JSON-ready values.

    Non-finite floats become ``None`` so the JSON stays standard.
    """
    if is_dataclass(value) and not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        if to_dict is not None:
            return to_dict()
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value
