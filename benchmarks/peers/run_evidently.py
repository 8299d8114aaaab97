"""Evidently's report for a predictions file: classification quality and train-vs-test drift.

    PEER_PYTHON benchmarks/peers/run_evidently.py preds.parquet out.html

The job erranalysis does by default, as far as Evidently 0.7 does it: the quality of
the classifier on the evaluation split (test) with the training split as reference,
and the drift of the metadata columns between them, written as one HTML report.
"""

import sys

import pyarrow.parquet as pq
from evidently import BinaryClassification, DataDefinition, Dataset, MulticlassClassification, Report
from evidently.presets import ClassificationPreset, DataDriftPreset

SKIP = {"label", "pred", "split", "score", "weight", "loss", "id"}


def main(path: str, out: str) -> None:
    frame = pq.read_table(path).to_pandas()
    proba = [c for c in frame.columns if c.startswith("proba_")]
    meta = [c for c in frame.columns if c not in SKIP and c not in proba]
    categorical = [c for c in meta if frame[c].dtype == object or str(frame[c].dtype) in ("string", "category")]
    if proba:
        # Evidently matches probability columns to labels by name: name them by class.
        frame = frame.rename(columns={c: c[len("proba_"):] for c in proba})
        frame["label"] = frame["label"].astype(str)
        frame["pred"] = frame["pred"].astype(str)
        task = MulticlassClassification(target="label", prediction_labels="pred",
                                        prediction_probas=[c[len("proba_"):] for c in proba])
    else:
        task = BinaryClassification(target="label", prediction_probas="score", pos_label=1)
    definition = DataDefinition(classification=[task], categorical_columns=categorical,
                                numerical_columns=[c for c in meta if c not in categorical])
    reference = Dataset.from_pandas(frame[frame["split"] == "train"], data_definition=definition)
    current = Dataset.from_pandas(frame[frame["split"] == "test"], data_definition=definition)
    snapshot = Report([ClassificationPreset(), DataDriftPreset(columns=meta)]).run(current, reference)
    snapshot.save_html(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
