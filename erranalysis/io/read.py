"""Read a predictions file of any supported format into a pandas DataFrame."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from ..errors import InputError, UsageError, first_line

#: What to check when a file cannot be parsed.
UNREADABLE_HINT = "Check that the file is complete (not truncated) and of the format its name says."

#: File suffix -> format name. Compressed CSV/TSV/JSONL are read transparently.
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".feather": "feather",
    ".arrow": "feather",
    ".ipc": "feather",
}
_COMPRESSION = {".gz", ".bz2", ".zst", ".lz4"}


def detect_format(path: Path) -> str:
    """Return the format name for ``path`` from its suffix."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSION:
        suffixes.pop()
    if suffixes and suffixes[-1] in FORMATS:
        return FORMATS[suffixes[-1]]
    raise InputError(
        f"{path}: cannot tell the file format from its name. Known suffixes: "
        + ", ".join(sorted(FORMATS)) + ".",
        hint="Rename the file or pass --input-format (parquet, csv, tsv, jsonl, feather).",
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """Read ``path`` with pyarrow and return a DataFrame (numpy-backed numbers).

    Raises :class:`InputError` naming the file when it is missing, empty, corrupt
    or has no rows.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found.")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a predictions file.")
    fmt = fmt or detect_format(path)
    if fmt not in set(FORMATS.values()):
        raise UsageError(
            f"--input-format must be one of parquet, csv, tsv, jsonl, feather. Got {fmt!r} instead."
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty.")

    import pyarrow as pa

    try:
        table = _read_arrow(path, fmt)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot be read as {fmt}: {first_line(exc)}",
            hint=UNREADABLE_HINT,
        ) from None
    if table.num_rows == 0:
        raise InputError(f"{path}: has a header but no rows.")
    return table.to_pandas(split_blocks=True, self_destruct=True)


def _read_arrow(path: Path, fmt: str):
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    if fmt in ("csv", "tsv"):
        import pyarrow.csv as pcsv

        parse = pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
        return pcsv.read_csv(path, parse_options=parse)
    if fmt == "jsonl":
        import pyarrow.json as pjson

        return pjson.read_json(path)
    import pyarrow.feather as feather

    return feather.read_table(path)
