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
# Learning-rate columns: Keras (ReduceLROnPlateau and schedules) writes lr or
# learning_rate, Hugging Face learning_rate, Lightning's LearningRateMonitor lr-<optimizer>.
_LR_NAMES = ("lr", "learning_rate", "learning-rate", "learningrate", "epoch_lr", "epoch_learning_rate")
# Cell texts that mean "not logged here" (compared stripped and lower-cased). A literal
# nan or inf is not among them: a training library wrote it as the loss, and it means
# the run blew up.
_MISSING = frozenset({"", "na", "n/a", "#n/a", "null", "none", "-", "<na>"})
_NUMERIC_HINT = ("Leave a value that was not logged empty (or write NA); nan or inf is read as a loss "
                 "that blew up.")


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
    #: The learning rate where the log has it (empty otherwise), on its own x values.
    lr_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    lr: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def has_val(self) -> bool:
        return self.val.size > 0

    @property
    def has_lr(self) -> bool:
        return self.lr.size > 0


def _lr_column(columns, values) -> str | None:
    """The learning-rate column among ``columns`` (None when there is none).

    Exact names first (``lr``, ``learning_rate``, TensorBoard's ``epoch_lr`` and
    ``epoch_learning_rate``, also after a ``train/`` prefix), then Lightning's
    ``lr-<optimizer>`` and other ``lr_``/``lr-`` names. ``values(column)`` gives a
    column's cells; a column is taken only when its cells are numbers (not text, not
    true/false), and a prefixed one only when it changes over the run (a constant
    ``lr_warmup_steps`` is a setting, not the learning rate).
    """
    def usable(c, must_change: bool) -> bool:
        cells = values(c)
        if cells is None or cells.dtype == bool or pd.api.types.is_bool_dtype(cells):
            return False
        nums = pd.to_numeric(cells, errors="coerce")
        nums = nums[np.isfinite(nums)]
        return nums.size > 0 and (not must_change or np.unique(nums).size > 1)

    lower = [(c, str(c).lower()) for c in columns]
    for c, low in lower:
        if (low in _LR_NAMES or low.rsplit("/", 1)[-1] in _LR_NAMES) and usable(c, False):
            return c
    for c, low in lower:
        if low.rsplit("/", 1)[-1].startswith(("lr-", "lr_")) and usable(c, True):
            return c
    return None


def _lr_curve(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A learning-rate curve kept only when it is usable: finite and non-negative."""
    ok = np.isfinite(ys) & (ys >= 0)
    return xs[ok], ys[ok]


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
        # Only empty cells and missing markers mean "not logged" (see _MISSING): a literal
        # nan or inf stays text here, and _numbers reads it as a logged blow-up.
        frame = pd.read_csv(path, sep=sep, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(name, f"not a CSV table ({str(exc).splitlines()[0]})") from None
    return _from_table(frame, name, x, train, val)


def _pick(columns: list[str], wanted: str | None, candidates: tuple[str, ...], name: str,
          flag: str) -> str | None:
    """The column ``wanted`` (which must exist), else the first of ``candidates`` present
    (in any case), else None."""
    if wanted is not None:
        if wanted not in columns:
            raise InputError(f"{name}: column {wanted!r} ({flag}) is missing. Columns: {', '.join(map(str, columns))}.")
        return wanted
    lower = {str(c).lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def _pick_required(columns: list[str], wanted: str | None, candidates: tuple[str, ...], name: str,
                   flag: str) -> str:
    """:func:`_pick` for a column the history cannot do without."""
    found = _pick(columns, wanted, candidates, name, flag)
    if found is None:
        raise _fail(name, f"no {flag[2:].replace('history-', '')} column found among {', '.join(map(str, columns))}")
    return found


def _show(value) -> str:
    """A value as the error message quotes it (JSON for containers, cut when long)."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _not_numeric(name: str, subject: str, where: str):
    def error(row, value) -> InputError:
        return InputError(f"{name}: {subject} must be numeric. Got {_show(value)} at {where} {row}.",
                          hint=_NUMERIC_HINT)
    return error


def _numbers(values: pd.Series, error, nan_logged: bool) -> tuple[np.ndarray, np.ndarray]:
    """The values as floats and the mask of the points that were logged.

    Empty cells, None and the missing markers are points not logged. Text that is a
    number is read as one: ``nan`` and ``inf`` are logged values. A NaN that is not text
    counts as logged only where the source tells it apart from "not logged"
    (``nan_logged``: TensorBoard and JSON logs); in a table it is an empty cell. Any
    other text is an error naming the row and the value.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        y = values.to_numpy(dtype=float, na_value=np.nan)
        return y, np.ones(y.size, dtype=bool) if nan_logged else ~np.isnan(y)
    y = np.full(len(values), np.nan)
    logged = np.zeros(len(values), dtype=bool)
    for i, (row, v) in enumerate(values.items()):
        if isinstance(v, str):
            text = v.strip()
            if text.lower() in _MISSING:
                continue
            try:
                y[i] = float(text)
            except ValueError:
                raise error(row, v) from None
        elif v is None or v is pd.NA or v is pd.NaT:
            continue
        elif isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise error(row, v)
        else:
            y[i] = float(v)
            if np.isnan(y[i]) and not nan_logged:
                continue
        logged[i] = True
    return y, logged


def _series(xs: pd.Series, ys: pd.Series, x_error, y_error, nan_logged: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """One curve: the logged points, sorted by x, values logged at one x averaged."""
    x_arr, x_ok = _numbers(xs, x_error, nan_logged=False)
    y_arr, y_ok = _numbers(ys, y_error, nan_logged)
    # Sparse logs (Lightning) leave a column empty on rows that log something else: drop
    # those rows. A NaN or inf that was logged stays: it means the run blew up.
    keep = x_ok & y_ok & np.isfinite(x_arr)
    x_arr, y_arr = x_arr[keep], y_arr[keep]
    order = np.argsort(x_arr, kind="stable")
    x_arr, y_arr = x_arr[order], y_arr[order]
    if x_arr.size:
        # Several values logged at one x (e.g. per-step and per-epoch rows): average them;
        # a NaN among them stays NaN.
        ux, first = np.unique(x_arr, return_index=True)
        if ux.size < x_arr.size:
            counts = np.diff(np.append(first, x_arr.size))
            x_arr, y_arr = ux, np.add.reduceat(y_arr, first) / counts
    return x_arr, y_arr


def _columns(frame: pd.DataFrame, name: str, xcol: str, ycol: str) -> tuple[np.ndarray, np.ndarray]:
    """One curve of a table, where an empty cell (NaN) is a point not logged."""
    return _series(frame[xcol], frame[ycol], _not_numeric(name, f"column {xcol!r}", "row"),
                   _not_numeric(name, f"column {ycol!r}", "row"))


def _blank_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells holding a missing marker become empty cells (NaN)."""
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        marker = values.map(lambda v: isinstance(v, str) and v.strip().lower() in _MISSING).to_numpy(dtype=bool)
        if marker.any():
            frame[col] = values.where(~marker, np.nan)
    return frame


def _from_table(frame: pd.DataFrame, name: str, x, train, val) -> History:
    if frame.empty:
        raise InputError(f"{name}: the training history has no rows.")
    frame.columns = [str(c) for c in frame.columns]
    frame = _blank_missing(frame)
    cols = list(frame.columns)
    lower = [c.lower() for c in cols]
    sparse = "step" in lower and "epoch" in lower and frame.isna().any().any()
    if "eval_loss" in lower and "loss" in lower and ("step" in lower or "epoch" in lower):
        # Hugging Face log_history saved as a table: "loss" per logging step; the final
        # summary row's "train_loss" is an average, not a curve.
        entries = [{k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))}
                   for row in frame.to_dict("records")]
        return _from_trainer_state({"log_history": entries}, name, x, train, val, table=True)
    train_candidates: tuple[str, ...]
    x_candidates: tuple[str, ...]
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
    xcol = _pick(cols, x, x_candidates, name, "--history-x")
    ycol = _pick_required(cols, train, train_candidates, name, "--history-train")
    vcol = _pick(cols, val, _VAL_NAMES, name, "--history-val")
    if xcol is None:
        frame = frame.reset_index(drop=True)
        frame["_index"] = np.arange(len(frame))
        xcol = "_index"
    tx, ty = _columns(frame, name, xcol, ycol)
    if ty.size == 0:  # NaN and inf count: a run that blew up from the start logs only those
        raise _fail(name, f"column {ycol!r} holds no loss values")
    vx, vy = (np.empty(0), np.empty(0)) if vcol is None else _columns(frame, name, xcol, vcol)
    lcol = _lr_column([c for c in cols if c not in (xcol, ycol, vcol)], lambda c: np.asarray(frame[c].to_numpy()))
    lx, ly = (np.empty(0), np.empty(0)) if lcol is None else _lr_curve(*_optional_columns(frame, xcol, lcol))
    x_name = "epoch" if xcol.lower() == "epoch" else ("step" if xcol != "_index" else "row")
    return History(name, fmt, x_name, tx, ty, vx, vy, {"x": xcol, "train": ycol, "val": vcol, "lr": lcol}, lx, ly)


def _optional_columns(frame: pd.DataFrame, xcol: str, col: str) -> tuple[np.ndarray, np.ndarray]:
    """A curve the analysis can do without (the learning rate): cells that are not
    numbers are left out rather than refused."""
    xs = pd.to_numeric(frame[xcol], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(xs) & ~np.isnan(ys)
    xs, ys = xs[keep], ys[keep]
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    if xs.size:
        ux, first = np.unique(xs, return_index=True)
        xs, ys = ux, ys[first]  # one value per x: the first logged
    return xs, ys


def _from_trainer_state(doc: dict, name: str, x, train, val, *, table: bool = False) -> History:
    """Curves of a Hugging Face ``log_history``: one entry per logging event, each with
    the keys it logged. The x axis is ``step`` when every entry of the curves has one,
    else ``epoch``, else the entry's position in the list."""
    logs = doc.get("log_history")
    if logs is None or (isinstance(logs, list) and not logs):
        raise _fail(name, "log_history is empty")
    hint = "A Hugging Face trainer_state.json holds log_history as a list of objects, one per logging step."
    if not isinstance(logs, list):
        raise InputError(f"{name}: log_history must be a list of objects. Got {_show(logs)}.", hint=hint)
    for i, entry in enumerate(logs):
        if not isinstance(entry, dict):
            raise InputError(f"{name}: log_history entry {i} must be an object. Got {_show(entry)}.", hint=hint)
    ycol = train or "loss"
    vcol = val or ("eval_loss" if any("eval_loss" in e for e in logs) else None)
    if not any(ycol in e for e in logs):
        raise _fail(name, f"log_history has no {ycol!r} entries (--history-train)")
    if vcol is not None and not any(vcol in e for e in logs):
        raise _fail(name, f"log_history has no {vcol!r} entries (--history-val)")
    on_curves = [e for e in logs if ycol in e or (vcol is not None and vcol in e)]
    if x is not None:
        if not any(x in e for e in logs):
            raise _fail(name, f"log_history has no {x!r} entries (--history-x)")
        xcol = x
    else:
        xcol = next((k for k in ("step", "epoch") if all(e.get(k) is not None for e in on_curves)), None)
    subject, where = ("column {!r}", "row") if table else ("log_history key {!r}", "entry")

    def curve(col):  # the entries that carry this key (a NaN value there was logged)
        rows = [i for i, e in enumerate(logs) if col in e]
        xs = pd.Series(rows if xcol is None else [logs[i].get(xcol) for i in rows], index=rows, dtype=object)
        ys = pd.Series([logs[i][col] for i in rows], index=rows, dtype=object)
        return _series(xs, ys, _not_numeric(name, subject.format(xcol), where),
                       _not_numeric(name, subject.format(col), where), nan_logged=True)

    tx, ty = curve(ycol)
    if ty.size == 0:
        raise _fail(name, f"log_history has no {ycol!r} values")
    vx, vy = (np.empty(0), np.empty(0)) if vcol is None else curve(vcol)
    lx, ly = np.empty(0), np.empty(0)
    lcol = "learning_rate" if any("learning_rate" in e for e in logs) else None
    if lcol is not None:
        rows = [i for i, e in enumerate(logs) if isinstance(e.get(lcol), (int, float)) and not isinstance(e.get(lcol), bool)
                and (xcol is None or isinstance(e.get(xcol), (int, float)))]
        lx = np.array([float(i if xcol is None else logs[i][xcol]) for i in rows])
        ly = np.array([float(logs[i][lcol]) for i in rows])
        lx, ly = _lr_curve(*_optional_columns(pd.DataFrame({"x": lx, "lr": ly}), "x", "lr"))
        lcol = lcol if ly.size else None
    x_name = "entry" if xcol is None else ("epoch" if xcol.lower() == "epoch" else "step")
    return History(name, "huggingface", x_name, tx, ty, vx, vy,
                   {"x": xcol or "entry", "train": ycol, "val": vcol, "lr": lcol}, lx, ly)


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

    def curve(key):  # every logged value, NaN and inf included, as in a CSV
        sub = scalars[scalars["key"] == key]
        return _series(sub["step"], sub["value"], _not_numeric(name, f"scalar {key!r} step", "row"),
                       _not_numeric(name, f"scalar {key!r}", "row"), nan_logged=True)

    tx, ty = curve(tkey)
    vx, vy = (np.empty(0), np.empty(0)) if vkey is None else curve(vkey)
    lkey = _lr_column([k for k in keys if k not in (tkey, vkey)],
                      lambda k: scalars.loc[scalars["key"] == k, "value"].to_numpy())
    lx, ly = np.empty(0), np.empty(0)
    if lkey is not None:
        sub = scalars[scalars["key"] == lkey]
        lx, ly = _lr_curve(*_optional_columns(sub, "step", "value"))
    return History(name, "tensorboard", "step", tx, ty, vx, vy, {"x": "step", "train": tkey, "val": vkey, "lr": lkey},
                   lx, ly)
