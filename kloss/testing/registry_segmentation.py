"""Registry entries for kloss.segmentation (see tests/entry.py).

Inputs are small images `(B, 5, 4, C)` (or `(B, C, 5, 4)` channels first) built from B and
D only: C is the length of `class_weights` when given, 1 in binary mode, else `2 + D % 2`.
Multiclass labels are class indices, or one-hot when `D % 3 == 0` (the cross-backend cases
use D = 6 and 5, so both kinds are compared). Image 0 never holds the last class, so the
empty-class paths (zero volume, a perfect score of 0) run in every case.
"""

import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import segmentation as ref

H, W = 5, 4
IGNORE = 255


def n_channels(option, D):
    if option.get("mode") == "binary":
        return 1
    if option.get("class_weights") is not None:
        return len(option["class_weights"])
    return 2 + D % 2


def _first(option):
    return option.get("data_format") == "channels_first"


def _to_format(x, option):
    """Channels-last (B, H, W, C) to the option's layout."""
    return np.ascontiguousarray(np.moveaxis(x, -1, 1)) if _first(option) else x


def _probs(rng, shape, option):
    if option.get("from_logits"):
        return rng.normal(scale=2.0, size=shape).astype(np.float32)
    if option.get("mode", "multiclass") == "multiclass":
        p = rng.gamma(1.0, size=shape) + 0.05
        return (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)
    return rng.uniform(0.02, 0.98, size=shape).astype(np.float32)


def make_images(rng, shape, option):
    B, D = shape[0], shape[-1]
    C = n_channels(option, D)
    mode = option.get("mode", "multiclass")
    ignore = option.get("ignore_index")
    y_pred = _probs(rng, (B, H, W, C), option)
    if mode == "multiclass":
        idx = rng.integers(0, C, size=(B, H, W))
        idx[0] = np.minimum(idx[0], C - 2)  # image 0 lacks the last class
        if ignore is not None:
            idx.reshape(-1)[::3] = ignore
        if D % 3 == 0:
            y_true = (idx[..., None] == np.arange(C)).astype(np.float32)  # ignored: zero rows
            return _to_format(y_true, option), _to_format(y_pred, option)
        y_true = idx.astype(np.int32)
        if _first(option):
            return y_true, _to_format(y_pred, option)
        return y_true, y_pred
    y_true = rng.integers(0, 2, size=(B, H, W, C)).astype(np.float32)
    y_true[0, ..., -1] = 0.0  # an empty mask
    if ignore is not None:
        y_true.reshape(-1)[1::4] = ignore
    return _to_format(y_true, option), _to_format(y_pred, option)


def _exact(t, option, mode):
    """A prediction equal to the labels `t` (B, H, W, C): probabilities or +-1e4 logits."""
    if option.get("from_logits"):
        return (
            np.where(t > 0.5, 1e4, -1e4).astype(np.float32)
            if mode != "multiclass"
            else ((t * 2e4 - 1e4).astype(np.float32))
        )
    return t.astype(np.float32)


def edges(option):
    mode = option.get("mode", "multiclass")
    C = n_channels(option, 4)
    ignore = option.get("ignore_index")
    shape = (2, 3, 3)
    if mode == "multiclass":
        empty_idx = np.zeros(shape, np.int64)  # background only
        idx = np.tile(np.array([[0, 1, C - 1], [1, 0, 0], [C - 1, 1, 0]]), (2, 1, 1))
        if ignore is not None:
            idx[1, 0, 0] = ignore
            empty_idx[1, 0, 0] = ignore
        onehot = (idx[..., None] == np.arange(C)).astype(np.float32)
        empty = (empty_idx[..., None] == np.arange(C)).astype(np.float32)
        fg = np.full(shape + (C,), 0.3 / (C - 1), np.float32)
        fg[..., 0] = 0.7
        false_pos = np.roll(fg, 1, axis=-1)  # most mass on a foreground class
        cases = [
            ("perfect_empty", empty_idx, _exact(empty, option, mode)),
            ("false_positives_on_empty", empty_idx, false_pos),
            ("perfect", idx, _exact(onehot, option, mode)),
            ("perfect_one_hot", onehot, _exact(onehot, option, mode)),
            ("all_wrong", idx, _exact(np.roll(onehot, 1, axis=-1), option, mode)),
        ]
        if option.get("from_logits"):
            cases[1] = ("false_positives_on_empty", empty_idx, np.log(false_pos))
        out = []
        for name, t, p in cases:
            t = t.astype(np.int32) if t.ndim == 3 else _to_format(t, option)
            out.append((name, t, _to_format(p, option)))
        return out
    t = np.zeros(shape + (C,), np.float32)
    t[1, :2, :2, 0] = 1.0
    t[1, 1:, 1, -1] = 1.0
    empty = np.zeros_like(t)
    tt = t.copy()
    if ignore is not None:
        tt[1, 2, 2, 0] = ignore
        empty = empty.copy()
        empty[1, 2, 2, 0] = ignore
    fp = np.full_like(t, 0.7)
    cases = [
        ("perfect_empty", empty, _exact(np.zeros_like(t), option, mode)),
        (
            "false_positives_on_empty",
            empty,
            np.log(fp / (1 - fp)) if option.get("from_logits") else fp,
        ),
        ("perfect", tt, _exact(t, option, mode)),
        ("all_wrong", tt, _exact(1.0 - t, option, mode)),
        ("soft_labels_equal", np.full_like(t, 0.3), np.full_like(t, 0.3))
        if not option.get("from_logits")
        else ("half", tt, np.zeros_like(t)),
    ]
    return [(n, _to_format(a, option), _to_format(b, option)) for n, a, b in cases]


def model_shape(option, dim):
    C = n_channels(option, dim)
    return (C, H, W) if _first(option) else (H, W, C)


def activation(option):
    if option.get("from_logits"):
        return "linear"
    return "softmax" if option.get("mode", "multiclass") == "multiclass" else "sigmoid"


def _mean(y_true, per_image, option):
    return per_image.mean()


def _entry(cls, fn, reference, options, **kw):
    base = dict(
        make_inputs=make_images,
        edges=edges,
        elementwise=False,
        batch_defined=True,
        int_labels=True,
        model_shape=model_shape,
        activation=activation,
        default_reduce=_mean,
    )
    base.update(kw)
    return Entry(cls, fn, reference, options=options, **base)


def _pce_edges(option):
    C = n_channels(option, 4)
    ignore = option.get("ignore_index")
    idx = np.tile(np.array([[0, 1, C - 1], [1, 0, 0], [C - 1, 1, 0]]), (2, 1, 1))
    if ignore is not None:
        idx[1] = ignore  # image 1: every pixel ignored
    onehot = (np.where(idx == IGNORE, 0, idx)[..., None] == np.arange(C)).astype(np.float32)
    if option.get("from_logits"):
        right = (onehot * 2e4 - 1e4).astype(np.float32)
        cases = [
            ("logits_1e4_right", idx, right),
            ("logits_1e4_wrong", idx, -right),
            ("zero_logits", idx, np.zeros_like(right)),
            ("one_hot_labels", onehot, np.roll(right, 1, axis=-1) * 1e-2),
        ]
    else:
        cases = [
            ("exact_right", idx, onehot),
            ("exact_wrong", idx, np.roll(onehot, 1, axis=-1)),
            ("uniform", idx, np.full_like(onehot, 1.0 / C)),
            ("one_hot_labels", onehot, np.full_like(onehot, 1.0 / C)),
        ]
    out = []
    for name, t, p in cases:
        t = t.astype(np.int32) if t.ndim == 3 else _to_format(t, option)
        out.append((name, t, _to_format(p, option)))
    return out


ENTRIES = [
    _entry(
        kloss.PixelwiseCrossentropy,
        kloss.pixelwise_crossentropy,
        ref.pixelwise_crossentropy,
        [
            {},
            {"from_logits": True, "label_smoothing": 0.1, "data_format": "channels_first"},
            {"from_logits": True, "class_weights": [1.0, 2.0, 0.5], "ignore_index": IGNORE},
        ],
        edges=_pce_edges,
        default_reduce=ref.pixelwise_default,
    ),
    _entry(
        kloss.Dice,
        kloss.dice,
        ref.dice,
        [
            {},
            {"mode": "binary", "from_logits": True, "ignore_index": IGNORE},
            {"mode": "multilabel", "per_image": False, "include_background": False},
            {
                "from_logits": True,
                "class_weights": [0.5, 1.0, 2.0],
                "ignore_index": IGNORE,
                "data_format": "channels_first",
            },
        ],
    ),
    _entry(
        kloss.Jaccard,
        kloss.jaccard,
        ref.jaccard,
        [
            {},
            {"mode": "binary", "smooth": 0.0},
            {"from_logits": True, "include_background": False, "per_image": False},
        ],
    ),
    _entry(
        kloss.Tversky,
        kloss.tversky,
        ref.tversky,
        [
            {"alpha": 0.3, "beta": 0.7},
            {
                "alpha": 0.8,
                "beta": 0.2,
                "mode": "multilabel",
                "from_logits": True,
                "ignore_index": IGNORE,
                "data_format": "channels_first",
            },
        ],
    ),
    _entry(
        kloss.FocalTversky,
        kloss.focal_tversky,
        ref.focal_tversky,
        [
            {},
            {
                "alpha": 0.3,
                "beta": 0.7,
                "gamma": 1.5,
                "mode": "binary",
                "from_logits": True,
                "per_image": False,
            },
        ],
    ),
    _entry(
        kloss.GeneralizedDice,
        kloss.generalized_dice,
        ref.generalized_dice,
        [
            {},
            {
                "from_logits": True,
                "class_weights": [1.0, 2.0, 0.5],
                "include_background": False,
                "ignore_index": IGNORE,
            },
            {
                "mode": "multilabel",
                "from_logits": True,
                "per_image": False,
                "data_format": "channels_first",
            },
        ],
    ),
]
