"""Registry entries for kloss.lovasz (see tests/entry.py).

Inputs are small images (B, 3, 4, C) (or channels first): C = D classes for "multiclass"
and "multilabel", one channel for "binary".
"""

import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import lovasz as ref

H, W = 3, 4
IGNORE = 255


def n_channels(option, dim):
    return 1 if option.get("mode") == "binary" else max(int(dim), 2)


def _layout(option, y_pred, labels):
    """Moves the channel axis first for data_format="channels_first" (labels too when they
    have one)."""
    if option.get("data_format") == "channels_first":
        y_pred = np.ascontiguousarray(np.moveaxis(y_pred, -1, 1))
        if labels.ndim == y_pred.ndim:
            labels = np.ascontiguousarray(np.moveaxis(labels, -1, 1))
    return labels, y_pred


def _scores(rng, shape, option):
    mode = option.get("mode", "multiclass")
    logits = rng.normal(scale=2.0, size=shape)
    if option.get("from_logits", True):
        return logits.astype(np.float32)
    if mode == "multiclass":
        p = rng.gamma(1.0, size=shape) + 0.05
        return (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


def make_inputs(rng, shape, option):
    B, C = shape[0], n_channels(option, shape[-1])
    mode = option.get("mode", "multiclass")
    if mode == "multiclass":
        # Class indices skewed toward low classes, so some classes are absent per image.
        labels = np.minimum(rng.geometric(0.45, size=(B, H, W)) - 1, C - 1).astype(np.int32)
    elif mode == "binary":
        labels = rng.integers(0, 2, size=(B, H, W)).astype(np.int32)  # no channel axis
    else:
        labels = rng.integers(0, 2, size=(B, H, W, C)).astype(np.int32)
    if option.get("ignore_index") is not None:
        flat = labels.reshape(-1)
        flat[:: max(flat.size // 5, 2)] = option["ignore_index"]
    y_pred = _scores(rng, (B, H, W, C), option)
    return _layout(option, y_pred, labels)


def edges(option):
    mode = option.get("mode", "multiclass")
    from_logits = option.get("from_logits", True)
    C = n_channels(option, 4)
    rng = np.random.default_rng(3)
    if mode == "multiclass":
        labels = rng.integers(0, C, size=(2, H, W)).astype(np.int32)
        onehot = np.eye(C, dtype=np.float32)[labels]
    else:
        labels = rng.integers(0, 2, size=(2, H, W, C)).astype(np.int32)
        onehot = labels.astype(np.float32)
    sign = 2.0 * onehot - 1.0  # +1 at the true class / foreground, -1 elsewhere
    flip = np.where(rng.uniform(size=onehot.shape) < 0.3, -1.0, 1.0).astype(np.float32)
    if from_logits:
        cases = [
            ("ties_all_zero", np.zeros_like(onehot)),
            ("logits_1e4", (1e4 * sign * flip).astype(np.float32)),
            ("perfect_1e4", (1e4 * sign).astype(np.float32)),
            ("ties_mixed", np.round(rng.normal(size=onehot.shape)).astype(np.float32)),
        ]
    else:
        cases = [
            ("probabilities_0_1", np.where(flip > 0, onehot, 1.0 - onehot).astype(np.float32)),
            ("perfect", onehot.copy()),
            ("ties_half", np.full_like(onehot, 1.0 / C if mode == "multiclass" else 0.5)),
        ]
    out = [(name, labels, pred) for name, pred in cases]
    # No foreground anywhere: one class only (multiclass), all-zero labels otherwise.
    empty = np.zeros_like(labels)
    out.append(("no_foreground", empty, cases[0][1]))
    out.append(("no_foreground_extreme", empty, cases[1][1]))
    ignore = option.get("ignore_index")
    if ignore is not None:
        all_ignored = np.full_like(labels, ignore)
        out.append(("all_ignored", all_ignored, cases[1][1]))
        one_image = labels.copy()
        one_image[0] = ignore
        out.append(("one_image_ignored", one_image, cases[1][1]))
    # (name, y_true, y_pred), channels first where the option asks.
    return [(name, *_layout(option, pred, lab)) for name, lab, pred in out]


def model_shape(option, dim):
    C = n_channels(option, dim)
    if option.get("data_format") == "channels_first":
        return (C, H, W)
    return (H, W, C)


def _mean(y_true, per_sample, option):
    return per_sample.mean()


ENTRIES = [
    Entry(
        kloss.Lovasz,
        kloss.lovasz_loss,
        ref.lovasz,
        options=[
            {},
            {"ignore_index": IGNORE, "per_image": False, "data_format": "channels_first"},
            {"mode": "binary", "ignore_index": IGNORE},
            {"mode": "multilabel", "from_logits": False, "per_image": False},
        ],
        make_inputs=make_inputs,
        edges=edges,
        elementwise=False,
        batch_defined=True,
        int_labels=True,
        model_shape=model_shape,
        activation=lambda option: "linear" if option.get("from_logits", True) else "sigmoid",
        default_reduce=_mean,
    )
]
