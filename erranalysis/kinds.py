"""The finding kinds: for each, what its problem is called, the report section that
shows its evidence, and what to try, most promising first.

Every :class:`~erranalysis.result.Finding` names one of these kinds; a new kind is one
entry here and the rule that raises it (in :mod:`erranalysis.findings`). The kinds and
their names are part of the JSON contract.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One kind of finding."""

    #: The kind's name in the JSON (``finding.kind``, ``next_steps[].problem``).
    name: str
    #: The id of the report section that shows the evidence behind it.
    section: str
    #: The problem as a step of the plan (the headline when it comes first).
    problem: str
    #: What to try, most promising first.
    actions: tuple[str, ...]


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind('data_quality', 'data-quality',
         'Fix the input data',
         (
             'Check that pred and the probabilities come from the same model, run and threshold.',
             'Re-export the predictions and re-run; fix the export before trusting any figure.',
             'For classes absent from train: add training examples or drop them from evaluation.',
         )),
    Kind('leakage', 'data-quality',
         'Remove leakage between splits',
         (
             'Remove examples shared between splits (by id, and look for near duplicates).',
             'Split by group (user, site, time) so related examples stay in one split.',
             'Re-measure every error once the splits are disjoint.',
         )),
    Kind('below_baseline', 'baselines',
         'Find the bug: the model does not beat a constant prediction',
         (
             'Check that labels and inputs line up (row order, joins, sorted file listings).',
             'Overfit a handful of examples; a model that cannot is wired wrongly.',
             'Check the loss and the label column the model was trained on.',
             'Compare with an input-independent model (all inputs zeroed): the real one must beat it.',
         )),
    Kind('threshold', 'threshold',
         'Fix the decision threshold',
         (
             'Move the decision threshold to the recommended value (chosen on val) and re-measure on test.',
             'Compare models with threshold-free metrics (ROC AUC, PR AUC) until the threshold is settled.',
             'If scores must be used as probabilities, rebalance or reweight the classes in training, then '
             'calibrate.',
         )),
    Kind('underfitting', 'terms',
         'Reduce underfitting (avoidable bias)',
         (
             'Make the model bigger: more capacity (more or wider layers, a larger backbone, deeper trees, '
             'more features per split).',
             'Reduce regularization: lower weight decay and dropout, weaken the augmentation.',
             'Do error analysis on the training errors: which classes and inputs the model cannot fit.',
             'Move to a stronger, more modern architecture for this kind of input (mind the new problems it '
             'brings).',
             'Tune the hyperparameters that matter most: learning rate and its schedule, then layer sizes.',
             'Add features or richer inputs that carry the signal the model is missing.',
         )),
    Kind('overfitting', 'terms',
         'Reduce overfitting (variance)',
         (
             'Add more training data; it is the most reliable regularizer.',
             'Normalize the inputs (feature scaling; batch or layer normalization in a network).',
             'Augment the training data.',
             'Regularize: weight decay, dropout, label smoothing.',
             'Do error analysis on the held-out errors the training set does not show.',
             'Choose an architecture that suits the data better.',
             'Tune hyperparameters, regularization strength first.',
             'Stop training early, at the best held-out epoch.',
             'Remove features that may carry spurious signal.',
             'As a last resort, make the model smaller.',
         )),
    Kind('distribution_shift', 'terms',
         'Close the distribution shift',
         (
             'Analyse the held-out errors that train_val does not have: what differs in those inputs?',
             'Collect, or synthesize, training data that looks like val/test.',
             'Adapt to the target domain, e.g. fine-tune a pretrained model on data from it.',
         )),
    Kind('val_overfitting', 'terms',
         'Get a fresh validation set',
         (
             'Check that no val rows reached training (a refit on train + val, a shared id) and that val and '
             'test are drawn the same way.',
             'If val chose the model, its hyperparameters or its threshold, it has become optimistic: make '
             'those choices on a larger or fresh validation set, or by cross-validation.',
             'Re-measure on test only once those choices are final.',
         )),
    Kind('confused_pair', 'confusion',
         'Resolve the most confused classes',
         (
             'Look at examples of the pair side by side; decide whether the labels are right.',
             'If the classes are ambiguous, tighten the labelling guideline and relabel, or merge the two '
             'classes.',
             'If the labels are right, collect more examples near the boundary between the two classes.',
             'Add features or inputs that tell the two classes apart.',
         )),
    Kind('never_predicted', 'per-class',
         'Make the model predict every class',
         (
             'Check that these classes have enough training examples, and that their labels are right.',
             'Weight or resample the classes in training.',
             'Lower the per-class threshold for these classes (see the threshold sweep).',
         )),
    Kind('class_imbalance', 'class-balance',
         'Deal with the class imbalance',
         (
             'Weight the loss by class or resample so the rare classes count in training.',
             'Judge the model by per-class recall or balanced error (--metric balanced_error), not accuracy '
             'alone.',
             'Tune per-class thresholds on val.',
             'Collect more examples of the rare classes.',
         )),
    Kind('label_shift', 'class-balance',
         'Align class frequencies across splits',
         (
             'Check how the splits were drawn: random splits keep the class frequencies, so a difference '
             'points to a split by time, source or filter.',
             'If the later splits show the frequencies of deployment, reweight training to them or adjust the '
             'predicted probabilities to the new priors (prior-shift correction).',
         )),
    Kind('poor_calibration', 'calibration',
         'Calibrate the probabilities',
         (
             "Fit temperature scaling or isotonic regression on a held-out split (scikit-learn's "
             'CalibratedClassifierCV).',
             'Read the reliability diagram: points below the diagonal mean overconfidence (common after '
             'overfitting), above it underconfidence (common with averaged ensembles such as random forests).',
             'Do not pick thresholds on raw probabilities before calibrating them.',
         )),
    Kind('insufficient_data', 'errors',
         'Collect more evaluation rows',
         (
             'Collect more labelled rows in the splits this term compares before acting on it.',
             'Meanwhile act on the terms that are material.',
         )),
    Kind('weak_slice', 'slices',
         'Fix the weakest slice',
         (
             'Look at the errors of this slice by hand: what do its inputs have in common?',
             'Collect or label more training data from this slice.',
             'Check whether the slice is labelled or pre-processed differently from the rest.',
             'Add features that describe what sets the slice apart, or weight it more in training.',
         )),
    Kind('label_errors', 'examples',
         'Review the likely mislabelled rows',
         (
             'Review the listed rows (highest confidence first) and fix the labels that are wrong.',
             'If many are wrong, audit the labelling guideline and the annotators for those classes.',
             'Re-train on the corrected labels and re-measure; noisy labels also inflate the measured error.',
         )),
    Kind('loss_exploding', 'training-history',
         'Stabilise training: the loss exploded',
         (
             'Look for anomalous inputs in the batches around the blow-up: NaNs, huge values, division by '
             'zero, log of zero.',
             'Lower the learning rate (try a factor of 10), or add warm-up.',
             'Clip the gradient norm.',
             'Shuffle the data so that outliers spread across batches.',
         )),
    Kind('loss_oscillating', 'training-history',
         'Make training converge: the loss oscillates',
         (
             'Lower the learning rate.',
             'Check that the features can predict the labels: train on a handful of examples until the loss is'
             ' near zero.',
             'Simplify the model until it beats a simple baseline, then add complexity back one piece at a '
             'time.',
             'Check the data pipeline for shuffled or misaligned labels.',
         )),
    Kind('loss_not_decreasing', 'training-history',
         'Make the model learn: the loss does not fall',
         (
             'Overfit a handful of examples: if even that fails, the model, the loss or the labels are wired '
             'wrongly.',
             'Check that the optimiser updates the weights (learning rate not zero or tiny, parameters not '
             'frozen).',
             'Try learning rates a factor of 10 apart.',
             'Check that inputs and labels line up and that the features can predict the labels.',
         )),
    Kind('loss_initial', 'training-history',
         'Check the initial loss',
         (
             'Check the output layer: with K classes and an unbiased start the loss should begin near ln(K).',
             "Initialise the last layer's bias to the class log-frequencies, and its weights small.",
             'Check that the loss takes logits or probabilities as the model produces them, not both.',
         )),
    Kind('loss_still_decreasing', 'training-history',
         'Train longer',
         (
             'Train longer, until train and val loss both flatten.',
             'If time is short, raise the learning rate a little or use a schedule that decays later.',
         )),
    Kind('loss_plateau', 'training-history',
         'Shuffle the training data',
         (
             'Shuffle the training data every epoch: repeated steps point to a data order that repeats.',
             'Check the learning-rate schedule: scheduled drops also look like steps.',
             'Look for batches sorted by class or source.',
         )),
    Kind('reference_model', 'references',
         'Try another model family',
         (
             'Try the family of the better reference model, and tune it before comparing again.',
             'Keep the features and the splits as they are: the comparison held them fixed, so the family is '
             'what made the difference.',
             'If the model must stay in its family, give it what the reference exploits: interactions and '
             'non-linear effects (when trees win over a linear model), many weak, smooth signals (when a '
             'linear model wins over trees).',
         )),
    Kind('loss_overfitting', 'training-history',
         'Stop at the best checkpoint and regularise',
         (
             'Keep the best checkpoint (early stopping at the lowest val loss).',
             'Add more training data or augmentation.',
             'Regularise: weight decay, dropout; or reduce model capacity.',
             'Check that the train and val splits come from the same distribution.',
         )),
)}

#: The model families advice can be fitted to (``analyze(model_family=...)``,
#: ``--model-family``; :func:`erranalysis.from_estimator` tells it from the estimator).
MODEL_FAMILIES = ("tree", "linear", "neural", "other")

#: What to try for a kind when the model's family is known, most promising first: the
#: knobs that family has, in place of the generic list (which names those of several
#: families). Kinds absent here keep their generic actions for every family.
FAMILY_ACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "tree": {
        "underfitting": (
            'Let the trees fit more: deeper trees (max_depth), more leaves (max_leaf_nodes; num_leaves in '
            'LightGBM, max_leaves in XGBoost), fewer rows per leaf (min_samples_leaf; min_child_samples in '
            'LightGBM, min_child_weight in XGBoost).',
            'Boosting: more trees (n_estimators, max_iter) at a learning rate that still improves the train '
            'error. A random forest gains no fit from more trees: grow them deeper instead.',
            'Loosen the regularisation: lower l2_regularization / reg_lambda and min_split_gain / gamma, and '
            'let each split see more features (max_features; colsample_bynode in XGBoost, '
            'feature_fraction_bynode in LightGBM, towards 1).',
            'Do error analysis on the training errors: which classes and inputs the model cannot fit.',
            'Add features that carry the missing signal: ratios, differences and aggregates that splits on one '
            'feature at a time cannot build.',
            'A single decision tree or a random forest: try gradient-boosted trees.',
        ),
        "overfitting": (
            'Add more training data; it is the most reliable regularizer.',
            'Constrain the trees: shallower (max_depth), fewer leaves, more rows per leaf (min_samples_leaf; '
            'min_child_samples in LightGBM, min_child_weight in XGBoost).',
            'Boosting: stop early on a held-out part of the training data (early_stopping, '
            'early_stopping_rounds), or use a smaller learning rate; subsample rows (subsample; in LightGBM '
            'with subsample_freq of 1 or more) and features (colsample_bytree, max_features).',
            'Regularise the leaves: l2_regularization / reg_lambda, min_split_gain / gamma.',
            'Do error analysis on the held-out errors the training set does not show.',
            'Remove features that let trees memorise rows: identifiers, fine timestamps, high-cardinality codes.',
            'A random forest: more trees lower the variance; a single decision tree: move to a forest or '
            'boosting.',
        ),
        "loss_overfitting": (
            'Keep the best iteration: early stopping at the lowest val loss (early_stopping_rounds, '
            'n_iter_no_change).',
            'Use a smaller learning rate with more trees, and subsample rows and features.',
            'Constrain the trees: shallower, fewer leaves, more rows per leaf.',
            'Check that the train and val splits come from the same distribution.',
        ),
    },
    "linear": {
        "underfitting": (
            'Give the model features it can combine linearly: interactions, splines or polynomial terms of the '
            'numeric inputs, one-hot or binned encodings.',
            'Weaken the regularisation: raise C (LogisticRegression, LinearSVC) or lower alpha '
            '(SGDClassifier, RidgeClassifier).',
            'Scale the inputs (StandardScaler) and check that the solver converged (raise max_iter if it '
            'warned).',
            'Do error analysis on the training errors: which classes and inputs the model cannot fit.',
            'If the classes are not separable by a linear boundary in these features, move to a non-linear '
            'family: gradient-boosted trees for tabular data, a network for images, text or audio.',
        ),
        "overfitting": (
            'Add more training data; it is the most reliable regularizer.',
            'Regularise more: lower C (LogisticRegression, LinearSVC) or raise alpha (SGDClassifier, '
            'RidgeClassifier); an L1 penalty (l1_ratio=1 with the saga solver) drops the features that do not '
            'help.',
            'Remove features that may carry spurious signal, and one-hot columns of rare categories.',
            'Scale the inputs, so that one regularisation strength suits every feature.',
            'Do error analysis on the held-out errors the training set does not show.',
        ),
    },
    "neural": {
        "underfitting": (
            'Make the network bigger: more or wider layers, a larger backbone.',
            'Reduce regularization: lower weight decay and dropout, weaken the augmentation.',
            'Train longer, and tune the learning rate and its schedule first, then layer sizes.',
            'Do error analysis on the training errors: which classes and inputs the model cannot fit.',
            'Move to a stronger, more modern architecture for this kind of input (mind the new problems it '
            'brings).',
            'Add inputs that carry the signal the model is missing.',
        ),
        "overfitting": (
            'Add more training data; it is the most reliable regularizer.',
            'Augment the training data.',
            'Regularize: weight decay, dropout, label smoothing.',
            'Normalize the inputs, and use batch or layer normalization.',
            'Stop training early, at the best held-out epoch.',
            'Do error analysis on the held-out errors the training set does not show.',
            'Choose an architecture that suits the data better, or a pretrained one.',
            'As a last resort, make the network smaller.',
        ),
    },
    "other": {
        "underfitting": (
            'Make the model more flexible with its own capacity setting: fewer neighbours (k-nearest '
            'neighbours), a larger C or gamma (kernel SVM), less smoothing (naive Bayes var_smoothing, alpha).',
            'Do error analysis on the training errors: which classes and inputs the model cannot fit.',
            'Add features that carry the signal the model is missing, and scale them where distances matter.',
            'Try a stronger family for this kind of data: gradient-boosted trees for tabular data, a network '
            'for images, text or audio.',
        ),
        "overfitting": (
            'Add more training data; it is the most reliable regularizer.',
            'Make the model smoother with its own capacity setting: more neighbours (k-nearest neighbours), a '
            'smaller C or gamma (kernel SVM).',
            'Remove features that may carry spurious signal; with distance-based models, scale the rest.',
            'Do error analysis on the held-out errors the training set does not show.',
            'Try a family that regularises well on this data: gradient-boosted trees with early stopping for '
            'tabular data.',
        ),
    },
}
