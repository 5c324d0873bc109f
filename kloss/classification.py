"""Classification losses: cross-entropies, focal losses, KL divergence and hinge losses.

Each loss is a function `snake_case(y_true, y_pred, *, hyper=...)` returning one value per
sample (per entry for sparse labels), and a `keras.losses.Loss` class that validates its
hyperparameters at construction.

Shared conventions (docs/classification.md):

- From logits, the math is log-softmax / log-sigmoid: no probability is formed and clipped,
  so logits of +-1e4 give exact values and gradients, and an infinite logit on the correct
  side (or a `-inf` logit of a masked-out class) gives a finite value and gradient.
- From probabilities, `y_pred` is clipped to `[epsilon, 1 - epsilon]` with
  `epsilon = keras.config.epsilon()` in the compute dtype (float32 for float16 and bfloat16
  inputs, where `1 - 1e-7` is representable): one formula on every backend.
- Integer labels are never cast to a float dtype.
"""

import keras
from keras import ops

from kloss._internal import (
    ElementwiseLoss,
    KlossLoss,
    check_axis,
    check_bool,
    check_int,
    check_number,
    check_vector,
    compute_dtype,
    concrete,
    elementwise_loss,
    float_dtype,
    prepare_pair,
    register,
    shapes_match,
    static_shape,
)

__all__ = [
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "SparseCategoricalCrossentropy",
    "SparseCategoricalFocalCrossentropy",
    "KLDivergence",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy",
    "sparse_categorical_focal_crossentropy",
    "kl_divergence",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
]


def _backend():
    # Only the op composition of a select is picked per backend (see benchmarks/); the
    # value and the gradient at every tie are the same everywhere (the test matrix checks).
    return keras.backend.backend()


def _eps():
    return keras.config.epsilon()


# --------------------------------------------------------------------------- validation


def _smoothing(owner, value):
    return check_number(owner, "label_smoothing", value, ge=0.0, le=1.0)


def _gamma(owner, value):
    return check_number(owner, "gamma", value, ge=0.0)


def _ignore_index(owner, value):
    return None if value is None else check_int(owner, "ignore_index", value)


def _class_weights(owner, value):
    return check_vector(owner, "class_weights", value, scalar=False, positive_entry=True)


def _per_class(owner, arg, value, n_classes, shape, axis, dtype):
    """A scalar, or a per-class list as a tensor that broadcasts along `axis` of a tensor of
    static `shape`; a list whose length differs from the static class count raises."""
    if not isinstance(value, list):
        return value
    rank = len(shape)
    if n_classes is not None and len(value) != n_classes:
        raise ValueError(
            f"{owner}: `{arg}` has {len(value)} entries, but y_pred has {n_classes} classes "
            f"along axis {axis}. Received: {arg}={value!r}, y_pred.shape={shape}."
        )
    vector = ops.convert_to_tensor(value, dtype=dtype)
    if rank <= 1:
        return vector
    target = [1] * rank
    target[axis % rank] = len(value)
    return ops.reshape(vector, target)


def _class_axis(owner, y_pred, axis):
    shape = static_shape(y_pred)
    if len(shape) < 2:
        raise ValueError(
            f"{owner}: `y_pred` must have rank >= 2 (a batch axis and a class axis). "
            f"Received: y_pred.shape={shape}."
        )
    if not (-len(shape) <= axis < len(shape)) or axis % len(shape) == 0:
        raise ValueError(
            f"{owner}: `axis` must be a non-batch axis of `y_pred`. Received: axis={axis}, "
            f"y_pred.shape={shape}."
        )
    return axis % len(shape), shape


def _n_classes(y_pred, shape, axis):
    n = shape[axis]
    return n if n is not None else ops.shape(y_pred)[axis]


# --------------------------------------------------------------------------- shared math


def _log_probs(y_pred, from_logits, axis, normalize=True):
    """Log-probabilities over `axis`: log-softmax of logits, or the log of the clipped (and,
    when `normalize`, renormalized) probabilities."""
    if from_logits:
        return ops.log_softmax(y_pred, axis=axis)
    if normalize:
        # As Keras: probabilities that do not sum to 1 (e.g. a bfloat16 softmax) are
        # renormalized; an all-zero row stays zero instead of becoming NaN.
        total = ops.sum(y_pred, axis=axis, keepdims=True)
        y_pred = y_pred / ops.where(total > 0, total, ops.ones_like(total))
    eps = _eps()
    return ops.log(ops.clip(y_pred, eps, 1.0 - eps))


def _zero_where(condition, x):
    """`x`, with 0 where `condition` holds: removes the 0 * inf of a zero label times an
    infinite log-probability from values and gradients."""
    return ops.where(condition, ops.zeros_like(x), x)


def _modulator(one_minus_p, gamma):
    """The focal factor `(1 - p_t) ** gamma`, exact for gamma 0, 1 and 2."""
    if gamma == 0.0:
        return None
    if gamma == 1.0:
        return one_minus_p
    if gamma == 2.0:
        return ops.square(one_minus_p)
    if gamma < 1.0:
        # d/dm m**gamma is infinite at m == 0 (a certain, correct prediction), and the
        # loss there is 0: take the limit, 0, for the value and the gradient.
        positive = one_minus_p > 0
        safe = ops.where(positive, one_minus_p, ops.ones_like(one_minus_p))
        return ops.where(positive, ops.power(safe, gamma), ops.zeros_like(safe))
    return ops.power(one_minus_p, gamma)


def _relu(x):
    if _backend() == "torch":
        return ops.relu(x)  # relu'(0) == 0 on torch; the cheapest form in eager mode
    # relu is slow under jax.jit on CPU; a select with gradient 0 at x == 0 is not.
    return ops.where(x > 0, x, ops.zeros_like(x))


# --------------------------------------------------------------------------- binary


def _binary_ce_terms(y_true, y_pred, from_logits):
    """(-log p, -log(1 - p)) for probabilities or logits `y_pred`."""
    if from_logits:
        return ops.softplus(-y_pred), ops.softplus(y_pred)
    eps = _eps()
    p = ops.clip(y_pred, eps, 1.0 - eps)
    return -ops.log(p), -ops.log1p(-p)


def _binary_focal_elements(
    y_true, y_pred, from_logits, label_smoothing, pos_weight, alpha, gamma, owner, focal
):
    t = y_true
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    shape = static_shape(y_pred)
    n = shape[-1] if shape else None
    neg_log_p, neg_log_1mp = _binary_ce_terms(t, y_pred, from_logits)
    if from_logits:
        # An infinite logit on the correct side makes the other term 0 * inf: select the
        # infinite factor away before the product, so no NaN reaches values or gradients.
        neg_log_p = _zero_where(t <= 0, neg_log_p)
        neg_log_1mp = _zero_where(t >= 1, neg_log_1mp)
    pos = t * neg_log_p
    neg = (1.0 - t) * neg_log_1mp
    if pos_weight is not None:
        pos = pos * _per_class(owner, "pos_weight", pos_weight, n, shape, -1, y_pred.dtype)
    loss = pos + neg
    if not focal:
        return loss
    # 1 - p_t = t (1 - p) + (1 - t) p, from sigmoid(-x) and sigmoid(x) for logits (exact for
    # logits of +-1e4, where a clipped probability would saturate).
    if from_logits:
        one_minus_pt = t * ops.sigmoid(-y_pred) + (1.0 - t) * ops.sigmoid(y_pred)
    else:
        eps = _eps()
        p = ops.clip(y_pred, eps, 1.0 - eps)
        one_minus_pt = t * (1.0 - p) + (1.0 - t) * p
    factor = _modulator(one_minus_pt, gamma)
    if factor is not None:
        loss = factor * loss
    if alpha is not None:
        a = _per_class(owner, "alpha", alpha, n, shape, -1, y_pred.dtype)
        loss = (t * a + (1.0 - t) * (1.0 - a)) * loss
    return loss


def _binary_elements(owner, focal):
    def elements(
        y_true,
        y_pred,
        from_logits=False,
        label_smoothing=0.0,
        pos_weight=None,
        alpha=None,
        gamma=0.0,
    ):
        return _binary_focal_elements(
            y_true, y_pred, from_logits, label_smoothing, pos_weight, alpha, gamma, owner, focal
        )

    return elements


def _check_binary(owner, from_logits, label_smoothing, pos_weight):
    return dict(
        from_logits=check_bool(owner, "from_logits", from_logits),
        label_smoothing=_smoothing(owner, label_smoothing),
        pos_weight=check_vector(owner, "pos_weight", pos_weight),
    )


def _check_binary_focal(owner, alpha, gamma, from_logits, label_smoothing):
    return dict(
        alpha=check_vector(owner, "alpha", alpha, ge=0.0, le=1.0),
        gamma=_gamma(owner, gamma),
        from_logits=check_bool(owner, "from_logits", from_logits),
        label_smoothing=_smoothing(owner, label_smoothing),
    )


@register
def binary_crossentropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, pos_weight=None):
    """Binary cross-entropy averaged over the last axis; see `BinaryCrossentropy`.

    Returns one value per sample, shape `y_pred.shape[:-1]` (`(B,)` for rank-1 inputs).
    """
    owner = "binary_crossentropy"
    hyper = _check_binary(owner, from_logits, label_smoothing, pos_weight)
    return elementwise_loss(owner, _binary_elements(owner, False), y_true, y_pred, **hyper)


@register
class BinaryCrossentropy(ElementwiseLoss):
    """Binary cross-entropy: `-(w t log p + (1 - t) log(1 - p))`, mean over the last axis.

    For binary and multi-label classification (one independent probability per output).
    With `from_logits=True` the loss is `w t softplus(-x) + (1 - t) softplus(x)`: exact for
    logits of any size, 0 for `+inf`/`-inf` logits on the correct side (Keras and torch give
    NaN there). From probabilities, `y_pred` is clipped to `[eps, 1 - eps]` in float32 or
    float64 (`eps = keras.config.epsilon()`), the same on every backend.

    Equals `torch.nn.functional.binary_cross_entropy_with_logits(pos_weight=...)` and
    `optax.sigmoid_binary_cross_entropy` (from logits), and `keras.losses.BinaryCrossentropy`
    except that Keras's TensorFlow backend recovers logits from a sigmoid output (so its
    value depends on the producing op there); torch's `binary_cross_entropy` clamps
    `log(p)` at -100 instead of clipping `p`, which only differs for `p < 1e-7`.

    Args:
        from_logits: whether `y_pred` holds logits (True) or probabilities (False).
        label_smoothing: in `[0, 1]`; targets become `t (1 - s) + s / 2`.
        pos_weight: weight `w` of the positive term, a number `>= 0` or one per output (the
            last axis), as torch's `pos_weight`. `None` means 1.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: targets in `[0, 1]`, the shape of `y_pred` (or without its trailing axis 1).
        y_pred: probabilities or logits `(B, ..., D)`.
        sample_weight: `(B,)`, `(B, 1)`, one per loss entry, or per element.

    Example:
        >>> loss = kloss.BinaryCrossentropy(from_logits=True)
        >>> round(float(loss([[0.0, 1.0], [1.0, 1.0]], [[-2.0, 3.0], [1.0, float("inf")]])), 4)
        0.1222
    """

    hyperparameters = ("from_logits", "label_smoothing", "pos_weight")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        pos_weight=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        hyper = _check_binary(type(self).__name__, from_logits, label_smoothing, pos_weight)
        self.__dict__.update(hyper)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _binary_elements(type(self).__name__, False)


@register
def binary_focal_crossentropy(
    y_true, y_pred, *, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0
):
    """Binary focal loss averaged over the last axis; see `BinaryFocalCrossentropy`."""
    owner = "binary_focal_crossentropy"
    hyper = _check_binary_focal(owner, alpha, gamma, from_logits, label_smoothing)
    return elementwise_loss(owner, _binary_elements(owner, True), y_true, y_pred, **hyper)


@register
class BinaryFocalCrossentropy(ElementwiseLoss):
    """Binary focal loss (Lin et al. 2017): `a_t (1 - p_t) ** gamma * BCE`, mean over the last
    axis.

    Down-weights easy examples, for dense detection and imbalanced binary or multi-label
    tasks. `p_t = t p + (1 - t)(1 - p)` and `a_t = t alpha + (1 - t)(1 - alpha)`.
    `alpha` is applied whenever it is given (Keras applies it only with
    `apply_class_balancing=True`): `kloss.BinaryFocalCrossentropy(alpha=None)` equals
    Keras's default, and `alpha=a` equals Keras's `apply_class_balancing=True, alpha=a`.
    With `gamma=0` and `alpha=None` it equals `BinaryCrossentropy` exactly.
    From logits, `1 - p_t` is `sigmoid(-x)` or `sigmoid(x)` and the cross-entropy a
    softplus, so logits of +-1e4 give the exact loss and gradient (Keras saturates at
    `-log(1e-7)` with a zero gradient). Equals `torchvision.ops.sigmoid_focal_loss` and
    `optax.sigmoid_focal_loss` (mean over the last axis).

    Args:
        alpha: balance of the positive class in `[0, 1]`, a number or one per output (the
            last axis); `None` for no balancing. Default 0.25 (the paper's).
        gamma: focusing parameter `>= 0`. Default 2.
        from_logits: as in `BinaryCrossentropy`.
        label_smoothing: as in `BinaryCrossentropy`.
        reduction: as in `BinaryCrossentropy`.
        name: as in `BinaryCrossentropy`.
        dtype: as in `BinaryCrossentropy`.

    Example:
        >>> loss = kloss.BinaryFocalCrossentropy(from_logits=True)
        >>> round(float(loss([[0.0, 1.0]], [[-100.0, -100.0]])), 4)
        12.5
    """

    hyperparameters = ("alpha", "gamma", "from_logits", "label_smoothing")

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.__dict__.update(_check_binary_focal(owner, alpha, gamma, from_logits, label_smoothing))
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _binary_elements(owner, True)


# --------------------------------------------------------------------------- categorical


def _categorical(
    owner,
    y_true,
    y_pred,
    *,
    from_logits=False,
    label_smoothing=0.0,
    class_weights=None,
    axis=-1,
    alpha=None,
    gamma=0.0,
    focal=False,
):
    y_true, y_pred, out_dtype = prepare_pair(owner, y_true, y_pred, min_rank=2)
    axis, shape = _class_axis(owner, y_pred, axis)
    n = _n_classes(y_pred, shape, axis)
    t = y_true
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / ops.cast(n, t.dtype)
    if focal and gamma == 0.0 and alpha is None:
        focal = False  # the cross-entropy exactly, through the same code
    if from_logits and not focal and _backend() != "torch":
        # -sum_c t_c log p_c = log_norm sum_c t_c - sum_c t_c (x_c - m), m = max_c x_c with
        # no gradient (it cancels): no dense log-softmax is written, so XLA fuses the
        # gradient into one pass. The same rounding as log-softmax; torch keeps its fused
        # log_softmax kernels (faster there).
        m = ops.stop_gradient(ops.max(y_pred, axis=axis, keepdims=True))
        shifted = y_pred - m
        log_norm = ops.log(ops.sum(ops.exp(shifted), axis=axis))
        # A -inf logit (a masked-out class) with target 0: select it away before any
        # product, so no 0 * -inf reaches values or gradients.
        shifted = _zero_where(t == 0, shifted)
        if class_weights is not None:
            t = t * _per_class(
                owner, "class_weights", class_weights, shape[axis], shape, axis, t.dtype
            )
        loss = log_norm * ops.sum(t, axis=axis) - ops.sum(t * shifted, axis=axis)
        return ops.cast(loss, out_dtype)
    log_p = _log_probs(y_pred, from_logits, axis)
    if from_logits:
        # A -inf logit (a masked-out class) with target 0: 0 * -inf, and the NaN would reach
        # the gradient through every later product, so select it away first.
        log_p = _zero_where(t == 0, log_p)
    terms = t * log_p
    if focal:
        # 1 - p = -expm1(log p): exact where p is close to 1.
        factor = _modulator(-ops.expm1(log_p), gamma)
        if factor is not None:
            terms = terms * factor
        if alpha is not None:
            terms = terms * _per_class(owner, "alpha", alpha, shape[axis], shape, axis, t.dtype)
    if class_weights is not None:
        w = _per_class(owner, "class_weights", class_weights, shape[axis], shape, axis, t.dtype)
        terms = terms * w
    return ops.cast(-ops.sum(terms, axis=axis), out_dtype)


def _check_categorical(owner, from_logits, label_smoothing, class_weights, axis):
    return dict(
        from_logits=check_bool(owner, "from_logits", from_logits),
        label_smoothing=_smoothing(owner, label_smoothing),
        class_weights=_class_weights(owner, class_weights),
        axis=check_axis(owner, axis),
    )


class _ClassAxisLoss(KlossLoss):
    """A loss reduced over the class axis `self.axis`."""

    def _loss_axis(self):
        return self.axis

    def _hyper(self):
        return {name: getattr(self, name) for name in self.hyperparameters}


@register
def categorical_crossentropy(
    y_true, y_pred, *, from_logits=False, label_smoothing=0.0, class_weights=None, axis=-1
):
    """Categorical cross-entropy over `axis`; see `CategoricalCrossentropy`.

    Returns `y_pred.shape` without `axis`.
    """
    owner = "categorical_crossentropy"
    hyper = _check_categorical(owner, from_logits, label_smoothing, class_weights, axis)
    return _categorical(owner, y_true, y_pred, **hyper)


@register
class CategoricalCrossentropy(_ClassAxisLoss):
    """Categorical cross-entropy: `-sum_c w_c t_c log p_c` over the class axis.

    For one-hot or soft (probability) targets. From logits, `log p` is a log-softmax: exact
    for any logits, and a `-inf` logit (a masked-out class) with target 0 gives a finite
    value and gradient. From probabilities, `y_pred` is renormalized to sum to 1 over the
    class axis (as Keras) and clipped to `[eps, 1 - eps]`.

    Equals `keras.losses.CategoricalCrossentropy`, `optax.softmax_cross_entropy` and
    `torch.nn.functional.cross_entropy` with probability targets, `weight=class_weights`
    and `label_smoothing`. As in torch for probability targets, class weights scale each
    sample's loss and the default reduction divides by the number of samples (for integer
    labels, see `SparseCategoricalCrossentropy`).

    Args:
        from_logits: whether `y_pred` holds logits (True) or probabilities (False).
        label_smoothing: in `[0, 1]`; targets become `t (1 - s) + s / C`.
        class_weights: one weight `>= 0` per class, or `None`.
        axis: the class axis, not 0. Default -1; 1 for channels-first `(B, C, H, W)`.
        reduction: as in `BinaryCrossentropy`.
        name: as in `BinaryCrossentropy`.
        dtype: as in `BinaryCrossentropy`.

    Call arguments:
        y_true: targets, the shape of `y_pred`.
        y_pred: probabilities or logits, rank >= 2.
        sample_weight: one weight per sample or per loss entry (`y_pred.shape` without
            `axis`); per-element weights raise.

    Example:
        >>> loss = kloss.CategoricalCrossentropy()
        >>> round(float(loss([[0.0, 1.0, 0.0]], [[0.05, 0.9, 0.05]])), 4)
        0.1054
    """

    hyperparameters = ("from_logits", "label_smoothing", "class_weights", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        class_weights=None,
        axis=-1,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        hyper = _check_categorical(owner, from_logits, label_smoothing, class_weights, axis)
        self.__dict__.update(hyper)
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _categorical(type(self).__name__, y_true, y_pred, **self._hyper())


def _check_categorical_focal(
    owner, alpha, gamma, from_logits, label_smoothing, class_weights, axis
):
    hyper = _check_categorical(owner, from_logits, label_smoothing, class_weights, axis)
    hyper.update(alpha=check_vector(owner, "alpha", alpha), gamma=_gamma(owner, gamma))
    return hyper


@register
def categorical_focal_crossentropy(
    y_true,
    y_pred,
    *,
    alpha=None,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    class_weights=None,
    axis=-1,
):
    """Categorical focal loss over `axis`; see `CategoricalFocalCrossentropy`."""
    owner = "categorical_focal_crossentropy"
    hyper = _check_categorical_focal(
        owner, alpha, gamma, from_logits, label_smoothing, class_weights, axis
    )
    return _categorical(owner, y_true, y_pred, focal=True, **hyper)


@register
class CategoricalFocalCrossentropy(_ClassAxisLoss):
    """Categorical focal loss (Lin et al. 2017): `-sum_c a_c w_c t_c (1 - p_c) ** gamma log p_c`.

    Cross-entropy that down-weights well-classified examples, for heavy class imbalance.
    `alpha` (a number, or one per class) is applied whenever it is given; with `gamma=0` and
    `alpha=None` the loss equals `CategoricalCrossentropy` exactly. From logits, `log p` is
    a log-softmax and `1 - p = -expm1(log p)`, exact for logits of +-1e4 (the loss is then
    the logit gap, with a non-zero gradient).

    Keras's `CategoricalFocalCrossentropy` applies `alpha=0.25` by default:
    `kloss.CategoricalFocalCrossentropy(alpha=0.25)` equals it.

    Args:
        alpha: class balance, a number `>= 0` or one per class; `None` (default) for none.
        gamma: focusing parameter `>= 0`. Default 2.
        from_logits: as in `CategoricalCrossentropy`.
        label_smoothing: as in `CategoricalCrossentropy`.
        class_weights: as in `CategoricalCrossentropy`.
        axis: as in `CategoricalCrossentropy`.
        reduction: as in `BinaryCrossentropy`.
        name: as in `BinaryCrossentropy`.
        dtype: as in `BinaryCrossentropy`.

    Example:
        >>> loss = kloss.CategoricalFocalCrossentropy(from_logits=True)
        >>> round(float(loss([[0.0, 1.0]], [[0.0, -1e4]])), 1)
        10000.0
    """

    hyperparameters = (
        "alpha",
        "gamma",
        "from_logits",
        "label_smoothing",
        "class_weights",
        "axis",
    )

    def __init__(
        self,
        alpha=None,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        class_weights=None,
        axis=-1,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.__dict__.update(
            _check_categorical_focal(
                owner, alpha, gamma, from_logits, label_smoothing, class_weights, axis
            )
        )
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _categorical(type(self).__name__, y_true, y_pred, focal=True, **self._hyper())


# --------------------------------------------------------------------------- sparse


def _labels(owner, labels, y_pred, axis):
    """Integer labels checked against `y_pred` (class axis `axis`), as a tensor of
    `y_pred`'s shape without that axis."""
    labels = ops.convert_to_tensor(labels)
    dtype = keras.backend.standardize_dtype(labels.dtype)
    if "int" not in dtype:
        raise TypeError(
            f"{owner}: `y_true` must hold integer class indices. Received: y_true.dtype="
            f"{dtype}. Cast the labels, e.g. `y.astype('int32')`, or use the dense "
            "(one-hot) loss for float targets."
        )
    ls, ps = static_shape(labels), static_shape(y_pred)
    expected = ps[:axis] + ps[axis + 1 :]

    if not shapes_match(ls, expected):
        if (
            len(ls) == len(ps)
            and ls[axis] == 1
            and shapes_match(ls[:axis] + ls[axis + 1 :], expected)
        ):
            labels = ops.squeeze(labels, axis)
        else:
            raise ValueError(
                f"{owner}: `y_true` must hold one class index per entry of `y_pred` without "
                f"its class axis {axis}, i.e. shape {expected}. Received: "
                f"y_true.shape={ls}, y_pred.shape={ps}."
            )
    return labels


def _outside(owner, labels, n_classes, ignore_index):
    """The mask of the labels outside `[0, n_classes)` (an ignored entry is 0 here), or
    None when there is none.

    Eager mode: any such label raises a `ValueError` (one flag goes to the host), else None.
    Under tracing (jax.jit, tf.function), where no value can raise, the mask: their entries'
    loss is NaN on every backend. Unchecked, TF would raise, JAX give NaN, and torch and
    NumPy wrap -1 to the last class.
    """
    outside = ops.logical_or(ops.less(labels, 0), ops.greater_equal(labels, n_classes))
    flag = concrete(ops.any(outside))
    if flag is None:
        return outside
    if bool(flag):
        values = concrete(labels)[concrete(outside)]
        allowed = f"[0, {n_classes})"
        if ignore_index is not None:
            allowed += f" or ignore_index={ignore_index}"
        raise ValueError(
            f"{owner}: every entry of `y_true` must be a class index in {allowed}. Received: "
            f"y_true holds {int(values[0])} ({values.size} such entries). To leave entries "
            f"out of the loss (e.g. 255 for void pixels), pass `ignore_index`."
        )
    return None


def _take(x, labels, axis):
    """`x` at `labels` along `axis`, without that axis (no dense one-hot)."""
    return ops.squeeze(ops.take_along_axis(x, ops.expand_dims(labels, axis), axis=axis), axis)


def _sparse(
    owner,
    y_true,
    y_pred,
    *,
    from_logits=False,
    label_smoothing=0.0,
    class_weights=None,
    ignore_index=None,
    axis=-1,
    alpha=None,
    gamma=0.0,
    focal=False,
    entry_weights=False,
):
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = float_dtype(y_pred)
    y_pred = ops.cast(y_pred, compute_dtype(out_dtype))
    axis, shape = _class_axis(owner, y_pred, axis)
    labels = _labels(owner, y_true, y_pred, axis)
    valid = None
    if ignore_index is not None:
        valid = ops.not_equal(labels, ignore_index)
        labels = ops.where(valid, labels, ops.zeros_like(labels))
    labels = ops.cast(labels, "int32")
    outside = _outside(owner, labels, _n_classes(y_pred, shape, axis), ignore_index)
    if outside is not None:
        labels = ops.where(outside, ops.zeros_like(labels), labels)
    if from_logits and not label_smoothing and _backend() != "torch":
        # log p_y = (x_y - m) - log(sum_c exp(x_c - m)), m = max_c x_c with no gradient (it
        # cancels): the label's logit is indexed, not a dense log-softmax, so under XLA the
        # gradient is one pass (softmax minus the scattered one-hot), as optax and TF's
        # fused kernel. Same rounding as log-softmax: exact for logits of +-1e4.
        m = ops.stop_gradient(ops.max(y_pred, axis=axis, keepdims=True))
        log_norm = ops.log(ops.sum(ops.exp(y_pred - m), axis=axis))
        log_p_y = (_take(y_pred, labels, axis) - ops.squeeze(m, axis)) - log_norm
    else:
        # torch: its fused log_softmax kernels (forward and backward) are the fastest form.
        log_p = _log_probs(y_pred, from_logits, axis)
        log_p_y = _take(log_p, labels, axis)
    loss = -log_p_y
    if focal:
        factor = _modulator(-ops.expm1(log_p_y), gamma)
        if factor is not None:
            loss = loss * factor
        if isinstance(alpha, list):
            _per_class(owner, "alpha", alpha, shape[axis], shape, axis, y_pred.dtype)
            loss = loss * ops.take(ops.convert_to_tensor(alpha, y_pred.dtype), labels)
        elif alpha is not None:
            loss = loss * alpha
    weight_y = None
    if class_weights is not None:
        w = _per_class(
            owner, "class_weights", class_weights, shape[axis], shape, axis, y_pred.dtype
        )
        weight_y = ops.take(ops.convert_to_tensor(class_weights, y_pred.dtype), labels)
        loss = loss * weight_y
    if label_smoothing:
        # PyTorch's definition: (1 - s) w_y nll + s / C sum_c w_c (-log p_c).
        smooth = log_p if class_weights is None else log_p * w
        n = ops.cast(_n_classes(y_pred, shape, axis), y_pred.dtype)
        loss = (1.0 - label_smoothing) * loss - (label_smoothing / n) * ops.sum(smooth, axis=axis)
    if valid is not None:
        loss = _zero_where(ops.logical_not(valid), loss)
    if outside is not None:
        loss = ops.where(outside, ops.full_like(loss, float("nan")), loss)
    loss = ops.cast(loss, out_dtype)
    if not entry_weights:
        return loss
    weights = ops.ones_like(loss) if weight_y is None else ops.cast(weight_y, out_dtype)
    if valid is not None:
        weights = weights * ops.cast(valid, out_dtype)
    return loss, weights


def _check_sparse(owner, from_logits, label_smoothing, class_weights, ignore_index, axis):
    hyper = _check_categorical(owner, from_logits, label_smoothing, class_weights, axis)
    hyper["ignore_index"] = _ignore_index(owner, ignore_index)
    return hyper


class _SparseLoss(_ClassAxisLoss):
    """Integer labels; with class weights or ignored entries, the averaging reductions divide
    by the total weight of valid entries (PyTorch's `cross_entropy`)."""

    integer_labels = True
    _focal = False

    def _uses_entry_weights(self):
        return self.class_weights is not None or self.ignore_index is not None

    def _losses_and_entry_weights(self, y_true, y_pred):
        return _sparse(
            type(self).__name__,
            y_true,
            y_pred,
            focal=self._focal,
            entry_weights=True,
            **self._hyper(),
        )

    def call(self, y_true, y_pred):
        if self._precomputed is not None:
            return self._precomputed
        return _sparse(
            type(self).__name__, self._true(y_true), y_pred, focal=self._focal, **self._hyper()
        )


_SPARSE_REDUCTION_DOC = """
    Reductions: with `class_weights` or `ignore_index`, the averaging reductions
    (`"sum_over_batch_size"`, the default, `"mean"` and `"mean_with_sample_weight"`) give
    PyTorch's weighted mean over valid entries, `sum_i s_i l_i / sum_i s_i w_{y_i}`, where
    `l_i` is an entry's loss (class-weighted, 0 when ignored), `w_{y_i}` the weight of its
    class (0 when ignored) and `s_i` the `sample_weight` times any Keras mask: kloss adds
    the class weight of each entry to Keras's `sample_weight` in the denominator and
    reduces like `"mean_with_sample_weight"`. `"sum"` gives `sum_i s_i l_i`, `"none"` the
    `l_i` (torch's `reduction="none"`). A batch with no valid entry gives 0 (torch: NaN).
    Without them, Keras's reductions apply unchanged.
"""


@register
def sparse_categorical_crossentropy(
    y_true,
    y_pred,
    *,
    from_logits=False,
    label_smoothing=0.0,
    class_weights=None,
    ignore_index=None,
    axis=-1,
):
    """Cross-entropy with integer labels; see `SparseCategoricalCrossentropy`.

    Returns one value per label, `y_pred.shape` without `axis`: class-weighted, 0 for
    ignored entries (torch's `cross_entropy(..., reduction="none")`).
    """
    owner = "sparse_categorical_crossentropy"
    hyper = _check_sparse(owner, from_logits, label_smoothing, class_weights, ignore_index, axis)
    return _sparse(owner, y_true, y_pred, **hyper)


@register
class SparseCategoricalCrossentropy(_SparseLoss):
    """Cross-entropy with integer labels: `-w_y log p_y` over the class axis.

    For single-label classification with many classes and for segmentation (`(B, H, W)`
    labels against `(B, H, W, C)` or, with `axis=1`, `(B, C, H, W)` outputs). Labels stay
    integers (Keras casts them to the loss dtype, so label 257 becomes 256 in bfloat16);
    float labels raise a `TypeError` (Keras truncates them). From logits, `log p` is a
    log-softmax indexed at the label (no one-hot), exact for any logits and finite for a
    `-inf` logit of a masked-out class.

    Equals `torch.nn.functional.cross_entropy(weight=class_weights,
    ignore_index=ignore_index, label_smoothing=label_smoothing)` with every reduction,
    `optax.softmax_cross_entropy_with_integer_labels`, and Keras's
    `SparseCategoricalCrossentropy`.
    {reductions}
    Args:
        from_logits: whether `y_pred` holds logits (True) or probabilities (False).
        label_smoothing: in `[0, 1]`, as torch's: `(1 - s) w_y (-log p_y) + s / C
            sum_c w_c (-log p_c)`.
        class_weights: one weight `>= 0` per class, or `None`.
        ignore_index: a label value whose entries count neither in the loss nor in the
            averages (e.g. -100 or 255), or `None`.
        axis: the class axis of `y_pred`, not 0. Default -1.
        reduction: as in `BinaryCrossentropy`.
        name: as in `BinaryCrossentropy`.
        dtype: as in `BinaryCrossentropy`.

    Call arguments:
        y_true: integer class indices in `[0, C)` or equal to `ignore_index`,
            `y_pred.shape` without `axis` (a size-1 axis there is accepted). Any other
            value raises a `ValueError` in eager mode; under `jax.jit` or `tf.function`,
            where no value can raise, that entry's loss is NaN (unchecked, TF raised, JAX
            gave NaN and torch wrapped -1 to the last class).
        y_pred: probabilities or logits, rank >= 2.
        sample_weight: one weight per sample or per label.

    Example:
        >>> loss = kloss.SparseCategoricalCrossentropy(from_logits=True, ignore_index=-1)
        >>> round(float(loss([1, -1], [[0.0, 2.0, 0.0], [5.0, 0.0, 0.0]])), 4)
        0.2395
    """

    hyperparameters = ("from_logits", "label_smoothing", "class_weights", "ignore_index", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        class_weights=None,
        ignore_index=None,
        axis=-1,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.__dict__.update(
            _check_sparse(owner, from_logits, label_smoothing, class_weights, ignore_index, axis)
        )
        super().__init__(name=name, reduction=reduction, dtype=dtype)


def _check_sparse_focal(owner, alpha, gamma, from_logits, class_weights, ignore_index, axis):
    hyper = _check_sparse(owner, from_logits, 0.0, class_weights, ignore_index, axis)
    del hyper["label_smoothing"]
    hyper.update(alpha=check_vector(owner, "alpha", alpha), gamma=_gamma(owner, gamma))
    return hyper


@register
def sparse_categorical_focal_crossentropy(
    y_true,
    y_pred,
    *,
    alpha=None,
    gamma=2.0,
    from_logits=False,
    class_weights=None,
    ignore_index=None,
    axis=-1,
):
    """Focal loss with integer labels; see `SparseCategoricalFocalCrossentropy`."""
    owner = "sparse_categorical_focal_crossentropy"
    hyper = _check_sparse_focal(owner, alpha, gamma, from_logits, class_weights, ignore_index, axis)
    return _sparse(owner, y_true, y_pred, focal=True, **hyper)


@register
class SparseCategoricalFocalCrossentropy(_SparseLoss):
    """Focal loss with integer labels: `-a_y w_y (1 - p_y) ** gamma log p_y`.

    `CategoricalFocalCrossentropy` for class indices (Lin et al. 2017), with
    `SparseCategoricalCrossentropy`'s `class_weights`, `ignore_index`, label range checks
    and reductions. `alpha` scales the loss and stays out of the averages' denominator;
    `class_weights` enter both. With `gamma=0` and `alpha=None` it equals
    `SparseCategoricalCrossentropy` exactly.
    {reductions}
    Args:
        alpha: class balance, a number `>= 0` or one per class; `None` (default) for none.
        gamma: focusing parameter `>= 0`. Default 2.
        from_logits: as in `SparseCategoricalCrossentropy`.
        class_weights: as in `SparseCategoricalCrossentropy`.
        ignore_index: as in `SparseCategoricalCrossentropy`.
        axis: as in `SparseCategoricalCrossentropy`.
        reduction: as in `BinaryCrossentropy`.
        name: as in `BinaryCrossentropy`.
        dtype: as in `BinaryCrossentropy`.

    Example:
        >>> loss = kloss.SparseCategoricalFocalCrossentropy(gamma=2.0)
        >>> round(float(loss([1], [[0.5, 0.5]])), 4)
        0.1733
    """

    hyperparameters = ("alpha", "gamma", "from_logits", "class_weights", "ignore_index", "axis")
    _focal = True
    label_smoothing = 0.0

    def __init__(
        self,
        alpha=None,
        gamma=2.0,
        from_logits=False,
        class_weights=None,
        ignore_index=None,
        axis=-1,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.__dict__.update(
            _check_sparse_focal(owner, alpha, gamma, from_logits, class_weights, ignore_index, axis)
        )
        super().__init__(name=name, reduction=reduction, dtype=dtype)


SparseCategoricalCrossentropy.__doc__ = SparseCategoricalCrossentropy.__doc__.format(
    reductions=_SPARSE_REDUCTION_DOC
)
SparseCategoricalFocalCrossentropy.__doc__ = SparseCategoricalFocalCrossentropy.__doc__.format(
    reductions=_SPARSE_REDUCTION_DOC
)


# --------------------------------------------------------------------------- KL divergence


def _kl_divergence(owner, y_true, y_pred, from_logits, axis):
    y_true, y_pred, out_dtype = prepare_pair(owner, y_true, y_pred, min_rank=2)
    axis, _ = _class_axis(owner, y_pred, axis)
    log_q = _log_probs(y_pred, from_logits, axis, normalize=False)
    t = y_true
    positive = t > 0
    safe_t = ops.where(positive, t, ops.ones_like(t))
    # t log(t / q), 0 where t == 0 (also for a -inf logit there), in value and gradient.
    terms = t * ops.where(positive, ops.log(safe_t) - log_q, ops.zeros_like(t))
    return ops.cast(ops.sum(terms, axis=axis), out_dtype)


@register
def kl_divergence(y_true, y_pred, *, from_logits=False, axis=-1):
    """`KL(y_true || y_pred)` over `axis`; see `KLDivergence`."""
    owner = "kl_divergence"
    from_logits = check_bool(owner, "from_logits", from_logits)
    return _kl_divergence(owner, y_true, y_pred, from_logits, check_axis(owner, axis))


@register
class KLDivergence(_ClassAxisLoss):
    """Kullback-Leibler divergence `KL(y_true || y_pred) = sum_c t_c log(t_c / q_c)`.

    For matching a target distribution (distillation, label distributions). Terms with
    `t_c == 0` are 0, in value and gradient. From logits, `log q` is a log-softmax; from
    probabilities, `q` is clipped to `[eps, 1]` (not renormalized). `y_true` is used as
    given (Keras also clips it to `[eps, 1]`, which adds `eps log(eps / q)` per zero).

    Equals `torch.nn.functional.kl_div(log q, t, reduction="sum")` per sample (torch's
    `batchmean` is the default reduction here) and `optax.kl_divergence(log q, t)`.

    Args:
        from_logits: whether `y_pred` holds logits (True) or probabilities (False).
        axis: the class axis, not 0. Default -1.
        reduction: as in `BinaryCrossentropy`.
        name: as in `BinaryCrossentropy`.
        dtype: as in `BinaryCrossentropy`.

    Example:
        >>> loss = kloss.KLDivergence()
        >>> round(float(loss([[0.0, 0.5, 0.5]], [[0.2, 0.4, 0.4]])), 4)
        0.2231
    """

    hyperparameters = ("from_logits", "axis")

    def __init__(
        self, from_logits=False, axis=-1, reduction="sum_over_batch_size", name=None, dtype=None
    ):
        owner = type(self).__name__
        self.from_logits = check_bool(owner, "from_logits", from_logits)
        self.axis = check_axis(owner, axis)
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _kl_divergence(type(self).__name__, y_true, y_pred, self.from_logits, self.axis)


# --------------------------------------------------------------------------- hinge


def _signed(y_true):
    # Labels in {0, 1} or {-1, 1}: a 0 can only mean -1, so convert elementwise (Keras
    # inspects the whole tensor with a cond: an extra pass and a recompile per call).
    return ops.where(y_true == 0, -ops.ones_like(y_true), y_true)


def _hinge_elements(y_true, y_pred):
    return _relu(1.0 - _signed(y_true) * y_pred)


def _squared_hinge_elements(y_true, y_pred):
    return ops.square(_relu(1.0 - _signed(y_true) * y_pred))


@register
def hinge(y_true, y_pred):
    """Hinge loss averaged over the last axis; see `Hinge`."""
    return elementwise_loss("hinge", _hinge_elements, y_true, y_pred)


@register
class Hinge(ElementwiseLoss):
    """Hinge loss: `mean(max(0, 1 - t y), axis=-1)` for labels `t` in {-1, 1}.

    The max-margin loss of linear SVMs, for scores (not probabilities). Labels 0 are read as
    -1, so {0, 1} labels work too. At the kink `t y == 1` the gradient is 0 on every
    backend. Equals `keras.losses.Hinge` and `optax.hinge_loss` (mean over the last axis).

    Args:
        reduction: as in `BinaryCrossentropy`.
        name: as in `BinaryCrossentropy`.
        dtype: as in `BinaryCrossentropy`.

    Example:
        >>> loss = kloss.Hinge()
        >>> round(float(loss([[1.0, 0.0]], [[0.3, -2.0]])), 4)
        0.35
    """

    _elements = staticmethod(_hinge_elements)


@register
def squared_hinge(y_true, y_pred):
    """Squared hinge loss averaged over the last axis; see `SquaredHinge`."""
    return elementwise_loss("squared_hinge", _squared_hinge_elements, y_true, y_pred)


@register
class SquaredHinge(ElementwiseLoss):
    """Squared hinge loss: `mean(max(0, 1 - t y) ** 2, axis=-1)` for labels `t` in {-1, 1}.

    A smooth hinge (labels 0 are read as -1). Equals `keras.losses.SquaredHinge`.

    Args:
        reduction: as in `BinaryCrossentropy`.
        name: as in `BinaryCrossentropy`.
        dtype: as in `BinaryCrossentropy`.

    Example:
        >>> loss = kloss.SquaredHinge()
        >>> round(float(loss([[1.0, 0.0]], [[0.3, -2.0]])), 4)
        0.245
    """

    _elements = staticmethod(_squared_hinge_elements)


def _categorical_hinge(owner, y_true, y_pred):
    y_true, y_pred, out_dtype = prepare_pair(owner, y_true, y_pred, min_rank=2)
    true_score = ops.sum(y_true * y_pred, axis=-1)
    # The best score among the wrong classes (label 0), not max(0, ...) as in Keras 3.15.
    wrong = ops.where(y_true > 0, ops.full_like(y_pred, float("-inf")), y_pred)
    margin = 1.0 + ops.max(wrong, axis=-1) - true_score
    return ops.cast(_relu(margin), out_dtype)


@register
def categorical_hinge(y_true, y_pred):
    """Crammer-Singer multiclass hinge loss; see `CategoricalHinge`."""
    return _categorical_hinge("categorical_hinge", y_true, y_pred)


@register
class CategoricalHinge(KlossLoss):
    """Crammer-Singer multiclass hinge: `max(0, 1 + max_{j != y} s_j - s_y)`.

    For one-hot labels `y_true` and scores `y_pred` `(B, ..., C)`. Equals
    `optax.multiclass_hinge_loss` (with the labels' class indices). Keras 3.15's
    `CategoricalHinge` takes its max over `(1 - t) * s`, i.e. over the wrong scores and 0,
    so it differs when every wrong score is negative: kloss gives the hinge of the actual
    margin. The gradient at the kink (margin exactly 0) is 0 on every backend.

    Args:
        reduction: as in `BinaryCrossentropy`.
        name: as in `BinaryCrossentropy`.
        dtype: as in `BinaryCrossentropy`.

    Call arguments:
        y_true: one-hot labels `(B, ..., C)`.
        y_pred: scores `(B, ..., C)`, C >= 2.
        sample_weight: one weight per sample or per loss entry.

    Example:
        >>> loss = kloss.CategoricalHinge()
        >>> round(float(loss([[0.0, 1.0, 0.0]], [[-1.0, 0.5, -2.0]])), 4)
        0.0
    """

    def call(self, y_true, y_pred):
        return _categorical_hinge(type(self).__name__, y_true, y_pred)
