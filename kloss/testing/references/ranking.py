"""NumPy float64 references for the ranking losses over explicit pairs and triplets, written
from the formulas (Hadsell et al. 2006; Balntas et al. 2016; Hermans et al. 2017), one
explicit loop per triplet. Nothing here imports kloss.

Conventions: the cosine distance is `1 - a.b / (max(|a|, 1e-12) max(|b|, 1e-12))`
(a zero vector has cosine 0 with everything, as `torch.nn.functional.normalize`); labels 0
of the margin ranking loss are read as -1.
"""

import numpy as np


def _f64(*xs):
    return [np.asarray(x, dtype=np.float64) for x in xs]


def contrastive(y_true, y_pred, margin=1.0):
    """1/2 (y d^2 + (1 - y) max(0, m - d)^2), the mean over the last axis (rank >= 2)."""
    y, d = _f64(y_true, y_pred)
    if y.shape != d.shape:
        y = y.reshape(d.shape)  # (B,) labels against (B, 1) distances
    elements = 0.5 * (y * d**2 + (1.0 - y) * np.maximum(0.0, margin - d) ** 2)
    return elements if elements.ndim < 2 else elements.mean(axis=-1)


def pair_distance(a, b, kind):
    """The distance between two vectors, by definition."""
    a, b = _f64(a, b)
    if kind == "cosine":
        na = max(np.sqrt(np.sum(a * a)), 1e-12)
        nb = max(np.sqrt(np.sum(b * b)), 1e-12)
        return 1.0 - np.sum(a * b) / (na * nb)
    squared = float(np.sum((a - b) ** 2))
    return squared if kind == "squared_euclidean" else np.sqrt(squared)


def triplet(y_true, y_pred, margin=1.0, distance="squared_euclidean", swap=False, soft=False):
    """Per triplet: max(0, d(a,p) - d(a,n) + m), or log(1 + exp(d(a,p) - d(a,n))) when soft;
    with swap, d(a,n) becomes min(d(a,n), d(p,n)). `y_true` is ignored."""
    (x,) = _f64(y_pred)
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        a, p, n = x[i, 0], x[i, 1], x[i, 2]
        d_ap = pair_distance(a, p, distance)
        d_an = pair_distance(a, n, distance)
        if swap:
            d_an = min(d_an, pair_distance(p, n, distance))
        gap = d_ap - d_an
        out[i] = np.logaddexp(0.0, gap) if soft else max(0.0, gap + margin)
    return out


def margin_ranking(y_true, y_pred, margin=0.0):
    """Per pair: max(0, -y (x1 - x2) + m), a label 0 read as -1."""
    y, x = _f64(y_true, y_pred)
    y = y.reshape(-1)
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        label = -1.0 if y[i] == 0 else y[i]
        out[i] = max(0.0, -label * (x[i, 0] - x[i, 1]) + margin)
    return out
