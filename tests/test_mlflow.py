"""Result.log_to_mlflow: every figure read back from a local MLflow file store is the result's own."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

import erranalysis
from erranalysis import report, tracking
from erranalysis.kinds import KINDS

ROOT = Path(__file__).resolve().parent.parent

with pytest.MonkeyPatch.context() as _mp:
    _mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")  # no usage report from the tests, even at import
    mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")

from mlflow.artifacts import download_artifacts  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

TERMS = ("avoidable_bias", "variance", "distribution_shift", "val_overfitting")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A local file store for the module's runs; the tracking URI and environment are put
    back, and no run is left active, when the module ends."""
    before = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 refuses a file store without it
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        # Recorded so that it is restored: set_tracking_uri also sets it, for subprocesses.
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        # A folder that does not exist yet: the file store then creates the default experiment.
        mlflow.set_tracking_uri((tmp_path_factory.mktemp("mlflow") / "mlruns").as_uri())
        try:
            yield MlflowClient()
        finally:
            while mlflow.active_run() is not None:
                mlflow.end_run()
            mlflow.set_tracking_uri(before)


@pytest.fixture(autouse=True)
def no_run_left(store):
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture(scope="module")
def digits():
    return erranalysis.analyze(ROOT / "examples" / "digits" / "predictions.parquet", goal=0.01)


@pytest.fixture(scope="module")
def summary():
    """Four splits' errors with their row counts: intervals, every term and three
    findings, in a report that renders in a third of the digits report's time."""
    return erranalysis.analyze(goal=0.01, errors={"train": 0.20, "train_val": 0.21, "val": 0.27, "test": 0.28},
                               n={"train": 5000, "train_val": 1000, "val": 1000, "test": 1000})


@pytest.fixture(scope="module")
def logged(store, summary):
    """``summary`` logged with every artifact to a run started for it (the module's one
    PDF), with the page contexts built and the temporary folders made meanwhile."""
    contexts, folders = [], []
    build, make = report.build_context, tempfile.TemporaryDirectory

    def counted(*args, **kwargs):
        contexts.append(1)
        return build(*args, **kwargs)

    def recorded(*args, **kwargs):
        folder = make(*args, **kwargs)
        folders.append(Path(folder.name))
        return folder

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "build_context", counted)
        mp.setattr(tracking.tempfile, "TemporaryDirectory", recorded)
        with mlflow.start_run() as run:
            run_id = summary.log_to_mlflow(title="Review of M7")
    assert run_id == run.info.run_id
    return store.get_run(run_id), len(contexts), folders


def _expected_metrics(doc: dict) -> dict[str, float]:
    """The metrics the JSON document ``doc`` should give, named by hand from it."""
    out = {}

    def with_interval(name, figure):
        out[name] = figure["error"]
        if figure["ci"] is not None:
            out[f"{name}.ci_low"], out[f"{name}.ci_high"] = figure["ci"]

    for split, figure in doc["errors"].items():
        with_interval(f"erranalysis.error.{split}", figure)
    if doc["eval_split"] is not None:
        with_interval("erranalysis.eval_error", doc["errors"][doc["eval_split"]])
    dec = doc["decomposition"]
    for name, value in [("goal", dec["goal"]), ("gap", dec["gap"]),
                        *((t, None if dec[t] is None else dec[t]["value"]) for t in TERMS)]:
        if value is not None:
            out[f"erranalysis.decomposition.{name}"] = value
    found = doc["findings"]
    out["erranalysis.findings.total"] = len(found)
    for severity in ("high", "medium", "low", "info"):
        out[f"erranalysis.findings.{severity}"] = sum(f["severity"] == severity for f in found)
    for kind in KINDS:
        out[f"erranalysis.findings.kind.{kind}"] = sum(f["kind"] == kind for f in found)
    return out


def test_metrics_are_the_results_own_figures(logged, summary):
    run, _, _ = logged
    m = run.data.metrics
    assert m == _expected_metrics(summary.to_dict())
    assert (m["erranalysis.eval_error"], m["erranalysis.eval_error.ci_low"]) == (
        0.28, summary.errors["test"].ci[0])
    assert m["erranalysis.decomposition.distribution_shift"] == pytest.approx(0.06)
    assert (m["erranalysis.findings.total"], m["erranalysis.findings.high"], m["erranalysis.findings.medium"],
            m["erranalysis.findings.low"], m["erranalysis.findings.kind.underfitting"]) == (3, 1, 1, 1, 1)


def test_metrics_of_a_predictions_file(store, digits):
    with mlflow.start_run():
        run_id = digits.log_to_mlflow(artifacts=False)
    m = store.get_run(run_id).data.metrics
    assert m == _expected_metrics(digits.to_dict())
    assert m["erranalysis.eval_error"] == m["erranalysis.error.test"] == digits.errors["test"].error
    assert m["erranalysis.decomposition.variance"] == digits.decomposition.components["variance"].value
    assert (m["erranalysis.findings.total"], m["erranalysis.findings.high"], m["erranalysis.findings.medium"],
            m["erranalysis.findings.kind.weak_slice"]) == (8, 2, 4, 3)


def test_tags(logged, summary):
    run, _, _ = logged
    tags = {k: v for k, v in run.data.tags.items() if k.startswith("erranalysis.")}
    assert tags == {
        "erranalysis.headline": summary.headline,
        "erranalysis.next_step": "underfitting",
        "erranalysis.version": erranalysis.__version__,
        "erranalysis.schema_version": "1.0",
    }


def test_the_model_and_its_family_are_tags_when_known(summary):
    from erranalysis.tracking import tags

    known = replace(summary, provenance=replace(summary.provenance, model="Pipeline(StandardScaler, SVC)",
                                                model_family="other"))
    assert tags(known)["erranalysis.model"] == "Pipeline(StandardScaler, SVC)"
    assert tags(known)["erranalysis.model_family"] == "other"
    assert "erranalysis.model" not in tags(summary)


def test_artifacts_come_from_one_page_context_and_leave_no_file(logged, summary, tmp_path):
    run, contexts, folders = logged
    run_id = run.info.run_id
    assert sorted(a.path for a in MlflowClient().list_artifacts(run_id, "erranalysis")) == [
        "erranalysis/report.html", "erranalysis/report.json", "erranalysis/report.pdf"]
    folder = Path(download_artifacts(run_id=run_id, artifact_path="erranalysis", dst_path=str(tmp_path)))
    # The result holds its creation time, so nothing in the JSON changes between writes.
    assert json.loads((folder / "report.json").read_text()) == json.loads(summary.to_json())
    html = (folder / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Review of M7" in html
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert contexts == 1
    assert len(folders) == 1 and not folders[0].exists()


@pytest.mark.parametrize("goal, absent", [
    (0.01, ["distribution_shift", "val_overfitting"]),
    (None, ["goal", "avoidable_bias", "distribution_shift", "val_overfitting"]),
])
def test_figures_not_measured_are_left_out(store, goal, absent):
    r = erranalysis.analyze(goal=goal, errors={"train": 0.2, "val": 0.27})
    with mlflow.start_run():
        run_id = r.log_to_mlflow(artifacts=False)
    m = store.get_run(run_id).data.metrics
    assert m == _expected_metrics(r.to_dict())
    assert m["erranalysis.error.val"] == m["erranalysis.eval_error"] == 0.27
    assert not [name for name in m if name.endswith((".ci_low", ".ci_high"))]  # no row counts, no intervals
    assert not [t for t in absent if f"erranalysis.decomposition.{t}" in m]
    assert store.list_artifacts(run_id) == []


def test_a_given_run_is_logged_to_and_the_active_one_left_alone(store, digits):
    with mlflow.start_run() as active:
        other = store.create_run(active.info.experiment_id).info.run_id
        assert digits.log_to_mlflow(other, artifacts="json", prefix="eval/digits") == other
        assert mlflow.active_run().info.run_id == active.info.run_id
    assert store.get_run(active.info.run_id).data.metrics == {}
    logged = store.get_run(other)
    assert logged.data.metrics["eval/digits.eval_error"] == digits.errors["test"].error
    assert logged.data.tags["eval/digits.next_step"] == "overfitting"
    assert [a.path for a in store.list_artifacts(other, "eval/digits")] == ["eval/digits/report.json"]
    # A given run with none active starts none.
    digits.log_to_mlflow(other, artifacts=False, prefix="")
    assert mlflow.active_run() is None
    assert store.get_run(other).data.metrics["error.val"] == digits.errors["val"].error


def test_without_an_active_run_one_is_started_and_left_active(store):
    r = erranalysis.analyze(goal=0.01, errors={"train": 0.2, "val": 0.27})
    assert mlflow.active_run() is None
    run_id = r.log_to_mlflow(artifacts=False)
    assert mlflow.active_run().info.run_id == run_id
    mlflow.log_metric("accuracy", 0.73)  # the caller's next metric goes to the same run
    assert store.get_run(run_id).data.metrics.keys() >= {"erranalysis.eval_error", "accuracy"}


def test_a_long_headline_is_cut_to_the_tag_limit(store, digits):
    long = replace(digits, headline="x" * 6000)
    with mlflow.start_run():
        run_id = long.log_to_mlflow(artifacts=False)
    headline = store.get_run(run_id).data.tags["erranalysis.headline"]
    assert headline == "x" * 4999 + "…"


@pytest.mark.parametrize("options, message", [
    ({"artifacts": ("html", "xml")},
     "artifacts must be True, False or some of 'html', 'pdf', 'json'. Got ('html', 'xml') instead."),
    ({"artifacts": None}, "artifacts must be True, False or some of 'html', 'pdf', 'json'. Got None instead."),
    ({"prefix": "a b"}, "prefix must be words of letters, digits, '_', '-' and '.' joined by '/', or ''. "
                        "Got 'a b' instead."),
    ({"prefix": "../up"}, "prefix must be words of letters, digits, '_', '-' and '.' joined by '/', or ''. "
                          "Got '../up' instead."),
])
def test_invalid_arguments_log_nothing(store, digits, options, message):
    with mlflow.start_run() as run:
        with pytest.raises(erranalysis.UsageError) as caught:
            digits.log_to_mlflow(**options)
    assert str(caught.value) == message
    assert store.get_run(run.info.run_id).data.metrics == {}


def test_without_mlflow_a_usage_error_says_how_to_get_it(monkeypatch, digits):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # "import mlflow" now raises ImportError
    with pytest.raises(erranalysis.UsageError) as caught:
        digits.log_to_mlflow()
    assert str(caught.value) == "logging to MLflow needs mlflow, which is not installed."
    assert caught.value.hint == 'pip install "erranalysis[mlflow]"'


def test_importing_erranalysis_does_not_import_mlflow():
    code = "import sys, erranalysis; erranalysis.Result; erranalysis.analyze; print('mlflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
