"""Deepchecks' report for a predictions file: model evaluation and train-test validation.

    PEER_PYTHON benchmarks/peers/run_deepchecks.py preds.parquet out.html

The job erranalysis does by default, as far as Deepchecks 0.19 does it from
predictions alone (no model object): its model-evaluation suite on train against test
with the given predictions and probabilities, and its train-test validation suite on
the metadata columns, saved as one HTML report.
"""

import sys
import warnings

import numpy as np
import pyarrow.parquet as pq
from deepchecks.tabular import Dataset
from deepchecks.tabular.suites import model_evaluation, train_test_validation

SKIP = {"label", "pred", "split", "score", "weight", "loss", "id"}


def main(path: str, out: str) -> None:
    warnings.simplefilter("ignore")
    frame = pq.read_table(path).to_pandas()
    proba = [c for c in frame.columns if c.startswith("proba_")]
    meta = [c for c in frame.columns if c not in SKIP and c not in proba]
    categorical = [c for c in meta if frame[c].dtype == object or str(frame[c].dtype) in ("string", "category")]
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]

    def probabilities(part):
        if proba:
            return part[proba].to_numpy(dtype=np.float64)
        return np.column_stack([1 - part["score"].to_numpy(), part["score"].to_numpy()])

    classes = list(range(len(proba))) if proba else [0, 1]
    kwargs = dict(label="label", cat_features=categorical, features=meta)
    train_ds, test_ds = Dataset(train[meta + ["label"]], **kwargs), Dataset(test[meta + ["label"]], **kwargs)
    result = model_evaluation().run(train_dataset=train_ds, test_dataset=test_ds, model_classes=classes,
                                    y_pred_train=train["pred"].to_numpy(), y_pred_test=test["pred"].to_numpy(),
                                    y_proba_train=probabilities(train), y_proba_test=probabilities(test))
    result.results.extend(train_test_validation().run(train_dataset=train_ds, test_dataset=test_ds).results)
    result.save_as_html(out, as_widget=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
