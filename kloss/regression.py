"""Regression losses: MSE, MAE, Huber, log-cosh, pinball, Poisson, cosine proximity.

Each loss is a function `snake_case(y_true, y_pred, *, hyper=...)` returning one value per
sample, and a `keras.losses.Loss` class that validates its hyperparameters at construction.
"""

import math

import keras
from keras import ops

from kloss._internal import (
    ElementwiseLoss,
    KlossLoss,
    check_axis,
    check_bool,
    check_number,
    elementwise_loss,
    prepare_pair,
    register,
)

__all__ = [
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Huber",
    "LogCosh",
    "Pinball",
    "Poisson",
    "CosineProximity",
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "log_cosh",
    "pinball",
    "poisson",
    "cosine_proximity",
]

_LOG2 = math.log(2.0)


def _backend():
    # The op composition of a few elementwise terms is picked per backend for speed (see
    # benchmarks/); the math, and the gradient at every tie, is the same on all of them,
    # which the cross-backend test matrix checks.
    return keras.backend.backend()


# --------------------------------------------------------------------------- elementwise math
# Each takes (y_true, y_pred) already checked and in the compute dtype.


def _squared_error(y_true, y_pred):
    # square(), not d * d: its backward is one op on torch (half the eager time).
    return ops.square(y_pred - y_true)


def _absolute_error(y_true, y_pred):
    a = ops.abs(y_pred - y_true)
    if _backend() == "jax":
        # JAX's abs() has gradient 1 at 0 (TensorFlow's and torch's have 0): select it away
        # so a zero error has gradient 0 on every backend (the cheapest form under jax.jit).
        a = ops.where(ops.not_equal(y_pred, y_true), a, ops.zeros_like(a))
    return a


def _huber(y_true, y_pred, delta):
    e = y_pred - y_true
    if _backend() == "torch":
        # where() and minimum() cost ~5x a multiply in eager torch on CPU: with
        # c = clip(e, -delta, delta), huber = c (e - 0.5 c). Its gradient c' (e - c) + c is
        # exact whatever clip's gradient at the bounds, as e == c there.
        c = ops.clip(e, -delta, delta)
        return c * (e - 0.5 * c)
    # Both branches have the same gradient at |e| == delta, so the tie cannot split
    # backends; the fastest form under XLA.
    a = ops.abs(e)
    return ops.where(a <= delta, 0.5 * e * e, delta * (a - 0.5 * delta))


def _log_cosh(y_true, y_pred):
    x = y_pred - y_true
    if _backend() == "torch":
        # log(cosh(x)) = x + softplus(-2x) - log(2): no overflow of cosh for large |x|.
        return x + ops.softplus(-2.0 * x) - _LOG2
    # The same with a = |x|: a + log1p(exp(-2a)) - log(2); faster under XLA (exp(-2a) <= 1
    # cannot overflow). Its gradient at 0 is 0 whatever abs'(0) is.
    a = ops.abs(x)
    return a + ops.log1p(ops.exp(-2.0 * a)) - _LOG2


def _pinball(y_true, y_pred, quantile):
    e = y_true - y_pred
    # Gradient 0 at a zero error on every backend (the minimum-norm subgradient; it keeps
    # Pinball(0.5) == MAE / 2 for gradients too), never a tie split that differs by backend.
    if _backend() == "torch":
        # maximum() is slow in eager torch on CPU; relu'(0) == 0 gives the zero gradient.
        return quantile * ops.relu(e) + (1.0 - quantile) * ops.relu(-e)
    # relu() is slow under jax.jit; two selects with a constant 0 at e == 0 are not (measured
    # faster than the native max(q e, (q - 1) e), whose tie JAX and TensorFlow split apart).
    zero = ops.zeros_like(e)
    return ops.where(e > 0, quantile * e, ops.where(e < 0, (quantile - 1.0) * e, zero))


def _poisson(y_true, y_pred, log_input, epsilon):
    if log_input:
        return ops.exp(y_pred) - y_true * y_pred
    # The epsilon keeps y_pred == 0 finite (value and gradient), as in Keras and torch.
    return y_pred - y_true * ops.log(y_pred + epsilon)


# --------------------------------------------------------------------------- MSE


@register
def mean_squared_error(y_true, y_pred):
    """Mean squared error over the last axis: `mean((y_pred - y_true) ** 2, axis=-1)`.

    Args:
        y_true: targets, the shape of `y_pred` (or without its trailing axis of size 1).
        y_pred: predictions `(B, ..., D)`.

    Returns:
        One value per sample, shape `y_pred.shape[:-1]` (`(B,)` for rank-1 inputs).
    """
    return elementwise_loss("mean_squared_error", _squared_error, y_true, y_pred)


@register
class MeanSquaredError(ElementwiseLoss):
    """Mean squared error: `mean((y_pred - y_true) ** 2, axis=-1)`.

    The default for regression with Gaussian noise. Equals `torch.nn.functional.mse_loss` and
    `keras.losses.MeanSquaredError` (with the default reduction); optax's `l2_loss` is half of
    it and `squared_error` is it before the mean.

    Args:
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: targets, the shape of `y_pred` (or without its trailing axis of size 1).
        y_pred: predictions `(B, ..., D)`; rank-1 `(B,)` inputs are one value per sample.
        sample_weight: `(B,)`, `(B, 1)`, one weight per loss entry, or per element (the
            shape of `y_pred`: each squared error is weighted before the mean over `D`).

    Example:
        >>> loss = kloss.MeanSquaredError()
        >>> round(float(loss([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]])), 4)
        0.5
    """

    _elements = staticmethod(_squared_error)


# --------------------------------------------------------------------------- MAE


@register
def mean_absolute_error(y_true, y_pred):
    """Mean absolute error over the last axis: `mean(|y_pred - y_true|, axis=-1)`.

    The gradient at a zero error is 0 on every backend. Returns one value per sample.
    """
    return elementwise_loss("mean_absolute_error", _absolute_error, y_true, y_pred)


@register
class MeanAbsoluteError(ElementwiseLoss):
    """Mean absolute error: `mean(|y_pred - y_true|, axis=-1)`.

    Robust to outliers; estimates the conditional median. Equals
    `torch.nn.functional.l1_loss` and `keras.losses.MeanAbsoluteError`. The gradient at a
    zero error is 0 on every backend (JAX's `abs` gives 1 there).

    Args:
        reduction: as in `MeanSquaredError`.
        name: as in `MeanSquaredError`.
        dtype: as in `MeanSquaredError`.

    Example:
        >>> loss = kloss.MeanAbsoluteError()
        >>> round(float(loss([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]])), 4)
        0.5
    """

    _elements = staticmethod(_absolute_error)


# --------------------------------------------------------------------------- Huber


def _check_delta(owner, delta):
    return check_number(owner, "delta", delta, gt=0)


@register
def huber(y_true, y_pred, *, delta=1.0):
    """Huber loss averaged over the last axis; see `Huber`. Returns one value per sample."""
    delta = _check_delta("huber", delta)
    return elementwise_loss("huber", _huber, y_true, y_pred, delta=delta)


@register
class Huber(ElementwiseLoss):
    """Huber loss: quadratic for small errors, linear for large ones.

    ```
    e = y_pred - y_true
    loss = mean(0.5 * e**2           if |e| <= delta
                delta * (|e| - 0.5 * delta)  otherwise, axis=-1)
    ```

    The gradient at `|e| == delta` is `delta` on every backend. Equals
    `torch.nn.functional.huber_loss(delta=delta)`, `optax.huber_loss` (then averaged
    over the last axis) and `keras.losses.Huber`. `torch`'s `smooth_l1_loss(beta)` is
    `huber(delta=beta) / beta`.

    Args:
        delta: the error at which the loss turns linear, > 0. Default 1.0.
        reduction: as in `MeanSquaredError`.
        name: as in `MeanSquaredError`.
        dtype: as in `MeanSquaredError`.

    Example:
        >>> loss = kloss.Huber(delta=1.0)
        >>> round(float(loss([[0.0], [0.0]], [[0.5], [3.0]])), 4)
        1.3125
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name=None, dtype=None):
        self.delta = _check_delta("Huber", delta)
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    hyperparameters = ("delta",)
    _elements = staticmethod(_huber)


# --------------------------------------------------------------------------- log-cosh


@register
def log_cosh(y_true, y_pred):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed without overflow."""
    return elementwise_loss("log_cosh", _log_cosh, y_true, y_pred)


@register
class LogCosh(ElementwiseLoss):
    """Log-cosh loss: `mean(log(cosh(y_pred - y_true)), axis=-1)`.

    Like MSE/2 for small errors and like MAE - log(2) for large ones, and twice
    differentiable everywhere. Computed as `|x| + log1p(exp(-2|x|)) - log(2)` (on torch
    `x + softplus(-2x) - log(2)`, faster there), so errors of 1e4 give the exact value
    (`cosh` alone overflows float32 beyond 89). Equals `optax.log_cosh` averaged over the
    last axis and `keras.losses.LogCosh`.

    Args:
        reduction: as in `MeanSquaredError`.
        name: as in `MeanSquaredError`.
        dtype: as in `MeanSquaredError`.

    Example:
        >>> loss = kloss.LogCosh()
        >>> round(float(loss([[0.0], [0.0]], [[1.0], [100.0]])), 4)
        49.8703
    """

    _elements = staticmethod(_log_cosh)


# --------------------------------------------------------------------------- pinball


def _check_quantile(owner, quantile):
    return check_number(owner, "quantile", quantile, ge=0.0, le=1.0)


@register
def pinball(y_true, y_pred, *, quantile=0.5):
    """Pinball (quantile) loss averaged over the last axis; see `Pinball`."""
    quantile = _check_quantile("pinball", quantile)
    return elementwise_loss("pinball", _pinball, y_true, y_pred, quantile=quantile)


@register
class Pinball(ElementwiseLoss):
    """Pinball loss for quantile regression (Koenker and Bassett, 1978).

    ```
    e = y_true - y_pred
    loss = mean(max(quantile * e, (quantile - 1) * e), axis=-1)
    ```

    A model trained with it predicts the `quantile`-th conditional quantile: with
    `quantile=0.9`, about 90% of targets fall below the prediction. `quantile=0.5` is half
    the MAE. Equals tensorflow-addons' `PinballLoss(tau=quantile)`.

    Note: at a zero error the gradient is 0 on every backend (the minimum-norm subgradient,
    as MAE's); tensorflow-addons gives `-quantile` there.

    Args:
        quantile: the target quantile, in [0, 1]. Default 0.5.
        reduction: as in `MeanSquaredError`.
        name: as in `MeanSquaredError`.
        dtype: as in `MeanSquaredError`.

    Example:
        >>> loss = kloss.Pinball(quantile=0.9)
        >>> round(float(loss([[1.0], [1.0]], [[0.0], [2.0]])), 4)
        0.5
    """

    def __init__(self, quantile=0.5, reduction="sum_over_batch_size", name=None, dtype=None):
        self.quantile = _check_quantile("Pinball", quantile)
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    hyperparameters = ("quantile",)
    _elements = staticmethod(_pinball)


# --------------------------------------------------------------------------- Poisson


def _check_poisson(owner, log_input, epsilon):
    check_bool(owner, "log_input", log_input)
    if epsilon is not None:
        epsilon = check_number(owner, "epsilon", epsilon, ge=0.0)
        if log_input:
            raise ValueError(
                f"{owner}: `epsilon` applies only with log_input=False (a rate in y_pred). "
                f"Received: epsilon={epsilon!r}, log_input=True. Leave epsilon=None."
            )
    return log_input, epsilon


@register
def poisson(y_true, y_pred, *, log_input=False, epsilon=None):
    """Poisson negative log-likelihood averaged over the last axis; see `Poisson`."""
    log_input, epsilon = _check_poisson("poisson", log_input, epsilon)
    eps = keras.config.epsilon() if epsilon is None else epsilon
    return elementwise_loss("poisson", _poisson, y_true, y_pred, log_input=log_input, epsilon=eps)


@register
class Poisson(ElementwiseLoss):
    """Poisson negative log-likelihood for count targets, without the constant term.

    ```
    log_input=False (y_pred is the rate):      y_pred - y_true * log(y_pred + epsilon)
    log_input=True  (y_pred is the log-rate):  exp(y_pred) - y_true * y_pred
    ```
    averaged over the last axis. `y_pred = 0` with `y_true = 0` gives 0 with a finite
    gradient.

    Note: `log_input=False` is the Keras convention and kloss's default; `torch`'s
    `poisson_nll_loss` defaults to `log_input=True`. With the same `log_input` (and
    `epsilon=1e-8`, torch's `eps`) the two are equal; `full=True` (Stirling's term) is not
    offered. `keras.losses.Poisson` equals `Poisson()`.

    Args:
        log_input: whether `y_pred` holds log-rates. Default False.
        epsilon: added to the rate inside the log when `log_input=False`, >= 0. Default
            `None`: `keras.config.epsilon()` (1e-7) at call time.
        reduction: as in `MeanSquaredError`.
        name: as in `MeanSquaredError`.
        dtype: as in `MeanSquaredError`.

    Example:
        >>> loss = kloss.Poisson()
        >>> round(float(loss([[2.0], [0.0]], [[1.0], [0.5]])), 4)
        0.75
    """

    def __init__(
        self,
        log_input=False,
        epsilon=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        self.log_input, self.epsilon = _check_poisson("Poisson", log_input, epsilon)
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    hyperparameters = ("log_input", "epsilon")
    _elements = staticmethod(_poisson)

    def _hyper(self):
        # epsilon=None means keras.config.epsilon() at call time.
        eps = keras.config.epsilon() if self.epsilon is None else self.epsilon
        return {"log_input": self.log_input, "epsilon": eps}


# --------------------------------------------------------------------------- cosine


def _cosine_proximity(owner, y_true, y_pred, axis):
    y_true, y_pred, out_dtype = prepare_pair(owner, y_true, y_pred, min_rank=2)
    rank = len(y_pred.shape)
    if not (-rank < axis < rank) or axis % rank == 0:
        raise ValueError(
            f"{owner}: `axis` must be a non-batch axis of `y_pred`. Received: axis={axis}, "
            f"y_pred.shape={tuple(y_pred.shape)}."
        )

    def scaled(x):
        # Scale by 1 / max|x| first (one reciprocal per row, then a multiply): squared norms
        # of vectors of norm 1e20 (or 1e-20) would overflow (underflow) float32. The scale
        # does not change the cosine, so no gradient flows through it.
        m = ops.stop_gradient(ops.max(ops.abs(x), axis=axis, keepdims=True))
        return x * (1.0 / ops.where(m > 0, m, ops.ones_like(m)))

    t, p = scaled(y_true), scaled(y_pred)
    dot = ops.sum(t * p, axis=axis)
    nn = ops.sum(t * t, axis=axis) * ops.sum(p * p, axis=axis)
    # A nonzero scaled vector has squared norm >= 1, so max(., 1) only acts when a vector is
    # zero: then the loss is 0 and the gradient finite (pointing y_pred towards y_true).
    cos = dot / ops.sqrt(ops.maximum(nn, 1.0))
    return ops.cast(-cos, out_dtype)


@register
def cosine_proximity(y_true, y_pred, *, axis=-1):
    """Negative cosine similarity along `axis`; see `CosineProximity`."""
    axis = check_axis("cosine_proximity", axis)
    return _cosine_proximity("cosine_proximity", y_true, y_pred, axis)


@register
class CosineProximity(KlossLoss):
    """Negative cosine similarity: `-sum(y_true * y_pred) / (||y_true|| ||y_pred||)`.

    Ranges from -1 (same direction) to 1 (opposite). Matches the direction of a prediction
    regardless of its norm. A zero vector gives 0 and a finite gradient; vectors of norm
    1e20 or 1e-20 give the exact cosine (Keras's `CosineSimilarity` returns 0 for both, as
    its squared norms overflow or are clipped). Equals `-optax.cosine_similarity` and
    `-torch.nn.functional.cosine_similarity` away from those edges.

    Args:
        axis: the axis along which the cosine is taken; not the batch axis 0. Default -1.
        reduction: as in `MeanSquaredError`.
        name: as in `MeanSquaredError`.
        dtype: as in `MeanSquaredError`.

    Call arguments:
        y_true, y_pred: `(B, ..., D)` vectors along `axis`; rank >= 2.
        sample_weight: one weight per sample or per loss entry; per-element weights raise.

    Returns (from `cosine_proximity`): `y_pred.shape` without `axis`.

    Example:
        >>> loss = kloss.CosineProximity()
        >>> round(float(loss([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]])), 4)
        -0.8536
    """

    hyperparameters = ("axis",)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name=None, dtype=None):
        self.axis = check_axis("CosineProximity", axis)
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _loss_axis(self):
        return self.axis

    def call(self, y_true, y_pred):
        return _cosine_proximity("CosineProximity", y_true, y_pred, self.axis)
