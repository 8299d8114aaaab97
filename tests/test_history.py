"""Training-history diagnosis: readers for every format, every diagnosis, no false alarms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import erranalysis
from erranalysis import InputError
from erranalysis.io.history import History, read_history
from erranalysis.stats.history import diagnose

import curves


def H(train, val=None, x=None):
    x = np.arange(1, len(train) + 1, dtype=float) if x is None else np.asarray(x, float)
    v = np.empty(0) if val is None else np.asarray(val, float)
    return History("t", "table", "epoch", x, np.asarray(train, float), x if val is not None else np.empty(0), v)


def kinds(analysis):
    return [d.kind for d in analysis.diagnoses]


# ----------------------------------------------------------------------- no false alarms

@pytest.mark.parametrize("n", [10, 30, 100, 1000, 20000])
@pytest.mark.parametrize("noise", [0.0, 0.01, 0.03, 0.08])
def test_ideal_noisy_curves_raise_nothing(n, noise):
    for seed in range(3):
        train = curves.ideal(n, noise, seed)
        val = curves.ideal(n, noise, seed + 100, floor=0.25)
        for a in (diagnose(H(train), 10), diagnose(H(train, val), 10)):
            assert kinds(a) == [], (seed, a.diagnoses)
            assert a.healthy and "healthy" in a.summary


# ----------------------------------------------------------------------- each diagnosis

@pytest.mark.parametrize("n", [40, 300, 5000])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_shape_gives_its_diagnosis(n, seed):
    assert "loss_oscillating" in kinds(diagnose(H(curves.oscillating(n, seed=seed)), 10))
    a = diagnose(H(curves.exploding(n, seed=seed)), 10)
    assert kinds(a) == ["loss_exploding"] and a.diagnoses[0].evidence["reason"] == "sudden_rise"
    assert abs(a.diagnoses[0].at - 0.6 * n) <= 0.05 * n + 2
    a = diagnose(H(curves.exploding(n, seed=seed, nan=True)), 10)
    assert a.diagnoses[0].evidence["reason"] == "non_finite" and a.diagnoses[0].at == int(0.6 * n) + 1
    if n >= 300:  # plateaus need several points each to be told from noise
        a = diagnose(H(curves.steps(n, seed=seed)), 10)
        assert kinds(a) == ["loss_plateau"] and a.diagnoses[0].evidence["drops"] == 7
    a = diagnose(H(curves.ideal(n, seed=seed), curves.overfitting_val(n, seed=seed)), 10)
    assert kinds(a) == ["loss_overfitting"]
    began = a.diagnoses[0].evidence["began"]
    assert 0.3 * n <= began <= 0.5 * n
    assert a.diagnoses[0].evidence["best_checkpoint"] <= 0.55 * n
    a = diagnose(H(curves.ideal(n, seed=seed, tau=0.6)), 10)
    assert kinds(a) == ["loss_still_decreasing"]
    a = diagnose(H(curves.ideal(n, seed=seed, start=6.0)), 10)
    assert kinds(a) == ["loss_initial"] and a.diagnoses[0].evidence["direction"] == "high"


def test_initial_loss_needs_the_number_of_classes():
    assert kinds(diagnose(H(curves.ideal(100, start=6.0)), None)) == []
    assert kinds(diagnose(H(curves.ideal(100, start=2.2)), 10)) == []  # ln(10) = 2.30


def test_too_short_a_curve_is_not_judged():
    a = diagnose(H([2.3, 1.0, 0.8]), 10)
    assert a.diagnoses == [] and not a.healthy and "too few" in a.summary


# ----------------------------------------------------------------------- readers

N = 60


def _curves():
    return curves.ideal(N, 0.03, 0), curves.overfitting_val(N)


def _check_overfitting(h, x_at_turn):
    a = diagnose(h, 10)
    assert kinds(a) == ["loss_overfitting"]
    assert abs(a.diagnoses[0].evidence["began"] - x_at_turn) <= 0.1 * x_at_turn + 1


def test_keras_csvlogger(tmp_path):
    train, val = _curves()
    path = tmp_path / "training.log"
    pd.DataFrame({"epoch": np.arange(N), "accuracy": 1 - train / 3, "loss": train, "val_accuracy": 0.5,
                  "val_loss": val}).to_csv(path, index=False)
    h = read_history(path)
    assert (h.format, h.x_name, h.columns) == ("keras", "epoch", {"x": "epoch", "train": "loss", "val": "val_loss",
                                                                  "lr": None})
    np.testing.assert_allclose(h.train, train)
    _check_overfitting(h, 0.4 * N)


def test_lightning_metrics_csv_with_sparse_rows(tmp_path):
    train, val = _curves()
    rows = []
    for i in range(N):
        step = (i + 1) * 100
        rows.append({"epoch": i, "step": step, "train_loss_step": train[i], "val_loss": np.nan, "train_loss_epoch": np.nan})
        rows.append({"epoch": i, "step": step, "train_loss_step": np.nan, "val_loss": val[i], "train_loss_epoch": np.nan})
        rows.append({"epoch": i, "step": step, "train_loss_step": np.nan, "val_loss": np.nan, "train_loss_epoch": train[i]})
    path = tmp_path / "metrics.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    h = read_history(path)
    assert (h.format, h.x_name, h.columns["train"], h.columns["val"]) == ("lightning", "step", "train_loss_step", "val_loss")
    assert h.train.size == N and h.val.size == N
    _check_overfitting(h, 0.4 * N * 100)


def test_huggingface_trainer_state(tmp_path):
    train, val = _curves()
    logs = []
    for i in range(N):
        logs.append({"loss": float(train[i]), "learning_rate": 1e-4, "step": (i + 1) * 50, "epoch": (i + 1) / 10})
        logs.append({"eval_loss": float(val[i]), "eval_runtime": 1.0, "step": (i + 1) * 50, "epoch": (i + 1) / 10})
    logs.append({"train_runtime": 100.0, "step": N * 50, "epoch": N / 10})
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"log_history": logs, "global_step": N * 50}))
    h = read_history(path)
    assert (h.format, h.x_name, h.train.size, h.val.size) == ("huggingface", "step", N, N)
    _check_overfitting(h, 0.4 * N * 50)


def test_plain_tables_with_named_columns(tmp_path):
    train, val = _curves()
    frame = pd.DataFrame({"it": np.arange(N) * 10, "tr": train, "va": val})
    csv = tmp_path / "h.csv"
    frame.to_csv(csv, index=False)
    with pytest.raises(InputError, match=r"cannot read the training history: no train column found"):
        read_history(csv)
    h = read_history(csv, x="it", train="tr", val="va")
    assert (h.format, h.columns) == ("table", {"x": "it", "train": "tr", "val": "va", "lr": None})
    _check_overfitting(h, 0.4 * N * 10)
    js = tmp_path / "h.json"
    js.write_text(json.dumps({"tr": train.tolist(), "va": val.tolist()}))  # Keras history.history style
    h = read_history(js, train="tr", val="va")
    assert h.x_name == "row" and h.train.size == N
    jl = tmp_path / "h.jsonl"
    frame.to_json(jl, orient="records", lines=True)
    assert read_history(jl, x="it", train="tr", val="va").val.size == N
    assert read_history(frame, x="it", train="tr", val="va").format == "table"


def test_nan_losses_are_kept_as_a_blow_up(tmp_path):
    path = tmp_path / "training.log"
    path.write_text("epoch,loss\n0,2.3\n1,1.5\n2,1.1\n3,nan\n4,nan\n")
    a = diagnose(read_history(path), 10)
    assert kinds(a) == ["loss_exploding"] and a.diagnoses[0].at == 3


@pytest.mark.parametrize("content,message", [
    ("", r"h\.csv: file is empty\.$"),
    ("epoch,acc\n0,0.5\n1,0.6\n", r"h\.csv: cannot read the training history: no train column found among epoch, acc"),
    ('{"log_history": []}', r"h\.csv: cannot read the training history: log_history is empty"),
    ("{not json", r"h\.csv: cannot read the training history: the file is neither valid JSON nor JSON Lines"),
])
def test_unreadable_histories_say_which_formats_are_known(tmp_path, content, message):
    path = tmp_path / "h.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        read_history(path)
    if "cannot read" in str(info.value):
        assert "Keras CSVLogger CSV" in str(info.value) and "trainer_state.json" in str(info.value)


def test_history_flag_naming_a_missing_column(tmp_path):
    path = tmp_path / "training.log"
    pd.DataFrame({"epoch": [0, 1], "loss": [2.0, 1.0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"column 'vl' \(--history-val\) is missing\. Columns: epoch, loss\.$"):
        read_history(path, val="vl")


# ----------------------------------------------------------------------- with the rest

def test_exploding_loss_outranks_the_decomposition(tmp_path):
    path = tmp_path / "training.log"
    pd.DataFrame({"epoch": np.arange(80), "loss": curves.exploding(80)}).to_csv(path, index=False)
    r = erranalysis.analyze(errors={"train": 0.20, "val": 0.27, "test": 0.28}, goal=0.01, history=path)
    assert [s.problem for s in r.next_steps][:2] == ["loss_exploding", "underfitting"]
    assert r.headline.startswith("Stabilise training")
    doc = json.loads(r.to_json())
    assert doc["history"]["diagnoses"][0]["kind"] == "loss_exploding"
    assert doc["provenance"]["history"] == str(path)


def test_history_with_predictions_uses_their_number_of_classes(tmp_path):
    path = tmp_path / "training.log"
    pd.DataFrame({"epoch": np.arange(50), "loss": curves.ideal(50, start=4.0)}).to_csv(path, index=False)
    frame = pd.DataFrame({"label": [0, 1, 2, 0], "pred": [0, 1, 2, 1]})  # 3 classes: ln 3 = 1.10
    r = erranalysis.analyze(frame, history=path)
    assert "loss_initial" in [f.kind for f in r.findings]
    assert r.history.expected_initial == pytest.approx(np.log(3))


def test_history_alone_in_every_output_format(tmp_path):
    from click.testing import CliRunner
    from pypdf import PdfReader

    from erranalysis.cli import cli

    path = tmp_path / "trainer_state.json"
    train, val = _curves()
    logs = [{"loss": float(t), "step": i * 10} for i, t in enumerate(train)]
    logs += [{"eval_loss": float(v), "step": i * 10} for i, v in enumerate(val)]
    path.write_text(json.dumps({"log_history": logs}))
    out = tmp_path / "h.json"
    res = CliRunner().invoke(cli, ["report", "--history", str(path), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Training history" in res.stdout and "trainer_state.report.pdf" in res.stdout
    doc = json.loads(out.read_text())
    assert doc["errors"] == {} and doc["next_steps"][0]["problem"] == "loss_overfitting"
    html = (tmp_path / "trainer_state.report.html").read_text()
    assert 'id="training-history"' in html and "Val loss rose after step" in html
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "trainer_state.report.pdf").pages)
    assert "Val loss rose after step" in " ".join(text.split())
    healthy = tmp_path / "ok.csv"
    pd.DataFrame({"epoch": np.arange(40), "loss": curves.ideal(40)}).to_csv(healthy, index=False)
    res = CliRunner().invoke(cli, ["report", "--history", str(healthy), "--format", "none"])
    assert res.exit_code == 0 and "The training curve looks healthy" in res.stdout


# ----------------------------------------------------------------------- real-world layouts

def test_literal_nan_in_a_csv_is_a_blow_up_but_empty_cells_are_not(tmp_path):
    rows = ["epoch,step,train_loss,val_loss"]
    for i in range(40):
        loss = "nan" if i >= 36 else f"{2.0 * np.exp(-i / 8) + 0.3:.4f}"
        rows.append(f"{i},{(i + 1) * 64},{loss},")
        if i % 5 == 4:
            rows.append(f"{i},{(i + 1) * 64},,{2.1 * np.exp(-i / 8) + 0.35:.4f}")
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    a = diagnose(read_history(path), 10)
    assert kinds(a) == ["loss_exploding"] and a.diagnoses[0].evidence["reason"] == "non_finite"
    assert a.diagnoses[0].at == 37 * 64


def test_sparse_validation_columns_raise_no_blow_up(tmp_path):
    train = curves.ideal(300, 0.02, 0)
    lines = ["step,train_loss,val_loss"] + [f"{i},{t:.5f},{t + 0.05:.5f}" if i % 50 == 0 else f"{i},{t:.5f},"
                                            for i, t in enumerate(train)]
    (tmp_path / "plain.csv").write_text("\n".join(lines) + "\n")
    keras = ["epoch,loss,val_loss"] + [f"{i},{t:.5f},{t + 0.05:.5f}" if i % 5 == 4 else f"{i},{t:.5f},NA"
                                       for i, t in enumerate(train[:60])]
    (tmp_path / "keras.csv").write_text("\n".join(keras) + "\n")
    for name in ("plain.csv", "keras.csv"):
        assert "loss_exploding" not in kinds(diagnose(read_history(tmp_path / name), 10)), name


def test_fast_converging_noisy_runs_are_not_oscillating():
    for seed in range(10):
        for n in (100, 3000):
            assert kinds(diagnose(H(curves.ideal(n, 0.06, seed, tau=0.02)), 10)) == [], (seed, n)


def test_a_flat_curve_is_not_learning():
    a = diagnose(H(np.full(50, 2.30) + np.random.default_rng(0).normal(0, 0.01, 50)), 10)
    assert kinds(a) == ["loss_not_decreasing"] and not a.healthy and "does not fall" in a.summary


def test_a_short_run_still_falling_is_not_called_flat():
    a = diagnose(H([2.40, 1.60, 1.15, 0.90, 0.71]), 10)
    assert kinds(a) == ["loss_still_decreasing"]


def test_a_step_learning_rate_schedule_is_not_a_plateau():
    rng = np.random.default_rng(0)
    t = np.arange(200)
    y = 0.3 + 2.0 * np.exp(-t / 8)
    y[100:] *= 0.6
    y[150:] *= 0.7
    assert "loss_plateau" not in kinds(diagnose(H(y * (1 + 0.01 * rng.normal(size=200))), 10))


def test_huggingface_log_history_as_a_list_or_a_table(tmp_path):
    train, val = _curves()
    logs = []
    for i in range(N):
        logs.append({"loss": float(train[i]), "grad_norm": 1.0, "learning_rate": 1e-4, "step": (i + 1) * 50})
        logs.append({"eval_loss": float(val[i]), "step": (i + 1) * 50})
    logs.append({"train_loss": 0.9, "train_runtime": 10.0, "total_flos": 1e12, "step": N * 50})
    (tmp_path / "log.json").write_text(json.dumps(logs))
    h = read_history(tmp_path / "log.json")
    assert (h.format, h.train.size, h.val.size) == ("huggingface", N, N)
    pd.DataFrame(logs).to_csv(tmp_path / "log.csv", index=False)
    h = read_history(tmp_path / "log.csv")
    assert (h.format, h.train.size, h.val.size) == ("huggingface", N, N)


def test_a_dense_per_step_table_keeps_every_step(tmp_path):
    train = curves.ideal(60, 0.02, 0)
    pd.DataFrame({"step": np.arange(60) * 10, "epoch": np.arange(60) // 20, "loss": train}).to_csv(
        tmp_path / "m.csv", index=False)
    h = read_history(tmp_path / "m.csv")
    assert (h.x_name, h.train.size) == ("step", 60)


def _write_events(folder, run, tag, values):
    import time

    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder / run))
    for step, value in enumerate(values):
        writer.add_event(Event(wall_time=time.time(), step=int(step),
                               summary=Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])))
    writer.close()


def test_tensorboard_log_folder(tmp_path):
    pytest.importorskip("tbparse", reason="the tensorboard extra is not installed")
    train, val = _curves()
    _write_events(tmp_path, "train", "epoch_loss", train)
    _write_events(tmp_path, "validation", "epoch_loss", val)
    h = read_history(tmp_path)
    assert (h.format, h.columns["train"], h.columns["val"]) == ("tensorboard", "train/epoch_loss", "validation/epoch_loss")
    np.testing.assert_allclose(h.train, train.astype(np.float32), rtol=1e-6)
    _check_overfitting(h, 0.4 * N)
    single = next((tmp_path / "train").iterdir())
    assert read_history(single).val.size == 0


def test_tensorboard_without_the_extra_says_how_to_get_it(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_tbparse(name, *args, **kwargs):
        if name == "tbparse":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tbparse)
    with pytest.raises(InputError, match=r"reading TensorBoard event files needs the tensorboard extra\.$"):
        read_history(tmp_path)


# ----------------------------------------------------------------------- NaN, gaps and text

def _keras_log(path, values):
    path.write_text("epoch,loss\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)))
    return path


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_tensorboard_keeps_nan_and_inf_losses_as_the_csv_does(tmp_path, bad):
    pytest.importorskip("tbparse", reason="the tensorboard extra is not installed")
    values = [2.3, 1.5, 1.1, 0.9, bad, bad]
    _write_events(tmp_path / "runs", "train", "epoch_loss", values)
    from_tensorboard = diagnose(read_history(tmp_path / "runs"), 10)
    from_csv = diagnose(read_history(_keras_log(tmp_path / "training.log", values)), 10)
    assert kinds(from_tensorboard) == kinds(from_csv) == ["loss_exploding"]
    tb, csv = from_tensorboard.diagnoses[0].evidence, from_csv.diagnoses[0].evidence
    assert tb == {**csv, "last_finite": pytest.approx(csv["last_finite"])}  # TensorBoard stores float32
    assert from_tensorboard.diagnoses[0].at == from_csv.diagnoses[0].at == 4
    assert from_tensorboard.n_train == from_csv.n_train == 6


@pytest.mark.parametrize("marker", ["", "NA", "N/A", "n/a", "na", "null", "NULL", "None", "-", " - ", "<NA>"])
def test_missing_markers_in_a_loss_column_are_gaps_not_nan_losses(tmp_path, marker):
    train = curves.ideal(40, 0.02, 0)
    cells = [f"{v:.5f}" for v in train]
    cells[10] = marker
    h = read_history(_keras_log(tmp_path / "training.log", cells))
    assert h.train.size == 39 and 10 not in h.train_x and np.isfinite(h.train).all()
    assert kinds(diagnose(h, 10)) == []
    frame = pd.DataFrame({"epoch": np.arange(40), "loss": cells})  # the same text in a DataFrame
    assert read_history(frame).train.size == 39


@pytest.mark.parametrize("literal,value", [("nan", "nan"), ("NaN", "nan"), ("inf", "inf"), ("-inf", "inf"),
                                           ("Infinity", "inf")])
def test_a_literal_nan_or_inf_loss_is_still_a_blow_up(tmp_path, literal, value):
    cells = [f"{v:.5f}" for v in curves.ideal(40, 0.02, 0)]
    cells[30:] = [literal] * 10
    a = diagnose(read_history(_keras_log(tmp_path / "training.log", cells)), 10)
    assert kinds(a) == ["loss_exploding"]
    assert (a.diagnoses[0].at, a.diagnoses[0].evidence["value"]) == (30, value)


def test_text_in_a_history_column_names_the_file_column_row_and_value(tmp_path):
    cells = [f"{v:.5f}" for v in curves.ideal(20, 0.02, 0)]
    cells[7] = "abc"
    path = _keras_log(tmp_path / "training.log", cells)
    with pytest.raises(InputError, match=r"^\S*training\.log: column 'loss' must be numeric\. "
                                         r"Got 'abc' at row 7\.$") as info:
        read_history(path)
    assert "\n" not in str(info.value) and "empty" in info.value.hint
    path.write_text("epoch,loss,val_loss\n0,2.0,2.1\nfirst,1.5,1.6\n2,1.2,1.3\n")
    with pytest.raises(InputError, match=r"column 'epoch' must be numeric\. Got 'first' at row 1\.$"):
        read_history(path)
    path.write_text("epoch,loss,val_loss\n0,2.0,2.1\n1,1.5,?\n2,1.2,1.3\n")
    with pytest.raises(InputError, match=r"column 'val_loss' must be numeric\. Got '\?' at row 1\.$"):
        read_history(path)
    frame = pd.DataFrame({"step": [0, 1, 2], "train_loss": [2.0, "abc", 1.0]})
    with pytest.raises(InputError, match=r"^DataFrame: column 'train_loss' must be numeric\. Got 'abc' at row 1\.$"):
        read_history(frame)


# ----------------------------------------------------------------------- trainer_state without step

def _trainer_state(path, logs):
    path.write_text(json.dumps({"log_history": logs}))
    return path


def test_trainer_state_without_steps_uses_epochs(tmp_path):
    train, val = _curves()
    logs = [{"loss": float(train[i]), "epoch": (i + 1) / 10} for i in range(N)]
    logs += [{"eval_loss": float(val[i]), "epoch": (i + 1) / 10} for i in range(N)]
    h = read_history(_trainer_state(tmp_path / "trainer_state.json", logs))
    assert (h.format, h.x_name, h.columns["x"], h.train.size, h.val.size) == ("huggingface", "epoch", "epoch", N, N)
    _check_overfitting(h, 0.4 * N / 10)
    # Steps on the train entries only: the eval entries have none, so both curves go by epoch.
    for i in range(N):
        logs[i]["step"] = (i + 1) * 50
    assert read_history(_trainer_state(tmp_path / "trainer_state.json", logs)).x_name == "epoch"


def test_trainer_state_without_steps_or_epochs_uses_the_entry_position(tmp_path):
    train, val = _curves()
    logs = []
    for i in range(N):
        logs += [{"loss": float(train[i])}, {"eval_loss": float(val[i])}]
    h = read_history(_trainer_state(tmp_path / "trainer_state.json", logs))
    assert (h.x_name, h.train.size, h.val.size) == ("entry", N, N)
    np.testing.assert_array_equal(h.train_x, np.arange(0, 2 * N, 2))
    _check_overfitting(h, 0.4 * 2 * N)
    r = erranalysis.analyze(history=tmp_path / "trainer_state.json")
    assert [f.kind for f in r.findings] == ["loss_overfitting"]


def test_trainer_state_nan_loss_is_a_blow_up(tmp_path):
    logs = [{"loss": v, "step": (i + 1) * 10} for i, v in enumerate([2.3, 1.5, 1.1, 0.9, float("nan"), float("nan")])]
    logs.append({"eval_loss": None, "step": 60})  # null: not logged
    path = _trainer_state(tmp_path / "trainer_state.json", logs)
    assert "NaN" in path.read_text()  # what json (and the Trainer) write for a NaN loss
    h = read_history(path)
    assert h.val.size == 0
    a = diagnose(h, 10)
    assert kinds(a) == ["loss_exploding"] and a.diagnoses[0].at == 50


@pytest.mark.parametrize("log_history,message", [
    ({"loss": 1.0}, r"log_history must be a list of objects\. Got \{\"loss\": 1\.0\}\.$"),
    ("abc", r"log_history must be a list of objects\. Got 'abc'\.$"),
    ([{"loss": 2.0, "step": 1}, 5, {"loss": 1.0, "step": 2}], r"log_history entry 1 must be an object\. Got 5\.$"),
    ([{"loss": 2.0, "step": 1}, ["loss", 1.0]], r"log_history entry 1 must be an object\. Got \[\"loss\", 1\.0\]\.$"),
    ([{"loss": 2.0, "step": 1}, {"loss": "abc", "step": 2}],
     r"log_history key 'loss' must be numeric\. Got 'abc' at entry 1\.$"),
    ([{"loss": 2.0, "step": 1}, {"loss": 1.0, "step": "two"}],
     r"log_history key 'step' must be numeric\. Got 'two' at entry 1\.$"),
])
def test_malformed_trainer_state_is_a_one_line_error(tmp_path, log_history, message):
    from click.testing import CliRunner

    from erranalysis.cli import cli

    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"log_history": log_history}))
    with pytest.raises(InputError, match=r"^\S*trainer_state\.json: " + message) as info:
        read_history(path)
    assert "\n" not in str(info.value)
    res = CliRunner().invoke(cli, ["report", "--history", str(path), "--format", "none"])
    assert res.exit_code == 2 and "Traceback" not in res.output


# ----------------------------------------------------------------------- TensorBoard folder from Python

def test_analyze_reads_a_tensorboard_log_folder(tmp_path):
    pytest.importorskip("tbparse", reason="the tensorboard extra is not installed")
    train, val = _curves()
    runs = tmp_path / "runs"
    _write_events(runs, "train", "epoch_loss", train)
    _write_events(runs, "validation", "epoch_loss", val)
    for given in (f"{runs}/", runs):
        r = erranalysis.analyze(history=given)
        assert [f.kind for f in r.findings] == ["loss_overfitting"]
        assert (r.history.format, r.history.n_train, r.history.n_val) == ("tensorboard", N, N)
    blown = tmp_path / "blown"
    _write_events(blown, "train", "epoch_loss", list(train[:20]) + [float("nan")] * 5)
    r = erranalysis.analyze(history=f"{blown}/")
    assert r.findings[0].kind == "loss_exploding" and r.next_steps[0].problem == "loss_exploding"


# ----------------------------------------------------------------------- scale, periods, schedules

def _regimes(n, seed=0):
    """A loss that switches between 0.6-0.9 and 1.5-1.8 in runs of 2-3 points."""
    rng = np.random.default_rng(seed)
    y, high = [], False
    while len(y) < n:
        lo, hi = (1.5, 1.8) if high else (0.6, 0.9)
        y += list(rng.uniform(lo, hi, int(rng.integers(2, 4))))
        high = not high
    return np.array(y[:n])


def test_a_loss_switching_levels_in_runs_of_epochs_oscillates():
    for seed in range(10):
        a = diagnose(H(_regimes(60, seed)), 10)
        assert kinds(a) == ["loss_oscillating"], (seed, a.diagnoses)
        assert a.diagnoses[0].evidence["whole_run"]


def test_a_loss_converging_towards_zero_is_not_exploding():
    t = np.arange(80)
    rng = np.random.default_rng(0)
    for noise in (0.0, 0.05, 0.1):
        y = 0.1 * np.exp(-t / 80 * np.log(1e5)) * (1 + noise * rng.normal(size=80))  # 0.1 -> 1e-6
        assert kinds(diagnose(H(y), 10)) == [], noise
        assert kinds(diagnose(H(y * 1e3), None)) == [], noise  # the same shape at another scale


def test_the_mlp_example_is_unstable_then_overfits_and_never_exploded():
    a = diagnose(read_history(Path(__file__).parents[1] / "examples" / "digits_mlp" / "history.csv"), 10)
    assert kinds(a) == ["loss_oscillating", "loss_overfitting"]
    osc = a.diagnoses[0].evidence
    # The loss swings by factors of 2-20 between epochs 1 and 25, then converges to ~1e-7.
    assert not osc["whole_run"] and osc["settled"] and osc["recovered"] and osc["period"][1] <= 30
    assert a.diagnoses[1].evidence["began"] == 2


def test_one_high_early_point_does_not_make_a_flat_curve_fall():
    rng = np.random.default_rng(3)
    for n in (30, 100, 1000):
        y = 2.3 * (1 + 0.03 * rng.normal(size=n))
        y[1] *= 1.3
        assert kinds(diagnose(H(y), 10)) == ["loss_not_decreasing"], n


def _schedule(n=600, milestones=(150, 300, 450, 525)):
    t = np.arange(n)
    lr = np.full(n, 0.1)
    y = np.full(n, 2.0)
    for m in milestones:
        lr[m:] *= 0.1
        y[m:] *= 0.7
    return (y + np.exp(-t / 20)) * (1 + 0.01 * np.random.default_rng(0).normal(size=n)), lr


def test_steps_at_learning_rate_drops_are_the_schedule():
    y, lr = _schedule()
    x = np.arange(1, y.size + 1, dtype=float)
    h = History("t", "table", "epoch", x, y, lr_x=x, lr=lr)
    a = diagnose(h, None)
    assert kinds(a) == [] and "where the learning rate drops (4 of" in a.summary
    # Without the learning rate the same curve is a plateau, and the title gives both readings.
    r = erranalysis.analyze(history=pd.DataFrame({"epoch": x, "loss": y}))
    f = next(f for f in r.findings if f.kind == "loss_plateau")
    assert "schedule, or a data order that repeats" in f.title and f.evidence["lr_logged"] is False
    # With a learning rate that did not drop there, the steps are the data's.
    flat = History("t", "table", "epoch", x, y, lr_x=x, lr=np.full(y.size, 0.1))
    d = diagnose(flat, None).diagnoses
    assert [k.kind for k in d] == ["loss_plateau"] and d[0].evidence["at_lr_drops"] == 0


def test_a_pattern_repeating_every_epoch_of_steps_is_the_data_order():
    rng = np.random.default_rng(1)
    period, epochs = 120, 8
    t = np.arange(period * epochs)
    y = (1 + np.exp(-t / 400)) * (1 + 0.4 * (t % period) / period) * (1 + 0.03 * rng.normal(size=t.size))
    a = diagnose(History("t", "lightning", "step", t + 1.0, y), None)
    assert kinds(a) == ["loss_plateau"]
    e = a.diagnoses[0].evidence
    assert e["pattern"] == "periodic" and abs(e["period"] - period) <= 2
    r = erranalysis.analyze(history=pd.DataFrame({"step": t + 1, "train_loss": y}))
    assert "repeats the same pattern every" in next(f.title for f in r.findings if f.kind == "loss_plateau")
    # Noise alone repeats nothing.
    flat = (1 + np.exp(-t / 400)) * (1 + 0.1 * rng.normal(size=t.size))
    assert "loss_plateau" not in kinds(diagnose(History("t", "lightning", "step", t + 1.0, flat), None))


def _explode(kind):
    t = np.arange(100)
    y = 0.3 + 2.0 * np.exp(-t / 10)
    if kind == "jump":
        y[60:] = 40.0
    elif kind == "run_up":
        y[60:] = y[59] * np.exp(np.arange(40) * 0.15)
    elif kind == "nan_jump":
        y[60:] = np.nan
    elif kind == "nan_run_up":
        y[55:60] = y[54] * np.exp(np.arange(1, 6) * 0.8)
        y[60:] = np.inf
    return np.arange(1.0, 101.0), y


@pytest.mark.parametrize("kind, suspect", [("jump", "data"), ("run_up", "learning_rate"),
                                           ("nan_jump", "data"), ("nan_run_up", "learning_rate")])
def test_the_first_action_of_an_explosion_follows_how_it_began(kind, suspect):
    x, y = _explode(kind)
    a = diagnose(History("t", "table", "epoch", x, y), None)
    d = a.diagnoses[0]
    assert d.kind == "loss_exploding" and d.evidence["first_suspect"] == suspect
    # As text, nan and inf in a table are logged values (an empty cell is not).
    r = erranalysis.analyze(history=pd.DataFrame({"epoch": x, "loss": [str(v) for v in y]}))
    first = r.next_steps[0]
    assert first.problem == "loss_exploding"
    assert first.actions[0].startswith("Lower the learning rate" if suspect == "learning_rate" else "Look for anomalous")


def test_a_jump_right_after_the_learning_rate_rose_points_to_the_learning_rate():
    x, y = _explode("jump")
    lr = np.where(x >= 58, 1.0, 0.01)
    d = diagnose(History("t", "table", "epoch", x, y, lr_x=x, lr=lr), None).diagnoses[0]
    assert d.evidence["lr_rose_at"] == 58 and d.evidence["first_suspect"] == "learning_rate"


def test_learning_rate_columns_are_read_from_each_layout(tmp_path):
    train, val = _curves()
    lr = np.where(np.arange(N) < N // 2, 1e-3, 1e-4)
    pd.DataFrame({"epoch": np.arange(N), "loss": train, "val_loss": val, "lr": lr}).to_csv(tmp_path / "k.csv",
                                                                                            index=False)
    h = read_history(tmp_path / "k.csv")
    assert h.columns["lr"] == "lr" and np.allclose(h.lr, lr)
    rows = []
    for i in range(N):
        rows.append({"step": i * 10, "epoch": i, "train_loss_step": train[i], "val_loss": np.nan, "lr-Adam": np.nan})
        rows.append({"step": i * 10, "epoch": i, "train_loss_step": np.nan, "val_loss": val[i], "lr-Adam": lr[i]})
    pd.DataFrame(rows).to_csv(tmp_path / "metrics.csv", index=False)
    h = read_history(tmp_path / "metrics.csv")
    assert h.format == "lightning" and h.columns["lr"] == "lr-Adam" and np.allclose(h.lr, lr)
    logs = [{"loss": float(train[i]), "learning_rate": float(lr[i]), "step": i * 10, "epoch": i} for i in range(N)]
    (tmp_path / "trainer_state.json").write_text(json.dumps({"log_history": logs}))
    h = read_history(tmp_path / "trainer_state.json")
    assert np.allclose(h.lr, lr) and np.allclose(h.lr_x, np.arange(N) * 10)


def test_a_loss_that_climbs_from_the_start_diverged():
    # Too high a learning rate from the first step: the loss never falls and grows by
    # orders of magnitude, with wild swings on the way.
    rng = np.random.default_rng(2)
    y = np.exp(np.linspace(0, 40, 60) + rng.normal(0, 2.0, 60))
    d = diagnose(H(y), None).diagnoses
    assert [k.kind for k in d] == ["loss_exploding"]
    assert d[0].evidence["reason"] == "diverged" and d[0].evidence["first_suspect"] == "learning_rate"
    # The same swings with no climb are oscillation, not divergence.
    flat = np.exp(rng.normal(0, 0.5, 60))
    assert kinds(diagnose(H(flat), None)) == ["loss_oscillating"]


# ----------------------------------------------------------------------- heavy noise, control flow, columns

def _steps(y, val=None, val_every=None, lr=None):
    x = np.arange(1, len(y) + 1, dtype=float)
    vx = x[val_every - 1::val_every] if val is not None else np.empty(0)
    lx, ly = (x, np.asarray(lr, float)) if lr is not None else (np.empty(0), np.empty(0))
    return History("t", "lightning", "step", x, np.asarray(y, float), vx,
                   np.asarray(val, float) if val is not None else np.empty(0), {}, lx, ly)


@pytest.mark.parametrize("cv", [0.3, 0.45])
def test_a_noisy_per_step_fine_tune_that_falls_is_converging(cv):
    # A fine-tune from 0.8 to 0.45 logged per step with 30-45% minibatch noise falls by
    # far more than its standard error: neither oscillating nor "does not fall".
    n, t = 3000, np.arange(3000) / 3000
    clean = 0.45 + 0.35 * np.exp(-t / 0.2)
    s = np.sqrt(np.log1p(cv ** 2))
    for seed in range(5):
        y = clean * np.exp(s * np.random.default_rng(seed).normal(size=n) - s * s / 2)
        assert kinds(diagnose(_steps(y), None)) == [], seed


@pytest.mark.parametrize("n", [3000, 10000])
def test_heavy_skewed_noise_on_a_smooth_fall_is_not_a_staircase(n):
    t = np.arange(n) / n
    clean = 0.2 + 2.1 * np.exp(-t / 0.15)
    for seed in range(6):
        rng = np.random.default_rng(seed)
        gamma = clean * rng.gamma(1 / 0.45 ** 2, 0.45 ** 2, size=n)
        uneven = clean * np.exp(np.where(t < 0.5, 0.3, 0.1) * rng.normal(size=n))
        for y in (gamma, uneven):
            assert "loss_plateau" not in kinds(diagnose(_steps(y), None)), seed


def test_overfitting_is_kept_beside_a_repeating_pattern():
    period, epochs = 100, 12
    t = np.arange(period * epochs)
    y = (0.3 + np.exp(-t / 300)) * (1 + 0.4 * (t % period) / period)
    ends = np.arange(period - 1, t.size, period)
    val = 0.5 + 0.5 * np.exp(-ends / 200) + 0.0004 * np.maximum(ends - 400, 0)  # turns at step 400
    h = History("t", "lightning", "step", t + 1.0, y, ends + 1.0, val)
    assert set(kinds(diagnose(h, None))) == {"loss_plateau", "loss_overfitting"}


def test_a_fall_after_the_last_milestone_is_still_a_fall():
    n = 600
    t = np.arange(n)
    lr, y = np.full(n, 0.1), np.full(n, 2.0)
    for m in (150, 300, 450, 500):
        lr[m:] *= 0.1
        y[m:] *= 0.7
    y = (y + np.exp(-t / 20))
    y[500:] *= np.linspace(1, 0.5, 100)  # still falling fast after the last drop
    y = y * (1 + 0.005 * np.random.default_rng(0).normal(size=n))
    x = t + 1.0
    a = diagnose(History("t", "table", "epoch", x, y, lr_x=x, lr=lr), None)
    assert kinds(a) == ["loss_still_decreasing"]
    assert a.diagnoses[0].evidence["after_step"] >= 495
    assert "schedule at work" in a.summary


def test_train_still_falling_while_val_is_flat_is_not_a_reason_to_train_longer():
    t = np.arange(60)
    r = np.random.default_rng(0)
    train = (0.05 + 2.2 * np.exp(-t / 40)) * (1 + 0.01 * r.normal(size=60))
    val = (0.6 + 1.7 * np.exp(-t / 5)) * (1 + 0.01 * r.normal(size=60))
    assert "loss_still_decreasing" not in kinds(diagnose(H(train, val), None))
    # Without val the train curve decides.
    assert kinds(diagnose(H(train), None)) == ["loss_still_decreasing"]


def test_a_late_step_then_flat_is_not_still_falling():
    # Layers unfrozen at 85% of the run: one drop, then flat to the end.
    n = 400
    y = np.where(np.arange(n) < 340, 1.0, 0.7) * (1 + 0.01 * np.random.default_rng(2).normal(size=n))
    y[:40] += np.linspace(1.5, 0, 40)
    assert "loss_still_decreasing" not in kinds(diagnose(H(y), None))


def test_a_significant_slow_fall_is_not_a_flat_curve():
    n = 3000
    t = np.arange(n) / n
    for seed in range(5):
        y = (0.6 + 0.2 * np.exp(-t / 0.2)) * np.exp(0.1 * np.random.default_rng(seed).normal(size=n) - 0.005)
        assert "loss_not_decreasing" not in kinds(diagnose(_steps(y), None)), seed


def test_a_period_of_swings_that_settles_is_named_as_such():
    n = 200
    t = np.arange(n)
    r = np.random.default_rng(0)
    y = (0.3 + 2.0 * np.exp(-t / 15)) * (1 + 0.02 * r.normal(size=n))
    y[60:100] *= np.exp(0.8 * np.where(r.random(40) < 0.5, 1, -1) * r.uniform(0.6, 1, 40))
    res = erranalysis.analyze(history=pd.DataFrame({"epoch": t, "loss": y, "val_loss": y * 1.1}))
    f = next(f for f in res.findings if f.kind == "loss_oscillating")
    assert f.severity == "medium" and "then settled" in f.title and "exploded" not in res.headline
    assert res.next_steps[0].name == "Stabilise training: the loss was unstable for a while"


def test_minibatch_noise_that_is_larger_early_is_not_an_unstable_period():
    n = 5000
    t = np.arange(n) / n
    for seed in range(5):
        y = (0.2 + 2.1 * np.exp(-t / 0.2)) * np.exp(np.where(t < 0.5, 0.5, 0.1)
                                                    * np.random.default_rng(seed).normal(size=n))
        assert kinds(diagnose(_steps(y), None)) == [], seed


def test_a_val_loss_that_fails_alone_does_not_block_and_says_so(tmp_path):
    t = np.arange(20)
    train = 0.3 + 2 * np.exp(-t / 4)
    val = (train * 1.1).astype(object)
    val[12:] = "nan"  # written by the training library: the loss was not finite
    p = tmp_path / "h.csv"
    pd.DataFrame({"epoch": t, "loss": train, "val_loss": val}).to_csv(p, index=False)
    res = erranalysis.analyze(history=p)
    f = next(f for f in res.findings if f.kind == "loss_exploding")
    assert not f.blocking and f.title.startswith("The val loss became nan at epoch 12 while the train loss")
    assert res.headline.startswith("Fix the evaluation: the val loss became nan")


def test_a_train_loss_that_is_nan_from_the_start_is_read_as_a_blow_up(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("epoch,loss\n0,nan\n1,nan\n2,nan\n")
    res = erranalysis.analyze(history=p)
    assert [f.kind for f in res.findings] == ["loss_exploding"]
    one = tmp_path / "one.csv"
    one.write_text("epoch,loss\n0,1.5\n")
    assert erranalysis.analyze(history=one).history.summary.startswith("Only 1 finite train-loss value:")


@pytest.mark.parametrize("columns, expected", [
    ({"lr_scheduler_type": ["step"] * 4, "lr": [0.1, 0.1, 0.01, 0.01]}, "lr"),
    ({"lr_warmup_steps": [100] * 4, "lr-Adam": [0.1, 0.1, 0.01, 0.01]}, "lr-Adam"),
    ({"lr-Adam": [0.1, 0.1, 0.01, 0.01], "learning_rate": [0.1, 0.1, 0.01, 0.01]}, "learning_rate"),
    ({"lr_warmup_steps": [100] * 4}, None),
    ({"lr": [True, False, True, False]}, None),
    ({"lr": ["high", "high", "low", "low"]}, None),
    ({"train/epoch_learning_rate": [0.1, 0.1, 0.1, 0.1]}, "train/epoch_learning_rate"),
])
def test_the_learning_rate_column_is_the_one_that_holds_it(columns, expected):
    frame = pd.DataFrame({"epoch": range(4), "loss": [2.0, 1.0, 0.8, 0.7], **columns})
    h = read_history(frame)
    assert h.columns["lr"] == expected
    assert h.has_lr == (expected is not None)


def _short_steps(n=60, levels=5, drop=0.8, noise=0.06, seed=1):
    """A short per-epoch curve of equal flat levels, each ``drop`` times the one before."""
    y = np.repeat(drop ** np.arange(levels), n // levels)
    return y * (1 + noise * np.random.default_rng(seed).normal(size=y.size))


def test_a_short_noisy_staircase_is_step_like():
    # Drops of 20% at 6% noise: three-point windows miss them on these seeds, levels of 12
    # points do not.
    for seed in (1, 2, 4, 5, 6):
        a = diagnose(H(_short_steps(seed=seed)), None)
        assert kinds(a) == ["loss_plateau"], seed
        e = a.diagnoses[0].evidence
        assert e["fit"] == "staircase" and e["drops"] == 4, seed
        assert np.abs(np.array(e["steps_at"]) - [13, 25, 37, 49]).max() <= 1, seed  # levels start at 13, 25, ...
        assert e["staircase_margin"] > 1


def test_a_short_smooth_fall_is_not_a_staircase():
    t = np.arange(60)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        y = (0.3 + np.exp(-t / rng.uniform(5, 20))) * (1 + 0.09 * rng.normal(size=t.size))
        assert "loss_plateau" not in kinds(diagnose(H(y), None)), seed


def test_a_short_staircase_at_learning_rate_drops_is_the_schedule():
    y = _short_steps()
    x = np.arange(1, y.size + 1, dtype=float)
    lr = 0.1 * 0.1 ** np.repeat(np.arange(5), 12)
    assert kinds(diagnose(History("t", "table", "epoch", x, y, lr_x=x, lr=lr), None)) == []
    # A learning rate that stayed put explains none of the steps.
    flat = History("t", "table", "epoch", x, y, lr_x=x, lr=np.full(y.size, 0.1))
    assert kinds(diagnose(flat, None)) == ["loss_plateau"]


def _per_step(y):
    x = np.arange(1, y.size + 1, dtype=float)
    return History("t", "table", "step", x, y, np.empty(0), np.empty(0))


def test_a_rise_and_fall_repeating_every_epoch_is_the_data_order():
    # A smooth pattern correlates highly at the shortest lags too; the period is the peak
    # after that correlation has died away.
    rng = np.random.default_rng(4)
    period, epochs = 280, 30
    u = (np.arange(period * epochs) % period) / period
    y = (1 + 0.45 * np.where(u < 0.5, u / 0.5, (1 - u) / 0.5)) * (1 + 0.09 * rng.normal(size=u.size))
    d = [d for d in diagnose(_per_step(y), None).diagnoses if d.kind == "loss_plateau"]
    assert d and d[0].evidence["pattern"] == "periodic" and abs(d[0].evidence["period"] - period) <= 2


def test_swings_in_one_part_of_a_smooth_run_are_not_a_data_order():
    # A noise-free fall with 1,200 steps of regular swings (x2 and x0.5 every 25 steps) in
    # one part: the swings repeat there, but no pattern holds through the run. That is an
    # unstable period, not a data order that repeats every epoch.
    n = 6000
    y = 0.04 + 0.96 * np.exp(-np.arange(n) / 600)
    y[1500:2700] *= np.where((np.arange(1200) // 25) % 2 == 0, 2.0, 0.5)
    a = diagnose(_per_step(y), None)
    assert [(d.kind, d.evidence.get("pattern")) for d in a.diagnoses] == [("loss_oscillating", None)]
