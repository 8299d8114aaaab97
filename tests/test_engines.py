"""The in-memory, streaming and Spark engines give the same figures on the same rows."""

from __future__ import annotations

import json
import math
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import erranalysis
import erranalysis.sources as sources
from erranalysis.errors import InputError

SPLITS = ["train", "train_val", "val", "test"]
#: Keys that name where the rows came from, not what they say.
PLACE = {"created", "input", "sha256", "command"}


def compare(a, b, path="", skip=frozenset(), rel=1e-9) -> list[str]:
    """Differences between two JSON documents: floats within ``rel``, the rest exact."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in PLACE or k in skip:
                continue
            if k not in a or k not in b:
                out.append(f"{path}/{k} only on one side")
            else:
                out += compare(a[k], b[k], f"{path}/{k}", skip, rel)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} vs {len(b)} items")
        for i, (x, y) in enumerate(zip(a, b)):
            out += compare(x, y, f"{path}[{i}]", skip, rel)
    elif isinstance(a, float) and isinstance(b, float):
        if not (math.isclose(a, b, rel_tol=rel, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))):
            out.append(f"{path}: {a!r} vs {b!r}")
    elif a != b:
        out.append(f"{path}: {a!r} vs {b!r}")
    return out


def doc(result) -> dict:
    return json.loads(result.to_json())


@st.composite
def prediction_tables(draw):
    """Random tables: binary or multi-class, weights or not, numeric and text metadata."""
    n = draw(st.integers(min_value=60, max_value=1500))
    k = draw(st.integers(min_value=2, max_value=5))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    splits = draw(st.lists(st.sampled_from(SPLITS), min_size=1, max_size=4, unique=True))
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    logits = rng.normal(size=(n, k)) * draw(st.floats(0.1, 4.0))
    logits[np.arange(n), y] += draw(st.floats(0.0, 4.0))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    frame = pd.DataFrame({"label": y, "split": rng.choice(splits, n)})
    if k == 2 and draw(st.booleans()):
        frame["score"] = p[:, 1]
    else:
        for j in range(k):
            frame[f"proba_{j}"] = p[:, j]
    if draw(st.booleans()):
        frame["weight"] = rng.uniform(0.1, 3.0, n)
    if draw(st.booleans()):
        frame["id"] = rng.integers(0, n, n)
    frame["region"] = rng.choice(["north", "south", "east", None], n)
    frame["age"] = np.where(rng.random(n) < 0.05, np.nan, rng.gamma(2.0, 20.0, n))
    frame["count"] = rng.integers(0, 50, n)
    return frame


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frame=prediction_tables(), batch=st.integers(min_value=7, max_value=400))
def test_streamed_batches_give_the_in_memory_result(tmp_path_factory, frame, batch):
    path = tmp_path_factory.mktemp("stream") / "preds.parquet"
    frame.to_parquet(path, row_group_size=max(batch // 2, 1))
    old = sources.BATCH_ROWS
    sources.BATCH_ROWS = batch
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            memory = doc(erranalysis.analyze(frame, goal=0.01))
            streamed = doc(erranalysis.analyze(path, goal=0.01))
    finally:
        sources.BATCH_ROWS = old
    assert compare(memory, streamed) == []


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.05, 8.0), rate=st.floats(0.005, 0.5))
def test_histogram_auc_and_sweep_match_sklearn_to_1e3(seed, scale, rate):
    rng = np.random.default_rng(seed)
    n = 5000
    y = (rng.random(n) < rate).astype(int)
    y[:2] = [0, 1]
    s = 1 / (1 + np.exp(-(rng.normal(size=n) * scale + 2.0 * y - 2.0)))
    r = erranalysis.analyze(pd.DataFrame({"label": y, "score": s}))
    auc = next(m.roc_auc for m in r.confusion.per_class["test"] if m.label == "1")
    assert auc == pytest.approx(skm.roc_auc_score(y, s), abs=1e-3)
    t = r.thresholds[0]
    pred = s >= t.recommended_threshold
    at = t.at_recommended_chosen
    assert at["precision"] == pytest.approx(skm.precision_score(y, pred, zero_division=1), abs=1e-3)
    assert at["recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-3)
    assert at["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-3)
    for point in t.sweep[::10]:
        pred = s >= point["threshold"]
        assert point["recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-3)
        assert point["precision"] == pytest.approx(skm.precision_score(y, pred, zero_division=1), abs=1e-3)


def _multiclass(n=6000, k=4, seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5
    logits[:, 3] -= 2.0  # class 3 is rarely predicted: its threshold gets tuned (a second pass)
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    frame = pd.DataFrame({f"proba_{j}": p[:, j] for j in range(k)})
    frame.insert(0, "label", y)
    frame["split"] = rng.choice(SPLITS, n, p=[0.6, 0.1, 0.15, 0.15])
    frame["device"] = rng.choice(["phone", "tablet", "desktop"], n)
    frame["length"] = rng.gamma(2.0, 50.0, n)
    return frame


def test_second_pass_thresholds_match_in_memory(tmp_path, monkeypatch):
    frame = _multiclass()
    path = tmp_path / "preds.parquet"
    frame.to_parquet(path)
    monkeypatch.setattr(sources, "BATCH_ROWS", 500)
    memory = erranalysis.analyze(frame, goal=0.01)
    streamed = erranalysis.analyze(path, goal=0.01)
    assert any(t.label == "3" and t.flagged for t in memory.thresholds)
    assert compare(doc(memory), doc(streamed)) == []


def test_folders_and_globs_read_as_one_table(tmp_path, monkeypatch):
    frame = _multiclass()
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(frame)), 4)):
        frame.iloc[chunk].to_parquet(parts / f"part-{i}.parquet")
    whole = doc(erranalysis.analyze(frame, goal=0.01))
    # The same rows, but located within their file ("row 540 of part-1.parquet").
    assert compare(whole, doc(erranalysis.analyze(parts, goal=0.01)), skip={"locator"}) == []
    assert compare(whole, doc(erranalysis.analyze(str(parts / "part-*.parquet"), goal=0.01)), skip={"locator"}) == []
    with pytest.raises(InputError, match="no file matches"):
        erranalysis.analyze(str(tmp_path / "nothing-*.parquet"))


def test_bad_value_in_a_later_batch_names_its_row_in_the_file(tmp_path, monkeypatch):
    frame = _multiclass(n=3000)
    frame.loc[2345, "proba_1"] = 1.7
    path = tmp_path / "preds.parquet"
    frame.to_parquet(path)
    monkeypatch.setattr(sources, "BATCH_ROWS", 1000)
    with pytest.raises(InputError, match=r"column 'proba_1' must be within \[0, 1\]\. Got 1\.7 at row 2345\.$"):
        erranalysis.analyze(path)


def test_streamed_warning_counts_cover_every_batch(tmp_path, monkeypatch):
    frame = _multiclass(n=3000)
    frame["pred"] = frame[[f"proba_{j}" for j in range(4)]].to_numpy().argmax(1)
    frame.loc[[1500, 2900], "pred"] = (frame.loc[[1500, 2900], "pred"] + 1) % 4
    path = tmp_path / "preds.parquet"
    frame.to_parquet(path)
    monkeypatch.setattr(sources, "BATCH_ROWS", 700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = erranalysis.analyze(path)
    w = next(w for w in r.warnings if w.code == "pred_disagrees_with_proba")
    assert w.count == 2 and "on 2 of 3000 rows" in w.message and "first at row 1500" in w.message


def test_sample_and_sketches_are_bounded_and_say_so(monkeypatch):
    """Past their capacity the sample and the id sketch stop growing, and the report says so."""
    import erranalysis.stats.accumulate as acc

    monkeypatch.setattr(acc, "SAMPLE_ROWS", 1000)  # held-out rows sampled (the least it goes)
    monkeypatch.setattr(acc, "ID_SKETCH_CAPACITY", 256)
    frame = _multiclass(n=12000)
    frame["id"] = np.arange(len(frame))
    frame.loc[frame.index[frame["split"] == "test"][:400], "id"] = np.arange(400)  # 400 test ids reused from train
    r = erranalysis.analyze(frame, goal=0.01)
    held_out = int((frame["split"] != "train").sum())
    assert r.slices.label_errors["examined"] == 1000 < held_out and r.slices.label_errors["sampled"]
    assert any("sample of the rows" in n for n in r.slices.notes)
    assert any("estimated from a sketch" in n for n in r.slices.notes)
    leak = next(f for f in r.findings if f.kind == "leakage")
    # 400 shared ids, estimated from the 256 smallest hashes of each split: within a factor of two.
    assert leak.evidence["splits"] == ["train", "test"] and 200 <= leak.evidence["shared_ids"] <= 800


def _spark_or_skip():
    import importlib.util
    import os

    missing = ("the spark extra is not installed" if importlib.util.find_spec("pyspark") is None
               else "no Java runtime for Spark" if shutil.which("java") is None else None)
    if missing:
        # CI installs both (.ci/run): there the Spark comparison must run, not skip.
        if os.environ.get("CI") == "true":
            pytest.fail(f"Spark cannot run in CI: {missing}")
        pytest.skip(missing)
    from erranalysis.spark import session

    spark = session("local[2]")
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@pytest.fixture(scope="module")
def spark():
    return _spark_or_skip()


def test_local_spark_workers_run_this_interpreter(spark):
    # Spark's default worker Python is the first python3 on PATH, which may lack pandas
    # and erranalysis; unless the user chose one, local workers run this interpreter.
    import subprocess

    worker = spark.sparkContext.pythonExec
    assert subprocess.run([worker, "-c", "import erranalysis, pandas, pyarrow"]).returncode == 0


def test_spark_matches_the_in_memory_engine(spark, tmp_path):
    """Same JSON figures from a local-mode Spark session, to rounding (rows carry no row number in Spark)."""
    frames = {"multi": _multiclass()}
    rng = np.random.default_rng(9)
    n = 4000
    y = rng.choice(["ham", "spam"], n, p=[0.9, 0.1])
    score = np.clip(rng.beta(2, 5, n) + 0.35 * (y == "spam"), 0, 1)
    frames["binary"] = pd.DataFrame({"label": y, "score": score, "split": rng.choice(SPLITS, n),
                                     "weight": rng.uniform(0.5, 2, n), "id": rng.integers(0, 3000, n),
                                     "channel": rng.choice(["a", "b", "c"], n)})
    for name, frame in frames.items():
        path = tmp_path / f"{name}.parquet"
        frame.to_parquet(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            memory = doc(erranalysis.analyze(frame, goal=0.01, positive_label="spam" if name == "binary" else None))
            distributed = doc(erranalysis.analyze(spark.read.parquet(str(path)).repartition(3), goal=0.01,
                                                  positive_label="spam" if name == "binary" else None))
        assert compare(memory, distributed, skip={"row", "locator"}) == [], name


def test_spark_engine_from_the_command_line(spark, tmp_path):
    from click.testing import CliRunner

    from erranalysis.cli import cli

    path = tmp_path / "preds.parquet"
    _multiclass(n=2000).to_parquet(path)
    out = tmp_path / "spark.json"
    result = CliRunner().invoke(cli, ["report", str(path), "--goal", "0.01", "--engine", "spark", "--json", str(out),
                                      "--format", "none", "-q"], standalone_mode=False)
    assert result.exit_code in (0, None), result.output
    got = json.loads(out.read_text())
    assert got["provenance"]["rows"] == 2000
    assert compare(doc(erranalysis.analyze(path, goal=0.01)), got, skip={"row", "locator"}) == []


def test_spark_names_the_partition_of_a_bad_value(spark, tmp_path):
    frame = _multiclass(n=5000)
    frame.loc[4000, "proba_2"] = -0.5
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    with pytest.raises(InputError, match=r"^Spark DataFrame: Spark partition 0, column 'proba_2' must be within "
                                         r"\[0, 1\]\. Got -0\.5 at row 4000\.$"):
        erranalysis.analyze(spark.read.parquet(str(path)), goal=0.01)
    # In the first rows, which the driver checks itself: no row number, as Spark rows have no order.
    frame.loc[10, "proba_2"] = -0.5
    frame.to_parquet(path)
    with pytest.raises(InputError, match=r"^Spark DataFrame: column 'proba_2' must be within \[0, 1\]\. "
                                         r"Got -0\.5 in the first rows Spark returned\.$"):
        erranalysis.analyze(spark.read.parquet(str(path)), goal=0.01)
