"""from_estimator and from_predictions: the predictions made (or given) with the model's
features beside them, and the same result as the predictions file of those rows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier
from test_engines import compare, doc

import erranalysis
from erranalysis.errors import UsageError
from erranalysis.estimator import MAX_FEATURES, family_of
from erranalysis.kinds import FAMILY_ACTIONS, KINDS

#: Provenance keys that say how the rows arrived, not what they say.
ARRIVAL = {"model", "model_family", "columns"}


def _tabular(n=3000, seed=0, weak="north", noise=0.45):
    """Three numeric features and a region; in the ``weak`` region a share ``noise`` of
    the labels is flipped, so the errors concentrate there whatever the model."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "income": rng.gamma(2.0, 20.0, n),
        "age": rng.integers(18, 80, n).astype(float),
        "engagement": rng.normal(size=n),
        "region": rng.choice(["north", "south", "east", "west"], n),
    })
    logit = 0.05 * (X["income"] - 40) + 1.5 * X["engagement"] - 0.02 * (X["age"] - 50)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    flip = (X["region"] == weak).to_numpy() & (rng.random(n) < noise)
    y = np.where(flip, 1 - y, y)
    return X, pd.Series(np.where(y == 1, "yes", "no"), name="bought")


def _splits(X, y, seed=0):
    order = np.random.default_rng(seed).permutation(len(X))
    cut = np.split(order, [int(0.6 * len(X)), int(0.8 * len(X))])
    return {name: (X.iloc[rows], y.iloc[rows]) for name, rows in zip(("train", "val", "test"), cut)}


def _model(X, y):
    """A pipeline on the numeric columns of ``X`` (the region is not among its inputs)."""
    numeric = X.select_dtypes("number").columns.tolist()
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X[numeric], y), numeric


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_from_estimator_equals_the_predictions_file_of_the_same_rows(tmp_path):
    X, y = _tabular()
    splits = _splits(X, y)
    model, numeric = _model(*splits["train"])
    numeric_splits = {s: (x[numeric], t) for s, (x, t) in splits.items()}
    got = _quiet(erranalysis.from_estimator, model, numeric_splits, goal=0.05)
    # The predictions file an evaluation script would write for the same rows.
    rows = []
    for name, (x, t) in numeric_splits.items():
        p = model.predict_proba(x)
        part = x.reset_index(drop=True).assign(label=t.to_numpy(), split=name)
        for j, c in enumerate(model.classes_):
            part[f"proba_{c}"] = p[:, j]
        rows.append(part)
    path = tmp_path / "preds.parquet"
    pd.concat(rows, ignore_index=True).to_parquet(path)
    expected = _quiet(erranalysis.analyze, path, goal=0.05, model_family="linear")
    skip = {"locator", "index", "row"} | ARRIVAL
    assert compare(doc(expected), doc(got), skip=skip) == []
    assert got.provenance.input == "estimator"
    assert got.provenance.model == "Pipeline(StandardScaler, LogisticRegression)"
    assert got.provenance.model_family == "linear"
    assert got.provenance.columns["metadata"] == numeric
    # Example rows are named by X's own index, and carry X's values.
    x_test = splits["test"][0]
    for row in got.to_dict()["slices"]["top_losses"]["test"]:
        assert row["locator"] == f"test index {row['index']}"
        assert row["income"] == pytest.approx(x_test.loc[row["index"], "income"])


def test_the_estimators_class_order_is_kept():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=900), "b": rng.normal(size=900)})
    y = pd.Series(np.select([X["a"] > 0.5, X["b"] > 0], ["zebra", "cat"], "moose"))
    model = RandomForestClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X[:600], y[:600])
    assert list(model.classes_) == ["cat", "moose", "zebra"]
    r = _quiet(erranalysis.from_estimator, model, {"train": (X[:600], y[:600]), "test": (X[600:], y[600:])})
    pred = model.predict(X[600:])
    labels = r.confusion.labels
    expected = skm.confusion_matrix(y[600:], pred, labels=labels)
    assert np.array_equal(np.asarray(r.confusion.by_split["test"]), expected)
    assert r.errors["test"].error == pytest.approx(1 - skm.accuracy_score(y[600:], pred))


def test_predict_alone_gives_errors_without_the_probability_checks():
    X, y = _tabular(n=1500)
    splits = _splits(X[["income", "age", "engagement"]], y)
    model = make_pipeline(StandardScaler(), LinearSVC()).fit(*splits["train"])
    with pytest.warns(erranalysis.DataWarning, match="has no predict_proba, so it gives predictions only"):
        r = erranalysis.from_estimator(model, splits)
    assert "no_probabilities" in [w.code for w in r.warnings]
    assert r.calibration is None
    x, t = splits["test"]
    assert r.errors["test"].error == pytest.approx(1 - skm.accuracy_score(t, model.predict(x)))
    with pytest.raises(UsageError, match="has no predict_proba"):
        erranalysis.from_estimator(model, splits, response_method="predict_proba")


def test_any_object_with_predict_proba_and_classes_will_do():
    class Fixed:
        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            p = 1 / (1 + np.exp(-np.asarray(X)[:, 0]))
            return np.column_stack([1 - p, p])

    rng = np.random.default_rng(2)
    X = rng.normal(size=(800, 2))
    y = (X[:, 0] + rng.normal(size=800) > 0).astype(int)
    r = _quiet(erranalysis.from_estimator, Fixed(), (X, y), goal=0.0)
    assert r.errors["test"].error == pytest.approx(np.mean((X[:, 0] >= 0).astype(int) != y))
    assert r.provenance.model == "Fixed" and r.provenance.model_family is None
    assert "metadata" not in r.provenance.columns or not r.provenance.columns["metadata"]


@pytest.mark.parametrize("estimator, family", [
    (RandomForestClassifier(), "tree"),
    (HistGradientBoostingClassifier(), "tree"),
    (make_pipeline(StandardScaler(), DecisionTreeClassifier()), "tree"),
    (GridSearchCV(DecisionTreeClassifier(), {"max_depth": [2, 3]}), "tree"),
    (make_pipeline(StandardScaler(), LogisticRegression()), "linear"),
    (CalibratedClassifierCV(LinearSVC()), "linear"),
    (SVC(kernel="linear"), "linear"),
    (SVC(), "other"),
    (KNeighborsClassifier(), "other"),
    (MLPClassifier(), "neural"),
    (object(), None),
])
def test_the_family_is_told_from_the_model_that_decides(estimator, family):
    assert family_of(estimator) == family


def test_gradient_boosting_libraries_are_trees():
    lightgbm = pytest.importorskip("lightgbm")
    xgboost = pytest.importorskip("xgboost")
    X, y = _tabular(n=1500)
    X = X[["income", "age", "engagement"]]
    yi = (y == "yes").astype(int)
    splits = _splits(X, yi)
    for model in (lightgbm.LGBMClassifier(n_estimators=30, verbose=-1), xgboost.XGBClassifier(n_estimators=30)):
        model.fit(*splits["train"])
        r = _quiet(erranalysis.from_estimator, model, splits, goal=0.05)
        x, t = splits["test"]
        assert r.provenance.model_family == "tree"
        assert r.errors["test"].error == pytest.approx(1 - skm.accuracy_score(t, model.predict(x)))


def test_next_steps_name_the_knobs_of_the_models_family():
    # Train error far above the goal and val far above train: both terms are steps.
    summary = {"train": 0.20, "val": 0.30}
    n = {"train": 5000, "val": 5000}
    generic = erranalysis.analyze(errors=summary, n=n, goal=0.01)
    steps = {s.problem: s.actions for s in generic.next_steps}
    assert steps["underfitting"] == list(KINDS["underfitting"].actions)
    for family in ("tree", "linear", "neural", "other"):
        fitted = erranalysis.analyze(errors=summary, n=n, goal=0.01, model_family=family)
        assert [s.problem for s in fitted.next_steps] == [s.problem for s in generic.next_steps]
        assert fitted.headline.split(" First: ")[0] == generic.headline.split(" First: ")[0]
        first = fitted.next_steps[0].actions[0]
        assert fitted.headline.endswith(f"First: {first[0].lower()}{first[1:]}")
        for s in fitted.next_steps:
            if s.problem in FAMILY_ACTIONS[family]:
                assert s.actions == list(FAMILY_ACTIONS[family][s.problem])
        assert fitted.provenance.model_family == family
        assert fitted.to_dict()["provenance"]["model_family"] == family
    tree = " ".join(a for s in erranalysis.analyze(errors=summary, n=n, goal=0.01, model_family="tree").next_steps
                    for a in s.actions)
    assert "max_depth" in tree and "dropout" not in tree and "augment" not in tree.lower()
    with pytest.raises(UsageError, match="^model_family must be one of tree, linear, neural, other"):
        erranalysis.analyze(errors=summary, model_family="forest")


def test_the_command_line_takes_the_model_family(tmp_path):
    from click.testing import CliRunner

    from erranalysis.cli import cli

    out = tmp_path / "r.json"
    run = CliRunner().invoke(cli, ["report", "--train", "0.2", "--val", "0.3", "--n-train", "5000", "--n-val",
                                    "5000", "--goal", "0.01", "--model-family", "linear", "--json", str(out),
                                    "--format", "none", "-q"])
    assert run.exit_code == 0, run.output
    import json

    steps = json.loads(out.read_text())["next_steps"]
    assert steps[0]["actions"] == list(FAMILY_ACTIONS["linear"][steps[0]["problem"]])


def test_a_weak_feature_slice_shows_only_with_the_features():
    from sklearn.compose import make_column_transformer

    X, y = _tabular(n=6000)
    splits = _splits(X, y)
    numeric = ["income", "age", "engagement"]
    model = make_pipeline(make_column_transformer((StandardScaler(), numeric)), LogisticRegression())
    model.fit(*splits["train"])
    r = _quiet(erranalysis.from_estimator, model, splits, goal=0.05)
    weak = [f for f in r.findings if f.kind == "weak_slice"]
    assert weak and weak[0].evidence["column"] == "region" and weak[0].evidence["value"] == "north"
    assert "weak_slice" in [s.problem for s in r.next_steps]
    # The predictions alone (labels and probabilities, no features) cannot show it.
    alone = _quiet(erranalysis.from_estimator, model, splits, goal=0.05, features=False)
    assert not [f for f in alone.findings if f.kind == "weak_slice"]
    assert not alone.provenance.columns.get("metadata") and not alone.slices.columns


def test_feature_names_never_clash_with_the_input_columns():
    rng = np.random.default_rng(4)
    n = 1200
    X = pd.DataFrame({"label": rng.normal(size=n), "split": rng.choice(["a", "b"], n), "proba_1": rng.random(n),
                      "loss": rng.random(n), "id": np.arange(n), "weight": rng.random(n) * 10})
    y = (X["label"] + rng.normal(size=n) > 0).astype(int)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X[["label", "proba_1"]].iloc[:800], y[:800])

    class Picky:  # takes the whole frame, uses two columns
        classes_ = model.classes_

        def predict_proba(self, frame):
            return model.predict_proba(frame[["label", "proba_1"]])

    with pytest.warns(erranalysis.DataWarning, match="under new names: 'label' as 'feature: label'"):
        r = erranalysis.from_estimator(Picky(), {"train": (X.iloc[:800], y[:800]), "test": (X.iloc[800:], y[800:])})
    assert r.provenance.columns["metadata"] == [f"feature: {c}" for c in X.columns]
    assert r.provenance.rows_by_split == {"train": 800, "test": 400}
    pred = model.predict(X[["label", "proba_1"]].iloc[800:])
    assert r.errors["test"].error == pytest.approx(np.mean(pred != y[800:]))
    assert r.errors["test"].n == 400  # no weight column was taken from the features


def test_wide_inputs_are_sampled_and_arrays_can_be_named():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(600, MAX_FEATURES + 10)), columns=[f"f{i}" for i in range(MAX_FEATURES + 10)])
    y = (X["f0"] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    with pytest.warns(erranalysis.DataWarning, match=f"a seeded sample of {MAX_FEATURES}"):
        r = erranalysis.from_estimator(model, (X, y))
    kept = r.provenance.columns["metadata"]
    assert len(kept) == MAX_FEATURES and set(kept) < set(X.columns) and kept == sorted(kept, key=list(X).index)
    assert kept == erranalysis.from_estimator(model, (X, y)).provenance.columns["metadata"]  # seeded
    chosen = _quiet(erranalysis.from_estimator, model, (X, y), features=["f3", "f1"])
    assert chosen.provenance.columns["metadata"] == ["f3", "f1"]
    assert "features_sampled" not in [w.code for w in chosen.warnings]
    array = _quiet(erranalysis.from_estimator, model, (X.to_numpy(), y), features=[f"c{i}" for i in range(50)])
    assert array.provenance.columns["metadata"] == [f"c{i}" for i in range(50)]
    narrow = LogisticRegression().fit(X.to_numpy()[:, :3], y)
    named = _quiet(erranalysis.from_estimator, narrow, (X.to_numpy()[:, :3], y), features=True)
    assert named.provenance.columns["metadata"] == ["x0", "x1", "x2"]
    with pytest.raises(UsageError, match="features must name every column of an array X"):
        erranalysis.from_estimator(model, (X.to_numpy(), y), features=["a", "b"])
    with pytest.raises(UsageError, match="features names a column X does not have: 'nope'"):
        erranalysis.from_estimator(model, (X, y), features=["nope"])


def test_columns_named_by_numbers_are_features_named_by_their_text():
    rng = np.random.default_rng(7)
    n = 1200
    X = pd.DataFrame({0: rng.choice(["u", "v"], n), 1: rng.normal(size=n), 2: rng.normal(size=n)})  # as of an array
    y = (X[1] + 0.3 * rng.normal(size=n) > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[[1, 2]].iloc[:800], y[:800])

    class Numeric:  # takes the whole frame, uses its numeric columns
        classes_ = model.classes_

        def predict_proba(self, frame):
            return model.predict_proba(frame[[1, 2]])

    splits = {"train": (X.iloc[:800], y[:800]), "test": (X.iloc[800:], y[800:])}
    r = _quiet(erranalysis.from_estimator, Numeric(), splits, reference_models=True)
    assert r.provenance.columns["metadata"] == ["0", "1", "2"]
    assert sorted(ref.family for ref in r.references) == ["linear", "tree"]  # each column read as its kind
    given = _quiet(erranalysis.from_predictions, y, proba=Numeric().predict_proba(X), features=X)
    assert given.provenance.columns["metadata"] == ["0", "1", "2"]


def test_labels_may_be_arrow_arrays():
    import pyarrow as pa

    rng = np.random.default_rng(6)
    X = rng.normal(size=(900, 2))
    y = np.where(X[:, 0] > 0, "a", "b")
    model = LogisticRegression().fit(X[:600], y[:600])
    for column in (pa.array, lambda v: pa.chunked_array([v])):
        r = _quiet(erranalysis.from_estimator, model, {"train": (X[:600], column(y[:600])),
                                                       "test": (X[600:], column(y[600:]))})
        assert r.errors["test"].error == pytest.approx(np.mean(model.predict(X[600:]) != y[600:]))


def test_labels_the_model_never_saw_count_with_probability_zero():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(900, 2))
    y = np.where(X[:, 0] > 0, "a", "b")
    model = LogisticRegression().fit(X[:600], y[:600])
    y_test = y[600:].copy()
    y_test[:30] = "c"
    with pytest.warns(erranalysis.DataWarning, match="'c' are not among the estimator's classes"):
        r = erranalysis.from_estimator(model, {"train": (X[:600], y[:600]), "test": (X[600:], y_test)})
    assert "c" in r.confusion.labels
    assert r.errors["test"].error == pytest.approx(np.mean(model.predict(X[600:]) != y_test))


def test_bad_arguments_are_named_before_any_prediction():
    model = LogisticRegression().fit(np.eye(4), [0, 1, 0, 1])
    for splits, message in [
        ({"train": np.eye(4)}, r"^splits\['train'\] must be \(X, y\) or \(X, y, sample_weight\)"),
        ("train", "^splits must map split names to"),
        ({}, "^splits must hold at least one split"),
        ({"train": (np.eye(4), [0, 1])}, r"^y of split 'train' must have one entry per row of X \(4\)"),
    ]:
        with pytest.raises(UsageError, match=message):
            erranalysis.from_estimator(model, splits)
    with pytest.raises(UsageError, match="has no classes_"):
        erranalysis.from_estimator(type("Unfitted", (), {"predict_proba": lambda self, X: None})(), (np.eye(2), [0, 1]))
    with pytest.raises(UsageError, match="^label_col is set from the estimator"):
        erranalysis.from_estimator(model, (np.eye(4), [0, 1, 0, 1]), label_col="y")
    with pytest.raises(UsageError, match="^model_family must be one of"):
        erranalysis.from_estimator(model, (np.eye(4), [0, 1, 0, 1]), model_family="boosted")


def test_splits_are_checked_before_any_prediction():
    model = LogisticRegression().fit(np.eye(4), [0, 1, 0, 1])

    class Counted:  # counts the predictions asked of it
        calls = 0
        classes_ = model.classes_

        def predict_proba(self, X):
            Counted.calls += 1
            return model.predict_proba(X)

    pair = (np.eye(4), [0, 1, 0, 1])
    with pytest.raises(UsageError, match=r"^splits must be keyed by split names \(dev, .*\)\. Got 'calibration'"):
        erranalysis.from_estimator(Counted(), {"train": pair, "calibration": pair})
    # Two names of one split would pool their rows into it without a word.
    with pytest.raises(UsageError, match="^splits must name each split once. Got 'val' and 'Validation', both the "
                                         "val split"):
        erranalysis.from_estimator(Counted(), {"train": pair, "val": pair, "Validation": pair})
    with pytest.raises(UsageError, match=r"^sample_weight must be given for every split or for none\. Got it for "
                                         r"'test' alone\.$"):
        erranalysis.from_estimator(Counted(), {"train": pair, "test": (*pair, np.ones(4))})
    assert Counted.calls == 0
    r = _quiet(erranalysis.from_estimator, Counted(), {"Training": pair, "validation": pair})
    assert list(r.errors) == ["train", "val"]


def test_from_predictions_equals_analyze_with_the_features_as_columns():
    X, y = _tabular(n=2000)
    rng = np.random.default_rng(7)
    p = rng.dirichlet([2, 2], len(X))
    split = rng.choice(["train", "val", "test"], len(X))
    frame = X.assign(label=y.to_numpy(), split=split, proba_no=p[:, 0], proba_yes=p[:, 1])
    expected = _quiet(erranalysis.analyze, frame, goal=0.05, model_family="tree")
    got = _quiet(erranalysis.from_predictions, y, proba=p, classes=["no", "yes"], split=split, features=X,
                 goal=0.05, model_family="tree")
    assert compare(doc(expected), doc(got), skip={"columns"}) == []
    pl = pytest.importorskip("polars")
    polars = _quiet(erranalysis.from_predictions, y, proba=p, classes=["no", "yes"], split=split,
                    features=pl.from_pandas(X), goal=0.05, model_family="tree")
    assert compare(doc(expected), doc(polars), skip={"columns"}) == []
    with pytest.raises(UsageError, match=r"^features must have one row per entry of y_true \(2000\)"):
        erranalysis.from_predictions(y, proba=p, classes=["no", "yes"], features=X.iloc[:10])


# ---------------------------------------------------------------------- reference models


def _nonlinear(n=5000, seed=8):
    """A label that follows sine and square terms: a linear model underfits it."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)})
    logit = 3 * np.sin(2 * X["a"]) + 2 * (X["b"] ** 2 - 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return _splits(X, pd.Series(y))


def test_a_reference_of_another_family_that_closes_the_gap_leads_the_plan():
    from erranalysis.reference import _inputs, _kinds, _reference

    splits = _nonlinear()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(*splits["train"])
    r = _quiet(erranalysis.from_estimator, model, splits, goal=0.05, reference_models=True)
    assert [ref.family for ref in r.references] == ["tree"]  # the model is linear: only the other family
    ref = r.references[0]
    x_val, y_val = splits["val"]
    # Scored on the same val rows as the model: its error and the reference's, recounted.
    assert ref.split == "val" and ref.rows == len(y_val) and ref.train_rows == len(splits["train"][1])
    assert ref.model_error == pytest.approx(1 - skm.accuracy_score(y_val, model.predict(x_val)))
    numeric, categorical = _kinds(splits["train"][0])
    refit = _reference("tree", numeric, categorical).fit(_inputs(splits["train"][0], numeric, categorical),
                                                         splits["train"][1])
    assert ref.error == pytest.approx(1 - skm.accuracy_score(y_val, refit.predict(_inputs(x_val, numeric, categorical))))
    assert ref.change == pytest.approx(ref.error - ref.model_error)
    assert ref.verdict == "better" and ref.ci[1] < 0 and ref.ci[0] <= ref.change <= ref.ci[1]
    finding = next(f for f in r.findings if f.kind == "reference_model")
    assert finding.impact == pytest.approx(-ref.change) and finding.evidence["confidence"] == pytest.approx(0.95)
    # It joins the underfitting step as its first action, and so the headline's.
    first = r.next_steps[0]
    assert first.problem == "underfitting" and first.actions[0].startswith("Try gradient-boosted trees")
    assert "First: try gradient-boosted trees" in r.headline
    assert r.to_dict()["references"][0]["verdict"] == "better"
    html = r.to_html()
    assert "Reference models" in html and "HistGradientBoostingClassifier" in html


def test_references_of_a_model_with_nothing_to_gain_are_not_findings():
    rng = np.random.default_rng(9)
    n = 4000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "group": rng.choice(list("xyz"), n)})
    y = pd.Series(rng.integers(0, 2, n))  # labels independent of the features
    splits = _splits(X, y)

    class Unplaced:  # a model whose family is unknown: both references run
        def __init__(self):
            self.model = LogisticRegression().fit(splits["train"][0][["a", "b"]], splits["train"][1])
            self.classes_ = self.model.classes_

        def predict_proba(self, frame):
            return self.model.predict_proba(frame[["a", "b"]])

    r = _quiet(erranalysis.from_estimator, Unplaced(), splits, goal=0.05, reference_models=True)
    assert sorted(ref.family for ref in r.references) == ["linear", "tree"]
    assert all(ref.verdict != "better" for ref in r.references)
    assert not [f for f in r.findings if f.kind == "reference_model"]
    # Two references: each interval is at 97.5% (Bonferroni), wider than at 95%.
    assert all(ref.ci[0] < ref.change < ref.ci[1] for ref in r.references)


def test_reference_models_read_infinite_values_as_missing():
    splits = _nonlinear(n=1200)
    for X, _ in splits.values():
        X["ratio"] = X.iloc[:, 0] / X.iloc[:, 1].where(X.index % 50 != 0, 0.0)  # a few divisions by zero
    assert np.isinf(splits["train"][0]["ratio"]).any()
    model = _quiet(HistGradientBoostingClassifier(max_iter=20, random_state=0).fit, *splits["train"])  # takes them
    r = _quiet(erranalysis.from_estimator, model, splits, reference_models=True)
    assert [ref.family for ref in r.references] == ["linear"]


def test_reference_models_need_a_train_and_a_held_out_split():
    splits = _nonlinear(n=600)
    model = LogisticRegression().fit(*splits["train"])
    with pytest.raises(UsageError, match="need a train split"):
        erranalysis.from_estimator(model, {"test": splits["test"]}, reference_models=True)
    with pytest.raises(UsageError, match="need a held-out split"):
        erranalysis.from_estimator(model, {"train": splits["train"]}, reference_models=True)


def test_a_threshold_classifier_is_scored_at_its_own_threshold():
    from sklearn.model_selection import FixedThresholdClassifier

    rng = np.random.default_rng(11)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    y = (X["a"] + rng.normal(size=3000) > 0.8).astype(int)
    model = FixedThresholdClassifier(LogisticRegression(), threshold=0.2).fit(X[:2000], y[:2000])
    splits = {"train": (X[:2000], y[:2000]), "val": (X[2000:2500], y[2000:2500]),
              "test": (X[2500:], y[2500:])}
    r = _quiet(erranalysis.from_estimator, model, splits, reference_models=True)
    deployed = 1 - skm.accuracy_score(y[2500:], model.predict(X[2500:]))
    argmax = 1 - skm.accuracy_score(y[2500:], model.estimator_.predict(X[2500:]))
    assert deployed != pytest.approx(argmax, abs=0.01)  # the threshold matters here
    assert r.errors["test"].error == pytest.approx(deployed)
    # The references compare with the same decisions on val.
    assert r.references[0].model_error == pytest.approx(r.errors["val"].error)


def test_labels_of_another_type_equal_to_a_class_are_that_class():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(800, 2))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X[:500], y[:500])
    r = _quiet(erranalysis.from_estimator, model, {"train": (X[:500], y[:500].astype(bool)),
                                                   "test": (X[500:], y[500:].astype(bool))})
    assert r.errors["test"].error == pytest.approx(1 - skm.accuracy_score(y[500:], model.predict(X[500:])))
    assert "unseen" not in " ".join(w.code for w in r.warnings)


def test_a_missing_label_names_its_split_and_row():
    model = LogisticRegression().fit(np.eye(4), [0, 1, 0, 1])
    y = np.array([0, 1, np.nan, 1])
    with pytest.raises(UsageError, match=r"^y of split 'test' has a missing label at row 2 \(counting from 0\)\."):
        erranalysis.from_estimator(model, {"train": (np.eye(4), [0, 1, 0, 1]), "test": (np.eye(4), y)})


def test_calibration_around_the_default_model_is_linear():
    assert family_of(CalibratedClassifierCV()) == "linear"


def test_a_model_at_chance_that_another_family_beats_is_not_a_pipeline_bug():
    # XOR of two features: a linear model learns nothing, gradient-boosted trees learn it.
    rng = np.random.default_rng(13)
    n = 6000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = pd.Series(((X["a"] * X["b"] > 0) ^ (rng.random(n) < 0.05)).astype(int))
    splits = _splits(X, y)
    model = LogisticRegression().fit(*splits["train"])
    plain = _quiet(erranalysis.from_estimator, model, splits, goal=0.05)
    assert plain.next_steps[0].problem == "below_baseline"  # from the predictions alone: look for a bug
    r = _quiet(erranalysis.from_estimator, model, splits, goal=0.05, reference_models=True)
    below = next(f for f in r.findings if f.kind == "below_baseline")
    assert not below.blocking and below.evidence["reference_learns"]["name"] == "HistGradientBoostingClassifier"
    first = r.next_steps[0]
    assert first.problem == "underfitting" and first.actions[0].startswith("Try gradient-boosted trees")
    assert below.title in first.findings


def test_mistakes_get_one_line_that_names_the_fix():
    from sklearn.linear_model import Ridge

    X, y = _tabular(n=400)
    X = X[["income", "age"]]
    model = LogisticRegression().fit(X, y)
    with pytest.raises(UsageError, match=r"^estimator must be a fitted classifier: Ridge has no classes_ "
                                         r"\(a regressor\)\.$"):
        erranalysis.from_estimator(Ridge().fit(X, np.arange(len(X))), (X, y))
    with pytest.raises(UsageError, match=r"^splits must map split names to \(X, y\) pairs"):
        erranalysis.from_estimator(model, [(X, y), (X, y)])
    with pytest.raises(UsageError, match=r"^from_estimator\(\) got an unknown argument 'gaol'"):
        erranalysis.from_estimator(model, (X, y), gaol=0.02)
    with pytest.raises(UsageError, match=r"^split 'test' has no rows\.$"):
        erranalysis.from_estimator(model, (X.iloc[:0], y.iloc[:0]))
    with pytest.raises(UsageError, match=r"^y of split 'test' holds none of the estimator's classes \(no, yes\)"):
        erranalysis.from_estimator(model, (X, np.zeros(len(X), dtype=int)))
    with pytest.raises(UsageError, match=r"^y_pred must have one entry per entry of y_true \(400\)\. Got 3"):
        erranalysis.from_predictions(y, y[:3])
    r = _quiet(erranalysis.from_estimator, model, (X, y), goal=0.0)
    with pytest.raises(UsageError, match=r"the folder .*nowhere does not exist"):
        r.save("nowhere/report.pdf")
    summary = erranalysis.analyze(errors={"train": 0.2, "val": 0.3}, n={"train": 5000, "val": 5000}, goal=0.01)
    text = repr(summary)
    assert text.startswith(f"<erranalysis.Result: {summary.headline}") and len(text) < 2000
    assert "errors: train 20.0%, val 30.0%" in text and "1. " + summary.next_steps[0].name in text


def test_a_flexible_model_at_chance_stays_a_bug_to_find_even_when_a_reference_learns():
    # Gradient-boosted trees fitted on shuffled training labels, diagnosed on the right
    # ones: a linear reference learns, but trees that learn nothing point to their data.
    rng = np.random.default_rng(15)
    n = 4000
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=list("abc"))
    y = pd.Series(((X["a"] + X["b"] + rng.normal(scale=0.5, size=n)) > 0).astype(int))
    splits = _splits(X, y)
    x_train, y_train = splits["train"]
    model = HistGradientBoostingClassifier(max_iter=30).fit(x_train, rng.permutation(y_train.to_numpy()))
    r = _quiet(erranalysis.from_estimator, model, splits, goal=0.05, reference_models=True)
    assert r.references[0].verdict == "better"
    below = next(f for f in r.findings if f.kind == "below_baseline")
    assert below.blocking and "reference_learns" not in below.evidence
    assert r.next_steps[0].problem == "below_baseline"


def test_labels_out_of_order_stay_a_bug_to_find_first():
    # The classic pipeline bug: labels shuffled against the inputs. No family can learn
    # them, so nothing lifts below_baseline from the top of the plan.
    splits = _nonlinear(n=4000)
    rng = np.random.default_rng(14)
    shuffled = {s: (x, pd.Series(rng.permutation(t.to_numpy()), index=t.index)) for s, (x, t) in splits.items()}
    model = HistGradientBoostingClassifier(max_iter=30).fit(*shuffled["train"])
    r = _quiet(erranalysis.from_estimator, model, shuffled, goal=0.05, reference_models=True)
    assert all(ref.verdict != "better" for ref in r.references)
    assert r.next_steps[0].problem == "below_baseline"
    assert next(f for f in r.findings if f.kind == "below_baseline").blocking


def test_bad_values_found_in_the_analysis_are_placed_in_the_callers_terms():
    y = np.array([0, 1, 0, 1, 1, 0])
    with pytest.raises(erranalysis.InputError, match=r"^proba must be within \[0, 1\]\. Got -1\.4 at row 2\.$") as info:
        erranalysis.from_predictions(y, proba=np.array([0.2, 0.9, -1.4, 0.7, 0.6, 0.1]))
    assert info.value.hint is None or "--" not in info.value.hint

    class Broken:  # its last row of every call has no probability
        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            p = np.full((len(X), 2), 0.5)
            p[-1, 0] = np.nan
            return p

    with pytest.raises(erranalysis.InputError, match=r"^split 'train': predict_proba's column for class '0' has a "
                                                    r"missing value at row 2\.$"):
        erranalysis.from_estimator(Broken(), {"train": (np.eye(3), [0, 1, 0]), "test": (np.eye(4), [0, 1, 1, 0])})


def test_the_references_compare_with_the_decisions_the_analysis_counts_at_ties():
    # Four neighbours split two and two on many rows: the analysis reads a probability
    # of 0.5 as the positive class, and so must the references' comparison.
    rng = np.random.default_rng(21)
    X = rng.normal(size=(1500, 3))
    y = (X[:, 0] + rng.normal(size=1500) > 0).astype(int)
    model = KNeighborsClassifier(n_neighbors=4).fit(X[:900], y[:900])
    splits = {"train": (X[:900], y[:900]), "val": (X[900:], y[900:])}
    assert (model.predict_proba(X[900:])[:, 1] == 0.5).sum() > 20
    r = _quiet(erranalysis.from_estimator, model, splits, reference_models=True)
    assert all(ref.model_error == pytest.approx(r.errors["val"].error, abs=1e-12) for ref in r.references)


def test_labels_written_as_another_type_of_a_class_compare_as_that_class():
    rng = np.random.default_rng(22)
    X = rng.normal(size=(1500, 3))
    y = (X[:, 0] + rng.normal(size=1500) > 0).astype(int)
    on_text = LogisticRegression().fit(X[:900], y[:900].astype(str))  # classes '0' and '1'
    on_numbers = LogisticRegression().fit(X[:900], y[:900])
    for model, given in ((on_text, y), (on_numbers, y.astype(str)), (on_numbers, y.astype(object))):
        splits = {"train": (X[:900], given[:900]), "val": (X[900:], given[900:])}
        r = _quiet(erranalysis.from_estimator, model, splits, reference_models=True)
        assert r.references[0].model_error == pytest.approx(r.errors["val"].error, abs=1e-12)
        assert "reference_model" not in [f.kind for f in r.findings]


def test_a_model_worse_than_a_constant_stays_a_bug_to_find_first():
    # Fitted on inverted labels, the model learned the opposite of the labels: far
    # worse than a constant, which no lack of capacity explains, whatever another
    # family learns from the same rows.
    rng = np.random.default_rng(23)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    y = pd.Series((X["a"] + X["b"] + rng.normal(scale=0.5, size=3000) > 0).astype(int))
    splits = _splits(X, y)
    model = HistGradientBoostingClassifier(max_iter=30).fit(splits["train"][0], 1 - splits["train"][1])
    r = _quiet(erranalysis.from_estimator, model, splits, goal=0.05, reference_models=True)
    assert r.references[0].verdict == "better"
    assert next(f for f in r.findings if f.kind == "below_baseline").blocking
    assert r.next_steps[0].problem == "below_baseline"


def test_a_tuned_threshold_is_applied_to_the_positive_class_of_its_scorer():
    from sklearn.metrics import f1_score, make_scorer
    from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV

    rng = np.random.default_rng(24)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    y = pd.Series(np.where(X["a"] + rng.normal(size=3000) > 0.8, "yes", "no"))
    splits = {"train": (X[:2000], y[:2000]), "test": (X[2000:], y[2000:])}
    tuned = TunedThresholdClassifierCV(LogisticRegression(), scoring=make_scorer(f1_score, pos_label="no"))
    fixed = FixedThresholdClassifier(LogisticRegression(), threshold=np.float32(0.3))
    for model in (tuned.fit(*splits["train"]), fixed.fit(*splits["train"])):
        with warnings.catch_warnings():
            warnings.simplefilter("error", erranalysis.DataWarning)
            r = erranalysis.from_estimator(model, splits)
        deployed = 1 - skm.accuracy_score(y[2000:], model.predict(X[2000:]))
        assert r.errors["test"].error == pytest.approx(deployed)


def test_a_regression_target_given_as_labels_is_warned_about():
    rng = np.random.default_rng(16)
    target = np.round(rng.normal(150, 40, 300))  # whole numbers, as a count or a price in dollars
    with pytest.warns(erranalysis.DataWarning, match=r"distinct numbers in 300 rows, each taken as a class"):
        erranalysis.from_predictions(target, target)
    with warnings.catch_warnings():
        warnings.simplefilter("error", erranalysis.DataWarning)
        erranalysis.estimator._check_classes(rng.integers(0, 10, 5000))  # ten classes: no warning
        erranalysis.estimator._check_classes(rng.integers(0, 100, 5000))  # many classes, many rows each
