"""NumPy float64 references for the distribution losses, written from the formulas.

- Earth mover's distance over ordered classes (Hou, Yu, Samaras 2016): the CDFs are
  cumulative sums over the class axis; kloss's value is `sum_{k<C-1} |CDF_p(k) - CDF_t(k)| ** r`
  (`C * EMD_r ** r` in the paper's notation for histograms with equal totals; the paper's
  formula, over all C terms, is written out below as `hou_emd`).
- Sinkhorn: POT's log-domain iterations (`ot.bregman.sinkhorn_log`), written out per
  histogram with a Python loop; the log-marginals are floored at log(1e-30) (kloss's
  documented handling of empty bins). Nothing here imports kloss.
"""

import math

import numpy as np

LOG_FLOOR = math.log(1e-30)


def _softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def earth_movers(y_true, y_pred, power=2.0, from_logits=False, axis=-1):
    t = np.asarray(y_true, np.float64)
    p = np.asarray(y_pred, np.float64)
    if from_logits:
        p = _softmax(p, axis)
    cdf_p = np.moveaxis(np.cumsum(p, axis=axis), axis, -1)
    cdf_t = np.moveaxis(np.cumsum(t, axis=axis), axis, -1)
    # k = 0 .. C-2: the last CDF difference (of the totals) is 0 for histograms.
    return np.sum(np.abs(cdf_p - cdf_t)[..., :-1] ** power, axis=-1)


def hou_emd(y_true, y_pred, r):
    """Hou et al. (2016), eq. 3: `EMD_r = (1/C) ** (1/r) * ||CDF(p) - CDF(t)||_r`."""
    t = np.asarray(y_true, np.float64)
    p = np.asarray(y_pred, np.float64)
    C = p.shape[-1]
    norm = np.sum(np.abs(np.cumsum(p, -1) - np.cumsum(t, -1)) ** r, axis=-1) ** (1.0 / r)
    return (1.0 / C) ** (1.0 / r) * norm


def _logsumexp(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(x - m).sum(axis=axis))


def _sinkhorn_one(log_a, log_b, M, epsilon, iterations):
    K = -M / epsilon
    u = np.zeros_like(log_a)
    v = np.zeros_like(log_b)
    for _ in range(iterations):
        v = log_b - _logsumexp(K + u[:, None], 0)
        u = log_a - _logsumexp(K + v[None, :], 1)
    P = np.exp(K + u[:, None] + v[None, :])
    return float(np.sum(P * M))


def sinkhorn(y_true, y_pred, cost_matrix, epsilon=0.1, iterations=100, from_logits=False):
    t = np.asarray(y_true, np.float64)
    p = np.asarray(y_pred, np.float64)
    M = np.asarray(cost_matrix, np.float64)
    with np.errstate(divide="ignore"):
        log_a = _log_softmax(p) if from_logits else np.log(p)
        log_b = np.log(t)
    log_a = np.maximum(log_a, LOG_FLOOR)
    log_b = np.maximum(log_b, LOG_FLOOR)
    flat_a = log_a.reshape(-1, p.shape[-1])
    flat_b = log_b.reshape(-1, p.shape[-1])
    out = [_sinkhorn_one(a, b, M, epsilon, iterations) for a, b in zip(flat_a, flat_b, strict=True)]
    return np.array(out, np.float64).reshape(p.shape[:-1])
