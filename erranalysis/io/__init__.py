"""The input layer: files, DataFrames and arrays in, validated Predictions out."""

from .read import FORMATS, detect_format, file_sha256, read_table
from .validate import (
    SPLIT_ALIASES,
    SPLITS,
    Columns,
    InputWarning,
    Predictions,
    class_text,
    frame_from_arrays,
    validate_frame,
)

__all__ = [
    "FORMATS", "SPLITS", "SPLIT_ALIASES", "Columns", "InputWarning", "Predictions",
    "class_text", "detect_format", "file_sha256", "frame_from_arrays", "read_table", "validate_frame",
]
