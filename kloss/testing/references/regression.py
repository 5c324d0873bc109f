"""NumPy float64 references for the regression losses, written from the formulas.

Each returns one value per sample: the elementwise term averaged over the last axis (rank-1
inputs: the term itself), or the cosine along `axis`. Nothing here imports kloss.
"""

import numpy as np


def _f64(*xs):
    return [np.asarray(x, dtype=np.float64) for x in xs]


def _mean_last(x):
    return x if x.ndim < 2 else x.mean(axis=-1)


def mean_squared_error(y_true, y_pred):
    t, p = _f64(y_true, y_pred)
    return _mean_last((p - t) ** 2)


def mean_absolute_error(y_true, y_pred):
    t, p = _f64(y_true, y_pred)
    return _mean_last(np.abs(p - t))


def huber(y_true, y_pred, delta=1.0):
    t, p = _f64(y_true, y_pred)
    e = np.abs(p - t)
    return _mean_last(np.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)))


def log_cosh(y_true, y_pred):
    t, p = _f64(y_true, y_pred)
    x = p - t
    # log(cosh(x)) = log((e^x + e^-x) / 2) = logaddexp(x, -x) - log 2, exact in float64.
    return _mean_last(np.logaddexp(x, -x) - np.log(2.0))


def pinball(y_true, y_pred, quantile=0.5):
    t, p = _f64(y_true, y_pred)
    e = t - p
    return _mean_last(np.maximum(quantile * e, (quantile - 1.0) * e))


def poisson(y_true, y_pred, log_input=False, epsilon=None):
    t, p = _f64(y_true, y_pred)
    eps = 1e-7 if epsilon is None else epsilon
    if log_input:
        return _mean_last(np.exp(p) - t * p)
    return _mean_last(p - t * np.log(p + eps))


def cosine_proximity(y_true, y_pred, axis=-1):
    t, p = _f64(y_true, y_pred)
    # float64 holds squared norms of 1e20-scale vectors (1e40 < 1e308) without scaling.
    nt = np.sqrt((t * t).sum(axis=axis))
    np_ = np.sqrt((p * p).sum(axis=axis))
    dot = (t * p).sum(axis=axis)
    denom = nt * np_
    return -np.where(denom > 0, dot / np.where(denom > 0, denom, 1.0), 0.0)
