"""Lovasz losses (Berman, Rannen Triki, Blaschko, CVPR 2018): Lovasz-softmax and Lovasz-hinge.

The Lovasz extension of the Jaccard loss `1 - IoU`: a convex, piecewise-linear surrogate
that equals the Jaccard loss of the mispredicted set when the errors are 0 or 1. Per class,
the pixels' errors `e` are sorted in decreasing order and the loss is `sum_k e_(k) g_k`, with
`g_k` the increase of the Jaccard loss when the k-th pixel joins the mispredicted set.

The sort is one `keras.ops.argsort` over a static number of pixels (stable: ties are broken
by pixel index, so the gradient at ties is the same on every backend), so the loss works
under `jax.jit`, `tf.function(jit_compile=True)` and `torch.compile` with an unknown batch
size. See docs/lovasz.md.
"""

import keras
from keras import ops

from kloss._internal import (
    KlossLoss,
    check_bool,
    check_int,
    check_option,
    compute_dtype,
    float_dtype,
    register,
    static_shape,
)

__all__ = ["Lovasz", "lovasz_loss"]

_MODES = ("binary", "multiclass", "multilabel")
_DATA_FORMATS = ("channels_last", "channels_first")


# --------------------------------------------------------------------------- validation


def _check(owner, mode, per_image, ignore_index, from_logits, data_format):
    if ignore_index is not None:
        ignore_index = check_int(owner, "ignore_index", ignore_index)
    if data_format is not None:
        data_format = check_option(owner, "data_format", data_format, _DATA_FORMATS)
    return dict(
        mode=check_option(owner, "mode", mode, _MODES),
        per_image=check_bool(owner, "per_image", per_image),
        ignore_index=ignore_index,
        from_logits=check_bool(owner, "from_logits", from_logits),
        data_format=data_format,
    )


def _shape_error(owner, mode, ts, ps, expected):
    hints = {
        "multiclass": "y_true holds one class index per pixel: y_pred's shape without its "
        "channel axis (or with a channel axis of size 1).",
        "binary": "y_true holds one {0, 1} label per pixel: y_pred's shape, or without its "
        "channel axis of size 1.",
        "multilabel": "y_true holds one {0, 1} label per pixel and class: y_pred's shape.",
    }
    return ValueError(
        f'{owner}: `y_true` does not fit `y_pred` for mode="{mode}". Received: '
        f"y_true.shape={ts}, y_pred.shape={ps} (expected y_true.shape={expected}). "
        f"{hints[mode]} Check `data_format` if the channel axis is the other one."
    )


def _dims_ok(a, b):
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


# --------------------------------------------------------------------------- math


def _relu(x):
    if keras.backend.backend() == "torch":
        return ops.relu(x)  # relu'(0) == 0 on torch; the cheapest form in eager mode
    # A select with gradient 0 at x == 0, as relu, but fast under XLA:CPU.
    return ops.where(x > 0, x, ops.zeros_like(x))


def _row_gather(order):
    """A function that reorders `(R, N)` tensors along each row by `order`, as
    `take_along_axis(x, order, axis=-1)`."""
    if keras.backend.backend() != "torch":
        return lambda x: ops.take_along_axis(x, order, axis=-1)
    # torch: keras's take_along_axis casts and wraps the indices at each call (a select,
    # then take_along_dim's remainder); flat int64 indices built once and an index_select
    # (keras's take) are ~1.5x faster, gradient included.
    rows, n = ops.shape(order)
    flat = ops.cast(order, "int64") + ops.expand_dims(ops.arange(rows, dtype="int64") * n, -1)
    flat = ops.reshape(flat, (-1,))
    return lambda x: ops.reshape(ops.take(ops.reshape(x, (-1,)), flat), (rows, n))


def _lovasz_rows(errors, key, n_fg, ignored):
    """The Lovasz extension of the Jaccard loss, one value per row.

    `errors` `(R, N)`, `>= 0`, 0 at ignored pixels. `key` `(R, N)`: 1 for a foreground
    pixel, 0 for background, -1 for an ignored one (only when `ignored`). `n_fg` `(R, 1)`:
    the number of foreground pixels. Returns `(R,)`.
    """
    # Decreasing errors, ties by pixel index (a stable sort on every backend but numpy's,
    # which computes no gradient; the value does not depend on the order of ties).
    gather = _row_gather(ops.argsort(-ops.stop_gradient(errors), axis=-1))
    sorted_errors = gather(errors)
    c = ops.stop_gradient(gather(key))
    # J_k = (f_k + b_k) / (G + b_k) is the Jaccard loss of the first k pixels, f_k and b_k
    # the foreground and background pixels among them. Its increments in closed form, not
    # as differences of J (which cancel in float32 on large images): a foreground pixel
    # adds 1 / (G + b), a background one (G - f) / ((G + b)(G + b + 1)), with f and b the
    # counts strictly before it. All >= 0; an ignored pixel adds 0 wherever it sorts.
    if ignored:
        fg = 0.5 * (c * c + c)  # 1 for key 1, else 0
        bg = 1.0 - c * c  # 1 for key 0, else 0
        f = ops.cumsum(fg, axis=-1) - fg
        u = n_fg + (ops.cumsum(bg, axis=-1) - bg)  # G + b
        u1 = u + 1.0
        numerator = fg * u1 + bg * (n_fg - f)
    else:
        # Every pixel counts: b = (position) - f, and the numerator of both cases is
        # G - f + fg (position + 1). Fewer passes (the torch benchmark's hot path).
        before = ops.arange(ops.shape(c)[-1], dtype=c.dtype)  # pixels before each position
        f = ops.cumsum(c, axis=-1) - c
        u = (n_fg + before) - f
        u1 = u + 1.0
        numerator = (n_fg - f) + c * (before + 1.0)
    g = numerator / ops.maximum(u * u1, 1.0)
    loss = ops.sum(sorted_errors * g, axis=-1)
    # No foreground (G = 0): J is 1 from the first valid pixel on, so the loss is the
    # largest error, the first sorted one (ignored pixels have error 0).
    n_fg = ops.squeeze(n_fg, -1)
    return ops.where(n_fg > 0, loss, sorted_errors[:, 0])


def _abs(x):
    """|x| with gradient 0 at x == 0 on every backend."""
    if keras.backend.backend() == "jax":
        return x * ops.stop_gradient(ops.sign(x))  # jax's abs has gradient 1 at 0
    return ops.abs(x)  # torch and TF: sign(x), 0 at 0


def _to_rows(x, channels_last, batch):
    """`(B, *spatial, C)` or `(B, C, *spatial)` to `(B, C, N)`."""
    shape = static_shape(x)
    c = shape[-1] if channels_last else shape[1]
    if channels_last:
        return ops.transpose(ops.reshape(x, (batch, -1, c)), (0, 2, 1))
    return ops.reshape(x, (batch, c, -1))


def _lovasz(owner, y_true, y_pred, mode, per_image, ignore_index, from_logits, data_format):
    data_format = data_format or keras.config.image_data_format()
    check_option(owner, "data_format", data_format, _DATA_FORMATS)
    channels_last = data_format == "channels_last"
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = float_dtype(y_pred)
    work = compute_dtype(out_dtype)
    y_pred = ops.cast(y_pred, work)
    labels = ops.convert_to_tensor(y_true)
    ps, ts = static_shape(y_pred), static_shape(labels)
    if len(ps) < 3:
        raise ValueError(
            f"{owner}: `y_pred` must have rank >= 3: a batch axis, spatial axes and a channel "
            f"axis ({data_format}). Received: y_pred.shape={ps}."
        )
    ch = len(ps) - 1 if channels_last else 1
    n_classes = ps[ch]
    if n_classes is None:
        raise ValueError(
            f"{owner}: the channel axis of `y_pred` must have a static size ({data_format}). "
            f"Received: y_pred.shape={ps}."
        )
    if mode == "binary" and n_classes != 1:
        raise ValueError(
            f'{owner}: mode="binary" takes one channel (the foreground logit). Received: '
            f"y_pred.shape={ps} with {n_classes} channels ({data_format}). Use "
            'mode="multilabel" for one independent binary problem per channel, or '
            'mode="multiclass" for one class per pixel.'
        )
    one = ps[:ch] + (1,) + ps[ch + 1 :]
    without = ps[:ch] + ps[ch + 1 :]
    if mode == "multilabel":
        expected = (ps,)
    elif mode == "binary":
        expected = (ps, without)
    else:
        expected = (without, one)
    if not any(_dims_ok(ts, e) for e in expected):
        raise _shape_error(owner, mode, ts, ps, expected[0])

    label_dtype = keras.backend.standardize_dtype(labels.dtype)
    integer = "int" in label_dtype or label_dtype == "bool"
    if mode == "multiclass" and not integer:
        raise TypeError(
            f'{owner}: `y_true` must hold integer class indices for mode="multiclass". '
            f"Received: y_true.dtype={label_dtype}. Cast the labels, e.g. "
            "`y.astype('int32')`."
        )
    labels = ops.cast(labels, "int32" if integer else work)

    batch = ops.shape(y_pred)[0]
    if mode == "multiclass":
        if len(ts) == len(ps):
            labels = ops.squeeze(labels, ch)
        if from_logits:
            y_pred = ops.softmax(y_pred, axis=ch)
        probs = _to_rows(y_pred, channels_last, batch)  # (B, C, N)
        labels = ops.expand_dims(ops.reshape(labels, (batch, -1)), 1)  # (B, 1, N)
        classes = ops.reshape(ops.arange(n_classes, dtype="int32"), (1, n_classes, 1))
        fg = ops.cast(ops.equal(labels, classes), work)
        valid = None
        if ignore_index is not None:
            valid = ops.cast(ops.not_equal(labels, ignore_index), work)
            fg = fg * valid
        errors = _abs(fg - probs)
    else:
        if len(ts) != len(ps):
            labels = ops.expand_dims(labels, ch)
        logits = y_pred
        if not from_logits:
            # Probabilities to logits, p clipped to [eps, 1 - eps] (|logit| <= 16.1).
            eps = keras.config.epsilon()
            p = ops.clip(y_pred, eps, 1.0 - eps)
            logits = ops.log(p) - ops.log1p(-p)
        logits = _to_rows(logits, channels_last, batch)
        labels = _to_rows(labels, channels_last, batch)
        fg = ops.cast(ops.greater(labels, 0.5 if not integer else 0), work)
        valid = None
        if ignore_index is not None:
            valid = ops.cast(ops.not_equal(labels, ignore_index), work)
            fg = fg * valid
        # Hinge errors 1 - s x, s = +-1; their negative part adds nothing (relu), so the
        # sort takes relu(errors) (the same order of every positive error).
        errors = _relu(1.0 - (2.0 * fg - 1.0) * logits)

    key = fg
    if valid is not None:
        errors = errors * valid  # ignored pixels: error 0 and no gradient
        key = fg + valid - 1.0  # 1 foreground, 0 background, -1 ignored
    n_fg = ops.sum(fg, axis=-1)  # (B, C)
    n = ops.shape(errors)[-1]
    if per_image:
        loss = _lovasz_rows(
            ops.reshape(errors, (-1, n)),
            ops.reshape(key, (-1, n)),
            ops.reshape(n_fg, (-1, 1)),
            valid is not None,
        )
        loss = ops.reshape(loss, (batch, n_classes))
    else:
        # One problem per class over every pixel of the batch: (C, B * N).
        def per_class(x):
            return ops.reshape(ops.transpose(x, (1, 0, 2)), (n_classes, -1))

        n_fg = ops.sum(n_fg, axis=0)
        loss = _lovasz_rows(
            per_class(errors), per_class(key), ops.reshape(n_fg, (-1, 1)), valid is not None
        )

    if mode == "multiclass":
        # Mean over the classes present in the labels (Berman's classes="present"); 0 when
        # no class is present (every pixel ignored).
        present = ops.cast(n_fg > 0, work)
        value = ops.sum(loss * present, axis=-1) / ops.maximum(ops.sum(present, axis=-1), 1.0)
    else:
        value = ops.mean(loss, axis=-1)
    if not per_image:
        # One value for the whole batch, repeated on each row.
        value = ops.zeros_like(errors[:, 0, 0]) + value
    return ops.cast(value, out_dtype)


# --------------------------------------------------------------------------- API


@register
def lovasz_loss(
    y_true,
    y_pred,
    *,
    mode="multiclass",
    per_image=True,
    ignore_index=None,
    from_logits=True,
    data_format=None,
):
    """Lovasz-softmax (multiclass) or Lovasz-hinge (binary, multilabel); see `Lovasz`.

    Returns one value per image, shape `(B,)`; with `per_image=False` every entry is the
    value over the whole batch.
    """
    owner = "lovasz_loss"
    hyper = _check(owner, mode, per_image, ignore_index, from_logits, data_format)
    return _lovasz(owner, y_true, y_pred, **hyper)


@register
class Lovasz(KlossLoss):
    """Lovasz loss (Berman et al. 2018): a convex surrogate of the Jaccard loss `1 - IoU`.

    For segmentation, where it optimizes the intersection-over-union directly (often after
    or next to a cross-entropy). Per class, with the pixels' errors `e_i` sorted in
    decreasing order, the loss is the Lovasz extension of the Jaccard loss:

        loss = sum_k e_(k) * (J(first k pixels) - J(first k - 1 pixels))
        J(M) = |M| / |foreground union M|  (the Jaccard loss of mispredicting the set M)

    - `mode="multiclass"` (Lovasz-softmax): `y_pred` holds one score per class; with
      `from_logits=True` a softmax over the channel axis gives the probabilities `p`
      (`from_logits=False`: `y_pred` are probabilities, used as given). For each class `c`,
      `e_i = |[y_i == c] - p_ic|`; the loss is the mean over the classes present in the
      labels (Berman's `classes="present"`), 0 when no class is present.
    - `mode="binary"` (Lovasz-hinge): `y_pred` holds one logit `x` per pixel (one channel);
      `e_i = max(0, 1 - s_i x_i)` with `s_i = +1` for foreground pixels, `-1` otherwise.
      An image without foreground still has a loss (the largest hinge error), as in
      Berman's `lovasz_hinge`. With `from_logits=False`, `y_pred` are probabilities,
      turned into logits `log(p / (1 - p))` (`p` clipped to `[eps, 1 - eps]`) first.
    - `mode="multilabel"`: the Lovasz-hinge of each channel as its own binary problem,
      averaged over the channels.

    `ignore_index` removes pixels (their label equals it) from every count, as Berman's
    `ignore`: a loss over no pixel is 0. `per_image=True` gives each image its own loss;
    `per_image=False` computes one loss over all pixels of the batch (one problem per class)
    and returns it on every row, so the default reduction gives that value.

    Equals Berman's reference `lovasz_softmax(probas, labels, classes="present",
    per_image, ignore)` and `lovasz_hinge(logits, labels, per_image, ignore)`, and
    segmentation_models_pytorch's `LovaszLoss(mode, per_image, ignore_index)` (the batch
    mean of the rows) for `"multiclass"` and `"binary"`. Note: smp's `"multilabel"` mode
    pools all channels into one binary problem per image; kloss takes the mean of the
    per-channel losses (equal for one channel).

    The sort is stable (ties broken by pixel index, the same on every backend); the value
    does not depend on the order of ties. Counts are exact up to 2**24 pixels per problem
    (float32). 16-bit inputs compute in float32.

    Args:
        mode: `"multiclass"` (default), `"binary"` or `"multilabel"`.
        per_image: one loss per image (True, default) or one over the whole batch.
        ignore_index: a label value whose pixels are left out (e.g. 255), or `None`.
        from_logits: whether `y_pred` holds logits (True, default, as smp's `LovaszLoss`;
            kloss's `Dice` and the other overlap losses default to probabilities) or
            probabilities.
        data_format: `"channels_last"` (`(B, *spatial, C)`), `"channels_first"`
            (`(B, C, *spatial)`) or `None` for `keras.config.image_data_format()` (read
            at construction).
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: `"multiclass"`: integer class indices, `y_pred`'s shape without the
            channel axis (or with a channel axis of size 1). `"binary"`: labels in {0, 1}
            (a value above 0.5 is foreground), `y_pred`'s shape or without its channel
            axis. `"multilabel"`: labels in {0, 1}, `y_pred`'s shape.
        y_pred: scores of rank >= 3, `(B, *spatial, C)` or `(B, C, *spatial)`.
        sample_weight: one weight per image, `(B,)` or `(B, 1)`.

    Example:
        >>> loss = kloss.Lovasz()
        >>> labels = [[[0, 1], [1, 2]]]
        >>> logits = [[[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [[1.0, 0.5, 0.0], [0.0, 0.0, 3.0]]]]
        >>> round(float(loss(labels, logits)), 4)
        0.3622
    """

    hyperparameters = ("mode", "per_image", "ignore_index", "from_logits", "data_format")
    per_row = True
    integer_labels = True

    def __init__(
        self,
        mode="multiclass",
        per_image=True,
        ignore_index=None,
        from_logits=True,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        hyper = _check(owner, mode, per_image, ignore_index, from_logits, data_format)
        hyper["data_format"] = hyper["data_format"] or keras.config.image_data_format()
        self.__dict__.update(hyper)
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        hyper = {name: getattr(self, name) for name in self.hyperparameters}
        return _lovasz(type(self).__name__, self._true(y_true), y_pred, **hyper)
