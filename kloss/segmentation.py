"""Segmentation losses: pixel-wise cross-entropy and the overlap family (Dice, Jaccard, ...).

Every loss returns one value per image, `(B,)`, whatever the rank of `y_pred` (2-D images
`(B, H, W, C)` or 3-D volumes `(B, D, H, W, C)`; channels first with
`data_format="channels_first"`).

Shared conventions (docs/segmentation.md):

- `mode`: `"binary"` (one output channel, sigmoid from logits, labels in [0, 1]),
  `"multiclass"` (softmax over C >= 2 channels, labels as class indices or one-hot) or
  `"multilabel"` (a sigmoid per channel, multi-hot labels).
- The overlap losses work from three per-class sums over the pixels of an image (or of the
  batch with `per_image=False`): `sum(p)`, `sum(t)` and the intersection
  `tp = (sum(p) + sum(t) - sum(|p - t|)) / 2`, which is `sum(min(p, t))`: `sum(p t)` for hard
  labels, and exactly `sum(t)` when `p == t` for soft labels (MONAI's `soft_label=True`).
  `fp = sum(p) - tp`, `fn = sum(t) - tp`.
- The sums run in float32 for float16 and bfloat16 inputs (a 256x256 mask sums past
  float16's 65504), and the result is cast back.
"""

import math

import keras
from keras import ops

from kloss._internal import (
    KlossLoss,
    check_bool,
    check_int,
    check_number,
    check_option,
    check_vector,
    compute_dtype,
    float_dtype,
    register,
    shapes_match,
    static_shape,
)
from kloss.classification import _sparse, categorical_crossentropy

__all__ = [
    "PixelwiseCrossentropy",
    "Dice",
    "Jaccard",
    "Tversky",
    "FocalTversky",
    "GeneralizedDice",
    "pixelwise_crossentropy",
    "dice",
    "jaccard",
    "tversky",
    "focal_tversky",
    "generalized_dice",
]

_MODES = ("binary", "multiclass", "multilabel")
_FORMATS = ("channels_last", "channels_first")


# --------------------------------------------------------------------------- validation


def _data_format(owner, value):
    if value is None:
        value = keras.config.image_data_format()
    return check_option(owner, "data_format", value, _FORMATS)


def _ignore_index(owner, value):
    return None if value is None else check_int(owner, "ignore_index", value)


def _class_weights(owner, value):
    return check_vector(owner, "class_weights", value, scalar=False, positive_entry=True)


def _check_overlap(
    owner,
    mode,
    from_logits,
    smooth,
    per_image,
    include_background,
    class_weights,
    ignore_index,
    data_format,
):
    """The options shared by the overlap losses, validated (a dict of attributes)."""
    return dict(
        mode=check_option(owner, "mode", mode, _MODES),
        from_logits=check_bool(owner, "from_logits", from_logits),
        smooth=check_number(owner, "smooth", smooth, ge=0.0),
        per_image=check_bool(owner, "per_image", per_image),
        include_background=check_bool(owner, "include_background", include_background),
        class_weights=_class_weights(owner, class_weights),
        ignore_index=_ignore_index(owner, ignore_index),
        data_format=_data_format(owner, data_format),
    )


def _check_tversky(owner, alpha, beta):
    return dict(
        alpha=check_number(owner, "alpha", alpha, ge=0.0),
        beta=check_number(owner, "beta", beta, ge=0.0),
    )


# --------------------------------------------------------------------------- labels


def _channel_axis(owner, y_pred, data_format):
    shape = static_shape(y_pred)
    rank = len(shape)
    if rank < 3:
        raise ValueError(
            f"{owner}: `y_pred` must be a batch of images, rank >= 3 ((B, H, W, C) or, "
            f"channels first, (B, C, H, W)). Received: y_pred.shape={shape}."
        )
    axis = 1 if data_format == "channels_first" else rank - 1
    if shape[axis] is None:
        raise ValueError(
            f"{owner}: the channel axis {axis} of `y_pred` must have a static size. "
            f"Received: y_pred.shape={shape}, data_format={data_format!r}."
        )
    return axis, shape


def _read_labels(owner, y_true, y_pred, axis, mode, data_format):
    """`y_true` with `y_pred`'s rank and whether it holds class indices.

    Returns `(labels, is_index)`: int32 class indices with a channel axis of size 1, or
    dense labels (their own dtype) with `y_pred`'s shape.
    """
    y_true = ops.convert_to_tensor(y_true)
    ts, ps = static_shape(y_true), static_shape(y_pred)
    n = ps[axis]
    no_channel = ps[:axis] + ps[axis + 1 :]
    where = f"y_true.shape={ts}, y_pred.shape={ps} (data_format={data_format!r}, mode={mode!r})"
    if mode == "binary" and n != 1:
        raise ValueError(
            f"{owner}: mode='binary' needs `y_pred` with one channel, the foreground. "
            f"Received: {where}. For {n} classes pass mode='multiclass' (class indices or "
            "one-hot labels, softmax) or mode='multilabel' (multi-hot labels, sigmoids)."
        )
    if mode == "multiclass" and n < 2:
        raise ValueError(
            f"{owner}: mode='multiclass' needs `y_pred` with >= 2 channels (a softmax over "
            f"classes). Received: {where}. For one foreground channel pass mode='binary'."
        )
    if len(ts) == len(ps) - 1 and shapes_match(ts, no_channel):
        y_true = ops.expand_dims(y_true, axis)
        ts = static_shape(y_true)
    elif len(ts) != len(ps) or not shapes_match(ts[:axis] + ts[axis + 1 :], no_channel):
        raise ValueError(
            f"{owner}: `y_true` must match `y_pred` pixel for pixel. Received: {where}. "
            "Pass labels of y_pred's shape, or class indices without the channel axis "
            "(mode='multiclass'); check `data_format`."
        )
    size = ts[axis]
    if mode == "multiclass" and size == 1:
        dtype = keras.backend.standardize_dtype(y_true.dtype)
        if "int" not in dtype:
            raise TypeError(
                f"{owner}: class-index labels must be integers. Received: y_true.dtype="
                f"{dtype}, {where}. Cast them, e.g. `y.astype('int32')`, or pass one-hot "
                "labels of y_pred's shape."
            )
        return ops.cast(y_true, "int32"), True
    if size is not None and size != n:
        hint = (
            " If y_true holds class indices, pass mode='multiclass'."
            if mode == "multilabel" and size == 1
            else ""
        )
        raise ValueError(
            f"{owner}: `y_true` must have y_pred's {n} channels (or, for class indices, "
            f"none). Received: {where}.{hint}"
        )
    return y_true, False


def _dense_labels(labels, is_index, n, axis, mode, ignore_index, dtype):
    """`(t, valid)`: dense float labels of `y_pred`'s shape and the mask of counted pixels
    (`None` without `ignore_index`), broadcastable against `t`."""
    rank = len(labels.shape)
    valid = None
    if is_index:
        classes = [1] * rank
        classes[axis] = n
        # A comparison with the class range, not one_hot: an out-of-range (ignored) label
        # gives a zero row on every backend.
        classes = ops.reshape(ops.arange(n, dtype="int32"), classes)
        t = ops.cast(ops.equal(labels, classes), dtype)
        if ignore_index is not None:
            valid = ops.cast(ops.not_equal(labels, ignore_index), dtype)
        return t, valid
    if ignore_index is not None and mode != "multiclass":
        # binary and multilabel: each entry equal to ignore_index is left out.
        valid = ops.cast(ops.not_equal(labels, ops.cast(ignore_index, labels.dtype)), dtype)
    t = ops.cast(labels, dtype)
    if ignore_index is not None and mode == "multiclass":
        # One-hot labels, as MONAI: a class index leaves out the pixels of that class, any
        # other value the pixels whose label row is all zero.
        if 0 <= ignore_index < n:
            valid = 1.0 - ops.take(t, [ignore_index], axis=axis)
        else:
            valid = ops.cast(ops.sum(t, axis=axis, keepdims=True) > 0, dtype)
    return t, valid


# --------------------------------------------------------------------------- overlap sums


def _per_class(owner, weights, n, include_background, shape, dtype):
    """The class weights as a tensor over the kept classes, or None."""
    if weights is None:
        return None
    if len(weights) != n:
        raise ValueError(
            f"{owner}: `class_weights` needs one entry per channel of `y_pred` ({n}), "
            f"the background included. Received: class_weights={weights!r}, "
            f"y_pred.shape={shape}."
        )
    if not include_background and n > 1:
        weights = weights[1:]
        if not any(w > 0 for w in weights):
            raise ValueError(
                f"{owner}: with include_background=False, `class_weights` needs a positive "
                f"entry after the first. Received: class_weights={weights!r}."
            )
    return ops.convert_to_tensor(weights, dtype=dtype)


def _overlap_sums(owner, y_true, y_pred, h):
    """Per-class sums `(tp, sum_p, sum_t)`, each `(B, C)` (or `(1, C)` with
    `per_image=False`), the class weights, the output dtype and the batch size."""
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = float_dtype(y_pred)
    work = compute_dtype(out_dtype)
    y_pred = ops.cast(y_pred, work)
    axis, shape = _channel_axis(owner, y_pred, h["data_format"])
    n = shape[axis]
    mode = h["mode"]
    labels, is_index = _read_labels(owner, y_true, y_pred, axis, mode, h["data_format"])
    weights = _per_class(owner, h["class_weights"], n, h["include_background"], shape, work)
    t, valid = _dense_labels(labels, is_index, n, axis, mode, h["ignore_index"], work)
    p = y_pred
    if h["from_logits"]:
        p = ops.softmax(p, axis=axis) if mode == "multiclass" else ops.sigmoid(p)
    if valid is not None:
        # Ignored pixels leave the numerator and the denominator alike.
        p = p * valid
        t = t * valid
    rank = len(shape)
    spatial = tuple(i for i in range(1, rank) if i != axis)
    reduce = spatial if h["per_image"] else (0,) + spatial
    sum_p = ops.sum(p, axis=reduce)
    sum_t = ops.sum(t, axis=reduce)
    # sum(min(p, t)) as (|p| + |t| - |p - t|) / 2 for p, t >= 0: sum(p t) for hard labels,
    # and exactly sum(t) where p == t for soft ones. |d| = d * sign, with sign 1 - 2t at the
    # kink p == t: d tp / d p is then t there, the gradient of sum(p t) for hard labels, on
    # every backend (abs has gradient 1 there on JAX, 0 on torch).
    if is_index and h["from_logits"]:
        # Class indices are hard labels and a softmax is in [0, 1]: min(p, t) == p t, the
        # same value and gradient in one pass.
        tp = ops.sum(p * t, axis=reduce)
    else:
        d = p - t
        sign = ops.where(d == 0, 1.0 - 2.0 * t, ops.sign(d))
        tp = 0.5 * (sum_p + sum_t - ops.sum(d * sign, axis=reduce))
    if not h["per_image"]:
        tp, sum_p, sum_t = (ops.expand_dims(x, 0) for x in (tp, sum_p, sum_t))
    if not h["include_background"] and n > 1:
        tp, sum_p, sum_t = (x[:, 1:] for x in (tp, sum_p, sum_t))
    return (tp, sum_p, sum_t), weights, out_dtype, ops.shape(y_pred)[0]


def _ratio(num, den):
    """num / den, and 1 (a perfect score) where den == 0 (smooth=0, both masks empty)."""
    positive = den > 0
    return ops.where(positive, num / ops.where(positive, den, ops.ones_like(den)), 1.0)


def _finish(per_class, weights, out_dtype, per_image, batch):
    """The (class-weighted) mean over classes, one value per image, cast back."""
    if weights is None:
        # sum / C, not ops.mean: Keras's torch mean rounds float64 to float32 precision.
        loss = ops.sum(per_class, axis=-1) / per_class.shape[-1]
    else:
        loss = ops.sum(per_class * weights, axis=-1) / ops.sum(weights)
    if not per_image:
        # One batch value, repeated per row: Keras's reductions and distribution scaling
        # then see one value per sample.
        loss = ops.broadcast_to(loss, (batch,))
    return ops.cast(loss, out_dtype)


def _tversky_index(tp, sum_p, sum_t, alpha, beta, smooth):
    fp = sum_p - tp
    fn = sum_t - tp
    return _ratio(tp + smooth, tp + alpha * fp + beta * fn + smooth)


def _overlap(owner, kind, y_true, y_pred, h, extra):
    (tp, sum_p, sum_t), weights, out_dtype, batch = _overlap_sums(owner, y_true, y_pred, h)
    s = h["smooth"]
    if kind == "dice":
        per_class = 1.0 - _ratio(2.0 * tp + s, sum_p + sum_t + s)
    elif kind == "jaccard":
        per_class = 1.0 - _ratio(tp + s, sum_p + sum_t - tp + s)
    elif kind == "tversky":
        per_class = 1.0 - _tversky_index(tp, sum_p, sum_t, extra["alpha"], extra["beta"], s)
    elif kind == "focal_tversky":
        m = 1.0 - _tversky_index(tp, sum_p, sum_t, extra["alpha"], extra["beta"], s)
        gamma = extra["gamma"]
        if gamma == 1.0:
            per_class = m
        else:
            # (1 - TI)^gamma: for gamma < 1 its derivative is infinite at TI == 1 (a perfect
            # prediction); take the value there, 0, with a zero gradient (and no NaN from a
            # rounding-negative 1 - TI).
            positive = m > 0
            safe = ops.where(positive, m, ops.ones_like(m))
            per_class = ops.where(positive, ops.power(safe, gamma), ops.zeros_like(m))
    else:  # generalized_dice
        return _generalized(tp, sum_p, sum_t, weights, out_dtype, h, batch)
    return _finish(per_class, weights, out_dtype, h["per_image"], batch)


def _generalized(tp, sum_p, sum_t, weights, out_dtype, h, batch):
    # w_c = 1 / vol_c^2; a class of zero volume gets the largest weight of that image's (or
    # batch's) other classes, and 0 where every class is empty (MONAI's choice).
    present = sum_t > 0
    safe = ops.where(present, sum_t, ops.ones_like(sum_t))
    inverse = ops.where(present, 1.0 / ops.square(safe), ops.zeros_like(sum_t))
    w = ops.where(present, inverse, ops.max(inverse, axis=-1, keepdims=True))
    if weights is not None:
        w = w * weights
    s = h["smooth"]
    num = 2.0 * ops.sum(w * tp, axis=-1) + s
    den = ops.sum(w * (sum_p + sum_t), axis=-1) + s
    loss = 1.0 - _ratio(num, den)
    if not h["per_image"]:
        loss = ops.broadcast_to(loss, (batch,))
    return ops.cast(loss, out_dtype)


class _OverlapLoss(KlossLoss):
    """A loss from per-class overlap sums: one value per image."""

    per_row = True
    integer_labels = True
    _kind = None
    _extra = ()
    _args_doc = ""  # the loss's own arguments, listed before the shared ones
    hyperparameters = (
        "mode",
        "from_logits",
        "smooth",
        "per_image",
        "include_background",
        "class_weights",
        "ignore_index",
        "data_format",
    )

    def _set(self, owner, overlap, extra, reduction, name, dtype):
        self.__dict__.update(_check_overlap(owner, **overlap))
        self.__dict__.update(extra)
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        h = {k: getattr(self, k) for k in _OverlapLoss.hyperparameters}
        extra = {k: getattr(self, k) for k in self._extra}
        return _overlap(type(self).__name__, self._kind, self._true(y_true), y_pred, h, extra)


def _overlap_fn(owner, kind, y_true, y_pred, overlap, extra):
    h = _check_overlap(owner, **overlap)
    return _overlap(owner, kind, y_true, y_pred, h, extra)


_OPTIONS_DOC = """
    Args:
{extra}        mode: `"multiclass"` (default: a softmax over C >= 2 channels from logits; labels as
            class indices `(B, H, W)`, `(B, H, W, 1)` or one-hot `(B, H, W, C)`),
            `"binary"` (one channel, a sigmoid from logits, labels in [0, 1] with or
            without the channel axis) or `"multilabel"` (a sigmoid per channel, multi-hot
            labels of y_pred's shape).
        from_logits: whether `y_pred` holds logits (True) or probabilities (False).
        smooth: `>= 0`, added to numerator and denominator. Default 1e-5, MONAI's
            `smooth_nr = smooth_dr`: a perfect prediction of an empty mask scores 0, and
            false positives on an empty mask still get a gradient. With 0, an empty mask
            predicted empty scores 0 too (0/0 is read as a perfect score).
        per_image: True (default): statistics per image, one loss per image. False:
            the sums run over the whole batch and every row holds that batch value (so
            the default reduction gives it, and distribution scaling stays right).
        include_background: False leaves channel 0 out of the loss (not in `"binary"`
            mode, whose one channel is the foreground).
        class_weights: one weight `>= 0` per channel of `y_pred` (the background
            included, also with `include_background=False`), or `None`; the loss is the
            weighted mean over classes, `sum_c w_c l_c / sum_c w_c`.
        ignore_index: pixels to leave out of every sum, or `None`: for class indices,
            pixels with that label; for one-hot labels (as MONAI), the pixels of that class
            when it is a class index, else the pixels whose label row is all zero; in
            `"binary"` and `"multilabel"` modes, each entry equal to it.
        data_format: `"channels_last"` (`(B, ..., C)`) or `"channels_first"`
            (`(B, C, ...)`); `None` reads `keras.config.image_data_format()`.
        reduction: as in `kloss.BinaryCrossentropy`.
        name: as in `kloss.BinaryCrossentropy`.
        dtype: as in `kloss.BinaryCrossentropy`.

    Call arguments:
        y_true: labels, as `mode` says; 2-D images or 3-D volumes.
        y_pred: probabilities or logits `(B, H, W, C)` (`(B, D, H, W, C)` for volumes).
        sample_weight: one weight per image, `(B,)` or `(B, 1)`.
"""


def _doc(cls):
    options = _OPTIONS_DOC.replace("{extra}", cls._args_doc)
    cls.__doc__ = cls.__doc__.replace("{options}", options)
    return cls


def _overlap_args(
    mode, from_logits, smooth, per_image, include_background, class_weights, ignore_index, df
):
    return dict(
        mode=mode,
        from_logits=from_logits,
        smooth=smooth,
        per_image=per_image,
        include_background=include_background,
        class_weights=class_weights,
        ignore_index=ignore_index,
        data_format=df,
    )


# --------------------------------------------------------------------------- Dice


@register
def dice(
    y_true,
    y_pred,
    *,
    mode="multiclass",
    from_logits=False,
    smooth=1e-5,
    per_image=True,
    include_background=True,
    class_weights=None,
    ignore_index=None,
    data_format=None,
):
    """Dice loss, one value per image `(B,)`; see `Dice`."""
    overlap = _overlap_args(
        mode, from_logits, smooth, per_image, include_background, class_weights, ignore_index,
        data_format,
    )  # fmt: skip
    return _overlap_fn("dice", "dice", y_true, y_pred, overlap, {})


@register
@_doc
class Dice(_OverlapLoss):
    """Dice loss (Milletari et al. 2016): `1 - (2 tp + s) / (sum(p) + sum(t) + s)` per class.

    For segmentation with imbalanced classes. Per image, the mean over classes (weighted by
    `class_weights`) of the per-class loss, with `tp = sum(min(p, t))` (see the module
    docstring): `loss(y, y) == 0` for soft labels `y`, and a perfect prediction of an empty
    mask gives 0 (Keras's `Dice` gives 1, its worst value). False positives on an empty
    mask give a loss near 1 whose gradient, `s / (sum(p) + s)^2`, pushes them down.

    Equals MONAI's `DiceLoss(sigmoid=..., softmax=..., include_background=...,
    batch=not per_image, smooth_nr=smooth, smooth_dr=smooth, soft_label=True,
    ignore_index=..., reduction="none")` averaged over classes (its default
    `soft_label=False`, `sum(p t)`, is identical for hard labels). With `class_weights`,
    MONAI's mean over classes of `w_c l_c` is `sum_c w_c / C` times kloss's weighted mean.
    {options}
    Example:
        >>> loss = kloss.Dice(mode="binary")
        >>> y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]]]
        >>> round(float(loss(y_true, [[[[0.8], [0.4]], [[0.2], [0.0]]]])), 4)
        0.2941
    """

    _kind = "dice"

    def __init__(
        self,
        mode="multiclass",
        from_logits=False,
        smooth=1e-5,
        per_image=True,
        include_background=True,
        class_weights=None,
        ignore_index=None,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        overlap = _overlap_args(
            mode, from_logits, smooth, per_image, include_background, class_weights,
            ignore_index, data_format,
        )  # fmt: skip
        self._set(type(self).__name__, overlap, {}, reduction, name, dtype)


# --------------------------------------------------------------------------- Jaccard


@register
def jaccard(
    y_true,
    y_pred,
    *,
    mode="multiclass",
    from_logits=False,
    smooth=1e-5,
    per_image=True,
    include_background=True,
    class_weights=None,
    ignore_index=None,
    data_format=None,
):
    """Jaccard (soft IoU) loss, one value per image `(B,)`; see `Jaccard`."""
    overlap = _overlap_args(
        mode, from_logits, smooth, per_image, include_background, class_weights, ignore_index,
        data_format,
    )  # fmt: skip
    return _overlap_fn("jaccard", "jaccard", y_true, y_pred, overlap, {})


@register
@_doc
class Jaccard(_OverlapLoss):
    """Jaccard (soft IoU) loss: `1 - (tp + s) / (sum(p) + sum(t) - tp + s)` per class.

    The intersection over union of the predicted and true masks, `tp = sum(min(p, t))`;
    per image, the (class-weighted) mean over classes. Equals
    segmentation_models_pytorch's `JaccardLoss(smooth=s)` (its `eps` clamp never binds for
    `s > 0`), and MONAI's `DiceLoss(jaccard=True, smooth_nr=2 s, smooth_dr=2 s,
    soft_label=True)`: MONAI scales numerator and denominator by 2, so its smoothing
    constants are twice kloss's `smooth`.
    {options}
    Example:
        >>> loss = kloss.Jaccard(mode="binary")
        >>> y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]]]
        >>> round(float(loss(y_true, [[[[0.8], [0.4]], [[0.2], [0.0]]]])), 4)
        0.4545
    """

    _kind = "jaccard"

    def __init__(
        self,
        mode="multiclass",
        from_logits=False,
        smooth=1e-5,
        per_image=True,
        include_background=True,
        class_weights=None,
        ignore_index=None,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        overlap = _overlap_args(
            mode, from_logits, smooth, per_image, include_background, class_weights,
            ignore_index, data_format,
        )  # fmt: skip
        self._set(type(self).__name__, overlap, {}, reduction, name, dtype)


# --------------------------------------------------------------------------- Tversky


@register
def tversky(
    y_true,
    y_pred,
    *,
    alpha=0.5,
    beta=0.5,
    mode="multiclass",
    from_logits=False,
    smooth=1e-5,
    per_image=True,
    include_background=True,
    class_weights=None,
    ignore_index=None,
    data_format=None,
):
    """Tversky loss, one value per image `(B,)`; see `Tversky`."""
    owner = "tversky"
    overlap = _overlap_args(
        mode, from_logits, smooth, per_image, include_background, class_weights, ignore_index,
        data_format,
    )  # fmt: skip
    return _overlap_fn(
        owner, "tversky", y_true, y_pred, overlap, _check_tversky(owner, alpha, beta)
    )


@register
@_doc
class Tversky(_OverlapLoss):
    """Tversky loss (Salehi et al. 2017): `1 - (tp + s) / (tp + alpha fp + beta fn + s)`.

    Dice with separate weights for false positives (`alpha`) and false negatives
    (`beta`): raise `beta` to favour recall on small structures. `fp = sum(p) - tp`,
    `fn = sum(t) - tp`, `tp = sum(min(p, t))`; per image, the (class-weighted) mean over
    classes. `alpha = beta = 0.5` is Dice up to the smoothing (`s` here, `2 s` for Dice's
    form); `alpha = beta = 1` is Jaccard.

    Equals MONAI's `TverskyLoss(alpha, beta, smooth_nr=smooth, smooth_dr=smooth,
    soft_label=True, batch=not per_image, ...)` averaged over classes. Note: Keras 3.15's
    `keras.losses.Tversky(alpha=a, beta=b)` weights false negatives by `a` and false
    positives by `b` (the paper's roles swapped); it equals
    `kloss.Tversky(alpha=b, beta=a, mode="binary", per_image=False, smooth=0)` up to its
    `epsilon` in the denominator.
    {options}
    Example:
        >>> loss = kloss.Tversky(alpha=0.3, beta=0.7, mode="binary")
        >>> y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]]]
        >>> round(float(loss(y_true, [[[[0.8], [0.4]], [[0.2], [0.0]]]])), 4)
        0.3407
    """

    _kind = "tversky"
    _args_doc = (
        "        alpha: weight `>= 0` of the false positives. Default 0.5.\n"
        "        beta: weight `>= 0` of the false negatives. Default 0.5.\n"
    )
    _extra = ("alpha", "beta")
    hyperparameters = ("alpha", "beta") + _OverlapLoss.hyperparameters

    def __init__(
        self,
        alpha=0.5,
        beta=0.5,
        mode="multiclass",
        from_logits=False,
        smooth=1e-5,
        per_image=True,
        include_background=True,
        class_weights=None,
        ignore_index=None,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        overlap = _overlap_args(
            mode, from_logits, smooth, per_image, include_background, class_weights,
            ignore_index, data_format,
        )  # fmt: skip
        self._set(owner, overlap, _check_tversky(owner, alpha, beta), reduction, name, dtype)


# --------------------------------------------------------------------------- Focal Tversky


def _check_focal_tversky(owner, alpha, beta, gamma):
    extra = _check_tversky(owner, alpha, beta)
    extra["gamma"] = check_number(owner, "gamma", gamma, gt=0.0)
    return extra


@register
def focal_tversky(
    y_true,
    y_pred,
    *,
    alpha=0.5,
    beta=0.5,
    gamma=0.75,
    mode="multiclass",
    from_logits=False,
    smooth=1e-5,
    per_image=True,
    include_background=True,
    class_weights=None,
    ignore_index=None,
    data_format=None,
):
    """Focal Tversky loss, one value per image `(B,)`; see `FocalTversky`."""
    owner = "focal_tversky"
    overlap = _overlap_args(
        mode, from_logits, smooth, per_image, include_background, class_weights, ignore_index,
        data_format,
    )  # fmt: skip
    extra = _check_focal_tversky(owner, alpha, beta, gamma)
    return _overlap_fn(owner, "focal_tversky", y_true, y_pred, overlap, extra)


@register
@_doc
class FocalTversky(_OverlapLoss):
    """Focal Tversky loss (Abraham & Khan 2019): `(1 - TI)^gamma` per class.

    `TI` is `Tversky`'s index, `(tp + s) / (tp + alpha fp + beta fn + s)`; per image, the
    (class-weighted) mean over classes. `gamma < 1` (the paper's `1 / gamma`, 0.75 for
    its 4/3) raises the loss of nearly correct classes relative to `Tversky`, focusing
    training on them; `gamma = 1` is `Tversky`. The paper weights false negatives by 0.7
    and false positives by 0.3, i.e. `alpha=0.3, beta=0.7` here. At a perfect score
    (`TI == 1`) the loss is 0 with a zero gradient (the exact derivative is infinite for
    `gamma < 1`).

    Equals `TverskyLoss(reduction="none")` of MONAI raised to `gamma` and averaged over
    classes.
    {options}
    Example:
        >>> loss = kloss.FocalTversky(alpha=0.3, beta=0.7, mode="binary")
        >>> y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]]]
        >>> round(float(loss(y_true, [[[[0.8], [0.4]], [[0.2], [0.0]]]])), 4)
        0.4459
    """

    _kind = "focal_tversky"
    _args_doc = (
        "        alpha: as in `Tversky`.\n"
        "        beta: as in `Tversky`.\n"
        "        gamma: the exponent, `> 0`. Default 0.75.\n"
    )
    _extra = ("alpha", "beta", "gamma")
    hyperparameters = ("alpha", "beta", "gamma") + _OverlapLoss.hyperparameters

    def __init__(
        self,
        alpha=0.5,
        beta=0.5,
        gamma=0.75,
        mode="multiclass",
        from_logits=False,
        smooth=1e-5,
        per_image=True,
        include_background=True,
        class_weights=None,
        ignore_index=None,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        overlap = _overlap_args(
            mode, from_logits, smooth, per_image, include_background, class_weights,
            ignore_index, data_format,
        )  # fmt: skip
        extra = _check_focal_tversky(owner, alpha, beta, gamma)
        self._set(owner, overlap, extra, reduction, name, dtype)


# --------------------------------------------------------------------------- Generalized Dice


@register
def generalized_dice(
    y_true,
    y_pred,
    *,
    mode="multiclass",
    from_logits=False,
    smooth=1e-5,
    per_image=True,
    include_background=True,
    class_weights=None,
    ignore_index=None,
    data_format=None,
):
    """Generalized Dice loss, one value per image `(B,)`; see `GeneralizedDice`."""
    overlap = _overlap_args(
        mode, from_logits, smooth, per_image, include_background, class_weights, ignore_index,
        data_format,
    )  # fmt: skip
    return _overlap_fn("generalized_dice", "generalized_dice", y_true, y_pred, overlap, {})


@register
@_doc
class GeneralizedDice(_OverlapLoss):
    """Generalized Dice loss (Sudre et al. 2017), one value per image.

    `1 - (2 sum_c w_c tp_c + s) / (sum_c w_c (sum(p_c) + sum(t_c)) + s)` with
    `w_c = 1 / sum(t_c)^2`: each class counts in inverse proportion to its squared volume,
    so small structures weigh as much as large ones. A class absent from the image (zero
    volume) gets the largest weight of the image's present classes; an image where every
    class is absent gets all weights 0 and the loss `1 - s / s = 0` (MONAI's choice, so a
    perfect prediction of an empty image scores 0, and false positives there give no
    gradient). `class_weights`, when given, multiply `w_c`. `tp = sum(min(p, t))`.

    Equals MONAI's `GeneralizedDiceLoss(w_type="square", smooth_nr=smooth,
    smooth_dr=smooth, soft_label=True, batch=not per_image, ...)`.
    {options}
    Example:
        >>> loss = kloss.GeneralizedDice()
        >>> y_true = [[[1, 0], [0, 0]]]
        >>> y_pred = [[[[0.2, 0.8], [0.9, 0.1]], [[0.7, 0.3], [1.0, 0.0]]]]
        >>> round(float(loss(y_true, y_pred)), 4)
        0.2344
    """

    _kind = "generalized_dice"

    def __init__(
        self,
        mode="multiclass",
        from_logits=False,
        smooth=1e-5,
        per_image=True,
        include_background=True,
        class_weights=None,
        ignore_index=None,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        overlap = _overlap_args(
            mode, from_logits, smooth, per_image, include_background, class_weights,
            ignore_index, data_format,
        )  # fmt: skip
        self._set(type(self).__name__, overlap, {}, reduction, name, dtype)


# --------------------------------------------------------------------------- cross-entropy


def _check_pixelwise(owner, from_logits, class_weights, ignore_index, label_smoothing, df):
    return dict(
        from_logits=check_bool(owner, "from_logits", from_logits),
        class_weights=_class_weights(owner, class_weights),
        ignore_index=_ignore_index(owner, ignore_index),
        label_smoothing=check_number(owner, "label_smoothing", label_smoothing, ge=0.0, le=1.0),
        data_format=_data_format(owner, df),
    )


def _pixelwise(owner, y_true, y_pred, h, entry_weights=False):
    """Per image: `sum(w ce) / sum(w)` over its valid pixels; with `entry_weights`, the
    pair `(sum(w ce), sum(w))`, both divided by the pixel count (which cancels)."""
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = float_dtype(y_pred)
    # Cast first: the classification functions then return float32, and the sums over the
    # image stay in float32 for 16-bit inputs.
    y_pred = ops.cast(y_pred, compute_dtype(out_dtype))
    axis, shape = _channel_axis(owner, y_pred, h["data_format"])
    n = shape[axis]
    if n < 2:
        raise ValueError(
            f"{owner}: `y_pred` needs >= 2 channels (a softmax over classes). Received: "
            f"y_pred.shape={shape}. For one foreground channel use kloss.BinaryCrossentropy."
        )
    labels, is_index = _read_labels(owner, y_true, y_pred, axis, "multiclass", h["data_format"])
    cw, ignore = h["class_weights"], h["ignore_index"]
    if cw is not None and len(cw) != n:
        raise ValueError(
            f"{owner}: `class_weights` needs one entry per channel of `y_pred` ({n}). "
            f"Received: class_weights={cw!r}, y_pred.shape={shape}."
        )
    ce_args = dict(
        from_logits=h["from_logits"],
        label_smoothing=h["label_smoothing"],
        class_weights=cw,
        axis=axis,
    )
    dtype = y_pred.dtype
    if is_index:
        labels = ops.squeeze(labels, axis)
        # The entry weights: the label's class weight, 0 where ignored.
        ce, w = _sparse(owner, labels, y_pred, ignore_index=ignore, entry_weights=True, **ce_args)
        if cw is None and ignore is None:
            w = None
    else:
        t, valid = _dense_labels(labels, False, n, axis, "multiclass", ignore, dtype)
        ce = categorical_crossentropy(t, y_pred, **ce_args)
        w = None
        if valid is not None:
            # torch's probability targets: the mean over pixels, class weights included.
            w = ops.squeeze(valid, axis)
            ce = ce * w
    spatial = tuple(range(1, len(shape) - 1))
    # Sums over the count of pixels, not ops.mean: Keras's torch mean rounds float64 to
    # float32 precision.
    dims = static_shape(ce)[1:]
    if None in dims:
        count = ops.cast(ops.prod(ops.shape(ce)[1:]), dtype)
    else:
        count = float(math.prod(dims))
    per_image = ops.sum(ce, axis=spatial) / count
    weight = ops.ones_like(per_image) if w is None else ops.sum(w, axis=spatial) / count
    if entry_weights:
        return ops.cast(per_image, out_dtype), ops.cast(weight, out_dtype)
    # 0 for an image without a valid pixel. Not ops.divide_no_nan: on torch it computes
    # float64 inputs at float32 precision (Keras 3.15).
    positive = weight > 0
    per_image = ops.where(positive, per_image / ops.where(positive, weight, 1.0), 0.0)
    return ops.cast(per_image, out_dtype)


@register
def pixelwise_crossentropy(
    y_true,
    y_pred,
    *,
    from_logits=False,
    class_weights=None,
    ignore_index=None,
    label_smoothing=0.0,
    data_format=None,
):
    """Cross-entropy averaged over each image's valid pixels, `(B,)`; see
    `PixelwiseCrossentropy`."""
    owner = "pixelwise_crossentropy"
    h = _check_pixelwise(
        owner, from_logits, class_weights, ignore_index, label_smoothing, data_format
    )
    return _pixelwise(owner, y_true, y_pred, h)


@register
class PixelwiseCrossentropy(KlossLoss):
    """Pixel-wise cross-entropy, one value per image: the weighted mean over its pixels.

    For semantic segmentation with a softmax over C >= 2 channels. Per image,
    `sum_pixels w ce / sum_pixels w` over the valid pixels, with `ce` and `w`:

    - class-index labels: `ce = w_y (-log p_y)` (torch's label smoothing included),
      `w = w_y` (the label's class weight), `w = 0` for pixels labelled `ignore_index`;
    - one-hot or soft labels: `ce = -sum_c w_c t_c log p_c` (torch's probability targets),
      `w = 1`, and 0 for pixels left out by `ignore_index` (as the overlap losses: the
      pixels of that class, or the all-zero label rows for a value outside [0, C)).

    The values come from `kloss.sparse_categorical_crossentropy` and
    `kloss.categorical_crossentropy` with the class axis set by `data_format`.

    Reductions: `"none"` gives the per-image values above. With `class_weights` or
    `ignore_index`, the averaging reductions (`"sum_over_batch_size"`, the default,
    `"mean"`, `"mean_with_sample_weight"`) give `sum_i s_i L_i / sum_i s_i W_i` with
    `L_i = sum_pixels w ce` and `W_i = sum_pixels w` of image `i` and `s_i` its
    `sample_weight`: without sample weights, the weighted mean over all valid pixels of the
    batch, exactly `torch.nn.functional.cross_entropy(weight=class_weights,
    ignore_index=ignore_index, label_smoothing=label_smoothing)` with its default
    reduction `"mean"` (a batch with no valid pixel gives 0; torch gives NaN). Without
    them, every image has the same pixel count and Keras's mean of the per-image values is
    that same global mean. `"sum"` gives `sum_i s_i L_i / W_i`.

    Args:
        from_logits: whether `y_pred` holds logits (True) or probabilities (False).
        class_weights: one weight `>= 0` per class, or `None`.
        ignore_index: a label value whose pixels count neither in the loss nor in the
            means (e.g. 255 or -100), or `None`.
        label_smoothing: in `[0, 1]`, torch's definition.
        data_format: `"channels_last"` (`(B, H, W, C)`) or `"channels_first"`
            (`(B, C, H, W)`); `None` reads `keras.config.image_data_format()`.
        reduction: as in `kloss.BinaryCrossentropy`.
        name: as in `kloss.BinaryCrossentropy`.
        dtype: as in `kloss.BinaryCrossentropy`.

    Call arguments:
        y_true: integer class indices `(B, H, W)` or `(B, H, W, 1)`, or one-hot / soft
            labels of y_pred's shape (3-D volumes too). Class indices outside `[0, C)`
            other than `ignore_index` raise a `ValueError` in eager mode, and give a NaN
            loss under `jax.jit` or `tf.function` (as `kloss.SparseCategoricalCrossentropy`).
        y_pred: probabilities or logits `(B, H, W, C)`, C >= 2.
        sample_weight: one weight per image, `(B,)` or `(B, 1)`.

    Example:
        >>> loss = kloss.PixelwiseCrossentropy(from_logits=True, ignore_index=255)
        >>> y_pred = [[[[2.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [3.0, 0.0]]]]
        >>> round(float(loss([[[0, 1], [255, 1]]], y_pred)), 4)
        1.1629
    """

    per_row = True
    integer_labels = True
    hyperparameters = (
        "from_logits",
        "class_weights",
        "ignore_index",
        "label_smoothing",
        "data_format",
    )

    def __init__(
        self,
        from_logits=False,
        class_weights=None,
        ignore_index=None,
        label_smoothing=0.0,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.__dict__.update(
            _check_pixelwise(
                owner, from_logits, class_weights, ignore_index, label_smoothing, data_format
            )
        )
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _hyper(self):
        return {name: getattr(self, name) for name in self.hyperparameters}

    def _uses_entry_weights(self):
        return self.class_weights is not None or self.ignore_index is not None

    def _losses_and_entry_weights(self, y_true, y_pred):
        return _pixelwise(type(self).__name__, y_true, y_pred, self._hyper(), entry_weights=True)

    def call(self, y_true, y_pred):
        if self._precomputed is not None:
            return self._precomputed
        return _pixelwise(type(self).__name__, self._true(y_true), y_pred, self._hyper())
