"""Registry entries for kloss.sequence (see tests/entry.py)."""

import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import sequence as ref


def _dims(D):
    """Frames T, classes C and the longest label L for width D."""
    return 2 * D + 4, D, max(D // 2, 1)


def _blank(option, C):
    return option.get("blank_index", 0) % C


def _labels(rng, B, L, C, blank, pad):
    """(B, L) labels of classes other than the blank, padded with `pad`; row 1 is shorter,
    row 2 repeats a label (CTC needs a blank between the two), row 3 is empty."""
    classes = np.array([c for c in range(C) if c != blank])
    y = rng.choice(classes, size=(B, L)).astype(np.int32)
    if B > 1 and L > 1:
        y[1, L // 2 + 1 :] = pad
        y[1, L // 2] = pad
    if B > 2 and L > 1:
        y[2, 1] = y[2, 0]
    if B > 3:
        y[3, :] = pad
    if 0 != blank:
        y[0, 0] = 0  # class 0 is a real label when the blank is elsewhere
    return y


def make_inputs(rng, shape, option):
    B, D = shape[0], shape[-1]
    T, C, L = _dims(D)
    y_true = _labels(rng, B, L, C, _blank(option, C), option.get("pad_value", -1))
    y_pred = rng.normal(scale=1.5, size=(B, T, C)).astype(np.float32)
    return y_true, y_pred


def edges(option):
    rng = np.random.default_rng(8)
    B, D = 3, 4
    T, C, L = _dims(D)
    blank = _blank(option, C)
    pad = option.get("pad_value", -1)
    y = _labels(rng, B, L, C, blank, pad)
    x = rng.normal(size=(B, T, C)).astype(np.float32)
    # One alignment of each row with logits of 4 along it. Logits x1000 and a certain path
    # (logits +-1e3) are in test_sequence.py: torch's float32 kernel, which kloss calls there,
    # has gradient errors of ~1e-5 at logit scale 10 and ~1e-3 at 1000, beyond the
    # cross-backend tolerance (values agree to 1e-6).
    path = np.full((B, T), blank)
    path[:, 1] = y[:, 0]
    sure = np.where(np.arange(C) == path[..., None], 4.0, -4.0).astype(np.float32)
    # Exactly as many frames as row 2 needs (its label repeats: label, blank, label).
    tight_y = np.array([[y[2, 0], y[2, 0]]], np.int32)
    out = [
        ("logits_x3", y, x * 3.0),
        ("confident_path", y, sure),
        ("all_equal_logits", y, np.zeros_like(x)),
        ("all_padding", np.full_like(y, pad), x),
        ("frames_just_enough", tight_y, x[:1, :3]),
    ]
    if option.get("zero_infinity"):
        # Infeasible: three repeated labels need five frames.
        out.append(("infeasible", np.array([[y[2, 0]] * 3, [y[0, 0], pad, pad]]), x[:2, :4]))
    return out


ENTRIES = [
    Entry(
        kloss.CTC,
        kloss.ctc,
        ref.ctc,
        options=[{}, {"blank_index": -1, "pad_value": -1}, {"zero_infinity": True}],
        make_inputs=make_inputs,
        edges=edges,
        int_labels=True,
        batch_defined=True,
        elementwise=False,
        model_shape=lambda option, dim: _dims(dim)[:2],
    ),
]
