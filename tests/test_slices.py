"""Error analysis on metadata: weak slices, per-slice decomposition, cohorts, shifted
features, examples to look at, label errors and leakage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control

import erranalysis


def table(seed=0, n=8000, weak=False, shift=False, noise=0.0, fail_only_on_test=False, calibrated=False,
          boost=2.5):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    split = rng.choice(["train", "train_val", "val", "test"], n, p=[0.55, 0.15, 0.15, 0.15])
    region = rng.choice(["north", "south", "east", "west"], n)
    age = rng.normal(40, 10, n)
    if shift:
        age = np.where(np.isin(split, ["val", "test"]), age + 8, age)
    logits = rng.normal(size=(n, 4))
    logits[np.arange(n), y] += boost
    if weak:
        bad = (region == "north") & (np.isin(split, ["val", "test"]) if fail_only_on_test else True)
        logits[bad] = rng.normal(size=(bad.sum(), 4))
        logits[bad, y[bad]] += 0.8
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    if calibrated:  # labels drawn from the probabilities: a calibrated model of clean labels
        y = (p.cumsum(1) < rng.random(n)[:, None]).sum(1).clip(max=3)
    label = y.copy()
    flip = (rng.random(n) < noise) & (split != "train")
    label[flip] = (y[flip] + 1 + rng.integers(0, 3, flip.sum())) % 4
    frame = pd.DataFrame({"id": np.arange(n), "label": label, "split": split, "region": region, "age": age,
                          "device": rng.choice(["ios", "android", "web"], n)})
    for k in range(4):
        frame[f"proba_{k}"] = p[:, k]
    return frame, flip


def kinds(r):
    return [f.kind for f in r.findings]


def test_planted_weak_slice_is_found_and_named():
    r = erranalysis.analyze(table(weak=True)[0], goal=0.01)
    weak = [f for f in r.findings if f.kind == "weak_slice"]
    assert weak and (weak[0].evidence["column"], weak[0].evidence["value"]) == ("region", "north")
    assert r.slices.slices[0].column == "region" and r.slices.slices[0].value == "north"
    top = r.slices.slices[0]
    assert top.ci[0] <= top.error <= top.ci[1] and top.excess_errors > 50
    # It fails on every split: its own decomposition says bias.
    dec = next(d for d in r.slices.decompositions if (d.column, d.value) == ("region", "north"))
    assert dec.pattern == "bias"
    assert any("region in {north}" in c.rule for c in r.slices.cohorts)


def test_a_slice_failing_only_after_the_shift_is_told_apart():
    r = erranalysis.analyze(table(weak=True, fail_only_on_test=True, n=20000)[0], goal=0.01)
    dec = next(d for d in r.slices.decompositions if (d.column, d.value) == ("region", "north"))
    assert dec.pattern == "shift"
    f = next(f for f in r.findings if f.kind == "weak_slice")
    assert "after the shift" in r.next_steps[[s.problem for s in r.next_steps].index("weak_slice")].why
    assert f.evidence["pattern"] == "shift"


@pytest.mark.parametrize("seed", range(6))
def test_pure_noise_metadata_raises_nothing(seed):
    r = erranalysis.analyze(table(seed=seed)[0], goal=0.01)
    assert not {"weak_slice", "label_errors", "leakage"} & set(kinds(r))
    # No feature moved (the decomposition's own shift term may still be material by chance).
    assert [f.column for f in r.slices.features if f.moved] == []
    assert not any(f.kind == "distribution_shift" and "component" not in f.evidence for f in r.findings)
    assert r.slices.cohorts == []


def test_q_values_are_benjamini_hochberg():
    r = erranalysis.analyze(table(weak=True)[0], goal=0.01)
    p = np.array([s.p_value for s in r.slices.slices])
    q = np.array([s.q_value for s in r.slices.slices])
    np.testing.assert_allclose(q, np.minimum(false_discovery_control(p, method="bh"), 1))
    # Excess errors by hand for the top slice, on the pooled held-out rows (no shift).
    frame = table(weak=True)[0]
    assert r.slices.splits == ["train_val", "val", "test"]
    test = frame[frame.split != "train"]
    wrong = test[[f"proba_{k}" for k in range(4)]].to_numpy().argmax(1) != test.label.to_numpy()
    north = (test.region == "north").to_numpy()
    top = r.slices.slices[0]
    assert top.errors == wrong[north].sum()
    assert top.excess_errors == pytest.approx(wrong[north].sum() - north.sum() * wrong.mean())


def test_planted_feature_shift_is_named():
    r = erranalysis.analyze(table(shift=True)[0], goal=0.01)
    moved = [f.column for f in r.slices.features if f.moved]
    assert moved == ["age"]
    assert r.slices.domain_auc > 0.65 and r.slices.domain_ci[0] > 0.6
    f = next(f for f in r.findings if f.kind == "distribution_shift")
    assert [m["column"] for m in f.evidence["features"]] == ["age"]


def test_planted_label_noise_is_found_with_reasonable_precision():
    frame, flipped = table(noise=0.06, n=12000, calibrated=True, boost=5.0)
    r = erranalysis.analyze(frame, goal=0.01)
    le = r.slices.label_errors
    assert "label_errors" in kinds(r)
    # The JSON lists the worst examples; precision over all flagged rows comes from a re-run.
    import cleanlab.filter

    held = frame.split.to_numpy() != "train"
    proba = frame[[f"proba_{k}" for k in range(4)]].to_numpy()[held]
    found = cleanlab.filter.find_label_issues(frame.label.to_numpy()[held], proba, n_jobs=1)  # boolean mask
    assert le["count"] == int(found.sum())
    precision = (found & flipped[held]).sum() / found.sum()
    recall = (found & flipped[held]).sum() / flipped[held].sum()
    assert precision > 0.6 and recall > 0.6
    assert all(ex["label"] != ex["suggested"] for ex in le["examples"])


@pytest.mark.parametrize("seed", range(4))
def test_clean_labels_of_a_calibrated_weak_model_are_not_label_errors(seed):
    # Labels drawn from the model's own probabilities are clean, however weak the model
    # (here about 30% error): its confident mistakes are not label errors.
    rng = np.random.default_rng(seed)
    n = 8000
    logits = rng.normal(size=(n, 4)) * 1.6
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    label = (p.cumsum(1) < rng.random(n)[:, None]).sum(1).clip(max=3)
    frame = pd.DataFrame({"label": label, "split": rng.choice(["train", "train_val", "val", "test"], n)})
    for k in range(4):
        frame[f"proba_{k}"] = p[:, k]
    r = erranalysis.analyze(frame, goal=0.01)
    le = r.slices.label_errors
    assert le["count"] > 100  # confident learning flags many rows ...
    assert le["expected_if_clean"] > 0.5 * le["count"]  # ... about as many as clean labels give
    assert "label_errors" not in kinds(r)


def test_duplicate_ids_and_repeated_metadata_are_leakage():
    frame = table()[0]
    frame.loc[frame.index[-5:], "id"] = frame["id"].iloc[:5].to_numpy()  # ids reused across splits
    r = erranalysis.analyze(frame, goal=0.01)
    assert "leakage" in kinds(r)
    copy = table()[0]
    train_rows = copy[copy.split == "train"].head(30)
    test_idx = copy.index[copy.split == "test"][:30]
    copy.loc[test_idx, ["region", "age", "device"]] = train_rows[["region", "age", "device"]].to_numpy()
    r = erranalysis.analyze(copy, goal=0.01)
    f = next(f for f in r.findings if f.kind == "leakage")
    # Train rows are unique on their metadata, so chance gives almost no repeat; 30 rows
    # cannot move the test error beyond its interval, so the leak is not the headline.
    assert f.evidence["rows"] == 30 and f.evidence["expected_by_chance"] < 1
    assert not f.blocking and r.next_steps[0].problem != "leakage"
    many = copy.index[copy.split == "test"][:600]
    copy.loc[many, ["region", "age", "device"]] = copy[copy.split == "train"].head(600)[
        ["region", "age", "device"]].to_numpy()
    r = erranalysis.analyze(copy, goal=0.01)
    f = next(f for f in r.findings if f.kind == "leakage")
    assert f.evidence["rows"] == 600 and f.blocking and r.next_steps[0].problem == "leakage"


def test_metadata_repeats_that_chance_explains_are_not_leakage():
    # Four coarse survey columns: held-out rows repeat train rows about as often as train
    # rows repeat each other. No leakage finding.
    rng = np.random.default_rng(8)
    n = 4000
    frame = pd.DataFrame({
        "label": rng.choice(2, n), "split": rng.choice(["train", "val", "test"], n),
        "age": rng.integers(18, 90, n), "sex": rng.choice(["f", "m"], n),
        "region": rng.choice(list("abcdefghij"), n), "income_band": rng.choice(8, n),
    })
    frame["pred"] = np.where(rng.random(n) < 0.8, frame["label"], 1 - frame["label"])
    r = erranalysis.analyze(frame, goal=0.01)
    dup = r.slices.duplicates
    assert dup["rows"] > 50 and not dup["beyond_chance"]
    assert dup["rows"] < 2 * dup["expected"]
    assert "leakage" not in kinds(r)


def test_top_losses_are_the_highest_loss_rows():
    frame = table()[0]
    r = erranalysis.analyze(frame, goal=0.01)
    test = frame[frame.split == "test"]
    proba = test[[f"proba_{k}" for k in range(4)]].to_numpy()
    loss = -np.log(np.clip(proba[np.arange(len(test)), test.label.to_numpy()], np.finfo(float).eps, 1))
    rows = r.slices.top_losses["test"]
    assert [row["loss"] for row in rows] == pytest.approx(sorted(loss, reverse=True)[:10])
    assert {"id", "label", "pred", "region", "age", "device"} <= set(rows[0])


def test_report_has_the_slice_sections():
    r = erranalysis.analyze(table(weak=True, shift=True)[0], goal=0.01)
    html = r.to_html()
    for needle in ('id="slices"', 'id="shift"', 'id="examples"', "region = north", "Likely label errors" if
                   r.slices.label_errors else "Highest loss on test", "age"):
        assert needle in html


def test_tests_match_scipy():
    from scipy.stats import chi2_contingency, ks_2samp

    from erranalysis.stats.intervals import chi_square
    from erranalysis.stats.slices import benjamini_hochberg, ks_two_sample

    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.1, 1.1, 2000)
    d, p = ks_two_sample(a, b)
    ref = ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue, rel=0.05)  # asymptotic forms differ
    table = np.array([[120.0, 80, 40, 10], [90, 95, 30, 25]])
    stat, p = chi_square(table)
    ref = chi2_contingency(table, correction=False)
    assert stat == pytest.approx(ref[0]) and p == pytest.approx(ref[1])
    # Columns expected fewer than 5 times are pooled into one; empty columns are dropped.
    sparse = np.array([[120.0, 80, 2, 1, 0], [90, 95, 1, 3, 0]])
    pooled = np.array([[120.0, 80, 3], [90, 95, 4]])
    ref = chi2_contingency(pooled, correction=False)
    assert chi_square(sparse, pool_sparse=True) == pytest.approx((ref[0], ref[1]))
    assert chi_square(sparse)[0] == pytest.approx(chi2_contingency(sparse[:, :4], correction=False)[0])
    assert chi_square(np.array([[5.0, 0], [7, 0]])) == (0.0, 1.0)
    pv = rng.random(50) ** 3
    np.testing.assert_allclose(benjamini_hochberg(pv), false_discovery_control(pv, method="bh"))


def test_slices_use_the_weights():
    frame = table(weak=True)[0]
    plain = erranalysis.analyze(frame, goal=0.01).slices.slices
    scaled = erranalysis.analyze(frame.assign(weight=7.0), goal=0.01).slices.slices
    assert [(s.column, s.value, round(s.error, 12), s.significant) for s in plain] == \
        [(s.column, s.value, round(s.error, 12), s.significant) for s in scaled]
    # Down-weighting the weak slice's rows makes it count for less.
    weighted = frame.assign(weight=np.where(frame.region == "north", 0.2, 1.0))
    r = erranalysis.analyze(weighted, goal=0.01)
    north = next(s for s in r.slices.slices if (s.column, s.value) == ("region", "north"))
    top = next(s for s in plain if (s.column, s.value) == ("region", "north"))
    assert north.error == pytest.approx(top.error)  # its own error rate is unchanged
    assert north.share_of_errors < top.share_of_errors and north.excess_errors < top.excess_errors


def _examples(r):
    return [*r.slices.top_losses["test"], *r.slices.label_errors.get("examples", [])]


def test_example_rows_of_a_file_are_located_by_split_and_0_based_row(tmp_path):
    frame = table(noise=0.1)[0].drop(columns=["id"])
    path = tmp_path / "preds.parquet"
    frame.to_parquet(path, index=False)
    r = erranalysis.analyze(path, goal=0.01)
    rows = _examples(r)
    assert len(rows) > 10
    for row in rows:
        assert row["locator"] == f"{row['split']} row {row['row']}" and "index" not in row
        found = frame.iloc[row["row"]]  # the row number is a position, as df.iloc counts
        assert (str(found["label"]), found["split"], found["region"]) == (row["label"], row["split"], row["region"])
    html = r.to_html()
    assert "<th>row (0-based)</th>" in html and f"<td>{rows[0]['locator']}</td>" in html
    assert "counted from 0" in html


def test_example_rows_of_a_filtered_dataframe_carry_its_index_labels():
    frame = table(noise=0.1)[0].drop(columns=["id"])
    kept = frame[frame.age > 35]  # its index is 1, 3, 4, 7, ...: not the positions
    r = erranalysis.analyze(kept, goal=0.01)
    rows = _examples(r)
    assert any(row["index"] != row["row"] for row in rows)
    for row in rows:
        assert row["locator"] == f"{row['split']} index {row['index']}"
        assert kept.index[row["row"]] == row["index"]
        found = kept.loc[row["index"]]
        assert (str(found["label"]), found["split"]) == (row["label"], row["split"])
    assert all(row["index"] == kept.index[row["row"]] for row in json.loads(r.to_json())["slices"]["top_losses"]["test"])
    html = r.to_html()
    assert "<th>DataFrame index</th>" in html and f"<td>{rows[0]['locator']}</td>" in html


def test_text_index_labels_are_quoted_and_ids_win():
    frame = table()[0]
    frame.index = [f"a{i}" for i in range(len(frame))]
    with_id = erranalysis.analyze(frame, goal=0.01)
    for row in with_id.slices.top_losses["test"]:
        assert row["locator"] == f"id {row['id']}" and row["index"] == f"a{row['row']}"
    html = with_id.to_html()
    top = with_id.slices.top_losses["test"][0]
    assert "<th>id</th>" in html and f"<tr><td>{top['id']}</td>" in html
    r = erranalysis.analyze(frame.drop(columns=["id"]), goal=0.01)
    for row in r.slices.top_losses["test"]:
        assert row["locator"] == f"test index 'a{row['row']}'"


def test_rows_of_a_folder_of_files_are_counted_within_their_file(tmp_path):
    import pyarrow.parquet as pq

    frame = table()[0].drop(columns=["id"])
    (tmp_path / "ds").mkdir()
    parts = np.array_split(np.arange(len(frame)), 3)
    for k, idx in enumerate(parts):
        frame.iloc[idx].to_parquet(tmp_path / "ds" / f"part-{k}.parquet", index=False)
    r = erranalysis.analyze(tmp_path / "ds", goal=0.01)
    for row in r.slices.top_losses["test"]:
        k = int(np.searchsorted([p[0] for p in parts], row["row"], side="right")) - 1
        within = row["row"] - parts[k][0]
        assert row["locator"] == f"test row {within} of part-{k}.parquet"
        found = pq.read_table(tmp_path / "ds" / f"part-{k}.parquet").to_pandas().iloc[within]
        assert str(found["label"]) == row["label"] and found["region"] == row["region"]


def test_a_repeated_index_label_keeps_the_position_beside_it():
    frame = table()[0].drop(columns=["id"])
    frame.index = np.arange(len(frame)) // 2  # every label twice
    r = erranalysis.analyze(frame, goal=0.01)
    for row in r.slices.top_losses["test"]:
        assert row["locator"] == f"test index {row['row'] // 2} (row {row['row']})" and row["index"] == row["row"] // 2
