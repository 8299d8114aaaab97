"""Read a training history (loss curves) from the formats training libraries write."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

KNOWN_FORMATS = (
    "Keras CSVLogger CSV (epoch, loss, val_loss), PyTorch Lightning metrics.csv, "
    "Hugging Face trainer_state.json, TensorBoard event files (a log folder or a "
    "tfevents file, with the tensorboard extra), or a CSV/JSON of x, train loss and val "
    "loss named with --history-x, --history-train, --history-val"
)
_X_NAMES = ("step", "global_step", "iteration", "iter", "epoch")
_TRAIN_NAMES = ("train_loss", "training_loss", "loss", "train_loss_epoch", "train_loss_step", "trn_loss")
_VAL_NAMES = ("val_loss", "validation_loss", "valid_loss", "eval_loss", "val_loss_epoch", "test_loss", "dev_loss")


@dataclass(frozen=True)
class History:
    """Train and val loss curves; each has its own x values (logs may be sparse)."""

    source: str
    format: str
    x_name: str
    train_x: np.ndarray
    train: np.ndarray
    val_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    val: np.ndarray = field(default_factory=lambda: np.empty(0))
    columns: dict = field(default_factory=dict)

    @property
    def has_val(self) -> bool:
        return self.val.size > 0


def _fail(name: str, why: str) -> InputError:
    return InputError(f"{name}: cannot read the training history: {why}. Known formats: {KNOWN_FORMATS}.",
                      hint="Name the columns with --history-x, --history-train and --history-val.")


def read_history(source, *, x: str | None = None, train: str | None = None, val: str | None = None) -> History:
    """Read ``source`` (a path or a DataFrame) and return its loss curves.

    The format is detected from the content: a JSON object with ``log_history`` is a
    Hugging Face trainer state; a table with ``step`` and ``epoch`` columns and sparse
    rows is a Lightning ``metrics.csv``; a table with ``epoch`` and ``loss`` is a Keras
    ``CSVLogger`` file; anything else needs the column names.
    """
    if isinstance(source, pd.DataFrame):
        return _from_table(source.copy(), "DataFrame", x, train, val)
    path = Path(source)
    name = str(source)
    if not path.exists():
        raise InputError(f"{name}: file not found.")
    if path.is_dir() or "tfevents" in path.name:
        return _from_tensorboard(path, name, x, train, val)
    if path.stat().st_size == 0:
        raise InputError(f"{name}: file is empty.")
    text = path.read_text(encoding="utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            try:
                frame = pd.read_json(path, lines=True)
            except ValueError:
                raise _fail(name, "the file is neither valid JSON nor JSON Lines") from None
            return _from_table(frame, name, x, train, val)
        if isinstance(doc, dict) and "log_history" in doc:
            return _from_trainer_state(doc, name, x, train, val)
        if isinstance(doc, list) and any(isinstance(e, dict) and ("eval_loss" in e or "train_runtime" in e)
                                         for e in doc):
            return _from_trainer_state({"log_history": doc}, name, x, train, val)
        if isinstance(doc, dict):
            doc = doc.get("history", doc)
            try:
                frame = pd.DataFrame(doc)
            except ValueError:
                raise _fail(name, "the JSON object is not a table of columns") from None
        else:
            frame = pd.DataFrame(doc)
        return _from_table(frame, name, x, train, val)
    try:
        sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
        # Only empty cells (and NA-like markers) mean "not logged": a literal nan or inf
        # was logged and means the run blew up.
        frame = pd.read_csv(path, sep=sep, keep_default_na=False,
                            na_values=["", "NA", "N/A", "NaN_not_logged", "null", "None", "<NA>"])
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(name, f"not a CSV table ({str(exc).splitlines()[0]})") from None
    return _from_table(frame, name, x, train, val)


def _pick(columns, wanted: str | None, candidates, name: str, flag: str, required: bool) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise InputError(f"{name}: column {wanted!r} ({flag}) is missing. Columns: {', '.join(map(str, columns))}.")
        return wanted
    lower = {str(c).lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    if required:
        raise _fail(name, f"no {flag[2:].replace('history-', '')} column found among {', '.join(map(str, columns))}")
    return None


def _series(frame: pd.DataFrame, xcol: str, ycol: str, name: str, sparse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    sub = frame[[xcol, ycol]].copy()
    xs = pd.to_numeric(sub[xcol], errors="coerce")
    ys = pd.to_numeric(sub[ycol].replace({"nan": np.nan, "inf": np.inf, "-inf": -np.inf}), errors="coerce")
    # Sparse logs (Lightning) leave a column empty on rows that log something else: drop
    # those rows. In a dense log every row was logged, and a NaN loss means the run blew up.
    keep = xs.notna().to_numpy() & sub[ycol].notna().to_numpy()
    x_arr = xs.to_numpy(dtype=float)[keep]
    y_arr = ys.to_numpy(dtype=float)[keep]
    order = np.argsort(x_arr, kind="stable")
    x_arr, y_arr = x_arr[order], y_arr[order]
    if x_arr.size and np.unique(x_arr).size < x_arr.size:
        # Several values logged at one x (e.g. per-step and per-epoch rows): average them.
        df = pd.DataFrame({"x": x_arr, "y": y_arr}).groupby("x", sort=True)["y"].mean()
        x_arr, y_arr = df.index.to_numpy(dtype=float), df.to_numpy(dtype=float)
    return x_arr, y_arr


def _from_table(frame: pd.DataFrame, name: str, x, train, val) -> History:
    if frame.empty:
        raise InputError(f"{name}: the training history has no rows.")
    frame.columns = [str(c) for c in frame.columns]
    cols = list(frame.columns)
    lower = [c.lower() for c in cols]
    sparse = "step" in lower and "epoch" in lower and frame.isna().any().any()
    if "eval_loss" in lower and "loss" in lower and ("step" in lower or "epoch" in lower):
        # Hugging Face log_history saved as a table: "loss" per logging step; the final
        # summary row's "train_loss" is an average, not a curve.
        entries = [{k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))}
                   for row in frame.to_dict("records")]
        return _from_trainer_state({"log_history": entries}, name, x, train, val)
    if sparse:
        fmt = "lightning"
        train_candidates = ("train_loss_step", "train_loss", "train_loss_epoch", "loss")
        x_candidates = ("step",)
    elif "epoch" in lower and "loss" in lower and "step" not in lower:
        fmt = "keras"
        train_candidates = _TRAIN_NAMES
        x_candidates = ("epoch",)
    else:
        fmt = "table"
        train_candidates = _TRAIN_NAMES
        x_candidates = _X_NAMES
    xcol = _pick(cols, x, x_candidates, name, "--history-x", required=False)
    ycol = _pick(cols, train, train_candidates, name, "--history-train", required=True)
    vcol = _pick(cols, val, _VAL_NAMES, name, "--history-val", required=False)
    if xcol is None:
        frame = frame.reset_index(drop=True)
        frame["_index"] = np.arange(len(frame))
        xcol = "_index"
    tx, ty = _series(frame, xcol, ycol, name, sparse)
    if not np.isfinite(ty).any():
        raise _fail(name, f"column {ycol!r} holds no loss values")
    vx, vy = (np.empty(0), np.empty(0)) if vcol is None else _series(frame, xcol, vcol, name, sparse)
    x_name = "epoch" if xcol.lower() == "epoch" else ("step" if xcol != "_index" else "row")
    return History(name, fmt, x_name, tx, ty, vx, vy, {"x": xcol, "train": ycol, "val": vcol})


def _from_trainer_state(doc: dict, name: str, x, train, val) -> History:
    logs = doc.get("log_history") or []
    if not isinstance(logs, list) or not logs:
        raise _fail(name, "log_history is empty")
    entries = [entry for entry in logs if isinstance(entry, dict)]
    frame = pd.DataFrame(entries)
    xcol = x or ("step" if "step" in frame.columns else "epoch")
    ycol = train or "loss"
    vcol = val or ("eval_loss" if "eval_loss" in frame.columns else None)
    for col, flag in ((xcol, "--history-x"), (ycol, "--history-train")):
        if col not in frame.columns:
            raise _fail(name, f"log_history has no {col!r} entries ({flag})")

    def logged(col):  # the entries that carry this key (a NaN value there was logged)
        return pd.DataFrame([e for e in entries if col in e and xcol in e])

    tx, ty = _series(logged(ycol), xcol, ycol, name)
    if not np.isfinite(ty).any():
        raise _fail(name, f"log_history has no {ycol!r} values")
    vx, vy = (np.empty(0), np.empty(0)) if vcol is None else _series(logged(vcol), xcol, vcol, name)
    return History(name, "huggingface", "step" if xcol == "step" else "epoch", tx, ty, vx, vy,
                   {"x": xcol, "train": ycol, "val": vcol})


def _from_tensorboard(path: Path, name: str, x, train, val) -> History:
    """Scalars of TensorBoard event files (a log folder with train/ and validation/ runs,
    or one tfevents file), read with tbparse."""
    try:
        from tbparse import SummaryReader
    except ImportError:
        raise InputError(
            f"{name}: reading TensorBoard event files needs the tensorboard extra.",
            hint="pip install 'erranalysis[tensorboard]', or export the scalars to CSV.",
        ) from None
    scalars = SummaryReader(str(path), extra_columns={"dir_name"}).scalars
    if scalars is None or scalars.empty:
        raise _fail(name, "no scalar summaries found in the event files")
    run = scalars["dir_name"].fillna("").astype(str)
    scalars = scalars.assign(key=[f"{r}/{t}".strip("/") for r, t in zip(run, scalars["tag"].astype(str))])
    keys = list(dict.fromkeys(scalars["key"]))

    def is_loss(k):
        return "loss" in k.lower().rsplit("/", 1)[-1]

    def is_val(k):
        low = k.lower()
        return any(w in low for w in ("val", "eval", "valid", "test", "dev"))

    def pick(wanted, want_val, flag):
        if wanted is not None:
            match = [k for k in keys if k == wanted or k.rsplit("/", 1)[-1] == wanted]
            if not match:
                raise InputError(f"{name}: no TensorBoard scalar {wanted!r} ({flag}). Scalars: {', '.join(keys)}.")
            return match[0]
        found = [k for k in keys if is_loss(k) and is_val(k) == want_val]
        return found[0] if found else None

    tkey = pick(train, False, "--history-train")
    if tkey is None:
        raise _fail(name, f"no train-loss scalar among {', '.join(keys)}")
    vkey = pick(val, True, "--history-val")
    frame = scalars.pivot_table(index="step", columns="key", values="value", aggfunc="mean").reset_index()
    tx, ty = _series(frame, "step", tkey, name)
    vx, vy = (np.empty(0), np.empty(0)) if vkey is None else _series(frame, "step", vkey, name)
    return History(name, "tensorboard", "step", tx, ty, vx, vy, {"x": "step", "train": tkey, "val": vkey})
