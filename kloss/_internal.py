"""Shared machinery: registration, validators, shape and dtype helpers, the base loss.

Everything here uses public Keras API and `keras.ops` only.
"""

import difflib
import numbers

import keras
import numpy as np
from keras import ops

PACKAGE = "kloss"
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_LOW_PRECISION = ("float16", "bfloat16")


def register(obj):
    """Registers a loss class or function under `kloss>Name` for saving and loading."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(obj)


# --------------------------------------------------------------------------- validators


def check_number(owner, arg, value, *, gt=None, ge=None, le=None, lt=None):
    """Returns `value` as a float after checking its type and range.

    Raises `TypeError` for a non-number (bools included) and `ValueError` for a value out of
    range, both naming `owner`, the argument and the received value.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{owner}: `{arg}` must be a number. Received: {arg}={value!r} "
            f"(of type {type(value).__name__})."
        )
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{owner}: `{arg}` must be finite. Received: {arg}={value!r}.")
    rules = (
        (gt, lambda v, b: v > b, ">"),
        (ge, lambda v, b: v >= b, ">="),
        (lt, lambda v, b: v < b, "<"),
        (le, lambda v, b: v <= b, "<="),
    )
    for bound, ok, sign in rules:
        if bound is not None and not ok(value, bound):
            raise ValueError(f"{owner}: `{arg}` must be {sign} {bound}. Received: {arg}={value!r}.")
    return value


def check_bool(owner, arg, value):
    if not isinstance(value, bool):
        raise TypeError(
            f"{owner}: `{arg}` must be True or False. Received: {arg}={value!r} "
            f"(of type {type(value).__name__})."
        )
    return value


def check_int(owner, arg, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{owner}: `{arg}` must be an int. Received: {arg}={value!r} "
            f"(of type {type(value).__name__})."
        )
    return int(value)


def check_option(owner, arg, value, options):
    """Checks that `value` is one of `options`, with a did-you-mean hint otherwise."""
    if value in options:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [o for o in options if isinstance(o, str)], n=1)
        if close:
            hint = f' Did you mean "{close[0]}"?'
    raise ValueError(
        f"{owner}: `{arg}` must be one of {list(options)}. Received: {arg}={value!r}.{hint}"
    )


def check_axis(owner, axis):
    """An int axis that is not the batch axis 0."""
    axis = check_int(owner, "axis", axis)
    if axis == 0:
        raise ValueError(
            f"{owner}: `axis` must not be 0, the batch axis. Received: axis={axis}. "
            "Use the feature axis, e.g. axis=-1."
        )
    return axis


def check_vector(owner, arg, value, *, scalar=True, ge=0.0, le=None, positive_entry=False):
    """`None`, a number (when `scalar`), or a 1-D sequence of numbers, each in [ge, le].

    Returns `None`, a float, or a list of floats (JSON-serializable for `get_config`).
    """
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not scalar:
            raise TypeError(
                f"{owner}: `{arg}` must be a list with one number per class. "
                f"Received: {arg}={value!r}."
            )
        return check_number(owner, arg, value, ge=ge, le=le)
    try:
        items = list(value.tolist() if hasattr(value, "tolist") else value)
    except TypeError:
        items = None
    kinds = "a number or a list of numbers" if scalar else "a list of numbers"
    if items is None or not items or any(isinstance(v, (list, tuple)) for v in items):
        raise TypeError(
            f"{owner}: `{arg}` must be {kinds}, one per class. Received: {arg}={value!r}."
        )
    out = []
    for i, v in enumerate(items):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(
                f"{owner}: `{arg}` must hold numbers. Received: {arg}={value!r} ({arg}[{i}]={v!r})."
            )
        if v != v or v in (float("inf"), float("-inf")) or v < ge or (le is not None and v > le):
            bound = f">= {ge}" + ("" if le is None else f" and <= {le}")
            raise ValueError(
                f"{owner}: every entry of `{arg}` must be finite and {bound}. "
                f"Received: {arg}={value!r} ({arg}[{i}]={v!r})."
            )
        out.append(float(v))
    if positive_entry and not any(v > 0 for v in out):
        raise ValueError(
            f"{owner}: `{arg}` needs at least one positive entry. Received: {arg}={value!r}."
        )
    return out


# --------------------------------------------------------------------------- shapes, dtypes


def static_shape(x):
    """The static shape of a tensor, array, list or scalar as a tuple (None where unknown)."""
    shape = getattr(x, "shape", None)
    if shape is None:
        return tuple(ops.shape(ops.convert_to_tensor(x)))
    return tuple(None if d is None else int(d) for d in shape)


def concrete(x):
    """`x` as a NumPy array in eager mode, None while tracing (jax.jit, tf.function, a
    symbolic Keras tensor): its values are not known yet."""
    try:
        return np.asarray(ops.convert_to_numpy(x))
    except Exception:
        return None


def _dims_match(a, b):
    return a is None or b is None or a == b


def shapes_match(a, b):
    return len(a) == len(b) and all(_dims_match(x, y) for x, y in zip(a, b, strict=False))


def compute_dtype(dtype):
    """float32 for 16-bit floats (the math runs in float32), else the dtype itself."""
    return "float32" if dtype in _LOW_PRECISION else dtype


def float_dtype(x):
    dtype = keras.backend.standardize_dtype(x.dtype)
    return dtype if "float" in dtype else keras.config.floatx()


def prepare_pair(owner, y_true, y_pred, *, min_rank=1):
    """Converts and checks `(y_true, y_pred)` for a loss over matching shapes.

    `y_true` may lack a trailing axis of size 1 that `y_pred` has, or have one that `y_pred`
    lacks (the usual `(B,)` labels against a `(B, 1)` output); any other shape difference
    raises a `ValueError` that names `owner` and both shapes, the same on every backend.

    Returns `(y_true, y_pred, out_dtype)`: both in the compute dtype (float32 when `y_pred` is
    float16 or bfloat16), and the dtype the result is cast back to.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = float_dtype(y_pred)
    work = compute_dtype(out_dtype)
    y_pred = ops.cast(y_pred, work)
    y_true = ops.convert_to_tensor(y_true, dtype=work)
    ts, ps = static_shape(y_true), static_shape(y_pred)
    if len(ps) < min_rank:
        raise ValueError(
            f"{owner}: `y_pred` must have rank >= {min_rank} (a batch axis and the axis the "
            f"loss reduces). Received: y_pred.shape={ps}."
        )
    if not shapes_match(ts, ps):
        if len(ts) + 1 == len(ps) and ps[-1] == 1 and shapes_match(ts, ps[:-1]):
            y_true = ops.expand_dims(y_true, -1)
        elif len(ts) == len(ps) + 1 and ts[-1] == 1 and shapes_match(ts[:-1], ps):
            y_true = ops.squeeze(y_true, -1)
        else:
            raise ValueError(
                f"{owner}: `y_true` and `y_pred` must have the same shape. "
                f"Received: y_true.shape={ts}, y_pred.shape={ps}. kloss never broadcasts "
                "labels against predictions; reshape one of them."
            )
    return y_true, y_pred, out_dtype


def reduce_last(elements, weights=None):
    """Mean over the last axis, or the `weights`-weighted mean (0 where all weights are 0).

    Rank-1 inputs are one scalar per sample and are returned as they are.
    """
    if len(elements.shape) < 2:
        return elements if weights is None else elements * weights
    if weights is None:
        return ops.mean(elements, axis=-1)
    # A weighted mean per row; the caller passes mean(weights) on to the batch reduction, so
    # the product is mean(weights * elements), the weighting before the last-axis reduction.
    return ops.divide_no_nan(ops.sum(elements * weights, axis=-1), ops.sum(weights, axis=-1))


# --------------------------------------------------------------------------- base class


class KlossLoss(keras.losses.Loss):
    """Base of every kloss loss: a `keras.losses.Loss` with validated arguments.

    Subclasses implement `call()` returning one value per sample (the batch axis kept), and
    list their hyperparameters in `get_config()`. Keras does masks, sample weights,
    reductions and distribution scaling; this class adds:

    - per-element `sample_weight` (the shape of `y_pred`) for losses that average an
      elementwise loss over the last axis (`elementwise = True`): each element is weighted
      before that average; other losses raise a `ValueError` for it;
    - a `(B,)` weight against per-timestep losses `(B, T)` is aligned with the batch axis
      (Keras broadcasts it against the last axis);
    - the caller's `sample_weight` is never modified (Keras multiplies a mask into it in
      place on the torch backend);
    - `dtype` kept in `get_config()`.
    """

    elementwise = False
    # Names of the constructor's hyperparameters, one attribute each; get_config() lists them.
    hyperparameters = ()
    # True for losses that take integer labels: Keras's Loss.__call__ casts y_true to the
    # loss dtype (label 257 becomes 256 in bfloat16), so these see the caller's y_true.
    integer_labels = False

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        owner = type(self).__name__
        if reduction not in _REDUCTIONS:
            check_option(owner, "reduction", reduction, _REDUCTIONS)
        super().__init__(name=name or _snake(owner), reduction=reduction, dtype=dtype)
        self._element_weight = None
        self._labels = None
        self._precomputed = None

    def __call__(self, y_true, y_pred, sample_weight=None):
        element_weight = None
        if sample_weight is not None:
            sample_weight, element_weight = self._standardize_weight(sample_weight, y_pred)
        self._element_weight = element_weight
        if self.integer_labels:
            # call() reads the labels from self._labels; Keras converts y_pred twice.
            self._labels, y_true = y_true, y_pred
        try:
            if self._averages_over_entry_weights():
                return self._entry_weighted_mean(y_true, y_pred, sample_weight)
            return super().__call__(y_true, y_pred, sample_weight=sample_weight)
        finally:
            self._element_weight = None
            self._labels = None
            self._precomputed = None

    # `a + b`, `2.0 * a`, `sum([a, b])`: a `kloss.Combined` weighted sum of losses.
    def __add__(self, other):
        from kloss.combination import add_losses

        return add_losses(self, other)

    __radd__ = __add__

    def __mul__(self, scale):
        from kloss.combination import scale_loss

        return scale_loss(self, scale)

    __rmul__ = __mul__

    def _true(self, y_true):
        """The caller's labels inside `call()` (see `integer_labels`)."""
        return y_true if self._labels is None else self._labels

    # Losses whose averaging reductions divide by a total weight of entries (PyTorch's
    # `cross_entropy(weight=..., ignore_index=...)`) return True here and implement
    # `_losses_and_entry_weights(y_true, y_pred) -> (losses, weights)`.
    def _uses_entry_weights(self):
        return False

    def _averages_over_entry_weights(self):
        return self._uses_entry_weights() and self.reduction in (
            "sum_over_batch_size",
            "mean",
            "mean_with_sample_weight",
        )

    def _entry_weighted_mean(self, y_true, y_pred, sample_weight):
        # sum(s * losses) / sum(s * weights), s = sample_weight times any Keras mask: both
        # sums go through Keras's own reduction (which applies the mask) with "sum".
        losses, weights = self._losses_and_entry_weights(self._true(y_true), y_pred)
        reduction = self.reduction
        self.reduction = "sum"
        try:
            self._precomputed = losses
            total = super().__call__(y_true, y_pred, sample_weight=sample_weight)
            self._precomputed = weights
            norm = super().__call__(y_true, y_pred, sample_weight=sample_weight)
            # No valid entry at all: 0 (PyTorch gives NaN).
            ratio = ops.reshape(ops.divide_no_nan(total, norm), (1,))
            # Keras divides its averaging reductions (not "sum") by the number of replicas
            # under tf.distribute, whose replicas' losses are then summed: the ratio goes
            # through one as a one-value batch, so it gets that same scaling.
            self.reduction = "sum_over_batch_size"
            self._precomputed = ratio
            return super().__call__(ratio, ratio)
        finally:
            self.reduction = reduction

    def _loss_axis(self):
        """The axis of `y_pred` that the loss reduces (absent from the loss's shape)."""
        return -1

    # True for losses defined over the whole batch that return one value per row (B,),
    # whatever the rank of y_pred (pairs (B, 2), triplets (B, 3, D), embeddings (B, D)).
    per_row = False

    def _loss_shape(self, pred_shape):
        pred_shape = tuple(pred_shape)
        if self.per_row:
            return pred_shape[:1]
        if len(pred_shape) <= 1:
            return pred_shape  # rank-1 inputs: one value per sample
        axis = self._loss_axis() % len(pred_shape)
        return pred_shape[:axis] + pred_shape[axis + 1 :]

    def _standardize_weight(self, sample_weight, y_pred):
        owner = type(self).__name__
        ps = static_shape(y_pred)
        sw = ops.convert_to_tensor(sample_weight)
        sw = ops.cast(sw, compute_dtype(self.dtype))
        ws = static_shape(sw)
        loss_shape = self._loss_shape(ps)
        loss_rank = len(loss_shape)

        def bad():
            per_element = ", or one per element (the shape of y_pred)" if self.elementwise else ""
            return ValueError(
                f"{owner}: `sample_weight` does not fit the loss. Received: "
                f"sample_weight.shape={ws}, y_pred.shape={ps}. Pass one weight per sample "
                f"(shape {ps[:1] + (1,)} or {ps[:1]}), one per loss entry {loss_shape}"
                f"{per_element}."
            )

        if len(ws) == len(ps) and len(ps) > loss_rank and ps[-1] != 1 and ws[-1] != 1:
            if not self.elementwise:
                raise ValueError(
                    f"{owner}: per-element `sample_weight` is not supported: this loss is "
                    "not an average of elementwise terms. Received: "
                    f"sample_weight.shape={ws}, y_pred.shape={ps}. Pass one weight per "
                    f"sample (shape {ps[:1] + (1,)} or {ps[:1]}) or per loss entry "
                    f"{loss_shape}."
                )
            if not shapes_match(ws, ps):
                raise bad()
            # Elementwise weights go into call(); the batch reduction gets their row means.
            return ops.mean(sw, axis=-1), sw
        if len(ws) == loss_rank + 1 and ws[-1] == 1:
            sw = ops.squeeze(sw, -1)
            ws = ws[:-1]
        if len(ws) > loss_rank or not all(
            _dims_match(w, s) or w == 1 for w, s in zip(ws, loss_shape, strict=False)
        ):
            raise bad()
        for _ in range(loss_rank - len(ws)):
            # Align a per-sample weight with the batch axis, not the last one.
            sw = ops.expand_dims(sw, -1)
        # Broadcast to the full loss shape as a fresh tensor: Keras multiplies the mask into
        # the weight in place on torch, which modifies the caller's tensor and fails for a
        # (B, 1) weight against (B, T) losses.
        return sw * ops.ones(self._loss_shape(ops.shape(y_pred)), dtype=sw.dtype), None

    def get_config(self):
        config = super().get_config()
        config["dtype"] = self.dtype
        config.update({name: getattr(self, name) for name in self.hyperparameters})
        return config


def elementwise_loss(owner, elements_fn, y_true, y_pred, weights=None, **hyper):
    """`elements_fn(y_true, y_pred, **hyper)` averaged over the last axis (weighted by
    per-element `weights`), computed in the compute dtype and cast back."""
    y_true, y_pred, out_dtype = prepare_pair(owner, y_true, y_pred)
    if weights is not None:
        weights = ops.cast(weights, y_pred.dtype)
    return ops.cast(reduce_last(elements_fn(y_true, y_pred, **hyper), weights), out_dtype)


class ElementwiseLoss(KlossLoss):
    """A loss that averages an elementwise term over the last axis."""

    elementwise = True

    def _hyper(self):
        return {name: getattr(self, name) for name in self.hyperparameters}

    def call(self, y_true, y_pred):
        return elementwise_loss(
            type(self).__name__,
            self._elements,
            y_true,
            y_pred,
            weights=self._element_weight,
            **self._hyper(),
        )


def _snake(name):
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and (not name[i - 1].isupper()):
            out.append("_")
        out.append(c.lower())
    return "".join(out)
