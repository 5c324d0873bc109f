"""NumPy float64 references for the classification losses, written from the formulas.

Conventions: `0 * log 0 = 0` (a zero label times an infinite log-probability contributes 0);
probabilities are clipped to `[eps, 1 - eps]` with the bounds rounded to float32 (the
compute dtype of the tests' inputs), as the documented definition says. Nothing here
imports kloss.
"""

import numpy as np

EPS = 1e-7
LO, HI = float(np.float32(EPS)), float(np.float32(1.0 - EPS))


def _f64(*xs):
    return [np.asarray(x, dtype=np.float64) for x in xs]


def _mean_last(x):
    return x if x.ndim < 2 else x.mean(axis=-1)


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))


def _times(a, b):
    """a * b with 0 * inf = 0."""
    with np.errstate(invalid="ignore"):
        return np.where(a == 0, 0.0, a * b)


def _vector(v, ndim, axis=-1):
    if v is None:
        return None
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 0 or ndim <= 1:
        return v
    shape = [1] * ndim
    shape[axis] = v.size
    return v.reshape(shape)


def _binary_elements(t, x, from_logits, label_smoothing, pos_weight, alpha, gamma, focal):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        nlp, nl1mp = _softplus(-x), _softplus(x)
        one_minus_pt = t * _sigmoid(-x) + (1 - t) * _sigmoid(x)
    else:
        p = np.clip(x, LO, HI)
        nlp, nl1mp = -np.log(p), -np.log1p(-p)
        one_minus_pt = t * (1 - p) + (1 - t) * p
    pw = 1.0 if pos_weight is None else _vector(pos_weight, t.ndim)
    loss = pw * _times(t, nlp) + _times(1 - t, nl1mp)
    if focal:
        loss = one_minus_pt**gamma * loss
        if alpha is not None:
            a = _vector(alpha, t.ndim)
            loss = (t * a + (1 - t) * (1 - a)) * loss
    return loss


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, pos_weight=None):
    t, x = _f64(y_true, y_pred)
    el = _binary_elements(t, x, from_logits, label_smoothing, pos_weight, None, 0.0, False)
    return _mean_last(el)


def binary_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0
):
    t, x = _f64(y_true, y_pred)
    el = _binary_elements(t, x, from_logits, label_smoothing, None, alpha, gamma, True)
    return _mean_last(el)


def _log_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    z = x - m
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _log_probs(x, from_logits, axis, normalize=True):
    if from_logits:
        return _log_softmax(x, axis)
    if normalize:
        s = x.sum(axis=axis, keepdims=True)
        x = x / np.where(s > 0, s, 1.0)
    return np.log(np.clip(x, LO, HI))


def categorical_crossentropy(
    y_true, y_pred, from_logits=False, label_smoothing=0.0, class_weights=None, axis=-1
):
    return categorical_focal_crossentropy(
        y_true, y_pred, None, 0.0, from_logits, label_smoothing, class_weights, axis
    )


def categorical_focal_crossentropy(
    y_true,
    y_pred,
    alpha=None,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    class_weights=None,
    axis=-1,
):
    t, x = _f64(y_true, y_pred)
    n = x.shape[axis]
    t = t * (1 - label_smoothing) + label_smoothing / n
    logp = _log_probs(x, from_logits, axis)
    w = (1 - np.exp(logp)) ** gamma
    if alpha is not None:
        w = w * _vector(alpha, x.ndim, axis)
    if class_weights is not None:
        w = w * _vector(class_weights, x.ndim, axis)
    return -np.sum(_times(t, w * logp), axis=axis)


def sparse_categorical_crossentropy(
    y_true,
    y_pred,
    from_logits=False,
    label_smoothing=0.0,
    class_weights=None,
    ignore_index=None,
    axis=-1,
):
    """Per-label loss, torch's `cross_entropy(..., reduction="none")`."""
    return _sparse(y_true, y_pred, from_logits, label_smoothing, class_weights, ignore_index, axis)


def sparse_categorical_focal_crossentropy(
    y_true, y_pred, alpha=None, gamma=2.0, from_logits=False, class_weights=None,
    ignore_index=None, axis=-1,
):  # fmt: skip
    return _sparse(
        y_true, y_pred, from_logits, 0.0, class_weights, ignore_index, axis, alpha, gamma
    )


def _sparse(y_true, y_pred, from_logits, ls, class_weights, ignore_index, axis, alpha=None,
            gamma=0.0):  # fmt: skip
    labels = np.asarray(y_true).astype(np.int64)
    (x,) = _f64(y_pred)
    axis = axis % x.ndim
    x = np.moveaxis(x, axis, -1)
    n = x.shape[-1]
    logp = _log_probs(x, from_logits, -1)
    valid = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    safe = np.where(valid, labels, 0)
    logp_y = np.take_along_axis(logp, safe[..., None], axis=-1)[..., 0]
    w = np.ones(n) if class_weights is None else np.asarray(class_weights, np.float64)
    loss = -w[safe] * logp_y * (1 - np.exp(logp_y)) ** gamma
    if alpha is not None:
        a = np.asarray(alpha, np.float64)
        loss = loss * (a[safe] if a.ndim else a)
    if ls:
        loss = (1 - ls) * loss - ls / n * np.sum(_times(w, logp), axis=-1)
    return np.where(valid, loss, 0.0)


def sparse_entry_weights(y_true, class_weights=None, ignore_index=None):
    """w_{y_i}, 0 for ignored entries: the denominator of torch's weighted mean."""
    labels = np.asarray(y_true).astype(np.int64)
    valid = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    safe = np.where(valid, labels, 0)
    w = np.ones(max(int(safe.max()) + 1, 1)) if class_weights is None else np.asarray(class_weights)
    return np.where(valid, w[safe], 0.0)


def kl_divergence(y_true, y_pred, from_logits=False, axis=-1):
    t, x = _f64(y_true, y_pred)
    logq = _log_softmax(x, axis) if from_logits else np.log(np.clip(x, LO, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1.0)) - logq), 0.0)
    return terms.sum(axis=axis)


def _signed(t):
    return np.where(t == 0, -1.0, t)


def hinge(y_true, y_pred):
    t, x = _f64(y_true, y_pred)
    return _mean_last(np.maximum(0.0, 1 - _signed(t) * x))


def squared_hinge(y_true, y_pred):
    t, x = _f64(y_true, y_pred)
    return _mean_last(np.maximum(0.0, 1 - _signed(t) * x) ** 2)


def categorical_hinge(y_true, y_pred):
    """Crammer-Singer: max(0, 1 + max_{j != y} s_j - s_y) for one-hot labels."""
    t, s = _f64(y_true, y_pred)
    true_score = np.sum(t * s, axis=-1)
    wrong = np.where(t > 0, -np.inf, s).max(axis=-1)
    return np.maximum(0.0, 1 + wrong - true_score)
