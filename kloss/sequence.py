"""Sequence losses: connectionist temporal classification (CTC).

`ctc(y_true, y_pred)` returns one value per sequence, `-log p(y_true | y_pred)` summed over
every alignment of the label sequence with the frames (Graves et al. 2006), the same on
every backend: an infeasible label gives `inf` (or 0 with `zero_infinity=True`), logits of
any scale give the exact value, and a Keras mask on `y_pred` drops frames.
"""

import keras
from keras import ops

from kloss._internal import (
    KlossLoss,
    check_bool,
    check_int,
    compute_dtype,
    concrete,
    float_dtype,
    register,
    static_shape,
)

__all__ = ["CTC", "ctc"]

# The log of "impossible": finite, so that no gradient is 0 * inf or inf - inf, and far below
# any real log-likelihood (float32 logits of 1e4 over 1e6 frames give -1e10).
_NEG = -1e30


def _backend():
    return keras.backend.backend()


# --------------------------------------------------------------------------- validation


def _check(owner, blank_index, pad_value, zero_infinity):
    return dict(
        blank_index=check_int(owner, "blank_index", blank_index),
        pad_value=check_int(owner, "pad_value", pad_value),
        zero_infinity=check_bool(owner, "zero_infinity", zero_infinity),
    )


def _inputs(owner, y_true, y_pred, blank_index, mask):
    """Checks shapes and dtypes; returns (labels int32 (B, L), y_pred, out_dtype, blank, C,
    mask bool (B, T) or None)."""
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = float_dtype(y_pred)
    y_pred = ops.cast(y_pred, compute_dtype(out_dtype))
    ps = static_shape(y_pred)
    if len(ps) != 3:
        raise ValueError(
            f"{owner}: `y_pred` must be logits of shape (batch, frames, classes). "
            f"Received: y_pred.shape={ps}."
        )
    labels = ops.convert_to_tensor(y_true)
    dtype = keras.backend.standardize_dtype(labels.dtype)
    if "int" not in dtype:
        raise TypeError(
            f"{owner}: `y_true` must hold integer labels padded with `pad_value`. Received: "
            f"y_true.dtype={dtype}. Cast the labels, e.g. `y.astype('int32')`."
        )
    ls = static_shape(labels)
    if len(ls) != 2 or (ls[0] is not None and ps[0] is not None and ls[0] != ps[0]):
        raise ValueError(
            f"{owner}: `y_true` must be padded label sequences of shape (batch, max_length) "
            f"with the batch of `y_pred`. Received: y_true.shape={ls}, y_pred.shape={ps}."
        )
    C = ps[2]
    if C is None:
        raise ValueError(f"{owner}: the class axis of `y_pred` must be known. Received: {ps}.")
    if not -C <= blank_index < C:
        raise ValueError(
            f"{owner}: `blank_index` must be a class of `y_pred`, in [-{C}, {C}). Received: "
            f"blank_index={blank_index}, y_pred.shape={ps}."
        )
    if mask is not None:
        mask = ops.convert_to_tensor(mask)
        ms = static_shape(mask)
        if len(ms) != 2 or any(
            a is not None and b is not None and a != b for a, b in zip(ms, ps[:2], strict=False)
        ):
            raise ValueError(
                f"{owner}: the frame mask must have shape (batch, frames) = {ps[:2]}. "
                f"Received: mask.shape={ms}."
            )
        mask = ops.cast(mask, "bool")
    return ops.cast(labels, "int32"), y_pred, out_dtype, blank_index % C, C, mask


def _check_values(owner, labels, C, blank, pad_value):
    """Eager mode only: a blank or out-of-range entry in a label raises."""
    values = concrete(labels)
    if values is None:
        return
    entries = values[values != pad_value]
    bad = entries[(entries < 0) | (entries >= C) | (entries == blank)]
    if bad.size:
        raise ValueError(
            f"{owner}: every label entry other than pad_value={pad_value} must be a class in "
            f"[0, {C}) other than the blank {blank}. Received: y_true holds {int(bad[0])}. "
            "Pad label sequences with `pad_value`, and do not use the blank as a label."
        )


# --------------------------------------------------------------------------- math


def _max(a, b):
    # Not ops.maximum: on torch it computes float64 in float32 (Keras 3.15's result_type).
    return ops.where(a > b, a, b)


def _compact(values, keep):
    """The entries of `values` (B, N, ...) where `keep` (B, N) holds, moved to the front in
    order, and their count per row (B,)."""
    n = ops.shape(keep)[1]
    pos = ops.expand_dims(ops.arange(n, dtype="int32"), 0)
    order = ops.argsort(ops.where(keep, pos, pos + n), axis=-1)
    index = order if len(values.shape) == 2 else ops.expand_dims(order, -1)
    return ops.take_along_axis(values, index, axis=1), ops.sum(ops.cast(keep, "int32"), axis=1)


def _log_likelihood(logp, labels, length, blank, mask):
    """log p(labels | frames) by the CTC forward recursion in log space, one step per frame.

    logp (B, T, C) log-probabilities; labels (B, L) compacted (entries past `length` unused);
    mask (B, T) or None. Impossible states hold ~_NEG instead of -inf.
    """
    B, L = ops.shape(labels)[0], ops.shape(labels)[1]
    # Extended sequence l' = (blank, l1, blank, l2, ..., lL, blank), S = 2L + 1 states.
    blanks = ops.full_like(labels, blank)
    ext = ops.reshape(ops.stack([blanks, labels], axis=-1), (B, 2 * L))
    ext = ops.concatenate([ext, blanks[:, :1]], axis=1)
    # s -> s + 2 (skipping a blank) only into a label that differs from the previous one; the
    # first label's "s - 2" is a padding column, impossible anyway.
    differs = ops.not_equal(labels[:, 1:], labels[:, :-1])
    first = ops.ones_like(labels[:, :1], dtype="bool")
    into_label = ops.concatenate([first, differs], axis=1)
    skip = ops.stack([ops.zeros_like(into_label), into_label], axis=-1)
    skip = ops.concatenate([ops.reshape(skip, (B, 2 * L)), ops.logical_not(first)], axis=1)
    dtype = logp.dtype
    neg = ops.cast(_NEG, dtype)
    # The state two to the left: 0 where the skip is allowed, "impossible" otherwise.
    skip_bias = ops.where(skip, ops.zeros((), dtype), neg)
    T = ops.shape(logp)[1]
    S = ops.shape(ext)[1]
    index = ops.broadcast_to(ops.expand_dims(ext, 1), (B, T, S))
    emit = ops.take_along_axis(logp, index, axis=2)  # (B, T, S): log p of state s at t
    emit = ops.transpose(emit, (1, 0, 2))
    # alpha with two leading "impossible" columns, so the shifts are slices. Before the first
    # frame the only state is a virtual blank at s = 0 (log 1): the first step then reaches
    # s = 0 and s = 1, as the recursion's initial condition.
    pad2 = ops.full((B, 2), neg, dtype=dtype)
    init = ops.concatenate(
        [pad2, ops.zeros((B, 1), dtype), ops.full((B, S - 1), neg, dtype=dtype)], axis=1
    )

    def step(alpha, e, keep):
        a0, a1, a2 = alpha[:, 2:], alpha[:, 1:-1], alpha[:, :-2] + skip_bias
        # logsumexp of the three transitions; the max carries no gradient (it cancels).
        m = ops.stop_gradient(_max(_max(a0, a1), a2))
        new = m + ops.log(ops.exp(a0 - m) + ops.exp(a1 - m) + ops.exp(a2 - m)) + e
        if keep is not None:
            new = ops.where(ops.expand_dims(keep, -1), new, a0)  # a dropped frame
        return ops.concatenate([pad2, new], axis=1)

    if mask is not None:
        mask = ops.transpose(mask, (1, 0))
    if _backend() == "tensorflow":
        # A while loop with a maximum trip count: XLA (jit_compile=True) needs one to keep the
        # values for the gradient, and keras.ops.scan on TensorFlow sets none.
        def body(t, alpha):
            keep = None if mask is None else ops.take(mask, t, axis=0)
            return t + 1, step(alpha, ops.take(emit, t, axis=0), keep)

        _, alpha = ops.while_loop(
            lambda t, alpha: t < T, body, (ops.zeros((), "int32"), init), maximum_iterations=T
        )
    else:
        xs = emit if mask is None else (emit, mask)
        alpha, _ = ops.scan(
            lambda a, x: (step(a, x, None) if mask is None else step(a, *x), None), init, xs
        )
    alpha = alpha[:, 2:]
    # p(l | x) = alpha(2U) + alpha(2U - 1); the second is absent for an empty label.
    end = ops.expand_dims(2 * length, 1)
    last = ops.take_along_axis(alpha, end, axis=1)[:, 0]
    before = ops.take_along_axis(alpha, ops.maximum(end - 1, 0), axis=1)[:, 0]
    before = ops.where(length > 0, before, neg)
    m = ops.stop_gradient(_max(last, before))
    return m + ops.log(ops.exp(last - m) + ops.exp(before - m))


def _frames_needed(labels, length):
    """The fewest frames that emit `labels` (B,): its length plus one blank per repeat."""
    L = ops.shape(labels)[1]
    inside = ops.expand_dims(ops.arange(1, L, dtype="int32"), 0) < ops.expand_dims(length, 1)
    repeats = ops.logical_and(ops.equal(labels[:, 1:], labels[:, :-1]), inside)
    return length + ops.sum(ops.cast(repeats, "int32"), axis=1)


def _ctc(owner, y_true, y_pred, blank_index, pad_value, zero_infinity, mask):
    labels, y_pred, out_dtype, blank, C, mask = _inputs(owner, y_true, y_pred, blank_index, mask)
    _check_values(owner, labels, C, blank, pad_value)
    keep = ops.not_equal(labels, pad_value)
    # Under jit a blank or out-of-range label entry cannot raise: its sequence gets NaN.
    wrong = ops.logical_or(
        ops.logical_or(ops.less(labels, 0), ops.greater_equal(labels, C)),
        ops.equal(labels, blank),
    )
    invalid = ops.any(ops.logical_and(keep, wrong), axis=1)
    labels = ops.where(ops.logical_and(keep, wrong), blank, labels)
    labels, length = _compact(labels, keep)
    if static_shape(labels)[1] == 0:  # (B, 0) labels: one padding entry keeps shapes valid
        labels = ops.concatenate([labels, ops.full_like(length[:, None], blank)], axis=1)
    T = ops.shape(y_pred)[1]
    if mask is None:
        frames = ops.full_like(length, T)
    else:
        frames = ops.sum(ops.cast(mask, "int32"), axis=1)
    feasible = ops.less_equal(_frames_needed(labels, length), frames)
    # Entries past the length (padding) index the blank.
    inside = ops.expand_dims(ops.arange(ops.shape(labels)[1], dtype="int32"), 0)
    labels = ops.where(inside < ops.expand_dims(length, 1), labels, blank)
    if _backend() == "torch" and keras.backend.standardize_dtype(y_pred.dtype) != "float64":
        # torch.nn.functional.ctc_loss (through keras.ops.ctc_loss, which takes the
        # log-softmax; it computes float64 in float32, so float64 takes the recursion): exact
        # for any logit scale. An infeasible sequence is replaced by the empty label, whose
        # loss and gradient are finite, and selected away below (torch's gradient there is
        # NaN).
        if mask is not None:
            y_pred, _ = _compact(y_pred, mask)
        nll = ops.ctc_loss(labels, y_pred, ops.where(feasible, length, 0), frames, mask_index=blank)
    else:
        logp = ops.log_softmax(y_pred, axis=-1)
        logp = _max(logp, ops.cast(_NEG, logp.dtype))  # -inf logits stay finite
        nll = -_log_likelihood(logp, labels, length, blank, mask)
    nll = ops.cast(nll, y_pred.dtype)
    # -log p >= 0; rounding can give -1e-7 when p rounds to 1.
    nll = ops.where(nll > 0, nll, ops.zeros_like(nll))
    fill = 0.0 if zero_infinity else float("inf")
    nll = ops.where(feasible, nll, ops.full_like(nll, fill))
    nll = ops.where(invalid, ops.full_like(nll, float("nan")), nll)
    return ops.cast(nll, out_dtype)


# --------------------------------------------------------------------------- public


@register
def ctc(y_true, y_pred, *, blank_index=0, pad_value=-1, zero_infinity=False, mask=None):
    """CTC loss per sequence; see `CTC`.

    Args:
        y_true: integer labels `(B, L)`, padded with `pad_value`.
        y_pred: logits `(B, T, C)`.
        blank_index: as in `CTC`.
        pad_value: as in `CTC`.
        zero_infinity: as in `CTC`.
        mask: optional booleans `(B, T)`: the frames of each sequence (False: dropped).

    Returns `(B,)`: `-log p(y_true | y_pred)`.
    """
    owner = "ctc"
    hyper = _check(owner, blank_index, pad_value, zero_infinity)
    return _ctc(owner, y_true, y_pred, mask=mask, **hyper)


class _MaskProbe(keras.losses.Loss):
    """Reads the Keras mask of `y_pred` through `keras.losses.Loss.__call__` (public API):
    with `reduction="none"` Keras multiplies the mask into the loss, so a loss of shape (1,)
    comes back as the float mask (B, T), or unchanged (rank 1) when there is none."""

    def __init__(self):
        super().__init__(name="ctc_mask_probe", reduction="none", dtype="float32")

    def call(self, y_true, y_pred):
        return ops.ones((1,), dtype="float32")


_PROBE = None


def _keras_mask(y_pred):
    global _PROBE
    if _PROBE is None:
        _PROBE = _MaskProbe()
    out = _PROBE(y_pred, y_pred)
    return None if len(out.shape) == 1 else ops.greater(out, 0.5)


@register
class CTC(KlossLoss):
    """Connectionist temporal classification (Graves et al. 2006): `-log p(y | x)`.

    For sequence labelling without frame-level alignment (speech, handwriting, OCR): the
    model emits one distribution over `C` classes (the labels and a blank) per frame, and the
    loss sums the probability of every alignment of the label sequence `y` with the `T`
    frames (blanks between and around labels, each label repeated over consecutive frames),
    by the forward recursion in log space:

        p(y | x) = sum over alignments a of prod_t softmax(x_t)[a_t],  loss = -log p(y | x)

    Labels are padded with `pad_value` (-1 by default, as Keras 2's `ctc_batch_cost`), so
    class 0 can be a label when the blank is elsewhere; padding entries anywhere in a row
    are dropped. A Keras mask on `y_pred` (e.g. from a `Masking` layer) drops the masked
    frames of each sequence (pre- or post-padding alike); Keras's own mask weighting of the
    per-sample losses is not applied (it would treat the (B,) losses as (B, T)), so masked
    sequences count as whole samples in the reduction.

    An infeasible label (more labels, plus one blank per repeated pair, than frames) has
    probability 0: the loss is `inf` on every backend, or 0 with a zero gradient when
    `zero_infinity=True`; the other sequences of the batch keep finite values and
    gradients. The value is exact for logits of any scale (1e3 and more).

    Equals `torch.nn.functional.ctc_loss(log_softmax(x), reduction="none",
    zero_infinity=...)`. Equals `optax.ctc_loss` and `tf.nn.ctc_loss` for feasible labels and
    moderate logits: both floor impossible states (optax at -1e5, TensorFlow at
    `log(1e-307)`), so an infeasible label gives them a finite value (optax about 1e5,
    TensorFlow about 700), and TensorFlow's floor shifts feasible values for large logits
    (12520.5 instead of 12587.4 for logits x1000 in the tests). `keras.losses.CTC` calls
    these, so it disagrees across backends there; it pads labels with its blank 0
    (`pad_value=0` here).

    On TensorFlow, JAX and NumPy the recursion is written with `keras.ops` (a scan or
    while loop over frames, autodiff for the gradient); on torch (below float64) it calls
    `torch.nn.functional.ctc_loss` through `keras.ops.ctc_loss` (the loop is 2.5x slower in
    eager torch); both are checked against the same float64 reference. torch's float32
    kernel rounds its gradient at the scale of the log-probabilities (2.2e-3 of the largest
    entry for logits x1000, against 1e-5 for the recursion).

    Args:
        blank_index: the class of the blank, in `[-C, C)`. Default 0.
        pad_value: the padding value of `y_true`. Default -1. It may equal `blank_index`
            (Keras 3's convention: blanks in `y_true` are then padding).
        zero_infinity: whether infeasible sequences get loss 0 (and gradient 0) instead of
            `inf`. Default False.
        reduction: as in `kloss.BinaryCrossentropy`.
        name: as in `kloss.BinaryCrossentropy`.
        dtype: as in `kloss.BinaryCrossentropy`.

    Call arguments:
        y_true: integer labels `(B, L)`, each row a label sequence padded with `pad_value`.
            Every other entry must be a class in `[0, C)` other than the blank: in eager
            mode a `ValueError` says which is not; under `jax.jit` / `tf.function` the
            values are not known at trace time and the sequence's loss is NaN instead.
        y_pred: logits `(B, T, C)`; a Keras mask `(B, T)` on it selects the frames.
        sample_weight: `(B,)` or `(B, 1)`.

    Example:
        Two frames of equal logits over the blank 0 and class 1: the label `[1]` has the
        alignments (1, -), (-, 1) and (1, 1), each of probability 1/4, so the loss is -log(3/4).

        >>> loss = kloss.CTC(reduction="none")
        >>> round(float(loss([[1, -1]], [[[0.0, 0.0], [0.0, 0.0]]])[0]), 4)
        0.2877
    """

    hyperparameters = ("blank_index", "pad_value", "zero_infinity")
    integer_labels = True
    per_row = True

    def __init__(
        self,
        blank_index=0,
        pad_value=-1,
        zero_infinity=False,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        self.__dict__.update(_check(type(self).__name__, blank_index, pad_value, zero_infinity))
        super().__init__(name=name or "ctc", reduction=reduction, dtype=dtype)
        self._frames = None

    def __call__(self, y_true, y_pred, sample_weight=None):
        frames = _keras_mask(y_pred)
        if frames is not None:
            # A fresh tensor without the mask: the frames are used in call(), and Keras must
            # not weight the (B,) losses by the (B, T) mask.
            y_pred = ops.add(y_pred, ops.zeros((), dtype=y_pred.dtype))
        self._frames = frames
        try:
            return super().__call__(y_true, y_pred, sample_weight=sample_weight)
        finally:
            self._frames = None

    def call(self, y_true, y_pred):
        return _ctc(
            type(self).__name__,
            self._true(y_true),
            y_pred,
            self.blank_index,
            self.pad_value,
            self.zero_infinity,
            self._frames,
        )
