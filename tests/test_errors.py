"""Errors and warnings carry where the problem is as fields; one function writes each message."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import erranalysis
import erranalysis.sources as sources
from erranalysis.errors import InputError, UsageError
from erranalysis.io.validate import InputWarning, validate_frame
from erranalysis.settings import Settings
from erranalysis.spark import SparkSource
from erranalysis.stats.accumulate import Accumulator, layout_for

DISAGREES = "pred_disagrees_with_proba"


def _bad_proba() -> InputError:
    return InputError("column 'proba_2' must be within [0, 1]. Got -0.5", "Apply a softmax first.",
                      file="Spark DataFrame", column="proba_2", row=3, value=-0.5, rest=".")


def _binary(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    return pd.DataFrame({"label": rng.integers(0, 2, n), "score": score, "pred": (score >= 0.5).astype(int),
                         "split": np.where(np.arange(n) % 2, "train", "test")})


# ------------------------------------------------------------------------ errors


def test_the_message_is_written_from_the_fields():
    exc = _bad_proba()
    assert str(exc) == exc.message == "Spark DataFrame: column 'proba_2' must be within [0, 1]. Got -0.5 at row 3."
    assert exc.args == (exc.message,)
    assert (exc.file, exc.column, exc.row, exc.value, exc.hint) == (
        "Spark DataFrame", "proba_2", 3, -0.5, "Apply a softmax first.")


def test_an_error_without_fields_reads_as_given():
    exc = UsageError("--threshold must be within [0, 1]. Got 2.0 instead.", hint="Pass a probability.")
    assert str(exc) == "--threshold must be within [0, 1]. Got 2.0 instead."
    assert exc.file is None and exc.row is None and exc.hint == "Pass a probability."


def test_every_part_of_the_message_stays_on_one_line():
    exc = InputError("column 'a\nb' has a missing value", file="x\ny.csv", row=0, rest=" (an\nempty string).")
    assert str(exc) == "x\\ny.csv: column 'a\\nb' has a missing value at row 0 (an\\nempty string)."
    assert exc.in_file("p\nq").message.startswith("p\\nq: ")


def test_a_copy_moves_the_row_and_the_file_and_leaves_the_original():
    exc = _bad_proba()
    moved = exc.shifted(1000).in_file("ds/part-1.parquet")
    assert type(moved) is InputError and moved.hint == exc.hint and moved.value == -0.5
    assert moved.row == 1003 and moved.file == "ds/part-1.parquet"
    assert str(moved) == "ds/part-1.parquet: column 'proba_2' must be within [0, 1]. Got -0.5 at row 1003."
    assert moved.args == (str(moved),)
    assert exc.row == 3 and exc.file == "Spark DataFrame"


def test_a_spark_partition_is_named_and_unordered_rows_have_no_number():
    exc = _bad_proba()
    assert str(exc.in_partition(2)) == ("Spark DataFrame: Spark partition 2, column 'proba_2' must be within "
                                        "[0, 1]. Got -0.5 at row 3.")
    unordered = exc.without_order()
    assert unordered.row is None and unordered.unordered
    assert str(unordered) == ("Spark DataFrame: column 'proba_2' must be within [0, 1]. "
                              "Got -0.5 in the first rows Spark returned.")
    rowless = InputError("has no rows.", file="Spark DataFrame")
    assert rowless.without_order() is rowless and str(rowless) == "Spark DataFrame: has no rows."


def test_the_spark_head_error_drops_the_row_number():
    frame = _binary(50)
    frame.loc[10, "score"] = 1.5
    with pytest.raises(InputError) as info:
        validate_frame(frame, name="Spark DataFrame", partial=True)
    assert info.value.row == 10
    source = object.__new__(SparkSource)  # the head's error needs no DataFrame
    located = source.head_error(info.value)
    assert located.row is None and located.column == "score" and located.value == 1.5
    assert str(located) == ("Spark DataFrame: column 'score' must be within [0, 1]. "
                            "Got 1.5 in the first rows Spark returned.")


def test_an_error_survives_pickling_with_its_fields():
    exc = _bad_proba().shifted(7).in_partition(4)
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is InputError and str(back) == str(exc) and back.hint == exc.hint
    assert (back.file, back.column, back.row, back.value, back.partition) == ("Spark DataFrame", "proba_2", 10, -0.5, 4)


def test_a_validation_error_names_file_column_row_and_value():
    frame = pd.DataFrame({"label": [0, 1, 0], "proba_0": [0.2, 1.5, 0.5], "proba_1": [0.8, -0.5, 0.5]})
    with pytest.raises(InputError) as info:
        validate_frame(frame, name="preds.csv")
    exc = info.value
    assert (exc.file, exc.column, exc.row, exc.value) == ("preds.csv", "proba_0", 1, 1.5)
    assert str(exc) == "preds.csv: column 'proba_0' must be within [0, 1]. Got 1.5 at row 1."


def test_an_error_in_a_later_batch_of_a_later_file_names_that_file_and_its_row(tmp_path, monkeypatch):
    frame = _binary(3000)
    frame.loc[2700, "score"] = 1.5  # row 1700 of the second file, in its fourth batch
    folder = tmp_path / "ds"
    folder.mkdir()
    frame.iloc[:1000].to_parquet(folder / "part-0.parquet", index=False)
    frame.iloc[1000:].to_parquet(folder / "part-1.parquet", index=False)
    monkeypatch.setattr(sources, "BATCH_ROWS", 500)
    with pytest.raises(InputError) as info:
        erranalysis.analyze(str(folder), goal=0.01)
    exc = info.value
    assert exc.file == str(folder / "part-1.parquet") and type(exc.row) is int and exc.row == 1700
    assert exc.column == "score" and exc.value == 1.5
    assert str(exc) == f"{folder / 'part-1.parquet'}: column 'score' must be within [0, 1]. Got 1.5 at row 1700."


def test_an_error_in_a_later_batch_of_one_file_names_the_global_row(tmp_path, monkeypatch):
    frame = _binary(3000)
    frame.loc[2345, "score"] = -0.25
    path = tmp_path / "preds.parquet"
    frame.to_parquet(path, index=False)
    monkeypatch.setattr(sources, "BATCH_ROWS", 1000)
    with pytest.raises(InputError) as info:
        erranalysis.analyze(str(path), goal=0.01)
    assert info.value.file == str(path) and info.value.row == 2345
    assert str(info.value).endswith("column 'score' must be within [0, 1]. Got -0.25 at row 2345.")


# ------------------------------------------------------------------------ warnings


def test_the_disagreement_warning_is_written_from_its_fields():
    w = InputWarning(DISAGREES, "pred differs from the score >= 0.5", 2, rows=100, first_row=40)
    other = InputWarning(DISAGREES, "pred differs from the score >= 0.5", 3, rows=100, first_row=7).shifted(100)
    merged = other.merged(w)
    assert (merged.count, merged.rows, merged.first_row) == (5, 200, 40)
    assert merged.message == "pred differs from the score >= 0.5 on 5 of 200 rows (2.50%), first at row 40."
    assert merged.without_row().message == "pred differs from the score >= 0.5 on 5 of 200 rows (2.50%)."
    assert merged.to_dict() == {"code": DISAGREES, "message": merged.message, "count": 5}
    plain = InputWarning("split_missing", "there is no 'split' column.")
    assert plain.message == "there is no 'split' column." and plain.merged(plain) == plain


def _two_batches() -> tuple:
    frame = _binary(200, seed=1)
    frame.loc[[30, 150, 160], "pred"] = 1 - frame.loc[[30, 150, 160], "pred"]
    first = validate_frame(frame.iloc[:100], partial=True, classes=(0, 1))
    second = validate_frame(frame.iloc[100:], partial=True, classes=(0, 1))
    return first, second


def test_batches_merge_the_disagreement_count_and_first_row():
    first, second = _two_batches()
    assert [(w.count, w.first_row) for w in second.warnings if w.code == DISAGREES] == [(2, 50)]
    layout = layout_for(first, Settings())
    late, early = Accumulator(layout), Accumulator(layout)
    late.add(second, 100)
    early.add(first, 0)
    w = next(w for w in late.merge(early).input_warnings((0, 1)) if w.code == DISAGREES)
    assert (w.count, w.rows, w.first_row) == (3, 200, 30)
    assert w.message == "pred differs from the score >= 0.5 on 3 of 200 rows (1.50%), first at row 30."


def test_batches_without_row_order_name_no_first_row():
    first, second = _two_batches()
    acc = Accumulator(layout_for(first, Settings()))
    acc.add(first, 0, row_numbers=False)
    acc.add(second, 0, row_numbers=False)
    w = next(w for w in acc.input_warnings((0, 1)) if w.code == DISAGREES)
    assert (w.count, w.first_row) == (3, None)
    assert w.message == "pred differs from the score >= 0.5 on 3 of 200 rows (1.50%)."


def test_a_streamed_table_warns_as_the_same_table_in_memory(tmp_path, monkeypatch):
    frame = _binary(3000, seed=2)
    frame.loc[[1200, 2999], "pred"] = 1 - frame.loc[[1200, 2999], "pred"]
    path = tmp_path / "preds.parquet"
    frame.to_parquet(path, index=False)
    monkeypatch.setattr(sources, "BATCH_ROWS", 700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streamed, whole = erranalysis.analyze(str(path), goal=0.01), erranalysis.analyze(frame, goal=0.01)
    assert [w.to_dict() for w in streamed.warnings] == [w.to_dict() for w in whole.warnings]
    assert any(w.code == DISAGREES and w.first_row == 1200 for w in streamed.warnings)


def test_bytes_that_are_not_utf8_are_named_by_their_column():
    frame = _binary(20).assign(city=[b"paris"] * 19 + [b"lyon\xff"])
    preds = validate_frame(frame, name="DataFrame")
    assert [w.message for w in preds.warnings if w.code == "not_utf8"] == [
        "column 'city' holds bytes that are not UTF-8 text; they were read as Latin-1."]
    assert preds.meta is not None and preds.meta["city"].iloc[-1] == "lyon\u00ff"
