"""Migration tables: tensorflow-addons, Keras, PyTorch, MONAI, pytorch-metric-learning, optax
and TensorFlow losses mapped to kloss, one row per loss.

Every row is data that tests/test_migration.py evaluates. A row's `source` and `kloss` are
Python expressions, printed in the page as they are: the test evaluates `source` with the
source library on seeded inputs (the names in the expression bound to that library's
tensors), `kloss` with kloss on the same inputs as NumPy arrays, and asserts
`kloss == relation` (an expression of `source`, the source library's value). Rows whose
library is not installable (tensorflow-addons, torchvision, TF-GAN) carry no expression
check; they name the tests that pin the relation against that library's formulas,
re-implemented in the tests, and the test module checks those tests exist.

`write(out_dir)` renders `migration.md`.
"""

import dataclasses
import pathlib

import numpy as np

__all__ = ["ROWS", "KERAS_DIFFERENCES", "SECTIONS", "Row", "KerasDifference", "write"]


@dataclasses.dataclass(frozen=True)
class Row:
    """One source loss and its kloss equivalent.

    Attributes:
        id: a unique id (the test id).
        section: a key of `SECTIONS`.
        source: the source API call, a Python expression when `inputs` is set.
        kloss: the kloss call, a Python expression when `inputs` is set.
        relation: `"source"` when the two are equal, else an expression of `source` (the
            source value) and the row's parameters that equals the kloss value.
        note: the conventions that differ, and where the relation holds.
        inputs: the name of an input builder (`_BUILDERS`); None for rows checked elsewhere.
        params: the symbols of the expressions and the values the test uses.
        lib: how the source namespace holds the arrays: "torch", "jax", "tf" or "numpy".
        requires: modules the check needs (skipped when one is missing).
        pinned: other tests that pin the relation, `tests/test_x.py::test_name`.
        tol: the tolerance of the check (float32's by default) and its reason.
        skip_backends: Keras backends where the source cannot run, with the reason.
    """

    id: str
    section: str
    source: str
    kloss: str
    relation: str = "source"
    note: str = ""
    inputs: str | None = None
    params: dict = dataclasses.field(default_factory=dict)
    lib: str = "numpy"
    requires: tuple = ()
    pinned: tuple = ()
    tol: dict | None = None
    skip_backends: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class KerasDifference:
    """A Keras behaviour that kloss does not share, with a check of both sides.

    `keras` and `kloss` are expressions over the inputs of `inputs`; `keras_expect` and
    `kloss_expect` are expressions of `value` that must be true. `keras_backends` lists the
    backends where the Keras behaviour holds (it is checked there only).
    """

    id: str
    keras_text: str
    kloss_text: str
    inputs: str
    keras: str
    keras_expect: str
    kloss: str
    kloss_expect: str
    keras_backends: tuple = ("tensorflow", "jax", "torch", "numpy")
    pinned: tuple = ()


F32 = dict(rtol=1e-5, atol=1e-6)

SECTIONS = {
    "tfa": (
        "tensorflow-addons → kloss",
        "tensorflow-addons is end-of-life and does not install with current TensorFlow, so "
        "these rows are **not** checked against tensorflow-addons itself: each is verified "
        "against tensorflow-addons' formulas re-implemented (in NumPy, from its source) in the "
        "named tests. tensorflow-addons' losses take `(y_true, y_pred)` like kloss.",
    ),
    "keras": (
        "keras.losses → kloss",
        "Same argument order `(y_true, y_pred)`, same reductions. Each row is evaluated "
        "on the backend the tests run on. The table after it lists where Keras 3.15 "
        "behaves differently and kloss does not.",
    ),
    "torch": (
        "torch.nn / torch.nn.functional → kloss",
        "torch takes `(input, target)`; kloss takes `(y_true, y_pred)`, i.e. "
        "`(target, input)`. torch's `reduction=\"mean\"` is kloss's default "
        '`"sum_over_batch_size"`; `"sum"` and `"none"` keep their names. The '
        "`torch.nn.XLoss` classes are the same as the functions.",
    ),
    "monai": (
        "MONAI → kloss",
        "MONAI is channels-first, `(B, C, H, W)`, with labels `(B, 1, H, W)`: pass "
        '`data_format="channels_first"` (kloss defaults to '
        "`keras.config.image_data_format()`, channels-last unless set). MONAI's "
        '`reduction="none"` keeps one value per image and class: kloss averages over '
        "classes, one value per image.",
    ),
    "pml": (
        "pytorch-metric-learning → kloss",
        "pytorch-metric-learning takes `(embeddings, labels)`; kloss takes "
        "`(labels, embeddings)`. Its default distances normalize the embeddings and its "
        "default reducers average over non-zero losses: the rows name the distance and "
        "reducer that match.",
    ),
    "optax": (
        "optax → kloss",
        "optax takes `(predictions, targets)` and returns elementwise values: kloss "
        'averages over the last axis per sample (`reduction="none"`), or over the batch '
        "too (the default).",
    ),
    "tensorflow": (
        "TensorFlow (tf.image, tf.nn) and TF-GAN → kloss",
        "TF-GAN is not installed: its rows are verified against its formulas re-implemented "
        "in the named tests.",
    ),
}

_T = "torch"
_MON = ("torch", "monai")
_PML = ("torch", "pytorch_metric_learning")
_OPTAX = ("jax", "optax")
_TF = ("tensorflow",)

_NO_KERAS_CTC = {"numpy": "keras.losses.CTC is not implemented on the numpy backend"}

# The seg. losses' expression over channels-first MONAI inputs.
_CF = 'data_format="channels_first"'


def _r(section, id, source, kloss, relation="source", **kw):
    return Row(id=id, section=section, source=source, kloss=kloss, relation=relation, **kw)


ROWS = [
    # ------------------------------------------------------------------ tensorflow-addons
    _r(
        "tfa",
        "tfa-pinball",
        "tfa.losses.PinballLoss(tau=q)",
        "kloss.Pinball(quantile=q)",
        note="The gradient at a zero error is 0 in kloss (tfa: `-q`).",
        pinned=(
            "tests/test_regression.py::test_pinball_definition_and_tfa_conventions",
            "tests/test_regression.py::test_pinball_gradient_at_zero_error_is_zero",
        ),
    ),
    _r(
        "tfa",
        "tfa-contrastive",
        "tfa.losses.ContrastiveLoss(margin=m)",
        "kloss.Contrastive(margin=m)",
        "source / 2",
        note="kloss keeps the paper's factor 1/2. Same label convention (1 = similar pair) "
        "and `y_pred` is the pair distance in both.",
        pinned=("tests/test_ranking.py::test_contrastive_is_half_of_tensorflow_addons",),
    ),
    _r(
        "tfa",
        "tfa-semihard",
        "tfa.losses.TripletSemiHardLoss(margin=m)",
        'kloss.TripletSemiHard(margin=m, distance="euclidean")',
        note='tfa >= 0.11 defaults to `distance_metric="L2"` (Euclidean); kloss defaults to '
        "the squared distance. Differs where no triplet exists: a batch without a positive "
        "pair (tfa NaN, kloss 0) or of one class (tfa `mean(d(a, p) + m)`, kloss 0).",
        pinned=(
            "tests/test_mining.py::test_triplet_semi_hard_equals_tfa",
            "tests/test_mining.py::test_triplet_semi_hard_differs_from_tfa_only_without_triplets",
        ),
    ),
    _r(
        "tfa",
        "tfa-semihard-squared",
        'tfa.losses.TripletSemiHardLoss(margin=m, distance_metric="squared-L2")',
        "kloss.TripletSemiHard(margin=m)",
        note='tfa 0.10 called this distance `"L_2"` (its default then).',
        pinned=("tests/test_mining.py::test_triplet_semi_hard_equals_tfa",),
    ),
    _r(
        "tfa",
        "tfa-semihard-angular",
        'tfa.losses.TripletSemiHardLoss(margin=m, distance_metric="angular")',
        'kloss.TripletSemiHard(margin=m, distance="cosine")',
        note="`1 - cos(a, b)`.",
        pinned=("tests/test_mining.py::test_triplet_semi_hard_equals_tfa",),
    ),
    _r(
        "tfa",
        "tfa-hard",
        "tfa.losses.TripletHardLoss(margin=m, soft=s)",
        'kloss.TripletHard(margin=m, soft=s, distance="euclidean")',
        note="Where every anchor has a positive and a negative; tfa counts an anchor "
        "without a positive with distance 0 (`margin` per anchor for one class), kloss "
        "gives 0 there.",
        pinned=(
            "tests/test_mining.py::test_triplet_hard_equals_tfa_where_every_anchor_has_a_triplet",
            "tests/test_mining.py::test_triplet_hard_pins_the_tfa_difference_for_anchors_without_a_triplet",
        ),
    ),
    _r(
        "tfa",
        "tfa-lifted",
        "tfa.losses.LiftedStructLoss(margin=m)",
        "kloss.LiftedStructure(margin=m)",
        note="tfa gives NaN for a batch without a positive pair and once negatives are "
        "farther than about 88; kloss is finite there.",
        pinned=("tests/test_mining.py::test_lifted_structure_equals_tfa",),
    ),
    _r(
        "tfa",
        "tfa-npairs",
        "tfa.losses.npairs_loss(anchor_labels, anchors @ positives.T)",
        "kloss.NPairs()(labels, embeddings)",
        note="tfa takes the (N, N) similarity matrix of mined pairs; kloss mines the pairs "
        "(each class's first and second row) from labels and embeddings.",
        pinned=(
            "tests/test_mining.py::test_npairs_equals_tfa_on_the_mined_pairs",
            "tests/test_mining.py::test_npairs_pairs_are_each_class_first_and_second_row",
        ),
    ),
    _r(
        "tfa",
        "tfa-kappa",
        "tfa.losses.WeightedKappaLoss(num_classes)",
        "no counterpart",
        relation="",
    ),
    _r(
        "tfa",
        "tfa-npairs-multilabel",
        "tfa.losses.npairs_multilabel_loss",
        "no counterpart",
        relation="",
    ),
    # ------------------------------------------------------------------ keras.losses
    _r(
        "keras",
        "keras-mse",
        "keras.losses.MeanSquaredError()(y_true, y_pred)",
        "kloss.MeanSquaredError()(y_true, y_pred)",
        inputs="pair",
        pinned=("tests/test_regression.py::test_matches_keras_on_ordinary_inputs",),
    ),
    _r(
        "keras",
        "keras-mae",
        "keras.losses.MeanAbsoluteError()(y_true, y_pred)",
        "kloss.MeanAbsoluteError()(y_true, y_pred)",
        inputs="pair",
        pinned=("tests/test_regression.py::test_matches_keras_on_ordinary_inputs",),
    ),
    _r(
        "keras",
        "keras-huber",
        "keras.losses.Huber(delta=d)(y_true, y_pred)",
        "kloss.Huber(delta=d)(y_true, y_pred)",
        note="Keras 3.15 drops `delta` from `get_config()` (see below).",
        inputs="pair",
        params={"d": 0.7},
        pinned=("tests/test_regression.py::test_matches_keras_on_ordinary_inputs",),
    ),
    _r(
        "keras",
        "keras-logcosh",
        "keras.losses.LogCosh()(y_true, y_pred)",
        "kloss.LogCosh()(y_true, y_pred)",
        inputs="pair",
        pinned=("tests/test_regression.py::test_matches_keras_on_ordinary_inputs",),
    ),
    _r(
        "keras",
        "keras-cosine",
        "keras.losses.CosineSimilarity(axis=-1)(y_true, y_pred)",
        "kloss.CosineProximity(axis=-1)(y_true, y_pred)",
        note="Renamed. Keras gives 0 for vectors of norm 1e20 and drops `axis` from "
        "`get_config()` (see below).",
        inputs="pair",
        pinned=("tests/test_regression.py::test_matches_keras_on_ordinary_inputs",),
    ),
    _r(
        "keras",
        "keras-poisson",
        "keras.losses.Poisson()(y_true, y_pred)",
        "kloss.Poisson()(y_true, y_pred)",
        note="`y_pred` is the rate (the Keras convention, kloss's default).",
        inputs="counts_rate",
        pinned=("tests/test_regression.py::test_poisson_matches_keras",),
    ),
    _r(
        "keras",
        "keras-bce-logits",
        "keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=s)(y_true, y_pred)",
        "kloss.BinaryCrossentropy(from_logits=True, label_smoothing=s)(y_true, y_pred)",
        note="kloss also takes torch's `pos_weight`. Keras gives NaN for an infinite logit "
        "on the correct side (see below).",
        inputs="binary_logits",
        params={"s": 0.1},
        pinned=("tests/test_classification.py::test_keras_relations",),
    ),
    _r(
        "keras",
        "keras-bce-probs",
        "keras.losses.BinaryCrossentropy(label_smoothing=s)(y_true, y_pred)",
        "kloss.BinaryCrossentropy(label_smoothing=s)(y_true, y_pred)",
        note="From probabilities. Keras's TensorFlow backend recovers logits from a sigmoid "
        "output (see below).",
        inputs="binary_probs",
        params={"s": 0.2},
        pinned=("tests/test_classification.py::test_keras_relations",),
    ),
    _r(
        "keras",
        "keras-cce",
        "keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=s)(y_true, y_pred)",
        "kloss.CategoricalCrossentropy(from_logits=True, label_smoothing=s)(y_true, y_pred)",
        note="kloss adds `class_weights`. Keras gives NaN for a `-inf` logit (see below).",
        inputs="class_onehot",
        params={"s": 0.1},
        pinned=("tests/test_classification.py::test_keras_relations",),
    ),
    _r(
        "keras",
        "keras-scce",
        "keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y_true, y_pred)",
        "kloss.SparseCategoricalCrossentropy(from_logits=True)(y_true, y_pred)",
        note="kloss keeps integer labels in 16-bit dtypes (see below).",
        inputs="class_labels",
        pinned=("tests/test_classification.py::test_keras_relations",),
    ),
    _r(
        "keras",
        "keras-kld",
        "keras.losses.KLDivergence()(y_true, y_pred)",
        "kloss.KLDivergence()(y_true, y_pred)",
        note="For targets >= 1e-7: Keras clips `y_true` to `[1e-7, 1]` (a zero target "
        "adds `1e-7 log(1e-7 / q)`); kloss uses it as given.",
        inputs="class_soft_probs",
    ),
    _r(
        "keras",
        "keras-hinge",
        "keras.losses.Hinge()(y_true, y_pred)",
        "kloss.Hinge()(y_true, y_pred)",
        note="Labels in {0, 1} or {-1, 1} in both.",
        inputs="binary_hard_logits",
        pinned=("tests/test_classification.py::test_keras_relations",),
    ),
    _r(
        "keras",
        "keras-squared-hinge",
        "keras.losses.SquaredHinge()(y_true, y_pred)",
        "kloss.SquaredHinge()(y_true, y_pred)",
        inputs="pm1_logits",
        pinned=("tests/test_classification.py::test_keras_relations",),
    ),
    _r(
        "keras",
        "keras-categorical-hinge",
        "keras.losses.CategoricalHinge()(y_true, y_pred)",
        "kloss.CategoricalHinge()(y_true, y_pred)",
        note="Where some wrong score is >= 0. Keras's max runs over the wrong scores "
        "and 0, so where every wrong score is negative it differs; kloss is "
        "Crammer-Singer's hinge (optax's).",
        inputs="positive_scores",
        pinned=(
            "tests/test_classification.py::test_categorical_hinge_where_every_wrong_score_is_negative",
        ),
    ),
    _r(
        "keras",
        "keras-binary-focal",
        "keras.losses.BinaryFocalCrossentropy(gamma=g, from_logits=True)(y_true, y_pred)",
        "kloss.BinaryFocalCrossentropy(alpha=None, gamma=g, from_logits=True)(y_true, y_pred)",
        note="kloss's default `alpha=0.25` is always applied; Keras's only with "
        "`apply_class_balancing=True`.",
        inputs="binary_hard_logits",
        params={"g": 2.0},
        pinned=("tests/test_classification.py::test_keras_relations",),
    ),
    _r(
        "keras",
        "keras-binary-focal-balanced",
        "keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=a, gamma=g, "
        "from_logits=True)(y_true, y_pred)",
        "kloss.BinaryFocalCrossentropy(alpha=a, gamma=g, from_logits=True)(y_true, y_pred)",
        note="Keras saturates for large logits on JAX, torch and NumPy (see below).",
        inputs="binary_hard_logits",
        params={"a": 0.4, "g": 2.0},
        pinned=("tests/test_classification.py::test_keras_relations",),
    ),
    _r(
        "keras",
        "keras-categorical-focal",
        "keras.losses.CategoricalFocalCrossentropy(gamma=g, from_logits=True)(y_true, y_pred)",
        "kloss.CategoricalFocalCrossentropy(alpha=0.25, gamma=g, from_logits=True)(y_true, y_pred)",
        note="Keras applies `alpha=0.25` by default; kloss's default is `alpha=None`.",
        inputs="class_onehot",
        params={"g": 2.0},
        pinned=("tests/test_classification.py::test_keras_relations",),
    ),
    _r(
        "keras",
        "keras-dice-per-image",
        "keras.losses.Dice(axis=(1, 2, 3))(y_true, y_pred)",
        'kloss.Dice(mode="binary", smooth=0.0)(y_true, y_pred)',
        note="Hard masks `(B, H, W, 1)`; up to Keras's 1e-7 in the denominator. An empty "
        "mask predicted empty scores 1.0 in Keras, 0 in kloss (see below).",
        inputs="binary_masks",
        pinned=(
            "tests/test_segmentation.py::test_keras_dice_scores_an_empty_mask_predicted_empty_as_worst",
        ),
    ),
    _r(
        "keras",
        "keras-dice-batch",
        "keras.losses.Dice()(y_true, y_pred)",
        'kloss.Dice(mode="binary", per_image=False, smooth=0.0)(y_true, y_pred)',
        note="Keras's default `axis=None` sums over the whole batch.",
        inputs="binary_masks",
    ),
    _r(
        "keras",
        "keras-tversky",
        "keras.losses.Tversky(alpha=a, beta=b)(y_true, y_pred)",
        'kloss.Tversky(alpha=b, beta=a, mode="binary", per_image=False, smooth=0.0)'
        "(y_true, y_pred)",
        note="`alpha` and `beta` swap: Keras 3.15 weights false negatives by `alpha`, kloss "
        "(the paper) false positives.",
        inputs="binary_masks",
        params={"a": 0.8, "b": 0.2},
        pinned=("tests/test_segmentation.py::test_keras_tversky_has_alpha_and_beta_swapped",),
    ),
    _r(
        "keras",
        "keras-ctc",
        "keras.losses.CTC()(y_true, y_pred)",
        "kloss.CTC(pad_value=0)(y_true, y_pred)",
        note="Keras pads labels with its blank 0; kloss's default padding is -1 (so class 0 "
        "can be a label). Keras's value depends on the backend for large logits and "
        "infeasible labels (see below).",
        inputs="ctc_keras",
        skip_backends=_NO_KERAS_CTC,
        pinned=("tests/test_sequence.py::test_pad_value_equal_to_blank_is_keras_convention",),
    ),
    _r("keras", "keras-msle", "keras.losses.MeanSquaredLogarithmicError()", "no counterpart", ""),
    _r("keras", "keras-mape", "keras.losses.MeanAbsolutePercentageError()", "no counterpart", ""),
    _r("keras", "keras-circle", "keras.losses.Circle()", "no counterpart", ""),
    _r(
        "keras",
        "keras-gce",
        "keras.losses.CategoricalGeneralizedCrossEntropy()",
        "no counterpart",
        "",
    ),
    # ------------------------------------------------------------------ torch
    _r(
        "torch",
        "torch-mse",
        "F.mse_loss(input, target)",
        "kloss.MeanSquaredError()(target, input)",
        inputs="pair",
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_regression.py::test_mse_mae_huber_match_torch",),
    ),
    _r(
        "torch",
        "torch-l1",
        "F.l1_loss(input, target)",
        "kloss.MeanAbsoluteError()(target, input)",
        inputs="pair",
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_regression.py::test_mse_mae_huber_match_torch",),
    ),
    _r(
        "torch",
        "torch-huber",
        "F.huber_loss(input, target, delta=d)",
        "kloss.Huber(delta=d)(target, input)",
        inputs="pair",
        params={"d": 0.7},
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_regression.py::test_mse_mae_huber_match_torch",),
    ),
    _r(
        "torch",
        "torch-smooth-l1",
        "F.smooth_l1_loss(input, target, beta=b)",
        "kloss.Huber(delta=b)(target, input)",
        "b * source",
        note="`smooth_l1_loss(beta=b)` is `huber(delta=b) / b`.",
        inputs="pair",
        params={"b": 0.7},
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_regression.py::test_mse_mae_huber_match_torch",),
    ),
    _r(
        "torch",
        "torch-poisson-log",
        "F.poisson_nll_loss(input, target)",
        "kloss.Poisson(log_input=True)(target, input)",
        note="torch defaults to `log_input=True` (log-rates), kloss to `False` (rates, "
        "Keras's convention). `full=True` (Stirling's term) has no counterpart.",
        inputs="counts_log_rate",
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_regression.py::test_poisson_matches_torch_with_exact_relation",),
    ),
    _r(
        "torch",
        "torch-poisson-rate",
        "F.poisson_nll_loss(input, target, log_input=False, eps=1e-8)",
        "kloss.Poisson(epsilon=1e-8)(target, input)",
        note="kloss's default `epsilon` is `keras.config.epsilon()` (1e-7).",
        inputs="counts_rate",
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_regression.py::test_poisson_matches_torch_with_exact_relation",),
    ),
    _r(
        "torch",
        "torch-cosine",
        "F.cosine_similarity(input, target, dim=-1)",
        'kloss.CosineProximity(reduction="none")(target, input)',
        "-source",
        note="A loss: the negative cosine.",
        inputs="pair",
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_regression.py::test_cosine_proximity_matches_torch",),
    ),
    _r(
        "torch",
        "torch-bce-logits",
        "F.binary_cross_entropy_with_logits(input, target, pos_weight=w)",
        "kloss.BinaryCrossentropy(from_logits=True, pos_weight=w)(target, input)",
        note="`pos_weight`: one per output (the last axis) or a number.",
        inputs="binary_logits",
        params={"w": [0.5, 1.0, 2.0, 4.0, 1.5]},
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_classification.py::test_binary_crossentropy_matches_torch",),
    ),
    _r(
        "torch",
        "torch-bce",
        "F.binary_cross_entropy(input, target)",
        "kloss.BinaryCrossentropy()(target, input)",
        note="torch clamps `log(p)` at -100, kloss clips `p` to `[1e-7, 1 - 1e-7]`: they "
        "differ for `p < 1e-7` only.",
        inputs="binary_probs",
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_classification.py::test_binary_crossentropy_matches_torch",),
    ),
    _r(
        "torch",
        "torch-soft-margin",
        "F.soft_margin_loss(input, target)",
        "kloss.BinaryCrossentropy(from_logits=True)((target + 1) / 2, input)",
        note="Labels in {-1, 1} become {0, 1}.",
        inputs="pm1_logits",
        lib=_T,
        requires=(_T,),
    ),
    _r(
        "torch",
        "torch-multilabel-soft-margin",
        "F.multilabel_soft_margin_loss(input, target)",
        "kloss.BinaryCrossentropy(from_logits=True)(target, input)",
        inputs="binary_hard_logits",
        lib=_T,
        requires=(_T,),
    ),
    _r(
        "torch",
        "torch-ce-probs",
        "F.cross_entropy(input, target, weight=w, label_smoothing=s)",
        "kloss.CategoricalCrossentropy(from_logits=True, class_weights=w, label_smoothing=s)"
        "(target, input)",
        note="Probability (or one-hot) targets `(B, C)`.",
        inputs="class_soft",
        params={"w": [1.0, 2.0, 0.5, 0.0, 3.0], "s": 0.2},
        lib=_T,
        requires=(_T,),
        pinned=(
            "tests/test_classification.py::test_categorical_crossentropy_matches_torch_probability_targets",
        ),
    ),
    _r(
        "torch",
        "torch-ce-index",
        "F.cross_entropy(input, target, weight=w, ignore_index=i, label_smoothing=s)",
        "kloss.SparseCategoricalCrossentropy(from_logits=True, axis=1, class_weights=w, "
        "ignore_index=i, label_smoothing=s)(target, input)",
        note="Class indices; `input` channels-first `(B, C, H, W)`, hence `axis=1` (default "
        "-1, channels-last). kloss's default reduction is torch's weighted mean over valid "
        "entries; a batch with no valid entry gives 0 (torch NaN).",
        inputs="seg_cf",
        params={"w": [1.0, 2.0, 0.5, 3.0], "i": 255, "s": 0.1},
        lib=_T,
        requires=(_T,),
        pinned=(
            "tests/test_classification.py::test_sparse_crossentropy_matches_torch_every_reduction",
        ),
    ),
    _r(
        "torch",
        "torch-ce-none",
        'F.cross_entropy(input, target, reduction="none")',
        'kloss.SparseCategoricalCrossentropy(from_logits=True, axis=1, reduction="none")'
        "(target, input)",
        note='Per-entry values `(B, H, W)`; `"sum"` maps to `"sum"` too.',
        inputs="seg_cf",
        lib=_T,
        requires=(_T,),
        pinned=(
            "tests/test_classification.py::test_sparse_crossentropy_matches_torch_every_reduction",
        ),
    ),
    _r(
        "torch",
        "torch-ce-pixelwise",
        "F.cross_entropy(input, target, weight=w, ignore_index=i)",
        f"kloss.PixelwiseCrossentropy(from_logits=True, class_weights=w, ignore_index=i, {_CF})"
        "(target, input)",
        note='The segmentation form: one value per image (`reduction="none"`), the same '
        "batch value as torch by default.",
        inputs="seg_cf",
        params={"w": [1.0, 2.0, 0.5, 3.0], "i": 255},
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_segmentation.py::test_pixelwise_crossentropy_matches_torch",),
    ),
    _r(
        "torch",
        "torch-nll",
        "F.nll_loss(input, target)",
        "kloss.SparseCategoricalCrossentropy(from_logits=True)(target, input)",
        note="`input` holds log-probabilities; their log-softmax is themselves.",
        inputs="class_log_probs",
        lib=_T,
        requires=(_T,),
    ),
    _r(
        "torch",
        "torch-kl-div",
        'F.kl_div(F.log_softmax(input, dim=-1), target, reduction="batchmean")',
        "kloss.KLDivergence(from_logits=True)(target, input)",
        note="torch takes `log q` first and sums per sample with `batchmean` (kloss's "
        'default); its default `"mean"` divides by the element count instead.',
        inputs="class_soft",
        lib=_T,
        requires=(_T,),
        pinned=(
            "tests/test_classification.py::test_kl_divergence_matches_torch_both_target_forms",
        ),
    ),
    _r(
        "torch",
        "torch-multi-margin",
        'F.multi_margin_loss(input, target, reduction="none")',
        "kloss.categorical_hinge(onehot, input)",
        "2 * source",
        note="Two classes only: torch's is Weston-Watkins (a mean over the wrong classes), "
        "kloss's Crammer-Singer (the largest wrong score); for C = 2 they differ by the "
        "factor C. `onehot` is `target` one-hot.",
        inputs="two_class_scores",
        lib=_T,
        requires=(_T,),
        pinned=(
            "tests/test_classification.py::test_categorical_hinge_against_torch_multi_margin_for_two_classes",
        ),
    ),
    _r(
        "torch",
        "torch-triplet",
        "F.triplet_margin_loss(a, p, n, margin=m, swap=sw, eps=0.0)",
        'kloss.Triplet(margin=m, distance="euclidean", swap=sw)(y_true, y_pred)',
        note="`y_pred = stack([a, p, n], axis=1)`, `y_true` ignored. kloss's default distance "
        "is the squared Euclidean one. torch's default `eps=1e-6` shifts the differences: "
        "kloss on `(a, p - eps, n - eps)`.",
        inputs="triplets",
        params={"m": 0.5, "sw": True},
        lib=_T,
        requires=(_T,),
        pinned=(
            "tests/test_ranking.py::test_triplet_matches_torch_triplet_margin_loss",
            "tests/test_ranking.py::test_triplet_torch_default_eps_is_a_shift_of_positive_and_negative",
        ),
    ),
    _r(
        "torch",
        "torch-triplet-distance",
        "F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda u, v: "
        "1 - F.cosine_similarity(u, v), margin=m)",
        'kloss.Triplet(margin=m, distance="cosine")(y_true, y_pred)',
        note="`distance_function=lambda u, v: ((u - v) ** 2).sum(-1)` is `distance="
        '"squared_euclidean"`.',
        inputs="triplets",
        params={"m": 0.2},
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_ranking.py::test_triplet_matches_torch_with_distance_function",),
    ),
    _r(
        "torch",
        "torch-margin-ranking",
        "F.margin_ranking_loss(x1, x2, target, margin=m)",
        "kloss.MarginRanking(margin=m)(target, y_pred)",
        note="`y_pred = stack([x1, x2], axis=1)`. A label 0 reads as -1 in kloss.",
        inputs="ranking",
        params={"m": 0.3},
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_ranking.py::test_margin_ranking_matches_torch",),
    ),
    _r(
        "torch",
        "torch-ctc",
        "F.ctc_loss(F.log_softmax(input, -1).transpose(0, 1), targets, input_lengths, "
        'target_lengths, blank=k, reduction="none", zero_infinity=z)',
        'kloss.CTC(blank_index=k, zero_infinity=z, reduction="none")(labels, input)',
        note="`input` `(B, T, C)` logits (kloss applies the log-softmax); `labels` padded "
        "with -1 (`pad_value`), `targets` the same padded with any class.",
        inputs="ctc",
        params={"k": 0, "z": False},
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_sequence.py::test_matches_torch_values_and_gradients",),
    ),
    _r(
        "torch",
        "torch-ctc-mean",
        "F.ctc_loss(F.log_softmax(input, -1).transpose(0, 1), targets, input_lengths, "
        "target_lengths)",
        "kloss.CTC()(labels, input, sample_weight=1 / target_lengths)",
        note='torch\'s `"mean"` divides each loss by its target length first.',
        inputs="ctc",
        lib=_T,
        requires=(_T,),
    ),
    _r(
        "torch",
        "torch-gan-bce",
        "F.binary_cross_entropy_with_logits(input, target * (1 - s))",
        "kloss.MinimaxDiscriminator(label_smoothing=s)(target, input)",
        note="One-sided label smoothing of the real targets.",
        inputs="gan_logits",
        params={"s": 0.1},
        lib=_T,
        requires=(_T,),
        pinned=(
            "tests/test_adversarial.py::test_discriminator_matches_torch",
            "tests/test_adversarial.py::test_minimax_discriminator_is_binary_crossentropy_on_smoothed_targets",
        ),
    ),
    _r(
        "torch",
        "torch-infonce",
        "F.cross_entropy(F.normalize(u) @ F.normalize(v).T / t, torch.arange(len(u)))",
        "kloss.InfoNCE(temperature=t)(y_true, y_pred)",
        note="`y_pred = stack([u, v], axis=1)`, `y_true` ignored. `symmetric=True` averages "
        "with the cross-entropy of the transposed logits (CLIP).",
        inputs="views",
        params={"t": 0.1},
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_contrastive.py::test_info_nce_matches_torch_cross_entropy",),
    ),
    _r(
        "torch",
        "torch-siglip",
        "F.binary_cross_entropy_with_logits(t * F.normalize(u) @ F.normalize(v).T + c, "
        'torch.eye(len(u)), reduction="sum") / len(u)',
        "kloss.SigLIP(temperature=t, bias=c)(y_true, y_pred)",
        note="`y_pred = stack([u, v], axis=1)`. `temperature` multiplies the cosine here.",
        inputs="views",
        params={"t": 10.0, "c": -10.0},
        lib=_T,
        requires=(_T,),
        pinned=("tests/test_contrastive.py::test_siglip_matches_torch_formulas",),
    ),
    _r(
        "torch",
        "torchvision-focal",
        'torchvision.ops.sigmoid_focal_loss(input, target, alpha=a, gamma=g, reduction="mean")',
        "kloss.BinaryFocalCrossentropy(alpha=a, gamma=g, from_logits=True)(target, input)",
        note="torchvision is not installed: verified against its code re-implemented in torch.",
        pinned=("tests/test_classification.py::test_sigmoid_focal_matches_torchvision_formula",),
    ),
    _r(
        "torch",
        "torchvision-iou",
        "1 - torchvision.ops.box_iou(pred, true).diag()",
        'kloss.IoU(bounding_box_format="xyxy")(true, pred)',
        note='Boxes `(x1, y1, x2, y2)` (kloss\'s default `bounding_box_format="xyxy"`); '
        "kloss's default `epsilon=1e-7` is torchvision's losses' `eps`. torchvision is "
        "re-implemented in the tests.",
        pinned=("tests/test_boxes.py::test_values_equal_torchvision",),
    ),
    _r(
        "torch",
        "torchvision-giou",
        'torchvision.ops.generalized_box_iou_loss(pred, true, reduction="mean", eps=e)',
        "kloss.GIoU(epsilon=e)(true, pred)",
        note="kloss reads an inverted box as empty (torchvision asserts valid boxes).",
        pinned=(
            "tests/test_boxes.py::test_values_equal_torchvision",
            "tests/test_boxes.py::test_epsilon_is_torchvision_eps",
        ),
    ),
    _r(
        "torch",
        "torchvision-diou",
        'torchvision.ops.distance_box_iou_loss(pred, true, reduction="mean", eps=e)',
        "kloss.DIoU(epsilon=e)(true, pred)",
        pinned=("tests/test_boxes.py::test_values_equal_torchvision",),
    ),
    _r(
        "torch",
        "torchvision-ciou",
        'torchvision.ops.complete_box_iou_loss(pred, true, reduction="mean", eps=e)',
        "kloss.CIoU(epsilon=e)(true, pred)",
        note="Values and gradients (`alpha` constant); finite for point and flat boxes "
        "where torchvision gives NaN.",
        pinned=(
            "tests/test_boxes.py::test_values_equal_torchvision",
            "tests/test_boxes.py::test_gradients_equal_torchvision_autograd",
        ),
    ),
    _r("torch", "torch-gaussian-nll", "torch.nn.GaussianNLLLoss()", "no counterpart", ""),
    _r("torch", "torch-cosine-embedding", "torch.nn.CosineEmbeddingLoss()", "no counterpart", ""),
    _r("torch", "torch-hinge-embedding", "torch.nn.HingeEmbeddingLoss()", "no counterpart", ""),
    _r("torch", "torch-multilabel-margin", "torch.nn.MultiLabelMarginLoss()", "no counterpart", ""),
    # ------------------------------------------------------------------ MONAI
    _r(
        "monai",
        "monai-dice",
        "DiceLoss(softmax=True, to_onehot_y=True, smooth_nr=s, smooth_dr=s, soft_label=True, "
        'reduction="none")(input, target).flatten(1).mean(1)',
        f'kloss.Dice(from_logits=True, smooth=s, {_CF}, reduction="none")(target, input)',
        note="MONAI's default `soft_label=False` (`sum(p t)`) is the same for hard labels; "
        "kloss's `sum(min(p, t))` is its `soft_label=True`. kloss's default `smooth=1e-5` "
        "is MONAI's.",
        inputs="monai_seg",
        params={"s": 1e-5},
        lib=_T,
        requires=_MON,
        pinned=("tests/test_segmentation.py::test_dice_matches_monai",),
    ),
    _r(
        "monai",
        "monai-dice-batch",
        "DiceLoss(softmax=True, to_onehot_y=True, include_background=False, batch=True)"
        "(input, target)",
        f"kloss.Dice(from_logits=True, include_background=False, per_image=False, {_CF})"
        "(target, input)",
        note="`batch=True` is `per_image=False`.",
        inputs="monai_seg",
        lib=_T,
        requires=_MON,
        pinned=("tests/test_segmentation.py::test_dice_matches_monai",),
    ),
    _r(
        "monai",
        "monai-dice-weights",
        "DiceLoss(softmax=True, to_onehot_y=True, weight=w)(input, target)",
        f"kloss.Dice(from_logits=True, class_weights=w, {_CF})(target, input)",
        "source * len(w) / sum(w)",
        note="MONAI takes the mean over classes of `w_c l_c`; kloss the weighted mean.",
        inputs="monai_seg",
        params={"w": [0.5, 1.0, 2.5, 1.0]},
        lib=_T,
        requires=_MON,
        pinned=("tests/test_segmentation.py::test_class_weights_relation_to_monai",),
    ),
    _r(
        "monai",
        "monai-jaccard",
        "DiceLoss(jaccard=True, softmax=True, to_onehot_y=True, smooth_nr=2 * s, "
        'smooth_dr=2 * s, soft_label=True, reduction="none")(input, target).flatten(1).mean(1)',
        f'kloss.Jaccard(from_logits=True, smooth=s, {_CF}, reduction="none")(target, input)',
        note="MONAI scales numerator and denominator by 2: its smoothing is twice kloss's.",
        inputs="monai_seg",
        params={"s": 0.5},
        lib=_T,
        requires=_MON,
        pinned=("tests/test_segmentation.py::test_jaccard_matches_monai_with_twice_the_smoothing",),
    ),
    _r(
        "monai",
        "monai-tversky",
        "TverskyLoss(alpha=a, beta=b, softmax=True, to_onehot_y=True, soft_label=True, "
        'reduction="none")(input, target).flatten(1).mean(1)',
        f'kloss.Tversky(alpha=a, beta=b, from_logits=True, {_CF}, reduction="none")(target, input)',
        note="`alpha` weights false positives in both.",
        inputs="monai_seg",
        params={"a": 0.3, "b": 0.7},
        lib=_T,
        requires=_MON,
        pinned=("tests/test_segmentation.py::test_tversky_and_focal_tversky_match_monai",),
    ),
    _r(
        "monai",
        "monai-focal-tversky",
        "(TverskyLoss(alpha=a, beta=b, softmax=True, to_onehot_y=True, soft_label=True, "
        'reduction="none")(input, target).clamp_min(0) ** g).flatten(1).mean(1)',
        f"kloss.FocalTversky(alpha=a, beta=b, gamma=g, from_logits=True, {_CF}, "
        'reduction="none")(target, input)',
        note="MONAI has no focal Tversky class: its per-class Tversky loss to the power `gamma`.",
        inputs="monai_seg",
        params={"a": 0.3, "b": 0.7, "g": 0.75},
        lib=_T,
        requires=_MON,
        pinned=("tests/test_segmentation.py::test_tversky_and_focal_tversky_match_monai",),
    ),
    _r(
        "monai",
        "monai-generalized-dice",
        "GeneralizedDiceLoss(softmax=True, to_onehot_y=True, soft_label=True, "
        'reduction="none")(input, target).reshape(-1)',
        f'kloss.GeneralizedDice(from_logits=True, {_CF}, reduction="none")(target, input)',
        note='`w_type="square"` (MONAI\'s default); MONAI has no `ignore_index` here.',
        inputs="monai_seg",
        lib=_T,
        requires=_MON,
        pinned=("tests/test_segmentation.py::test_generalized_dice_matches_monai",),
    ),
    _r(
        "monai",
        "monai-dice-ce",
        "DiceCELoss(softmax=True, to_onehot_y=True, lambda_ce=c)(input, target)",
        f"(kloss.Dice(from_logits=True, {_CF}) + c * kloss.PixelwiseCrossentropy("
        f"from_logits=True, {_CF}))(target, input)",
        inputs="monai_seg",
        params={"c": 0.5},
        lib=_T,
        requires=_MON,
        pinned=("tests/test_combination.py::test_dice_plus_cross_entropy_equals_monai_dice_ce",),
    ),
    _r(
        "monai",
        "monai-focal",
        "FocalLoss(alpha=a, gamma=g, use_softmax=False)(input, target)",
        "kloss.BinaryFocalCrossentropy(alpha=a, gamma=g, from_logits=True)(target, input)",
        note="Sigmoid focal loss per element; the layout does not matter (a mean over all).",
        inputs="monai_binary",
        params={"a": 0.25, "g": 2.0},
        lib=_T,
        requires=_MON,
        pinned=(
            "tests/test_segmentation.py::test_binary_focal_crossentropy_matches_monai_focal_loss",
        ),
    ),
    _r(
        "monai",
        "monai-contrastive",
        "ContrastiveLoss(temperature=t)(u, v)",
        "kloss.NTXent(temperature=t)(y_true, y_pred)",
        note="SimCLR's NT-Xent; `y_pred = stack([u, v], axis=1)`. MONAI's default "
        "temperature is 0.5, kloss's 0.1.",
        inputs="views",
        params={"t": 0.5},
        lib=_T,
        requires=_MON,
    ),
    _r(
        "monai",
        "monai-adversarial-bce",
        'PatchAdversarialLoss(criterion="bce")(input, target_is_real=True, for_discriminator=True)',
        "kloss.MinimaxDiscriminator()(ones, input)",
        note="MONAI applies a sigmoid and clamps each log at -100: equal for |logits| < ~16 only.",
        inputs="gan_patch",
        lib=_T,
        requires=_MON,
        pinned=(
            "tests/test_adversarial.py::test_monai_bce_is_minimax_for_moderate_logits_and_clamps_large_ones",
        ),
    ),
    _r(
        "monai",
        "monai-adversarial-lsq",
        'PatchAdversarialLoss(criterion="least_squares", no_activation_leastsq=True)'
        "(input, target_is_real=True, for_discriminator=True)",
        "kloss.LeastSquaresDiscriminator()(ones, input)",
        "source / 2",
        note="kloss keeps LSGAN's factor 1/2. MONAI's default applies a LeakyReLU(0.05) first.",
        inputs="gan_patch",
        lib=_T,
        requires=_MON,
        pinned=(
            "tests/test_adversarial.py::test_monai_least_squares_is_twice_kloss_without_its_activation",
        ),
    ),
    _r(
        "monai",
        "monai-adversarial-hinge",
        'PatchAdversarialLoss(criterion="hinge")(input, target_is_real=True, '
        "for_discriminator=True)",
        "kloss.HingeDiscriminator()(ones, np.tanh(input))",
        note="MONAI applies a tanh first.",
        inputs="gan_patch",
        lib=_T,
        requires=_MON,
        pinned=("tests/test_adversarial.py::test_monai_hinge_is_kloss_hinge_on_tanh_outputs",),
    ),
    _r(
        "monai",
        "monai-adversarial-hinge-generator",
        'PatchAdversarialLoss(criterion="hinge")(input, target_is_real=True, '
        "for_discriminator=False)",
        "kloss.HingeGenerator()(ones, np.tanh(input))",
        "source - 1",
        note="MONAI's generator form is `mean(relu(1 - tanh(x)))`.",
        inputs="gan_patch",
        lib=_T,
        requires=_MON,
        pinned=("tests/test_adversarial.py::test_monai_hinge_is_kloss_hinge_on_tanh_outputs",),
    ),
    # ------------------------------------------------------------------ pml
    _r(
        "pml",
        "pml-contrastive",
        "losses.ContrastiveLoss(pos_margin=0, neg_margin=m, "
        "distance=distances.LpDistance(normalize_embeddings=False))",
        "kloss.Contrastive(margin=m)(y, d)",
        note="kloss takes the pair distances `d` and labels `y` (1 = similar); each kloss pair "
        "loss is half the square of pml's (pml's hinges are not squared).",
        pinned=("tests/test_ranking.py::test_contrastive_matches_pytorch_metric_learning",),
    ),
    _r(
        "pml",
        "pml-triplet",
        "losses.TripletMarginLoss(margin=m, distance=distances.LpDistance("
        "normalize_embeddings=False, power=2), reducer=reducers.MeanReducer())"
        "(embeddings, None, (i, i + B, i + 2 * B))",
        "kloss.Triplet(margin=m)(y_true, y_pred)",
        note="Explicit triplets: `embeddings = concatenate([a, p, n])`, `i = arange(B)`, "
        '`y_pred = stack([a, p, n], axis=1)`. `power=1` is `distance="euclidean"`, '
        '`CosineSimilarity()` `distance="cosine"`; `smooth_loss=True, margin=0` is '
        "`soft=True`. pml's default reducer averages over the non-zero losses only.",
        inputs="triplets",
        params={"m": 0.7},
        lib=_T,
        requires=_PML,
        pinned=(
            "tests/test_ranking.py::test_triplet_matches_pytorch_metric_learning_on_explicit_triplets",
        ),
    ),
    _r(
        "pml",
        "pml-batch-hard",
        "losses.TripletMarginLoss(margin=m, distance=sq, reducer=reducers.MeanReducer())"
        "(embeddings, labels, miners.BatchHardMiner(distance=sq)(embeddings, labels))",
        "kloss.TripletHard(margin=m)(labels, embeddings)",
        "source * n_valid / B",
        note="`sq = distances.LpDistance(power=2, normalize_embeddings=False)`. pml averages "
        "over the `n_valid` anchors that have a positive and a negative; kloss over all "
        "`B` rows (0 for the others).",
        inputs="embeddings",
        params={"m": 0.5},
        lib=_T,
        requires=_PML,
        pinned=("tests/test_mining.py::test_triplet_hard_matches_pml_batch_hard",),
    ),
    _r(
        "pml",
        "pml-semihard",
        'miners.TripletMarginMiner(margin=m, type_of_triplets="semihard") + '
        "losses.TripletMarginLoss(margin=m)",
        "kloss.TripletSemiHard(margin=m)",
        relation="",
        note="Not the same loss: pml keeps every negative within the margin, kloss (FaceNet, "
        "tfa) one per positive pair with a fallback to the farthest negative. They agree "
        "only on batches with one candidate per pair.",
        pinned=("tests/test_mining.py::test_triplet_semi_hard_matches_pml_where_they_agree",),
    ),
    _r(
        "pml",
        "pml-lifted",
        "losses.LiftedStructureLoss(neg_margin=m, pos_margin=0, "
        "distance=distances.LpDistance(normalize_embeddings=False))(embeddings, labels)",
        "kloss.LiftedStructure(margin=m)(labels, embeddings)",
        note="pml's default distance normalizes the embeddings.",
        inputs="embeddings",
        params={"m": 1.0},
        lib=_T,
        requires=_PML,
        pinned=("tests/test_mining.py::test_lifted_structure_matches_pml",),
    ),
    _r(
        "pml",
        "pml-multi-similarity",
        "losses.MultiSimilarityLoss(alpha=a, beta=b, base=c)(embeddings, labels)",
        "kloss.MultiSimilarity(alpha=a, beta=b, base=c)(labels, embeddings)",
        inputs="embeddings",
        params={"a": 2.0, "b": 50.0, "c": 0.5},
        lib=_T,
        requires=_PML,
        pinned=("tests/test_mining.py::test_multi_similarity_matches_pml",),
    ),
    _r(
        "pml",
        "pml-npairs",
        "losses.NPairsLoss(distance=distances.DotProductSimilarity("
        "normalize_embeddings=False))(embeddings, labels)",
        "kloss.NPairs()(labels, embeddings)",
        inputs="embeddings",
        lib=_T,
        requires=_PML,
        pinned=("tests/test_mining.py::test_npairs_matches_pml",),
    ),
    _r(
        "pml",
        "pml-npairs-default",
        "losses.NPairsLoss()(embeddings, labels)",
        "kloss.NPairs()(labels, embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True))",
        note="pml's default normalizes the embeddings; kloss does not.",
        inputs="embeddings",
        lib=_T,
        requires=_PML,
        pinned=("tests/test_mining.py::test_npairs_matches_pml",),
    ),
    _r(
        "pml",
        "pml-ntxent",
        "losses.NTXentLoss(temperature=t)(torch.cat([u, v]), torch.cat([i, i]))",
        "kloss.NTXent(temperature=t)(y_true, y_pred)",
        note="`y_pred = stack([u, v], axis=1)`, `i = arange(B)` pairs the views. pml's "
        "default temperature is 0.07, kloss's 0.1.",
        inputs="views",
        params={"t": 0.07},
        lib=_T,
        requires=_PML,
        pinned=("tests/test_contrastive.py::test_ntxent_matches_optax_and_pml",),
    ),
    _r(
        "pml",
        "pml-supcon",
        "losses.SupConLoss(temperature=t)(embeddings, labels)",
        "kloss.SupervisedContrastive(temperature=t)(labels, embeddings)",
        note="Whenever the batch has a negative pair; for a batch of one class pml "
        "gives 0, kloss the paper's value.",
        inputs="embeddings",
        params={"t": 0.1},
        lib=_T,
        requires=_PML,
        pinned=(
            "tests/test_contrastive.py::test_supervised_contrastive_matches_pml",
            "tests/test_contrastive.py::test_supervised_contrastive_single_class_differs_from_pml",
        ),
    ),
    # ------------------------------------------------------------------ optax
    _r(
        "optax",
        "optax-l2",
        "optax.losses.l2_loss(y_pred, y_true).mean(-1)",
        'kloss.MeanSquaredError(reduction="none")(y_true, y_pred)',
        "2 * source",
        note="`l2_loss` is `0.5 * (p - t) ** 2`.",
        inputs="pair",
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_regression.py::test_mse_is_twice_optax_l2_loss",),
    ),
    _r(
        "optax",
        "optax-squared-error",
        "optax.losses.squared_error(y_pred, y_true).mean(-1)",
        'kloss.MeanSquaredError(reduction="none")(y_true, y_pred)',
        inputs="pair",
        lib="jax",
        requires=_OPTAX,
    ),
    _r(
        "optax",
        "optax-huber",
        "optax.losses.huber_loss(y_pred, y_true, delta=d).mean(-1)",
        'kloss.Huber(delta=d, reduction="none")(y_true, y_pred)',
        inputs="pair",
        params={"d": 0.5},
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_regression.py::test_huber_log_cosh_cosine_match_optax",),
    ),
    _r(
        "optax",
        "optax-log-cosh",
        "optax.losses.log_cosh(y_pred, y_true).mean(-1)",
        'kloss.LogCosh(reduction="none")(y_true, y_pred)',
        inputs="pair",
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_regression.py::test_huber_log_cosh_cosine_match_optax",),
    ),
    _r(
        "optax",
        "optax-cosine-similarity",
        "optax.losses.cosine_similarity(y_pred, y_true)",
        'kloss.CosineProximity(reduction="none")(y_true, y_pred)',
        "-source",
        inputs="pair",
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_regression.py::test_huber_log_cosh_cosine_match_optax",),
    ),
    _r(
        "optax",
        "optax-cosine-distance",
        "optax.losses.cosine_distance(y_pred, y_true)",
        'kloss.CosineProximity(reduction="none")(y_true, y_pred)',
        "source - 1",
        inputs="pair",
        lib="jax",
        requires=_OPTAX,
    ),
    _r(
        "optax",
        "optax-sigmoid-bce",
        "optax.losses.sigmoid_binary_cross_entropy(y_pred, y_true).mean()",
        "kloss.BinaryCrossentropy(from_logits=True)(y_true, y_pred)",
        inputs="binary_logits",
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_classification.py::test_optax_oracles",),
    ),
    _r(
        "optax",
        "optax-softmax-ce",
        "optax.losses.softmax_cross_entropy(y_pred, y_true).mean()",
        "kloss.CategoricalCrossentropy(from_logits=True)(y_true, y_pred)",
        inputs="class_soft",
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_classification.py::test_optax_oracles",),
    ),
    _r(
        "optax",
        "optax-softmax-ce-int",
        "optax.losses.softmax_cross_entropy_with_integer_labels(y_pred, y_true).mean()",
        "kloss.SparseCategoricalCrossentropy(from_logits=True)(y_true, y_pred)",
        inputs="class_labels",
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_classification.py::test_optax_oracles",),
    ),
    _r(
        "optax",
        "optax-sigmoid-focal",
        "optax.losses.sigmoid_focal_loss(y_pred, y_true, alpha=a, gamma=g).mean()",
        "kloss.BinaryFocalCrossentropy(alpha=a, gamma=g, from_logits=True)(y_true, y_pred)",
        inputs="binary_hard_logits",
        params={"a": 0.3, "g": 2.0},
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_classification.py::test_optax_oracles",),
    ),
    _r(
        "optax",
        "optax-kl",
        "optax.losses.kl_divergence(jax.nn.log_softmax(y_pred), y_true).mean()",
        "kloss.KLDivergence(from_logits=True)(y_true, y_pred)",
        note="optax takes the log-probabilities first.",
        inputs="class_soft",
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_classification.py::test_optax_oracles",),
    ),
    _r(
        "optax",
        "optax-hinge",
        "optax.losses.hinge_loss(y_pred, y_true).mean()",
        "kloss.Hinge()(y_true, y_pred)",
        note="optax needs labels in {-1, 1}; kloss also reads 0 as -1.",
        inputs="pm1_logits",
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_classification.py::test_optax_oracles",),
    ),
    _r(
        "optax",
        "optax-multiclass-hinge",
        "optax.losses.multiclass_hinge_loss(y_pred, labels)",
        'kloss.CategoricalHinge(reduction="none")(y_true, y_pred)',
        note="optax takes class indices, kloss one-hot labels `y_true`.",
        inputs="class_onehot",
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_classification.py::test_optax_oracles",),
    ),
    _r(
        "optax",
        "optax-triplet",
        "optax.losses.triplet_margin_loss(a, p, n, margin=m, eps=0.0)",
        'kloss.Triplet(margin=m, distance="euclidean", reduction="none")(y_true, y_pred)',
        note="`y_pred = stack([a, p, n], axis=1)`; optax's default `eps=1e-6` goes inside the "
        "square root.",
        inputs="triplets",
        params={"m": 1.0},
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_ranking.py::test_triplet_matches_optax_with_eps_0",),
    ),
    _r(
        "optax",
        "optax-ntxent",
        "optax.losses.ntxent(jnp.concatenate([u, v]), jnp.concatenate([i, i]), temperature=t)",
        "kloss.NTXent(temperature=t)(y_true, y_pred)",
        note="`y_pred = stack([u, v], axis=1)`, `i = arange(B)`. optax's default temperature "
        "is 0.07.",
        inputs="views",
        params={"t": 0.1},
        lib="jax",
        requires=_OPTAX,
        pinned=("tests/test_contrastive.py::test_ntxent_matches_optax_and_pml",),
    ),
    _r(
        "optax",
        "optax-infonce",
        "optax.losses.softmax_cross_entropy_with_integer_labels(logits, jnp.arange(B))",
        'kloss.InfoNCE(temperature=t, reduction="none")(y_true, y_pred)',
        note="`logits` the cosines of `u` and `v` over `t`; `y_pred = stack([u, v], axis=1)`.",
        pinned=("tests/test_contrastive.py::test_info_nce_matches_optax",),
    ),
    _r(
        "optax",
        "optax-ctc",
        "optax.ctc_loss(y_pred, logit_paddings, targets, label_paddings)",
        'kloss.CTC(reduction="none")(labels, y_pred)',
        note="kloss's `labels` are padded with -1 instead of a padding mask. optax floors "
        "impossible states at -1e5: an infeasible label gives it ~1e5, kloss `inf`.",
        inputs="ctc",
        lib="jax",
        requires=_OPTAX,
        tol=dict(rtol=1e-5, atol=1e-5, reason="float32 forward recursions; values ~10"),
        pinned=("tests/test_sequence.py::test_matches_optax_and_pins_its_floor",),
    ),
    # ------------------------------------------------------------------ TensorFlow, TF-GAN
    _r(
        "tensorflow",
        "tf-ssim",
        "1 - tf.image.ssim(y_true, y_pred, max_val=1.0)",
        'kloss.SSIM(max_val=1.0, data_format="channels_last", reduction="none")(y_true, y_pred)',
        note="Same Gaussian window (11, 1.5), VALID convolution.",
        inputs="images",
        lib="tf",
        requires=_TF,
        pinned=("tests/test_image.py::test_ssim_equals_tensorflow_values_and_gradients",),
    ),
    _r(
        "tensorflow",
        "tf-ms-ssim",
        "1 - tf.image.ssim_multiscale(y_true, y_pred, max_val=1.0, power_factors=f)",
        'kloss.MultiScaleSSIM(max_val=1.0, power_factors=f, data_format="channels_last", '
        'reduction="none")(y_true, y_pred)',
        note="Where a term is <= 0 TF's gradient is NaN or infinite, kloss's 0.",
        inputs="images",
        params={"f": (0.5, 0.5)},
        lib="tf",
        requires=_TF,
        pinned=("tests/test_image.py::test_multi_scale_ssim_equals_tensorflow",),
    ),
    _r(
        "tensorflow",
        "tf-total-variation",
        "tf.image.total_variation(y_pred)",
        'kloss.TotalVariation(power=1, data_format="channels_last", reduction="none")'
        "(y_true, y_pred)",
        note="kloss's default `power=2` squares the differences; `y_true` is ignored.",
        inputs="images",
        lib="tf",
        requires=_TF,
        pinned=("tests/test_image.py::test_total_variation_l1_equals_tensorflow_and_kornia",),
    ),
    _r(
        "tensorflow",
        "tf-ctc",
        "tf.nn.ctc_loss(targets, y_pred, target_lengths, input_lengths, logits_time_major=False)",
        'kloss.CTC(reduction="none")(labels, y_pred)',
        note="For moderate logits: TF floors impossible states at log(1e-307), which shifts "
        "values for large logits (12520.5 instead of 12587.4 at logits x1000).",
        inputs="ctc",
        lib="tf",
        requires=_TF,
        tol=dict(rtol=1e-5, atol=1e-5, reason="float32 forward recursions; values ~10"),
        pinned=(
            "tests/test_sequence.py::test_matches_tensorflow_and_pins_its_floor_for_large_logits",
        ),
    ),
    _r(
        "tensorflow",
        "tfgan-minimax-d",
        "tfgan.losses.minimax_discriminator_loss(real, fake)",
        "kloss.discriminator_loss(real, fake, label_smoothing=0.125)",
        note="TF-GAN's default smoothing 0.25 smooths towards 1/2: kloss's 0.125.",
        pinned=("tests/test_adversarial.py::test_tfgan_minimax_default_smoothing_is_kloss_0125",),
    ),
    _r(
        "tensorflow",
        "tfgan-modified-g",
        "tfgan.losses.modified_generator_loss(fake)",
        "kloss.MinimaxGenerator()(ones, fake)",
        pinned=("tests/test_adversarial.py::test_tfgan_generator_losses",),
    ),
    _r(
        "tensorflow",
        "tfgan-minimax-g",
        "tfgan.losses.minimax_generator_loss(fake)",
        "kloss.MinimaxGenerator(non_saturating=False)(ones, fake)",
        "source + log(1 + exp(-1))",
        note="TF-GAN evaluates the discriminator loss with real logits of 1: a constant offset.",
        pinned=("tests/test_adversarial.py::test_tfgan_generator_losses",),
    ),
    _r(
        "tensorflow",
        "tfgan-lsq-d",
        "tfgan.losses.least_squares_discriminator_loss(real, fake, real_label=b, fake_label=a)",
        'kloss.discriminator_loss(real, fake, objective="least_squares", real_target=b, '
        "fake_target=a)",
        pinned=("tests/test_adversarial.py::test_tfgan_discriminator_losses",),
    ),
    _r(
        "tensorflow",
        "tfgan-lsq-g",
        "tfgan.losses.least_squares_generator_loss(fake, real_label=c)",
        "kloss.LeastSquaresGenerator(target=c)(ones, fake)",
        pinned=("tests/test_adversarial.py::test_tfgan_generator_losses",),
    ),
    _r(
        "tensorflow",
        "tfgan-wasserstein-d",
        "tfgan.losses.wasserstein_discriminator_loss(real, fake)",
        'kloss.discriminator_loss(real, fake, objective="wasserstein")',
        pinned=("tests/test_adversarial.py::test_tfgan_discriminator_losses",),
    ),
    _r(
        "tensorflow",
        "tfgan-wasserstein-g",
        "tfgan.losses.wasserstein_generator_loss(fake)",
        "kloss.WassersteinGenerator()(ones, fake)",
        pinned=("tests/test_adversarial.py::test_tfgan_generator_losses",),
    ),
    _r(
        "tensorflow",
        "tfgan-hinge-d",
        "tfgan.losses.wasserstein_hinge_discriminator_loss(real, fake)",
        'kloss.discriminator_loss(real, fake, objective="hinge")',
        pinned=("tests/test_adversarial.py::test_tfgan_discriminator_losses",),
    ),
]


KERAS_DIFFERENCES = [
    KerasDifference(
        "inf-logits",
        "`BinaryCrossentropy(from_logits=True)` gives NaN for logits `+inf` / `-inf` on the "
        "correct side (TensorFlow, JAX, torch backends).",
        "0, with a zero gradient.",
        "inf_logits",
        "keras.losses.BinaryCrossentropy(from_logits=True)(y_true, y_pred)",
        "np.isnan(value)",
        "kloss.BinaryCrossentropy(from_logits=True)(y_true, y_pred)",
        "value == 0.0",
        keras_backends=("tensorflow", "jax", "torch"),
        pinned=(
            "tests/test_classification.py::test_bce_infinite_logits_on_the_correct_side_give_zero",
        ),
    ),
    KerasDifference(
        "masked-class",
        "`CategoricalCrossentropy(from_logits=True)` gives NaN when a class has logit `-inf` "
        "(a masked-out class), on every backend.",
        "The cross-entropy over the other classes, finite gradient.",
        "masked_logits",
        "keras.losses.CategoricalCrossentropy(from_logits=True)(y_true, y_pred)",
        "np.isnan(value)",
        "kloss.CategoricalCrossentropy(from_logits=True)(y_true, y_pred)",
        "np.isclose(value, np.log(np.exp(1.0) + 1.0) - 1.0, rtol=1e-6)",
        pinned=("tests/test_classification.py::test_masked_vocabulary_minus_inf_logit",),
    ),
    KerasDifference(
        "focal-saturates",
        "`BinaryFocalCrossentropy(from_logits=True)` saturates for logits of +-1e4 on the "
        "wrong side on JAX, torch and NumPy (about 8.0 here instead of 5000, zero gradient); "
        "TensorFlow's value is exact.",
        "The exact value, `alpha |logit|` per entry, with a gradient.",
        "huge_logits",
        "keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25, "
        "from_logits=True)(y_true, y_pred)",
        "value < 10.0",
        "kloss.BinaryFocalCrossentropy(alpha=0.25, from_logits=True)(y_true, y_pred)",
        "np.isclose(value, 5000.0, rtol=1e-6)",
        keras_backends=("jax", "torch", "numpy"),
        pinned=(
            "tests/test_classification.py::test_focal_with_huge_logits_is_exact_with_a_gradient",
        ),
    ),
    KerasDifference(
        "dice-empty",
        "`Dice` scores an empty mask predicted empty as 1.0, its worst value.",
        "0 (a perfect prediction); false positives there still get a gradient.",
        "empty_masks",
        "keras.losses.Dice()(y_true, y_pred)",
        "value == 1.0",
        'kloss.Dice(mode="binary")(y_true, y_pred)',
        "value == 0.0",
        pinned=(
            "tests/test_segmentation.py::test_keras_dice_scores_an_empty_mask_predicted_empty_as_worst",
            "tests/test_segmentation.py::test_perfect_prediction_of_an_empty_mask_is_zero",
        ),
    ),
    KerasDifference(
        "bfloat16-labels",
        'Integer labels are cast to the loss dtype: with `dtype="bfloat16"`, label 257 '
        "becomes 256 and the wrong class is scored.",
        "Labels stay integers.",
        "label_257",
        'keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="bfloat16")'
        "(y_true, y_pred)",
        "value > 5.0",
        'kloss.SparseCategoricalCrossentropy(from_logits=True, dtype="bfloat16")(y_true, y_pred)',
        "value < 1.0",
        pinned=("tests/test_classification.py::test_integer_labels_stay_integers_in_16_bit",),
    ),
    KerasDifference(
        "float16-labels",
        'The same with `dtype="float16"` above 2048: label 2049 becomes 2048.',
        "Labels stay integers.",
        "label_2049",
        'keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float16")'
        "(y_true, y_pred)",
        "value > 5.0",
        'kloss.SparseCategoricalCrossentropy(from_logits=True, dtype="float16")(y_true, y_pred)',
        "value < 1.0",
    ),
    KerasDifference(
        "huber-config",
        "`Huber(delta=d).get_config()` has no `delta`: a saved and loaded loss has "
        "`delta=1.0`. (`SparseCategoricalCrossentropy` and `CosineSimilarity` drop `axis` "
        "the same way.)",
        "Every argument is in `get_config()` and survives saving.",
        "pair",
        "keras.losses.Huber.from_config(keras.losses.Huber(delta=0.3).get_config())"
        "(y_true, y_pred) - keras.losses.Huber(delta=0.3)(y_true, y_pred)",
        "abs(value) > 0.1",
        "kloss.Huber.from_config(kloss.Huber(delta=0.3).get_config())(y_true, y_pred) "
        "- kloss.Huber(delta=0.3)(y_true, y_pred)",
        "value == 0.0",
        pinned=("tests/test_matrix.py::test_serialize_roundtrip",),
    ),
    KerasDifference(
        "axis-config",
        "`SparseCategoricalCrossentropy(axis=1)` and `CosineSimilarity(axis=1)` lose "
        "`axis` in `get_config()`.",
        "`axis` is kept.",
        "pair",
        '"axis" in keras.losses.SparseCategoricalCrossentropy(axis=1).get_config() or "axis" '
        "in keras.losses.CosineSimilarity(axis=1).get_config()",
        "not value",
        'kloss.SparseCategoricalCrossentropy(axis=1).get_config()["axis"] == 1 == '
        'kloss.CosineProximity(axis=1).get_config()["axis"]',
        "value",
    ),
    KerasDifference(
        "cosine-norms",
        "`CosineSimilarity` returns 0 for vectors of norm 1e20 (the squared norms "
        "overflow float32).",
        "The exact cosine.",
        "huge_vectors",
        'keras.losses.CosineSimilarity(reduction="none")(y_true, y_pred)',
        "np.all(value == 0.0)",
        'kloss.CosineProximity(reduction="none")(y_true, y_pred)',
        "np.allclose(value, -3 / np.sqrt(10), rtol=1e-6)",
        pinned=("tests/test_regression.py::test_cosine_exact_at_extreme_norms",),
    ),
    KerasDifference(
        "categorical-hinge",
        "`CategoricalHinge` takes its max over the wrong scores and 0: it differs from the "
        "Crammer-Singer hinge where every wrong score is negative.",
        "Crammer-Singer's hinge (optax's `multiclass_hinge_loss`).",
        "negative_wrong_scores",
        'keras.losses.CategoricalHinge(reduction="none")(y_true, y_pred)',
        "np.allclose(value, [0.5, 1.2, 1.2])",
        'kloss.CategoricalHinge(reduction="none")(y_true, y_pred)',
        "np.allclose(value, [0.0, 0.7, 1.2])",
        pinned=(
            "tests/test_classification.py::test_categorical_hinge_where_every_wrong_score_is_negative",
        ),
    ),
    KerasDifference(
        "ctc-backends",
        "`CTC` differs by backend: logits x1000 give 12520.5 on TensorFlow and 12587.4 on "
        "JAX and torch; an infeasible label gives ~715 (TensorFlow), ~1e5 (JAX), `inf` "
        "(torch).",
        "12587.4 and `inf` (or 0 with `zero_infinity=True`) on every backend.",
        "",
        "",
        "",
        "",
        "",
        pinned=(
            "tests/test_sequence.py::test_keras_ctc_differs_across_backends_for_large_logits",
            "tests/test_sequence.py::test_keras_ctc_infeasible_label_differs_across_backends",
        ),
    ),
    KerasDifference(
        "out-of-range-labels",
        "`SparseCategoricalCrossentropy` with a label outside `[0, C)` differs by backend: "
        "TensorFlow raises `InvalidArgumentError`, torch `IndexError`, and JAX returns 0 for "
        "that entry, silently (NumPy: `IndexError` for C, 0 for -1).",
        "A `ValueError` naming the loss and the label in eager mode, NaN under `jax.jit` / "
        "`tf.function`, on every backend; `ignore_index` leaves such labels out.",
        "",
        "",
        "",
        "",
        "",
        pinned=(
            "tests/test_classification.py::test_keras_out_of_range_labels_differ_across_backends",
            "tests/test_classification.py::test_out_of_range_labels_raise_in_eager_mode",
            "tests/test_classification.py::test_out_of_range_labels_give_nan_under_jit",
        ),
    ),
    KerasDifference(
        "bce-tf-logits",
        "`BinaryCrossentropy()` from probabilities: on TensorFlow, Keras recovers the logits "
        "from the op that produced a sigmoid output, so `evaluate()` differs by backend.",
        "Clips the probabilities on every backend.",
        "",
        "",
        "",
        "",
        "",
        pinned=(
            "tests/test_classification.py::test_evaluate_gives_the_documented_formula_on_every_backend",
        ),
    ),
]


# --------------------------------------------------------------------------- inputs
# Builders return NumPy arrays (float32 or int), seeded; `namespaces` converts them. One
# shape for the elementwise losses: JAX compiles each op once per shape.

_SHAPE = (6, 5)


def _pair(rng, p):
    return {
        "y_true": rng.normal(size=_SHAPE).astype(np.float32),
        "y_pred": rng.normal(scale=2.0, size=_SHAPE).astype(np.float32),
    }


def _counts_rate(rng, p):
    rate = rng.uniform(0.0, 5.0, size=_SHAPE).astype(np.float32)
    rate[0, 0] = 0.0
    return {"y_true": rng.poisson(3.0, size=_SHAPE).astype(np.float32), "y_pred": rate}


def _counts_log_rate(rng, p):
    return {
        "y_true": rng.poisson(3.0, size=_SHAPE).astype(np.float32),
        "y_pred": rng.normal(size=_SHAPE).astype(np.float32),
    }


def _binary_logits(rng, p):
    return {
        "y_true": rng.uniform(size=_SHAPE).astype(np.float32),
        "y_pred": rng.normal(scale=3.0, size=_SHAPE).astype(np.float32),
    }


def _binary_hard_logits(rng, p):
    return {
        "y_true": rng.integers(0, 2, size=_SHAPE).astype(np.float32),
        "y_pred": rng.normal(scale=2.0, size=_SHAPE).astype(np.float32),
    }


def _binary_probs(rng, p):
    return {
        "y_true": rng.integers(0, 2, size=_SHAPE).astype(np.float32),
        "y_pred": rng.uniform(0.05, 0.95, size=_SHAPE).astype(np.float32),
    }


def _pm1_logits(rng, p):
    return {
        "y_true": rng.choice(np.array([-1.0, 1.0], np.float32), size=_SHAPE),
        "y_pred": rng.normal(scale=2.0, size=_SHAPE).astype(np.float32),
    }


def _class(rng):
    x = rng.normal(scale=2.0, size=_SHAPE).astype(np.float32)
    labels = rng.integers(0, 5, size=6).astype(np.int32)
    return x, labels


def _class_labels(rng, p):
    x, labels = _class(rng)
    return {"y_true": labels, "y_pred": x}


def _class_onehot(rng, p):
    x, labels = _class(rng)
    return {"y_true": np.eye(5, dtype=np.float32)[labels], "y_pred": x, "labels": labels}


def _class_soft(rng, p):
    x, _ = _class(rng)
    return {"y_true": rng.dirichlet(np.ones(5), size=6).astype(np.float32), "y_pred": x}


def _class_soft_probs(rng, p):
    t = rng.dirichlet(np.ones(5), size=6).astype(np.float32)
    q = rng.dirichlet(np.ones(5), size=6).astype(np.float32)
    return {"y_true": t, "y_pred": q}


def _class_log_probs(rng, p):
    x, labels = _class(rng)
    z = x - x.max(axis=-1, keepdims=True)
    log_p = (z - np.log(np.exp(z).sum(axis=-1, keepdims=True))).astype(np.float32)
    return {"y_true": labels, "y_pred": log_p}


def _positive_scores(rng, p):
    _, labels = _class(rng)
    return {
        "y_true": np.eye(5, dtype=np.float32)[labels],
        "y_pred": rng.uniform(0.0, 2.0, size=_SHAPE).astype(np.float32),
    }


def _two_class_scores(rng, p):
    labels = rng.integers(0, 2, size=8)
    return {
        "y_true": labels.astype(np.int64),
        "y_pred": rng.normal(size=(8, 2)).astype(np.float32),
        "onehot": np.eye(2, dtype=np.float32)[labels],
    }


def _seg_cf(rng, p):
    x = rng.normal(scale=2.0, size=(2, 4, 3, 5)).astype(np.float32)  # (B, C, H, W)
    y = rng.integers(0, 4, size=(2, 3, 5)).astype(np.int64)
    y.reshape(-1)[::4] = p.get("i", 0)
    return {"y_true": y, "y_pred": x}


def _binary_masks(rng, p):
    t = (rng.uniform(size=(3, 6, 6, 1)) > 0.6).astype(np.float32)
    return {"y_true": t, "y_pred": rng.uniform(size=(3, 6, 6, 1)).astype(np.float32)}


def _ctc(rng, p, B=4, T=9, C=5, L=3):
    x = rng.normal(size=(B, T, C)).astype(np.float32)
    y = rng.integers(1, C, size=(B, L)).astype(np.int64)  # the blank is 0
    y[1, 2:] = -1
    y[2, 1] = y[2, 0]  # a repeated label
    lengths = (y != -1).sum(axis=1)
    return {
        "labels": y,
        "y_pred": x,
        "targets": np.where(y == -1, 0, y),
        "target_lengths": lengths.astype(np.int64),
        "input_lengths": np.full(B, T, np.int64),
        "logit_paddings": np.zeros((B, T), np.float32),
        "label_paddings": (y == -1).astype(np.float32),
    }


def _ctc_keras(rng, p):
    arrays = _ctc(rng, p)
    # Keras pads with its blank 0.
    return {
        "y_true": np.where(arrays["labels"] == -1, 0, arrays["labels"]),
        "y_pred": arrays["y_pred"],
    }


def _triplets(rng, p, B=7, D=5):
    x = rng.normal(size=(B, 3, D)).astype(np.float32)
    return {
        "y_true": np.zeros((B,), np.float32),
        "y_pred": x,
        "a": x[:, 0],
        "p": x[:, 1],
        "n": x[:, 2],
        "embeddings": np.concatenate([x[:, 0], x[:, 1], x[:, 2]]),
        "i": np.arange(B, dtype=np.int64),
        "B": B,
    }


def _ranking(rng, p):
    x = rng.normal(size=(9, 2)).astype(np.float32)
    return {
        "y_true": rng.choice(np.array([1.0, -1.0], np.float32), size=9),
        "y_pred": x,
        "x1": x[:, 0],
        "x2": x[:, 1],
    }


def _views(rng, p, B=6, D=5):
    x = rng.normal(size=(B, 2, D)).astype(np.float32)
    return {
        "y_true": np.zeros((B,), np.float32),
        "y_pred": x,
        "u": x[:, 0].copy(),
        "v": x[:, 1].copy(),
        "i": np.arange(B, dtype=np.int64),
        "B": B,
    }


def _embeddings(rng, p):
    labels = np.array([0, 1, 0, 1, 2, 2, 1, 3], np.int64)  # class 3 has no positive
    x = rng.normal(size=(len(labels), 4)).astype(np.float32)
    n_valid = int((np.bincount(labels)[labels] > 1).sum())
    return {"labels": labels, "embeddings": x, "n_valid": n_valid, "B": len(labels)}


def _monai_seg(rng, p):
    x = rng.normal(scale=2.0, size=(3, 4, 6, 5)).astype(np.float32)  # (B, C, H, W)
    y = rng.integers(0, 4, size=(3, 1, 6, 5)).astype(np.int64)
    y[0] = np.minimum(y[0], 2)  # image 0 lacks class 3
    return {"y_true": y, "y_pred": x}


def _monai_binary(rng, p):
    return {
        "y_true": rng.integers(0, 2, size=(3, 2, 5, 4)).astype(np.float32),
        "y_pred": rng.normal(scale=2.0, size=(3, 2, 5, 4)).astype(np.float32),
    }


def _gan_logits(rng, p):
    return {
        "y_true": rng.integers(0, 2, size=_SHAPE).astype(np.float32),
        "y_pred": rng.normal(scale=3.0, size=_SHAPE).astype(np.float32),
    }


def _gan_patch(rng, p):
    x = rng.normal(0.5, 2.0, size=(3, 1, 4, 4)).astype(np.float32)  # MONAI's (B, 1, h, w)
    return {"y_pred": x, "ones": np.ones_like(x)}


def _images(rng, p):
    t = rng.uniform(size=(2, 32, 32, 3)).astype(np.float32)
    noisy = np.clip(t + rng.normal(scale=0.2, size=t.shape), 0.0, 1.0).astype(np.float32)
    return {"y_true": t, "y_pred": noisy}


def _inf_logits(rng, p):
    inf = np.float32(np.inf)
    return {"y_true": np.array([[1.0, 0.0]], np.float32), "y_pred": np.array([[inf, -inf]])}


def _masked_logits(rng, p):
    x = np.array([[1.0, -np.inf, 0.0]], np.float32)
    return {"y_true": np.array([[1.0, 0.0, 0.0]], np.float32), "y_pred": x}


def _huge_logits(rng, p):
    return {
        "y_true": np.array([[1.0, 0.0]], np.float32),
        "y_pred": np.array([[-1e4, 1e4]], np.float32),
    }


def _empty_masks(rng, p):
    z = np.zeros((2, 8, 8, 1), np.float32)
    return {"y_true": z, "y_pred": z.copy()}


def _label(rng, label):
    x = rng.normal(size=(2, label + 3)).astype(np.float32)
    x[:, label] += 8.0  # the label's class is likely, its neighbours are not
    return {"y_true": np.array([label, label], np.int32), "y_pred": x}


def _huge_vectors(rng, p):
    return {
        "y_true": np.array([[1e20, 2e20]], np.float32),
        "y_pred": np.array([[1e20, 1e20]], np.float32),
    }


def _negative_wrong_scores(rng, p):
    s = np.array([[-1.0, 0.5, -2.0], [-0.2, -0.5, -0.9], [0.3, 0.2, 0.1]], np.float32)
    return {"y_true": np.eye(3, dtype=np.float32)[[1, 0, 2]], "y_pred": s}


_BUILDERS = {
    "pair": _pair,
    "counts_rate": _counts_rate,
    "counts_log_rate": _counts_log_rate,
    "binary_logits": _binary_logits,
    "binary_hard_logits": _binary_hard_logits,
    "binary_probs": _binary_probs,
    "pm1_logits": _pm1_logits,
    "class_labels": _class_labels,
    "class_onehot": _class_onehot,
    "class_soft": _class_soft,
    "class_soft_probs": _class_soft_probs,
    "class_log_probs": _class_log_probs,
    "positive_scores": _positive_scores,
    "two_class_scores": _two_class_scores,
    "seg_cf": _seg_cf,
    "binary_masks": _binary_masks,
    "ctc": _ctc,
    "ctc_keras": _ctc_keras,
    "triplets": _triplets,
    "ranking": _ranking,
    "views": _views,
    "embeddings": _embeddings,
    "monai_seg": _monai_seg,
    "monai_binary": _monai_binary,
    "gan_logits": _gan_logits,
    "gan_patch": _gan_patch,
    "images": _images,
    "inf_logits": _inf_logits,
    "masked_logits": _masked_logits,
    "huge_logits": _huge_logits,
    "empty_masks": _empty_masks,
    "label_257": lambda rng, p: _label(rng, 257),
    "label_2049": lambda rng, p: _label(rng, 2049),
    "huge_vectors": _huge_vectors,
    "negative_wrong_scores": _negative_wrong_scores,
}

# torch's names for the canonical arrays.
_TORCH_ALIASES = {"input": "y_pred", "target": "y_true"}


def _convert(lib, value):
    if not isinstance(value, (np.ndarray, list)):
        return value
    if isinstance(value, list):
        value = np.asarray(value, np.float32)  # per-class weights
    if lib == "torch":
        import torch

        value = np.asarray(value)
        if value.dtype.kind in "iu":
            value = value.astype(np.int64)  # torch's class indices are int64
        return torch.as_tensor(value)
    if lib == "jax":
        import jax.numpy as jnp

        return jnp.asarray(value)
    if lib == "tf":
        import tensorflow as tf

        return tf.constant(value)
    return value


def _modules(lib):
    """The modules a source expression of `lib` refers to."""
    import keras

    out = {"np": np, "keras": keras}
    if lib == "torch":
        import torch

        out.update(torch=torch, F=torch.nn.functional)
        try:
            import monai.losses as monai_losses
            from monai.losses.adversarial_loss import PatchAdversarialLoss
        except ImportError:
            pass
        else:
            out.update({n: getattr(monai_losses, n) for n in dir(monai_losses) if n[0].isupper()})
            out["PatchAdversarialLoss"] = PatchAdversarialLoss
        try:
            from pytorch_metric_learning import distances, losses, miners, reducers
        except ImportError:
            pass
        else:
            out.update(distances=distances, losses=losses, miners=miners, reducers=reducers)
            out["sq"] = distances.LpDistance(power=2, normalize_embeddings=False)
    elif lib == "jax":
        import jax
        import jax.numpy as jnp
        import optax

        out.update(jax=jax, jnp=jnp, optax=optax)
    elif lib == "tf":
        import tensorflow as tf

        out["tf"] = tf
    return out


def namespaces(row, seed=0):
    """`(source_namespace, kloss_namespace)` for a row (or a `KerasDifference`): the same
    seeded inputs, as the source library's tensors and as NumPy arrays."""
    import kloss

    params = getattr(row, "params", {})
    arrays = _BUILDERS[row.inputs](np.random.default_rng(seed), params)
    lib = getattr(row, "lib", "numpy")
    for alias, name in _TORCH_ALIASES.items():
        if name in arrays:
            arrays.setdefault(alias, arrays[name])
    source = dict(_modules(lib))
    source.update({k: _convert(lib, v) for k, v in {**arrays, **params}.items()})
    klo = {"np": np, "kloss": kloss, **arrays, **params}
    return source, klo


# --------------------------------------------------------------------------- rendering


def _code(text):
    return f"`{text}`" if text and text != "no counterpart" else (text or "")


def _relation_text(row):
    if row.kloss == "no counterpart":
        return ""
    if row.relation == "source":
        return "equal"
    if not row.relation:
        return "differs"
    return f"kloss = `{row.relation}`"


def _verified_text(row):
    parts = []
    if row.inputs:
        parts.append(f"`test_migration.py::test_row[{row.id}]`")
    parts += [f"`{p.replace('tests/', '')}`" for p in row.pinned]
    return "<br>".join(parts) if parts else "—"


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def _params_text(row):
    if not row.inputs or not row.params:
        return ""
    values = ", ".join(f"`{k}={v!r}`" for k, v in row.params.items())
    return f"Checked with {values}."


def render():
    """The page as a string."""
    lines = [
        "# Migrating to kloss",
        "",
        "One row per loss: the call in the library you come from, the kloss call with the "
        "mapped arguments, and how the two values relate. Every row with a "
        "`test_migration.py` entry is evaluated by `tests/test_migration.py` on seeded "
        "inputs, both sides, on every Keras backend (the expressions below are the ones "
        "the test runs, with the library's tensors bound to its names), and the relation "
        "is asserted at float32 tolerance (rtol 1e-5, atol 1e-6). Other rows name the "
        "tests that pin the relation.",
        "",
        "## Conventions that differ",
        "",
        "| | kloss | torch | optax | Keras |",
        "|---|---|---|---|---|",
        "| argument order | `(y_true, y_pred)` | `(input, target)` | `(predictions, targets)`"
        " | `(y_true, y_pred)` |",
        '| averaged reduction | `"sum_over_batch_size"` (default) | `"mean"` (default) | '
        'none (elementwise values) | `"sum_over_batch_size"` |',
        '| per-sample output | function `kloss.huber(...)` or `reduction="none"`: the '
        'mean over the last axis | `reduction="none"`: elementwise for elementwise losses | '
        "elementwise | function `keras.losses.huber(...)`: the mean over the last axis |",
        "| image layout | `keras.config.image_data_format()` (channels-last by default); "
        '`data_format="channels_first"` for torch / MONAI tensors; `axis=1` for the '
        "cross-entropies | channels-first | — | channels-last |",
        "| 16-bit inputs | computed in float32, integer labels kept | — | — | "
        "integer labels cast to the loss dtype |",
        "",
        "Losses over a batch take stacked inputs: `Triplet` takes "
        "`y_pred = stack([anchor, positive, negative], axis=1)`, `MarginRanking` "
        "`stack([x1, x2], axis=1)`, `NTXent` / `InfoNCE` / `SigLIP` "
        "`stack([u, v], axis=1)`; their `y_true` is ignored (pass `zeros((B,))`).",
        "",
    ]
    for key, (title, intro) in SECTIONS.items():
        rows = [r for r in ROWS if r.section == key]
        lines += [f"## {title}", "", intro, ""]
        lines += ["| Source | kloss | Relation | Verified by |", "|---|---|---|---|"]
        for row in rows:
            parts = [_relation_text(row), row.note, _params_text(row)]
            relation = ". ".join(p.rstrip(".") for p in parts if p)
            relation += "." if relation and relation != "equal" else ""
            lines.append(
                "| "
                + " | ".join(
                    _cell(c)
                    for c in (
                        _code(row.source),
                        _code(row.kloss),
                        relation,
                        _verified_text(row) if row.kloss != "no counterpart" else "",
                    )
                )
                + " |"
            )
        lines.append("")
        if key == "keras":
            lines += [
                "### Where Keras 3.15 differs and kloss does not",
                "",
                "| Keras | kloss | Verified by |",
                "|---|---|---|",
            ]
            for d in KERAS_DIFFERENCES:
                checks = []
                if d.inputs:
                    checks.append(f"`test_migration.py::test_keras_difference[{d.id}]`")
                checks += [f"`{p.replace('tests/', '')}`" for p in d.pinned]
                lines.append(
                    f"| {_cell(d.keras_text)} | {_cell(d.kloss_text)} | {'<br>'.join(checks)} |"
                )
            lines.append("")
    return "\n".join(lines)


def write(out_dir: pathlib.Path, **kwargs) -> list[pathlib.Path]:
    """Writes `migration.md` into `out_dir` and returns its path."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "migration.md"
    path.write_text(render() + "\n", encoding="utf-8")
    return [path]
