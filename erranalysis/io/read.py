"""Read a predictions file of any supported format into a pandas DataFrame."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path
from typing import Any

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


def file_sha256(*paths: str | Path) -> str:
    """SHA-256 of the files' bytes, one file after the other (one file: its own hash),
    read in 1 MiB blocks."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


#: The key of ``DataFrame.attrs`` under which reading leaves its warnings for validation.
READ_WARNINGS = "erranalysis.read_warnings"
#: Blocks of text the CSV and JSON readers parse at a time; a row longer than a block
#: is read again with a block that holds the whole file.
BLOCK_BYTES = 1 << 20


def is_stream(path: Path) -> bool:
    """A pipe, FIFO or device (``/dev/stdin``): readable once, with no size or seek."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def read_table(path: str | Path, fmt: str | None = None, data: bytes | None = None) -> pd.DataFrame:
    """Read ``path`` with pyarrow and return a DataFrame (numpy-backed numbers).

    ``data`` holds the file's bytes when they were read already (a pipe can be read
    only once). Text that is not UTF-8 is read as Windows-1252 or Latin-1, with a
    warning (kept in ``DataFrame.attrs[READ_WARNINGS]``); empty CSV fields of text
    columns (quoted or not: pandas writes missing text as an empty field) are missing
    values, as they are in Parquet.

    Raises :class:`InputError` naming the file when it is missing, empty, corrupt
    or has no rows.
    """
    path = Path(path)
    if data is None:
        if not path.exists():
            raise InputError(f"{path}: file not found.")
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a predictions file.")
    fmt = fmt or detect_format(path)
    if fmt not in set(FORMATS.values()):
        raise UsageError(
            f"--input-format must be one of parquet, csv, tsv, jsonl, feather. Got {fmt!r} instead."
        )
    if data is None and is_stream(path):
        data = read_stream(path)
    size = len(data) if data is not None else path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: file is empty.")

    import pyarrow as pa

    notes: list = []
    try:
        table = _read_arrow(path, fmt, data, size, notes)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot be read as {fmt}: {first_line(exc)}",
            hint=UNREADABLE_HINT,
        ) from None
    if table.num_rows == 0:
        raise InputError(f"{path}: has a header but no rows.")
    table = text_columns(table, notes, check_text=fmt == "jsonl")
    if fmt in ("csv", "tsv"):
        table = empty_text_as_missing(table)
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    frame.attrs[READ_WARNINGS] = notes
    return frame


def read_stream(path: Path) -> bytes:
    """Every byte of a pipe or device."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}.") from None


def _read_arrow(path: Path, fmt: str, data: bytes | None, size: int, notes: list):
    import pyarrow as pa

    def source():
        return pa.BufferReader(data) if data is not None else path

    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(source())
    if fmt == "feather":
        import pyarrow.feather as feather

        return feather.read_table(source())
    if fmt in ("csv", "tsv"):
        return _read_csv(source, fmt, size, notes)
    import pyarrow.json as pjson

    try:
        return pjson.read_json(source(), read_options=pjson.ReadOptions(block_size=BLOCK_BYTES))
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise
    return pjson.read_json(source(), read_options=pjson.ReadOptions(block_size=_whole(size)))


def _whole(size: int) -> int:
    """A block size that holds a file of ``size`` bytes (pyarrow's limit is 2 GiB)."""
    return int(min(max(size + 1, BLOCK_BYTES), (1 << 31) - 1))


def _read_csv(source, fmt: str, size: int, notes: list):
    """CSV or TSV; a row longer than a block, or text that is not UTF-8, reads again."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    parse = pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True)

    def read(block: int, encoding: str = "utf8"):
        options = pcsv.ReadOptions(block_size=block, encoding=encoding)
        return pcsv.read_csv(source(), read_options=options, parse_options=parse)

    block = BLOCK_BYTES
    try:
        table = read(block)
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise
        block = _whole(size)
        table = read(block)
    if not any(is_binary(f.type) for f in table.schema) and not _names_garbled(table):
        return table
    # Text that is not UTF-8: the usual other encodings of CSV files written on Windows
    # or by older tools. Windows-1252 leaves five bytes undefined, Latin-1 none.
    for encoding, label in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            table = read(block, encoding)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            continue
        notes.append(("not_utf8", f"the file is not UTF-8 text; it was read as {label}."))
        return table
    return table


def _names_garbled(table) -> bool:
    return any("\ufffd" in name for name in table.schema.names)


def is_binary(t) -> bool:
    """Whether an Arrow type holds bytes (binary, large or fixed-size)."""
    import pyarrow as pa

    return pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)


def text_columns(table, notes: list | None = None, check_text: bool = False, latin1: set | None = None):
    """Binary columns as text: UTF-8 where every value is, else byte by byte as Latin-1
    (every byte is a character there, so nothing is lost and nothing fails later).

    ``check_text`` also checks the text columns, which the JSON reader fills with
    whatever bytes the file holds. ``latin1`` names the binary columns to read as
    Latin-1 whatever this table holds (a streamed file decides once for all its
    batches); the others must then be UTF-8."""
    import pyarrow as pa

    binary = []
    for i, f in enumerate(table.schema):
        if is_binary(f.type):
            binary.append(i)
        elif check_text and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            try:
                table.column(i).validate(full=True)
            except pa.ArrowInvalid:
                binary.append(i)
    for i in binary:
        name = table.schema.names[i]
        column = table.column(i)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        if not is_binary(column.type):
            column = column.view(pa.large_binary() if pa.types.is_large_string(column.type) else pa.binary())
        column = column.cast(pa.large_binary())
        try:
            if latin1 is not None and name in latin1:
                raise pa.ArrowInvalid("read as Latin-1")
            text = column.cast(pa.large_string())  # checks that every value is UTF-8
        except pa.ArrowInvalid:
            text = latin1_to_utf8(column)
            if notes is not None:
                notes.append(("not_utf8", f"column {name!r} holds bytes that are not UTF-8 text; "
                              "they were read as Latin-1."))
        table = table.set_column(i, name, text)
    return table


def latin1_to_utf8(array):
    """A large_binary array of Latin-1 bytes as a large_string array (vectorised: each
    byte from 0x80 up becomes its two-byte UTF-8 form)."""
    import numpy as np
    import pyarrow as pa

    array = pa.concat_arrays([array])  # offset 0, buffers of its own
    n = len(array)
    validity, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[: n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)[: offsets[-1]] if data_buf is not None else np.empty(0, np.uint8)
    high = data >= 0x80
    starts = np.zeros(data.size + 1, dtype=np.int64)
    np.cumsum(1 + high, out=starts[1:])
    out = np.empty(int(starts[-1]), dtype=np.uint8)
    out[starts[:-1]] = np.where(high, 0xC0 | (data >> 6), data)
    out[starts[:-1][high] + 1] = 0x80 | (data[high] & 0x3F)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(starts[offsets]), pa.py_buffer(out), validity,
                                            array.null_count)


def empty_text_as_missing(table):
    """Empty text fields of a CSV are missing values (Parquet keeps those as nulls)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, f in enumerate(table.schema):
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            column = table.column(i)
            empty = pc.equal(pc.utf8_length(column), 0)
            if pc.any(empty).as_py():
                table = table.set_column(i, f.name, pc.if_else(empty, pa.scalar(None, f.type), column))
    return table


def table_kind(data: Any) -> str | None:
    """What an Arrow or Polars table is called in messages and the provenance ("pyarrow
    Table", "polars LazyFrame", ...), or None for anything else; told without importing
    Polars, which stays optional."""
    kind = type(data)
    package = (kind.__module__ or "").partition(".")[0]
    if package == "polars" and kind.__name__ in ("DataFrame", "LazyFrame"):
        return f"polars {kind.__name__}"
    if package == "pyarrow":
        import pyarrow as pa
        import pyarrow.dataset as ds

        if isinstance(data, (pa.Table, pa.RecordBatch)):
            return f"pyarrow {kind.__name__}"
        if isinstance(data, ds.Dataset):
            return "pyarrow Dataset"
    return None
