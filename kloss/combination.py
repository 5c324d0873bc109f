"""A weighted sum of losses that is itself a registered, saveable loss."""

import numbers

import keras
from keras import ops

from kloss._internal import KlossLoss, check_number, compute_dtype, register

__all__ = ["Combined", "combined"]


def _terms(owner, losses, weights):
    """(losses, weights) as two lists from a dict {loss: weight}, or a list and weights."""
    if isinstance(losses, dict):
        if weights is not None:
            raise ValueError(
                f"{owner}: pass the weights either as the values of `losses` (a dict) or as "
                f"`weights`, not both. Received: weights={weights!r}."
            )
        losses, weights = list(losses.keys()), list(losses.values())
    elif isinstance(losses, keras.losses.Loss):
        losses = [losses]
    if not isinstance(losses, (list, tuple)) or not losses:
        raise TypeError(
            f"{owner}: `losses` must be a non-empty dict {{loss: weight}} or a list of "
            f"`keras.losses.Loss` instances. Received: losses={losses!r}."
        )
    out = []
    for loss in losses:
        if isinstance(loss, dict):  # a serialized loss (from get_config)
            loss = keras.losses.deserialize(loss)
        if not isinstance(loss, keras.losses.Loss):
            raise TypeError(
                f"{owner}: every term must be a `keras.losses.Loss` instance (e.g. "
                f"`kloss.Dice()`), not a function or a string. Received: {loss!r}."
            )
        out.append(loss)
    if weights is None:
        weights = [1.0] * len(out)
    if not isinstance(weights, (list, tuple)) or len(weights) != len(out):
        raise ValueError(
            f"{owner}: `weights` must hold one number per loss ({len(out)}). "
            f"Received: weights={weights!r}."
        )
    weights = [check_number(owner, "weights", w) for w in weights]
    return out, weights


def _from_term(owner, i, loss, error):
    """A term's error, named after the `Combined` loss with the term it came from."""
    term = type(loss).__name__
    message = str(error)
    if message.startswith(f"{term}: "):
        message = message[len(term) + 2 :]
    return type(error)(f"{type(owner).__name__}: {message} (raised by term {i}, {term}).")


def _flatten(loss, scale=1.0):
    """[(term, weight)] of a loss, a Combined's terms expanded."""
    if isinstance(loss, Combined):
        return [(term, scale * w) for term, w in zip(loss.losses, loss.weights, strict=True)]
    return [(loss, scale)]


@register
class Combined(KlossLoss):
    """A weighted sum of losses: `sum_i w_i * loss_i(y_true, y_pred, sample_weight)`.

    The usual segmentation objective, Dice plus cross-entropy, is

        kloss.Combined({kloss.Dice(): 1.0, kloss.PixelwiseCrossentropy(): 0.5})

    or, the same loss, `kloss.Dice() + 0.5 * kloss.PixelwiseCrossentropy()`. The sum is a
    registered loss: a model compiled with it saves and loads with its terms, their
    arguments and the weights, without `custom_objects`.

    Each term sees the caller's `y_true`, `y_pred` and `sample_weight` (and any Keras mask
    on `y_pred`) and is reduced by its own rules with the `Combined` loss's `reduction`;
    the terms' own `reduction` settings are not used. So every term keeps its meaning: a
    `PixelwiseCrossentropy(ignore_index=...)` term is still the weighted mean over valid
    pixels, and the default reduction of Dice + cross-entropy equals MONAI's `DiceCELoss`
    (the mean Dice loss plus the mean cross-entropy). With `reduction="none"` the terms'
    per-sample values are summed, so they must have the same shape.

    `+` and `*` build the same object: `a + b`, `2.0 * a`, `a * 2.0`, `sum([a, b])`; sums
    of sums are flattened into one list of terms.

    Args:
        losses: a dict `{loss: weight}`, or a list of `keras.losses.Loss` instances (kloss
            or Keras losses).
        weights: one number per loss when `losses` is a list (default 1 each).
        name: the loss name. Default `"combined"`.
        reduction: applied to every term; the reduced terms are summed.
        dtype: the dtype of the sum (each term computes in its own dtype).

    Call arguments:
        y_true, y_pred, sample_weight: passed on to every term.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], "float32")
        >>> y_pred = np.array([[0.5, 1.0], [1.0, 0.0]], "float32")
        >>> loss = kloss.MeanSquaredError() + 0.5 * kloss.MeanAbsoluteError()
        >>> round(float(loss(y_true, y_pred)), 4)  # 0.3125 + 0.5 * 0.375
        0.5
    """

    def __init__(
        self, losses, weights=None, name=None, reduction="sum_over_batch_size", dtype=None
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.losses, self.weights = _terms(type(self).__name__, losses, weights)
        # Per-element weights are accepted when every term is an average of elementwise terms.
        self.elementwise = all(getattr(t, "elementwise", False) for t in self.losses)

    def __call__(self, y_true, y_pred, sample_weight=None):
        total = None
        out_dtype = compute_dtype(self.dtype)
        for i, (loss, weight) in enumerate(zip(self.losses, self.weights, strict=True)):
            reduction = loss.reduction
            loss.reduction = self.reduction
            try:
                value = loss(y_true, y_pred, sample_weight=sample_weight)
            except (ValueError, TypeError) as error:
                raise _from_term(self, i, loss, error) from error
            finally:
                loss.reduction = reduction
            value = ops.cast(value, out_dtype) * weight
            total = value if total is None else total + value
        return ops.cast(total, self.dtype)

    def call(self, y_true, y_pred):
        return _unreduced_sum(self.losses, self.weights, y_true, y_pred)

    def get_config(self):
        config = super().get_config()
        config["losses"] = [keras.losses.serialize(loss) for loss in self.losses]
        config["weights"] = list(self.weights)
        return config


@register
def combined(y_true, y_pred, losses, weights=None):
    """Per-sample `sum_i w_i * loss_i(y_true, y_pred)`: the terms' unreduced values.

    Args:
        y_true: passed on to every term.
        y_pred: passed on to every term.
        losses: a dict `{loss: weight}` or a list of `keras.losses.Loss` instances.
        weights: one number per loss when `losses` is a list (default 1 each).

    Returns:
        The weighted sum of the terms' per-sample values (they must have one shape), in the
        dtype of `y_pred`.
    """
    losses, weights = _terms("combined", losses, weights)
    return _unreduced_sum(losses, weights, y_true, y_pred)


def _unreduced_sum(losses, weights, y_true, y_pred):
    total = None
    for loss, weight in zip(losses, weights, strict=True):
        value = loss.call(y_true, y_pred)
        # The weight in the term's dtype: NumPy promotes bfloat16 * float to float32.
        value = value * ops.convert_to_tensor(weight, dtype=value.dtype)
        total = value if total is None else total + value
    return total


def add_losses(a, b):
    """`a + b` for kloss losses (`KlossLoss.__add__`)."""
    if isinstance(b, numbers.Number) and b == 0:
        return a  # sum([a, b]) starts from 0
    if not isinstance(b, keras.losses.Loss):
        return NotImplemented
    terms = _flatten(a) + _flatten(b)
    return Combined([t for t, _ in terms], [w for _, w in terms])


def scale_loss(a, scale):
    """`scale * a` for kloss losses (`KlossLoss.__mul__`)."""
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        return NotImplemented
    terms = _flatten(a, float(scale))
    return Combined([t for t, _ in terms], [w for _, w in terms])
