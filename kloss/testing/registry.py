"""The registry of losses that drives the generic test matrix and the cross-backend cases.

Adding a loss = adding one `Entry`: it then gets every check in `test_matrix.py` and
appears in the cross-backend comparison.
"""

import numpy as np

import kloss
from kloss.testing.entry import Entry, _edges_common, _normal_pair  # noqa: F401
from kloss.testing.references import classification as ref_cls
from kloss.testing.references import regression as ref_regression


def _poisson_pair(rng, shape, option):
    y_true = rng.poisson(2.0, size=shape).astype(np.float32)
    if option.get("log_input"):
        y_pred = rng.normal(scale=0.7, size=shape).astype(np.float32)
    else:
        y_pred = rng.uniform(0.1, 4.0, size=shape).astype(np.float32)
    return y_true, y_pred


def _edges_huber(option):
    d = option.get("delta", 1.0)
    z = np.zeros((2, 3), np.float32)
    return _edges_common() + [("error_equals_delta", z, z + np.float32(d))]


def _edges_log_cosh(option):
    z = np.zeros((2, 3), np.float32)
    return _edges_common() + [("error_1e4", z, z + np.array([1e4, -1e4, 50.0], np.float32))]


def _edges_poisson(option):
    z = np.zeros((2, 3), np.float32)
    if option.get("log_input"):
        return [
            ("counts_zero", z, z),
            ("logits_50", z + 3, z + 50.0),
            ("logits_-50", z + 3, z - 50),
        ]
    return [
        ("zero_rate_zero_count", z, z),
        ("zero_rate_positive_count", z + 3.0, z),
        ("large_rate", z + 1.0, z + 1e6),
    ]


def _edges_cosine(option):
    rng = np.random.default_rng(7)
    v = rng.normal(size=(2, 5)).astype(np.float32)
    w = rng.normal(size=(2, 5)).astype(np.float32)
    z = np.zeros_like(v)
    return [
        ("both_zero", z, z),
        ("pred_zero", v, z),
        ("true_zero", z, v),
        ("identical", v, v.copy()),
        ("norm_1e20", v * 1e19, w * 1e19),
        ("norm_1e-20", v * 1e-20, w * 1e-20),
        ("mixed_scales", v * 1e20, w * 1e-20),
    ]


REGISTRY = [
    Entry(kloss.MeanSquaredError, kloss.mean_squared_error, ref_regression.mean_squared_error),
    Entry(kloss.MeanAbsoluteError, kloss.mean_absolute_error, ref_regression.mean_absolute_error),
    Entry(
        kloss.Huber,
        kloss.huber,
        ref_regression.huber,
        options=[{}, {"delta": 0.5}, {"delta": 2.5}],
        edges=_edges_huber,
    ),
    Entry(kloss.LogCosh, kloss.log_cosh, ref_regression.log_cosh, edges=_edges_log_cosh),
    Entry(
        kloss.Pinball,
        kloss.pinball,
        ref_regression.pinball,
        options=[{}, {"quantile": 0.1}, {"quantile": 0.9}, {"quantile": 0.0}, {"quantile": 1.0}],
    ),
    Entry(
        kloss.Poisson,
        kloss.poisson,
        ref_regression.poisson,
        options=[{}, {"log_input": True}, {"epsilon": 1e-3}],
        make_inputs=_poisson_pair,
        edges=_edges_poisson,
        activation="softplus",
        # d/dy_pred at y_pred = 0 is 1 - y_true / epsilon = -3e7 with epsilon 1e-7.
        float16_out_of_range=("zero_rate_positive_count",),
    ),
    Entry(
        kloss.CosineProximity,
        kloss.cosine_proximity,
        ref_regression.cosine_proximity,
        edges=_edges_cosine,
        elementwise=False,
    ),
]


def _combined_reference(y_true, y_pred, losses, weights=None):
    """sum_i w_i * reference_i, each term's reference from its class and arguments."""
    refs = {
        "MeanSquaredError": ref_regression.mean_squared_error,
        "MeanAbsoluteError": ref_regression.mean_absolute_error,
        "Huber": ref_regression.huber,
        "LogCosh": ref_regression.log_cosh,
    }
    weights = [1.0] * len(losses) if weights is None else weights
    total = 0.0
    for loss, w in zip(losses, weights, strict=True):
        hyper = {k: getattr(loss, k) for k in type(loss).hyperparameters}
        total = total + w * refs[type(loss).__name__](y_true, y_pred, **hyper)
    return total


# A weighted sum of regression terms: every generic check applies to the sum (per-element
# weights too, as both terms are elementwise). Dice + cross-entropy against MONAI's
# DiceCELoss is in test_combination.py.
REGISTRY.append(
    Entry(
        kloss.Combined,
        kloss.combined,
        _combined_reference,
        options=[
            {"losses": [kloss.MeanSquaredError(), kloss.MeanAbsoluteError()]},
            {"losses": [kloss.Huber(delta=0.5), kloss.LogCosh()], "weights": [2.0, 0.5]},
        ],
    )
)


# --------------------------------------------------------------------------- classification


def _n_classes(shape, option):
    # Options holding one value per class fix the class count to their length.
    for key in ("class_weights", "pos_weight", "alpha"):
        if isinstance(option.get(key), list):
            return len(option[key])
    return shape[-1]


def _probs_or_logits(rng, shape, option, axis=-1):
    if option.get("from_logits"):
        return rng.normal(scale=2.0, size=shape).astype(np.float32)
    p = rng.gamma(1.0, size=shape) + 0.05
    return (p / p.sum(axis=axis, keepdims=True)).astype(np.float32)


def _binary_pair(rng, shape, option):
    shape = tuple(shape[:-1]) + (_n_classes(shape, option),)
    y_true = rng.integers(0, 2, size=shape).astype(np.float32)
    if option.get("label_smoothing"):
        y_true[..., :1] = rng.uniform(size=shape[:-1] + (1,))  # some soft targets too
    if option.get("from_logits"):
        return y_true, rng.normal(scale=2.0, size=shape).astype(np.float32)
    return y_true, rng.uniform(0.02, 0.98, size=shape).astype(np.float32)


def _categorical_pair(rng, shape, option):
    shape = tuple(shape[:-1]) + (_n_classes(shape, option),)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    y_true = np.eye(shape[-1], dtype=np.float32)[labels]
    if option.get("label_smoothing") or option.get("soft"):
        y_true = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]).astype(np.float32)
    return y_true, _probs_or_logits(rng, shape, option)


def _sparse_pair(rng, shape, option):
    shape = tuple(shape[:-1]) + (_n_classes(shape, option),)
    labels = rng.integers(0, shape[-1], size=shape[:-1]).astype(np.int32)
    if option.get("ignore_index") is not None and labels.size > 1:
        flat = labels.reshape(-1)
        flat[:: max(flat.size // 3, 2)] = option["ignore_index"]
    return labels, _probs_or_logits(rng, shape, option)


def _kl_pair(rng, shape, option):
    y_true = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    y_true[..., 0] = 0.0  # zeros in the target
    y_true = (y_true / y_true.sum(axis=-1, keepdims=True)).astype(np.float32)
    return y_true, _probs_or_logits(rng, shape, option)


def _hinge_pair(rng, shape, option):
    y_true = rng.choice(np.array([-1.0, 1.0, 0.0], np.float32), size=shape)
    return y_true, rng.normal(scale=1.5, size=shape).astype(np.float32)


def _categorical_hinge_pair(rng, shape, option):
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    y_true = np.eye(shape[-1], dtype=np.float32)[labels]
    return y_true, rng.normal(scale=1.5, size=shape).astype(np.float32)


def _edges_binary(option):
    t = np.array([[1.0, 0.0, 1.0, 0.0]], np.float32).repeat(2, 0)
    if option.get("from_logits"):
        inf = np.float32(np.inf)
        edges = [
            ("logits_1e4", t, np.array([[-1e4, 1e4, 1e4, -1e4]] * 2, np.float32)),
            ("logits_100", t, np.array([[-100.0, 100.0, 100.0, -100.0]] * 2, np.float32)),
            ("zero_logits", t, np.zeros_like(t)),
        ]
        if not option.get("label_smoothing"):
            # Smoothed targets make an infinite logit infinitely wrong: inf is the answer.
            inf_logits = np.array([[inf, -inf, inf, -inf]] * 2, np.float32)
            edges.append(("inf_on_correct_side", t, inf_logits))
        return edges
    return [
        ("exact_0_and_1_wrong", t, 1.0 - t),
        ("exact_0_and_1_right", t, t.copy()),
        ("half", t, np.full_like(t, 0.5)),
    ]


def _edges_categorical(option, sparse=False):
    labels = np.array([1, 2], np.int32)
    t = np.eye(4, dtype=np.float32)[labels]
    y_true = labels if sparse else t
    if option.get("from_logits"):
        inf = np.float32(np.inf)
        masked = np.array([[-inf, 1.0, 0.5, -inf], [0.0, -inf, 2.0, 1.0]], np.float32)
        edges = [
            ("logits_1e4", y_true, np.array([[1e4, -1e4, 0, 0], [0, 0, -1e4, 1e4]], np.float32)),
            ("logits_100", y_true, np.array([[100, -100, 0, 0], [0, 0, -100, 0]], np.float32)),
            ("confident_right", y_true, 50.0 * t),
        ]
        if not option.get("label_smoothing"):
            # A -inf logit of a masked-out class: finite (with smoothing the answer is inf).
            edges.append(("masked_vocabulary_-inf", y_true, masked))
        return edges
    return [
        ("exact_one_hot_right", y_true, t.copy()),
        ("exact_one_hot_wrong", y_true, np.eye(4, dtype=np.float32)[[0, 0]]),
        ("uniform", y_true, np.full_like(t, 0.25)),
    ]


def _edges_kl(option):
    t = np.array([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0]], np.float32)
    if option.get("from_logits"):
        inf = np.float32(np.inf)
        return [
            (
                "masked_-inf_where_target_0",
                t,
                np.array([[-inf, 1, 1, -inf], [2, -inf, 0, 0]], np.float32),
            ),
            ("logits_1e4", t, np.array([[1e4, 0, 0, 0], [-1e4, 0, 0, 0]], np.float32)),
            ("equal", t, np.log(np.where(t > 0, t, 1e-3)).astype(np.float32)),
        ]
    return [
        ("equal", t, t.copy()),
        ("zero_where_target_positive", t, np.array([[1.0, 0, 0, 0], [0, 0.5, 0.5, 0]], np.float32)),
    ]


def _edges_hinge(option):
    t = np.array([[1.0, -1.0, 0.0, 1.0]] * 2, np.float32)
    return [
        ("kink", t, np.array([[1.0, -1.0, -1.0, 1.0]] * 2, np.float32)),
        ("zero_scores", t, np.zeros_like(t)),
        ("large", t, np.array([[-1e3, 1e3, 1e3, 1e3]] * 2, np.float32)),
    ]


def _edges_categorical_hinge(option):
    t = np.eye(3, dtype=np.float32)[[1, 0]]
    return [
        ("kink_margin_0", t, np.array([[0.0, 1.0, 0.0], [2.0, 1.0, -3.0]], np.float32)),
        ("wrong_scores_negative", t, np.array([[-1.0, 0.5, -2.0], [0.2, -0.5, -0.9]], np.float32)),
        ("tied_wrong_scores", t, np.array([[0.5, 0.2, 0.5], [0.0, 0.3, 0.3]], np.float32)),
        ("zeros", t, np.zeros_like(t)),
    ]


def _sigmoid_or_linear(option):
    return "linear" if option.get("from_logits") else "sigmoid"


def _softmax_or_linear(option):
    return "linear" if option.get("from_logits") else "softmax"


CLASSIFICATION = [
    Entry(
        kloss.BinaryCrossentropy,
        kloss.binary_crossentropy,
        ref_cls.binary_crossentropy,
        options=[
            {},
            {"from_logits": True},
            {"label_smoothing": 0.2},
            {"from_logits": True, "pos_weight": 3.0},
            {"from_logits": True, "label_smoothing": 0.1, "pos_weight": [0.5, 1.0, 2.0, 4.0]},
        ],
        make_inputs=_binary_pair,
        edges=_edges_binary,
        activation=_sigmoid_or_linear,
    ),
    Entry(
        kloss.BinaryFocalCrossentropy,
        kloss.binary_focal_crossentropy,
        ref_cls.binary_focal_crossentropy,
        options=[
            {},
            {"from_logits": True},
            {"alpha": None, "gamma": 0.5, "from_logits": True},
            {"alpha": 0.6, "gamma": 3.0, "label_smoothing": 0.1},
            {"alpha": [0.1, 0.5, 0.9, 0.25], "gamma": 1.0, "from_logits": True},
        ],
        make_inputs=_binary_pair,
        edges=_edges_binary,
        activation=_sigmoid_or_linear,
    ),
    Entry(
        kloss.CategoricalCrossentropy,
        kloss.categorical_crossentropy,
        ref_cls.categorical_crossentropy,
        options=[
            {},
            {"from_logits": True},
            {"label_smoothing": 0.1},
            {"from_logits": True, "label_smoothing": 0.2, "class_weights": [1.0, 2.0, 0.5, 0.0]},
        ],
        make_inputs=_categorical_pair,
        edges=_edges_categorical,
        elementwise=False,
        activation=_softmax_or_linear,
    ),
    Entry(
        kloss.CategoricalFocalCrossentropy,
        kloss.categorical_focal_crossentropy,
        ref_cls.categorical_focal_crossentropy,
        options=[
            {},
            {"from_logits": True},
            {"alpha": 0.25, "gamma": 0.5, "from_logits": True},
            {"alpha": [0.1, 0.2, 0.3, 0.4], "gamma": 3.0, "class_weights": [1.0, 2.0, 3.0, 4.0]},
        ],
        make_inputs=_categorical_pair,
        edges=_edges_categorical,
        elementwise=False,
        activation=_softmax_or_linear,
    ),
    Entry(
        kloss.SparseCategoricalCrossentropy,
        kloss.sparse_categorical_crossentropy,
        ref_cls.sparse_categorical_crossentropy,
        options=[
            {},
            {"from_logits": True},
            {"from_logits": True, "label_smoothing": 0.1},
            {"ignore_index": -100},
            {
                "from_logits": True,
                "label_smoothing": 0.2,
                "class_weights": [1.0, 2.0, 0.5, 3.0],
                "ignore_index": 1,
            },
        ],
        make_inputs=_sparse_pair,
        edges=lambda option: _edges_categorical(option, sparse=True),
        elementwise=False,
        activation=_softmax_or_linear,
        int_labels=True,
    ),
    Entry(
        kloss.SparseCategoricalFocalCrossentropy,
        kloss.sparse_categorical_focal_crossentropy,
        ref_cls.sparse_categorical_focal_crossentropy,
        options=[
            {},
            {"from_logits": True, "gamma": 0.5},
            {
                "alpha": [0.1, 0.2, 0.3, 0.4],
                "class_weights": [1.0, 0.5, 2.0, 1.0],
                "ignore_index": 255,
            },
        ],
        make_inputs=_sparse_pair,
        edges=lambda option: _edges_categorical(option, sparse=True),
        elementwise=False,
        activation=_softmax_or_linear,
        int_labels=True,
    ),
    Entry(
        kloss.KLDivergence,
        kloss.kl_divergence,
        ref_cls.kl_divergence,
        options=[{}, {"from_logits": True}],
        make_inputs=_kl_pair,
        edges=_edges_kl,
        elementwise=False,
        activation=_softmax_or_linear,
    ),
    Entry(
        kloss.Hinge,
        kloss.hinge,
        ref_cls.hinge,
        make_inputs=_hinge_pair,
        edges=_edges_hinge,
        activation="tanh",
    ),
    Entry(
        kloss.SquaredHinge,
        kloss.squared_hinge,
        ref_cls.squared_hinge,
        make_inputs=_hinge_pair,
        edges=_edges_hinge,
        activation="tanh",
    ),
    Entry(
        kloss.CategoricalHinge,
        kloss.categorical_hinge,
        ref_cls.categorical_hinge,
        make_inputs=_categorical_hinge_pair,
        edges=_edges_categorical_hinge,
        elementwise=False,
    ),
]

REGISTRY += CLASSIFICATION

# Ranking and metric learning: one list per module, each file owned with its module.
from kloss.testing.registry_contrastive import ENTRIES as CONTRASTIVE  # noqa: E402
from kloss.testing.registry_mining import ENTRIES as MINING  # noqa: E402
from kloss.testing.registry_ranking import ENTRIES as RANKING  # noqa: E402

REGISTRY += RANKING + MINING + CONTRASTIVE

# Segmentation and image; adversarial, sequence, distribution and boxes.
from kloss.testing.registry_adversarial import ENTRIES as ADVERSARIAL  # noqa: E402
from kloss.testing.registry_boxes import ENTRIES as BOXES  # noqa: E402
from kloss.testing.registry_distribution import ENTRIES as DISTRIBUTION  # noqa: E402
from kloss.testing.registry_image import ENTRIES as IMAGE  # noqa: E402
from kloss.testing.registry_lovasz import ENTRIES as LOVASZ  # noqa: E402
from kloss.testing.registry_segmentation import ENTRIES as SEGMENTATION  # noqa: E402
from kloss.testing.registry_sequence import ENTRIES as SEQUENCE  # noqa: E402

REGISTRY += SEGMENTATION + LOVASZ + IMAGE + ADVERSARIAL + SEQUENCE + DISTRIBUTION + BOXES


def cases():
    """(entry, option, id) for every loss and option set."""
    out = []
    for entry in REGISTRY:
        for i, option in enumerate(entry.options):
            out.append((entry, option, f"{entry.name}-{i}"))
    return out


def non_default_option(entry):
    """An option set with a non-default hyperparameter where the loss has one."""
    return entry.options[-1]
